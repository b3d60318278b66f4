"""deid.engine.jitter: strict date shifting with upstream's output formats."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydicom.dataelem import DataElement

from deid.engine.jitter import jitter_timestamp, parse_days, shift_one, shift_value


@pytest.mark.parametrize(
    ("value", "vr", "days", "expected"),
    [
        ("20230101", "DA", 5, "20230106"),
        ("20230101", "DA", -1, "20221231"),
        ("2023.01.01", "DA", 1, "20230102"),
        ("20131210081530", "DT", 10, "20131220081530.000000"),
        ("20230101", "DT", 1, "20230102000000.000000"),
        ("20230101120000+0100", "DT", 1, "20230102120000.000000+0100"),
        ("20230101120000.5", "DT", 1, "20230102120000.500000"),
        ("20230101", "LO", 1, "20230102"),
        ("20230101120000", "DA", 1, "20230102"),
        ("20131210081530", "LO", 1, "20131211"),
        (20230101, "UL", 1, 20230102),
    ],
)
def test_shifted(value, vr, days, expected) -> None:
    result = shift_value(value, vr, days)
    assert result.status == "shifted" and result.value == expected


@pytest.mark.parametrize(
    ("value", "vr", "status"),
    [
        ("2023", "DA", "unparseable"),
        ("202301", "DA", "unparseable"),
        ("20231340", "DA", "unparseable"),
        ("2023", "DT", "unparseable"),
        ("101010", "TM", "not_date"),
        ("hello", "LO", "not_date"),
        (4, "US", "not_date"),
        ("", "DA", "empty"),
        (None, "DA", "empty"),
        ([], "DA", "empty"),
    ],
)
def test_not_shifted(value, vr, status) -> None:
    result = shift_value(value, vr, 1)
    assert result.status == status
    assert result.value == value


def test_multivalue() -> None:
    assert shift_value(["20230101", "20230102"], "DA", 1).value == "20230102\\20230103"
    assert shift_value(["20230101", "x"], "DA", 1).status == "unparseable"


def test_parse_days() -> None:
    assert parse_days(" 3 ") == 3 and parse_days("-2") == -2
    for bad in ("1.5", "x", True, ""):
        with pytest.raises(ValueError):
            parse_days(bad)


def test_jitter_timestamp_upstream_shape() -> None:
    assert jitter_timestamp(DataElement(0x00080020, "DA", "20230101"), "2") == "20230103"
    assert jitter_timestamp(DataElement(0x00080030, "TM", "1200"), 2) == "1200"


@given(st.dates(), st.integers(min_value=-3000, max_value=3000))
def test_round_trip(day, days) -> None:
    text = day.strftime("%Y%m%d")
    result = shift_one(text, "DA", days)
    if result.status == "shifted":
        assert shift_one(result.value, "DA", -days).value == text


def test_jitter_timestamp_empty_is_none() -> None:
    assert jitter_timestamp(DataElement(0x00080020, "DA", ""), 1) is None
