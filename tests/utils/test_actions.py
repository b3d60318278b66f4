"""Tests for deid.utils.actions (value forms, timestamps, key=value pairs)."""

from __future__ import annotations

import pytest
from pydicom import Dataset
from pydicom.dataelem import DataElement

from deid.dicom.fields import DicomField
from deid.errors import ApplyError, DeidError
from deid.utils import convert_value, get_func, get_timestamp, parse_keyvalue_pairs, parse_value
from deid.utils.actions import parse_datetime


def test_keyvalue_pairs_coerce_booleans_and_none():
    assert parse_keyvalue_pairs("a=true b=FALSE c=none d=null e=x=y f") == {
        "a": True,
        "b": False,
        "c": None,
        "d": None,
        "e": "x=y",
    }
    assert parse_keyvalue_pairs(None) == {}
    assert parse_keyvalue_pairs(["days=3"]) == {"days": "3"}


@pytest.mark.parametrize(
    "text, iso",
    [
        ("20131210", "2013-12-10T00:00:00"),
        ("2013-12-10", "2013-12-10T00:00:00"),
        ("2013/12/10", "2013-12-10T00:00:00"),
        ("2013121008", "2013-12-10T08:00:00"),
        ("20131210081530.123", "2013-12-10T08:15:30.123000"),
        ("20131210081530-0500", "2013-12-10T08:15:30-05:00"),
    ],
)
def test_parse_datetime_accepts_dicom_forms(text, iso):
    assert parse_datetime(text).isoformat() == iso


@pytest.mark.parametrize("text", ["2023", "202301", "011635.943", "abc", "2013-13-45"])
def test_parse_datetime_rejects_partial_or_invalid(text):
    with pytest.raises(ValueError):
        parse_datetime(text)


def test_get_timestamp():
    assert get_timestamp("20131210", jitter_days=10, format="%Y%m%d") == "20131220"
    assert get_timestamp("20131210", "0815", format="%Y%m%d%H%M") == "201312100815"
    assert get_timestamp("", jitter_days=1) is None
    assert get_timestamp("20200101") == "2020-01-01T00:00:00"
    with pytest.raises(ValueError):
        get_timestamp("20200101", "99x")


def test_convert_value_by_vr():
    assert convert_value("f", "US", "12") == 12
    assert convert_value("f", "FD", "1.5") == 1.5
    assert convert_value("f", "OB", "ab") == b"ab"
    assert convert_value("f", "LO", "ab") == "ab"
    assert convert_value("f", "US", 5) == 5
    with pytest.raises(ApplyError, match="Rows"):
        convert_value("Rows", "US", "abc")


def test_parse_value_forms():
    ds = Dataset()
    ds.PatientID = "123"
    field = DicomField(ds["PatientID"], "PatientID", "(0010,0020)")
    assert parse_value(ds, "var:x", item={"x": 7}) == 7

    def func(dicom, value, field, item):
        return f"{dicom.PatientID}-{field.name}-{value}"

    assert parse_value(ds, "func:f", item={"f": func}, field=field) == "123-PatientID-func:f"
    assert parse_value(ds, "deid_func:basic_uuid", field=field).count("-") == 4
    us = DicomField(DataElement(0x00280010, "US", 1), "Rows", "(0028,0010)")
    assert parse_value(ds, "12", field=us) == 12
    for bad in ("var:missing", "func:missing", "deid_func:nope", "deid_func:"):
        with pytest.raises(DeidError):
            parse_value(ds, bad, item={})


def test_get_func_finds_builtins():
    assert get_func("pydicom_uuid") is not None
    assert get_func("simple_uuid") is None
    assert get_func("jitter_timestamp") is not None
