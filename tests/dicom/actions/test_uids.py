"""Tests for deid.dicom.actions.uids (built-in deid_func UID functions)."""

from __future__ import annotations

import re

import pytest
from pydicom.dataelem import DataElement
from pydicom.uid import generate_uid

from deid.dicom.actions import basic_uuid, deid_funcs, dicom_uuid, pydicom_uuid, suffix_uuid
from deid.dicom.fields import DicomField

UID = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$")


def uid_field(value="1.2.840.1"):
    return DicomField(DataElement(0x00080018, "UI", value), "SOPInstanceUID", "(0008,0018)")


def test_pydicom_uuid_is_stable_and_matches_pydicom():
    f = uid_field()
    new = pydicom_uuid(field=f)
    assert new == pydicom_uuid(field=uid_field()) == generate_uid("2.25.", ["1.2.840.1"])
    assert new != pydicom_uuid(field=uid_field("1.2.840.2"))
    assert pydicom_uuid(field=f, prefix="1.2.3.").startswith("1.2.3.")
    random_one = pydicom_uuid(field=f, stable_remapping=False)
    assert random_one != new and UID.match(random_one) and len(random_one) <= 64
    assert pydicom_uuid(field="PatientID").startswith("2.25.")  # under ADD: random
    with pytest.raises(ValueError):
        pydicom_uuid(field=f, prefix="abc.")


def test_dicom_uuid_is_random_under_its_root():
    one = dicom_uuid(field=uid_field(), org_root="1.2.3")
    assert one.startswith("1.2.3.") and UID.match(one) and len(one) <= 64
    assert one != dicom_uuid(field=uid_field(), org_root="1.2.3")
    # upstream's default root is kept (the engine reports it as invalid for UI elements)
    assert dicom_uuid().startswith("anonymous-organization.")


def test_basic_and_suffix():
    assert re.match(r"^[0-9a-f-]{36}$", basic_uuid())
    assert suffix_uuid(field=uid_field()).startswith("sopinstanceuid-")
    assert set(deid_funcs) == {"jitter", "pydicom_uuid", "dicom_uuid", "basic_uuid", "suffix_uuid"}
