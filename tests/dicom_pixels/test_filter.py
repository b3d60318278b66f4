"""Tests for deid.dicom.filter (upstream's apply_filter without monkey-patching)."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset

import deid.dicom.filter as flt
from deid.errors import DeidError


@pytest.fixture
def ds():
    ds = Dataset()
    ds.Modality = "MR"
    ds.ImageType = ["DERIVED", "SECONDARY"]
    ds.StudyDescription = ""
    return ds


def test_no_monkey_patching():
    for name in (
        "equals",
        "notEquals",
        "missing",
        "empty",
        "contains",
        "notContains",
        "matches",
        "startsWith",
        "endsWith",
        "equalsBase",
        "compareBase",
    ):
        assert not hasattr(Dataset, name)


def test_apply_filter(ds):
    assert flt.apply_filter(ds, "Modality", "contains", "CT|MR")
    assert flt.apply_filter(ds, "ImageType", "contains", "secondary")
    assert not flt.apply_filter(ds, "Modality", "equals", "CT|MR")
    assert flt.apply_filter(ds, "StudyDescription", "empty", "ignored")
    assert flt.apply_filter(ds, "PatientName", "missing", None)
    assert flt.apply_filter(ds, "Modality", "equals", "mr")
    assert flt.apply_filter(ds, "0x00080060", "contains", "Modality")  # printed element


def test_plain_functions(ds):
    assert flt.contains(ds, "Modality", "m")
    assert flt.notcontains(ds, "Modality", "ct")
    assert flt.equals(ds, "Modality", "MR") and not flt.notequals(ds, "Modality", "MR")
    assert flt.missing(ds, "PatientID") and flt.present(ds, "Modality")
    assert flt.empty(ds, "StudyDescription") and not flt.empty(ds, "Modality")


def test_errors_are_deid_errors(ds):
    with pytest.raises(DeidError):
        flt.apply_filter(ds, "Modality", "matches", "x")
    with pytest.raises(DeidError):
        flt.apply_filter(ds, "Modality", "contains", None)
