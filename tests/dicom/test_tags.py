"""Tests for deid.dicom.tags."""

from __future__ import annotations

import pytest
from pydicom import Dataset

from deid.dicom.tags import (
    add_tag,
    find_tag,
    get_private,
    get_tag,
    has_private,
    remove_sequences,
    update_tag,
)
from deid.errors import DeidError


def test_get_tag_known_and_unknown():
    tag = get_tag("PatientID")
    assert tag["tag"] == 0x00100020 and tag["VR"] == "LO" and tag["VM"] == "1"
    assert tag["keyword"] == "PatientID" and tag["name"] == "Patient ID"
    assert get_tag("KleenexTissue") is None


def test_add_tag_and_find_tag():
    assert add_tag("11112221")["tag"] == 0x11112221
    assert add_tag("11112221", VR="LO", name="n")["name"] == "n"
    with pytest.raises(DeidError):
        add_tag("(0010,0010)")
    found = find_tag("Patient.*Birth", VR="DA")
    assert "PatientBirthDate" in found and all(m["VR"] == "DA" for m in found.values())


def test_private_helpers(nested):
    assert [int(e.tag) for e in get_private(nested)] == [0x00110010, 0x00111001]
    assert has_private(nested)
    inner = Dataset()
    inner.add_new(0x00130010, "LO", "X")
    public = Dataset()
    public.ProcedureCodeSequence = [inner]
    # as upstream: only private sequences are searched
    assert get_private(public) == [] and not has_private(Dataset())
    private = Dataset()
    private.add_new(0x00150010, "LO", "Y")
    private.add_new(0x00151001, "SQ", [inner])
    assert [int(e.tag) for e in get_private(private)] == [0x00150010, 0x00151001, 0x00130010]
    assert has_private(private)


def test_remove_sequences_and_update(nested):
    remove_sequences(nested)
    assert "RequestAttributesSequence" not in nested and "PatientID" in nested
    update_tag(nested, "PatientID", "new")
    update_tag(nested, "00100010", "X^Y")
    assert nested.PatientID == "new" and nested.PatientName == "X^Y"
    with pytest.raises(DeidError):
        update_tag(nested, "AccessionNumber", "x")
