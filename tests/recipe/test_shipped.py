"""recipes/: the shipped recipes parse, are found by tag, and keep upstream's rules."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from deid.recipe import load_recipe, parse_recipe, parse_recipe_with_diagnostics
from deid.recipe.compat import recipe_to_dict

ROOT = Path(__file__).resolve().parents[2]
UPSTREAM = ROOT / "tests" / "data" / "reference" / "upstream-deid-recipes"
TAGS = ["dicom", "dicom.ultrasound", "dicom.xray.chest"]


@pytest.mark.parametrize("tag", TAGS)
def test_shipped_recipe_found_by_tag_and_parses(tag: str) -> None:
    res = resources.files("deid._recipes").joinpath(f"deid.{tag}")
    assert res.is_file()
    text = res.read_text()
    assert "pydicom/deid" in text.splitlines()[3] and "MIT" in text.splitlines()[3]
    recipe, diags = parse_recipe_with_diagnostics(text, f"deid.{tag}")
    assert recipe is not None
    assert all(d.severity == "warning" for d in diags)
    assert load_recipe(tag) == recipe


@pytest.mark.parametrize("tag", TAGS)
def test_same_rules_as_upstream(tag: str) -> None:
    ours = recipe_to_dict(load_recipe(tag))
    theirs = recipe_to_dict(parse_recipe((UPSTREAM / f"deid.{tag}").read_text()))
    assert ours.get("filter") == theirs.get("filter")
    # the stray `REMOVE jitter` (matches nothing) is the one line dropped
    expected = [a for a in theirs.get("header", []) if a != {"action": "REMOVE", "field": "jitter"}]
    assert ours.get("header", []) == expected
    assert list(ours) == list(theirs)


def test_default_recipe_warnings_are_the_documented_quirks() -> None:
    text = resources.files("deid._recipes").joinpath("deid.dicom").read_text()
    _, diags = parse_recipe_with_diagnostics(text, "deid.dicom")
    assert sorted(d.code for d in diags) == ["W103", "W107", "W110", "W110", "W110"]
