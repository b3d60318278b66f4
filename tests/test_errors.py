"""Tests for deid.errors: one base class, recipe errors carry rendered diagnostics."""

from __future__ import annotations

import pytest

from deid import errors
from deid.diagnostics import Diagnostic
from deid.recipe.ast import Span


@pytest.mark.parametrize("name", errors.__all__)
def test_every_error_derives_from_deid_error(name: str) -> None:
    assert issubclass(getattr(errors, name), errors.DeidError)


def test_recipe_error_message_contains_all_diagnostics() -> None:
    diags = [
        Diagnostic("E102", "error", "unknown action 'ADDD'", Span("r.dicom", 2, 1, 2, 5)),
        Diagnostic("W101", "warning", "suspicious", Span("r.dicom", 3, 1, 3, 2)),
    ]
    exc = errors.RecipeError(diags, {"r.dicom": "FORMAT dicom\nADDD X 1\nKEEP Y\n"})
    text = str(exc)
    assert text.startswith("1 error(s) in recipe")
    assert "r.dicom:2:1: error[E102]: unknown action 'ADDD'" in text
    assert "ADDD X 1" in text and "^^^^" in text
    assert exc.errors == [diags[0]]
    assert isinstance(exc, ValueError)
