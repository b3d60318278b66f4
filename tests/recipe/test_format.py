"""deid.recipe.format: parse(format(r)) == r."""

from __future__ import annotations

from pathlib import Path

import pytest

from deid.recipe import format_recipe, parse_recipe
from deid.recipe.compat import recipe_to_dict

ROOT = Path(__file__).resolve().parents[2]
UPSTREAM = ROOT / "tests" / "data" / "reference" / "upstream-deid-recipes"
RECIPES = sorted((ROOT / "recipes").glob("deid.*")) + sorted(UPSTREAM.glob("deid.*"))


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_round_trip_of_real_recipes(path: Path) -> None:
    r = parse_recipe(path.read_text(), path.name)
    text = format_recipe(r)
    again = parse_recipe(text, "formatted")
    assert again == r
    assert recipe_to_dict(again) == recipe_to_dict(r)
    assert format_recipe(again) == text  # the formatter is idempotent


@pytest.mark.parametrize(
    "source",
    [
        "FORMAT dicom\n%header\nREPLACE PatientName John # trailing space kept\n",
        'FORMAT dicom\n%header\nREPLACE PatientName "Doe  John"\nKEEP (0010,0020)\n',
        'FORMAT dicom\n%values v\nSPLIT PatientName by="^";minlength=3\n%header\nREMOVE values:v\n',
        (
            "FORMAT dicom\n%filter f\nLABEL\n  || missing Manufacturer + contains X a+b\n"
            "  ctpkeepcoordinates 1,2,3,4\n"
        ),
        "FORMAT dicom\n%labels\nADD MAINTAINER me\n%header\n",
        "FORMAT dicom\n%header\n",
    ],
)
def test_round_trip_of_constructs(source: str) -> None:
    r = parse_recipe(source)
    assert parse_recipe(format_recipe(r)) == r
    assert parse_recipe(format_recipe(r)).sections == r.sections


def test_trailing_space_value_survives() -> None:
    r = parse_recipe("FORMAT dicom\n%header\nREPLACE PatientName John # c\n")
    assert r.header[0].value.text == "John "
    assert "REPLACE PatientName John #" in format_recipe(r)
