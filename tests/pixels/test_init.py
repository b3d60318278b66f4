"""Tests for deid.pixels (the package surface) and the docstring examples of its modules."""

from __future__ import annotations

import doctest
import importlib

import pytest

import deid.pixels

MODULES = [
    "deid.pixels",
    "deid.pixels.clean",
    "deid.pixels.criteria",
    "deid.pixels.detect",
    "deid.pixels.locations",
    "deid.pixels.process",
    "deid.pixels.regions",
]


def test_public_names_resolve():
    for name in deid.pixels.__all__:
        assert getattr(deid.pixels, name) is not None


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_import_deid_does_not_import_pixels():
    import subprocess
    import sys

    code = "import sys, deid; print('deid.pixels' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
