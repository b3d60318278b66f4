"""Property test: any text either parses or raises RecipeError with valid spans — nothing else."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deid.errors import RecipeError
from deid.recipe import format_recipe, parse_recipe
from deid.recipe.ast import Recipe

EXAMPLES = int(os.environ.get("DEID_FUZZ_EXAMPLES", "0") or 0) or 200
ROOT = Path(__file__).resolve().parents[2]
SEED_LINES = [
    line
    for p in sorted((ROOT / "recipes").glob("deid.*"))
    + sorted((ROOT / "tests" / "data" / "recipes" / "broken").glob("*.dicom"))
    for line in p.read_text().splitlines()
    if line.strip()
]
PIECES = [
    "FORMAT", "dicom", "%header", "%filter", "%values", "%fields", "%labels", "LABEL", "ADD",
    "REPLACE", "REMOVE", "JITTER", "KEEP", "BLANK", "FIELD", "SPLIT", "contains", "missing",
    "equals", "+", "||", "#", '"', "'", ":", "__", "(0010,0010)", "(50xx,0010)", "values:",
    "fields:", "var:", "func:", "deid_func:", "by=", "minlength=", "coordinates", "ctpcoordinates",
    "all", "from:", ",", "0x00100010", "PatientName", "\t", " ", "\n", "\r\n", "\x00", "é", "%",
    "select:vr:", "select:group:", "contains:(", "1,2,3,4", "=", ";", "\ufeff",
]  # fmt: skip


def check(text: str) -> None:
    try:
        result = parse_recipe(text, "fuzz.dicom")
    except RecipeError as exc:
        assert exc.diagnostics, "RecipeError without diagnostics"
        lines = text.split("\n")  # lines as the parser counts them ("\n" only)
        for d in exc.diagnostics:
            assert d.code[:1] in "EW" and d.severity in ("error", "warning")
            assert d.span.file == "fuzz.dicom"
            assert 1 <= d.span.line <= max(len(lines), 1), d
            assert d.span.col >= 1 and d.span.end_col >= d.span.col, d
            assert d.render(text)
        assert str(exc)
        return
    assert isinstance(result, Recipe)
    # whatever parses also survives a round trip
    assert parse_recipe(format_recipe(result), "again") == result


line_from_pieces = st.lists(st.sampled_from(PIECES), max_size=8).map("".join)
mutated_line = st.tuples(
    st.sampled_from(SEED_LINES), st.integers(0, 200), st.sampled_from(PIECES), st.integers(0, 3)
).map(lambda t: t[0][: t[1]] + t[2] + t[0][t[1] + t[3] :])
any_line = st.one_of(
    st.text(max_size=40), line_from_pieces, mutated_line, st.sampled_from(SEED_LINES)
)


@pytest.mark.fuzz
@settings(max_examples=EXAMPLES, deadline=None)
@given(st.lists(any_line, max_size=12))
def test_parser_never_raises_anything_else(lines: list[str]) -> None:
    check("\n".join(lines))


@pytest.mark.fuzz
@settings(max_examples=EXAMPLES, deadline=None)
@given(st.lists(any_line, max_size=6))
def test_wellformed_prefix_with_noise(lines: list[str]) -> None:
    check("FORMAT dicom\n%header\nREMOVE PatientName\n" + "\n".join(lines))
