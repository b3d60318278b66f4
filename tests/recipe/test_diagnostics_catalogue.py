"""Broken-recipe fixtures: each renders exactly its expected diagnostics; every code has one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from deid.diagnostics import render_all
from deid.errors import RecipeError
from deid.recipe import parse_recipe, parse_recipe_with_diagnostics

ROOT = Path(__file__).resolve().parents[2]
BROKEN = ROOT / "tests" / "data" / "recipes" / "broken"
CATALOGUE = ROOT / "docs" / "pages" / "recipes" / "diagnostics.md"
FIXTURES = sorted(BROKEN.glob("*.dicom"))


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_fixture_renders_expected(path: Path) -> None:
    text = path.read_text()
    recipe, diags = parse_recipe_with_diagnostics(text, path.name)
    rendered = render_all(diags, {path.name: text}) + "\n"
    assert rendered == path.with_suffix(".expected").read_text()
    code = path.name.split("-")[0]
    assert code in {d.code for d in diags}
    if code.startswith("E"):
        assert recipe is None
        with pytest.raises(RecipeError):
            parse_recipe(text, path.name)
    else:
        assert recipe is not None and all(d.severity == "warning" for d in diags)


def test_every_catalogued_code_has_a_fixture() -> None:
    documented = set(re.findall(r"^### ([EW]1\d\d)", CATALOGUE.read_text(), re.MULTILINE))
    assert documented, "catalogue lists no codes"
    # E100 (load errors) and E117 (dict-only) are exercised in test_parser / test_checks
    covered = {p.name.split("-")[0] for p in FIXTURES} | {"E100", "E117"}
    assert documented <= covered
    assert covered <= documented


def test_diagnostic_spans_are_inside_the_source() -> None:
    for path in FIXTURES:
        text = path.read_text()
        lines = text.splitlines()
        _, diags = parse_recipe_with_diagnostics(text, path.name)
        for d in diags:
            assert 1 <= d.span.line <= len(lines)
            assert 1 <= d.span.col <= len(lines[d.span.line - 1]) + 1
            assert d.span.end_col >= d.span.col
