"""Tests for deid.pixels.criteria: upstream's filter semantics."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydicom.dataset import Dataset

from deid.errors import DeidError
from deid.pixels.criteria import FilterError, apply_filter, evaluate_group, field_value


@pytest.fixture
def ds() -> Dataset:
    ds = Dataset()
    ds.Modality = "CT"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.Manufacturer = "  GE MEDICAL SYSTEMS "
    ds.PatientName = ""
    ds.add_new(0x00110010, "LO", "Agfa")
    return ds


@pytest.mark.parametrize(
    "field,name,value,expected",
    [
        ("Modality", "contains", "ct", True),
        ("Modality", "contains", "CT|MR", True),
        ("Modality", "contains", "^MR", False),
        ("Modality", "notcontains", "MR", True),
        ("Modality", "notcontains", "C", False),
        ("ImageType", "contains", "primary", True),
        ("ImageType", "contains", "DERIVED|SECONDARY", False),
        ("Manufacturer", "equals", "ge medical systems", True),
        ("Modality", "equals", "CT|MR", False),  # equals is not a regex
        ("ImageType", "equals", "ORIGINAL", False),  # multi-valued never equals one value
        ("Modality", "notequals", "MR", True),
        ("StudyDescription", "notequals", "x", True),  # absent
        ("StudyDescription", "notcontains", "x", True),
        ("StudyDescription", "contains", "x", False),
        ("StudyDescription", "equals", "x", False),
        ("StudyDescription", "missing", None, True),
        ("Modality", "missing", None, False),
        ("Modality", "present", None, True),
        ("PatientName", "present", None, True),
        ("PatientName", "empty", None, True),
        ("Modality", "empty", None, False),
        ("StudyDescription", "empty", None, False),
        ("0x00110010", "contains", "agfa", True),  # tag form: printed element
        ("0x00110010", "equals", "Agfa", False),  # compares the printed element
        ("0x00110010", "present", None, True),
        ("0x00191010", "missing", None, True),
    ],
)
def test_apply_filter_semantics(ds, field, name, value, expected):
    assert apply_filter(ds, field, name, value) is expected


def test_filter_name_is_case_insensitive(ds):
    assert apply_filter(ds, "Modality", "CONTAINS", "ct")


def test_unknown_filter_and_missing_value_raise(ds):
    with pytest.raises(FilterError, match="unknown filter"):
        apply_filter(ds, "Modality", "startswith", "C")
    with pytest.raises(FilterError, match="needs a value"):
        apply_filter(ds, "Modality", "contains", None)
    with pytest.raises(DeidError, match="regular expression"):
        apply_filter(ds, "Modality", "contains", "(")


def test_field_value_tag_form_returns_element(ds):
    assert field_value(ds, "0x00080060").value == "CT"
    assert field_value(ds, "Modality") == "CT"
    with pytest.raises(FilterError):
        field_value(ds, "0xZZ")


@pytest.mark.parametrize(
    "flags,expected",
    [
        ([], False),
        ([True], True),
        ([True, "and", False], False),
        ([True, "or", False], True),
        ([False, "or", True, "and", False], False),  # strict left-to-right
        ([True, "or", False, "and", True], True),
        ([True, True], True),
        ([True, False], False),
    ],
)
def test_evaluate_group(flags, expected):
    assert evaluate_group(flags) is expected


def test_evaluate_group_does_not_modify_input():
    flags = [True, "or", False]
    evaluate_group(flags)
    assert flags == [True, "or", False]


def test_evaluate_group_rejects_unknown_operator():
    with pytest.raises(FilterError):
        evaluate_group([True, "xor", False])


@given(
    st.lists(st.booleans(), min_size=1, max_size=8),
    st.lists(st.sampled_from(["and", "or"]), min_size=7, max_size=7),
)
def test_evaluate_group_matches_reference_fold(values, ops):
    flags: list = [values[0]]
    expected = values[0]
    for value, op in zip(values[1:], ops):
        flags += [op, value]
        expected = (expected and value) if op == "and" else (expected or value)
    assert evaluate_group(flags) is expected
