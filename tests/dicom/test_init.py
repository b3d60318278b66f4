"""Tests for the deid.dicom package: exports and no import-time side effects."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PROBE = r"""
import json, logging, sys
import pydicom
before = sorted(dir(pydicom.dataset.Dataset))
root = (logging.getLogger().level, len(logging.getLogger().handlers))
import deid.dicom, deid.dicom.parser, deid.dicom.header, deid.utils, deid.logger, deid.data
after = sorted(dir(pydicom.dataset.Dataset))
print(json.dumps({
    "same": before == after,
    "root": root == (logging.getLogger().level, len(logging.getLogger().handlers)),
    "deid_logger_handlers": len(logging.getLogger("deid").handlers),
    "matplotlib": "matplotlib" in sys.modules,
    "lark": "lark" in sys.modules,
}))
"""


def test_import_has_no_side_effects():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report == {
        "same": True,
        "root": True,
        "deid_logger_handlers": 0,
        "matplotlib": False,
        "lark": False,
    }


def test_exports():
    from deid import dicom

    for name in (
        "get_identifiers",
        "replace_identifiers",
        "remove_private_identifiers",
        "get_files",
        "extract_sequence",
    ):
        assert callable(getattr(dicom, name))
    assert callable(dicom.utils.dcmread)
    with pytest.raises(AttributeError):
        dicom.not_a_name  # noqa: B018


def test_pixel_names_are_lazy():
    from deid import dicom

    try:
        from deid.dicom import pixels
    except ImportError:  # pragma: no cover - pixel part not installed
        pytest.skip("deid.dicom.pixels is not importable")
    for name in ("DicomCleaner", "clean_pixel_data", "has_burned_pixels"):
        if hasattr(pixels, name):
            assert getattr(dicom, name) is getattr(pixels, name)
