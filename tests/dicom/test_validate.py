"""Tests for deid.dicom.validate."""

from __future__ import annotations

from deid.dicom.validate import validate_dicoms


def test_validate_keeps_only_readable(tmp_path, ctbrain1):
    junk = tmp_path / "junk.dcm"
    junk.write_text("nope")
    assert validate_dicoms([ctbrain1, str(junk), str(tmp_path / "missing")]) == [ctbrain1]
    assert validate_dicoms(ctbrain1) == [ctbrain1]
