"""Tests for deid.dicom.actions.jitter."""

from __future__ import annotations

import pytest
from pydicom.dataelem import DataElement

from deid.dicom.actions import jitter_timestamp, jitter_timestamp_func
from deid.dicom.fields import DicomField
from deid.errors import ApplyError


def field(vr, value, tag=0x00080020):
    return DicomField(DataElement(tag, vr, value), "F", "(0008,0020)")


@pytest.mark.parametrize(
    "vr, value, days, expected",
    [
        ("DA", "20131210", 10, "20131220"),
        ("DA", "20131210", -5, "20131205"),
        ("DA", "20131210", "10", "20131220"),
        ("DT", "20131210081530", 10, "20131220081530.000000"),
        ("DT", "20230101", 1, "20230102000000.000000"),
        ("DT", "20230101120000+0100", 1, "20230102120000.000000+0100"),
        ("LO", "20131210", 1, "20131211"),
        ("LO", "2013-12-10", 1, "20131211"),
        ("DA", "2013/12/10", 10, "20131220"),
        ("DA", "2013.12.10", 10, "20131220"),
        ("DA", ["20200101", "20200102"], 1, "20200102\\20200103"),
    ],
)
def test_shifts(vr, value, days, expected):
    assert jitter_timestamp(field(vr, value), days) == expected


def test_empty_is_none_and_garbage_is_an_error():
    assert jitter_timestamp(field("DA", ""), 1) is None
    for vr, value in (("TM", "011635.943"), ("DA", "2023"), ("US", 4), ("LO", "hello")):
        with pytest.raises(ApplyError):
            jitter_timestamp(field(vr, value, tag=0x00081010), 1)
    with pytest.raises(ApplyError, match="whole number"):
        jitter_timestamp(field("DA", "20200101"), "1.5")


def test_deid_func_jitter():
    assert jitter_timestamp_func(field=field("DA", "20200101")) == "20200102"
    assert (
        jitter_timestamp_func(field=field("DA", "20200101"), days="2", years="1") == "20210102"
    )  # 367 days, 2020 is a leap year
    with pytest.raises(ApplyError):
        jitter_timestamp_func(field=field("DA", "20200101"), days="x")
