"""Tests for deid.dicom.groups (%values and %fields)."""

from __future__ import annotations

import pydicom
import pytest

from deid.dicom.fields import get_fields_with_lookup
from deid.dicom.groups import extract_fields_list, extract_values_list, parse_split_params
from deid.errors import DeidError

from .conftest import build_nested


def test_split_params():
    assert parse_split_params('by="^";minlength=4') == ("^", 4)
    assert parse_split_params(" by = '-' ; other=1 ") == ("-", 1)
    with pytest.raises(DeidError):
        parse_split_params("minlength=x")
    with pytest.raises(DeidError):
        parse_split_params("nokey")


def test_values_field_and_split(cookie):
    ds = pydicom.dcmread(cookie)
    fields = get_fields_with_lookup(ds)
    split = extract_values_list(
        ds, [{"action": "SPLIT", "field": "PatientID", "value": 'by="-";minlength=3'}], fields
    )
    assert split == [p for p in ds.PatientID.split("-") if len(p) >= 3]
    operators = extract_values_list(ds, [{"action": "FIELD", "field": "startswith:Operator"}])
    assert operators == [ds.OperatorsName]


def test_values_multivalue_dedup_and_empty():
    ds = build_nested()
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.AccessionNumber = ""
    values = extract_values_list(
        ds,
        [
            {"action": "FIELD", "field": "ImageType"},
            {"action": "FIELD", "field": "StudyInstanceUID"},
            {"action": "FIELD", "field": "AccessionNumber"},
        ],
    )
    assert values == ["ORIGINAL", "PRIMARY", "1.2.3.4"]
    with pytest.raises(DeidError, match="FIELD and SPLIT"):
        extract_values_list(ds, [{"action": "X", "field": "x"}])


def test_fields_list():
    ds = build_nested()
    found = extract_fields_list(ds, [{"action": "FIELD", "field": "contains:Instance"}])
    assert set(found) == {
        "(0020,000D)",
        "(0002,0003)",
        "(0040,0275)__0__(0020,000D)",
        "(0040,0275)__0__(0008,1110)__0__(0008,1155)",
    }
    with pytest.raises(DeidError):
        extract_fields_list(ds, [{"action": "SPLIT", "field": "PatientID"}])
