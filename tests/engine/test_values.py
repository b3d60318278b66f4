"""deid.engine.values: conversion by VR (errors) and validation (reports)."""

from __future__ import annotations

import pytest

from deid.engine.values import ValueConversionError, check_value, convert_value


@pytest.mark.parametrize(
    ("value", "vr", "expected"),
    [
        ("12", "US", 12),
        ("-3", "SS", -3),
        ("1\\2", "UL", [1, 2]),
        ("1.5", "FL", 1.5),
        ("abc", "OB", b"abc"),
        ("abc", "UN", b"abc"),
        ("1.5", "DS", "1.5"),
        ("7", "IS", "7"),
        ("Doe^John", "PN", "Doe^John"),
        (["1", "2"], "US", [1, 2]),
        (5, "US", 5),
        ("x", None, "x"),
    ],
)
def test_convert(value, vr, expected) -> None:
    assert convert_value(value, vr) == expected


@pytest.mark.parametrize(
    ("value", "vr"),
    [
        ("abc", "US"),
        ("1.2", "SL"),
        ("x", "FD"),
        ("abc", "DS"),
        ("1.5", "IS"),
        ("x", "SQ"),
        (3, "SQ"),
    ],
)
def test_convert_errors(value, vr) -> None:
    with pytest.raises(ValueConversionError):
        convert_value(value, vr)


def test_check_value() -> None:
    assert check_value("1.2.3", "UI") is None
    assert check_value("anonymous-organization.1", "UI")
    assert check_value("X" * 17, "SH")
    assert check_value("A\\B", "CS") is None
    assert check_value(5, "US") is None
    assert check_value(None, "LO") is None


@pytest.mark.parametrize(
    ("vr", "text", "expected"),
    [
        ("UI", "2.25.123", True),
        ("UI", "1.02.3", False),
        ("UI", "1." + "2" * 63, False),
        ("CS", "ANON_1", True),
        ("CS", "anon", False),
        ("SH", "x" * 16, True),
        ("SH", "x" * 17, False),
        ("LO", "back\\slash", False),
        ("PN", "Doe^John", True),
        ("PN", "A=B", False),
        ("DA", "20200101", True),
        ("DA", "2020-01-01", False),
        ("OB", "x", False),
    ],
)
def test_surely_valid_never_contradicts_pydicom(vr, text, expected) -> None:
    from pydicom import config
    from pydicom.valuerep import validate_value

    from deid.engine.values import surely_valid

    assert surely_valid(vr, text) is expected
    if expected:
        validate_value(vr, text, config.RAISE)
