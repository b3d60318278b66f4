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


@pytest.mark.parametrize(("value", "vr"), [("abc", "US"), ("1.2", "SL"), ("x", "FD"),
                                           ("abc", "DS"), ("1.5", "IS"), ("x", "SQ"), (3, "SQ")])
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
