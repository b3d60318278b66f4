"""Tests for deid.dicom.pixels (the upstream package surface) and its docstring examples."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "deid.dicom.pixels",
    "deid.dicom.pixels.clean",
    "deid.dicom.pixels.detect",
    "deid.dicom.filter",
]


def test_upstream_names():
    import deid.dicom
    from deid.dicom import pixels

    for name in ("DicomCleaner", "clean_pixel_data", "has_burned_pixels"):
        assert getattr(pixels, name) is getattr(deid.dicom, name)


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
