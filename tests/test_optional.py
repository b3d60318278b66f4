"""Tests for deid._optional.require."""

from __future__ import annotations

import pytest

from deid._optional import require
from deid.errors import MissingExtraError


def test_require_returns_module() -> None:
    assert require("json", "core").dumps([1]) == "[1]"


def test_missing_module_names_the_extra() -> None:
    with pytest.raises(MissingExtraError, match=r"pip install 'deid\[pixels\]'"):
        require("deid_no_such_module_xyz", "pixels")
    with pytest.raises(ImportError):
        require("deid_no_such_module_xyz", "pixels")
