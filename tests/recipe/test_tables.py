"""deid.recipe.tables: the prebuilt LALR tables are current, load, and are never used stale."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from deid.recipe import tables
from deid.recipe.transformer import RecipeTransformer

ROOT = Path(__file__).resolve().parents[2]


def test_saved_tables_match_the_grammar() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "deid.recipe.tables", "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert tables.tables_are_current()


def test_loaded_parser_reads_like_a_built_one() -> None:
    loaded, built = tables.load_parser(), tables.build_parser()
    for path in sorted((ROOT / "recipes").glob("deid.*")):
        text = path.read_text() + "\n"
        a = RecipeTransformer("f").transform(loaded.parse(text, start="recipe"))
        b = RecipeTransformer("f").transform(built.parse(text, start="recipe"))
        assert a == b and len(a) > 10
    for start, text in [("field_expr", "(0010,0010)"), ("value", "deid_func:jitter days=3")]:
        assert loaded.parse(text, start=start) == built.parse(text, start=start)


def test_stale_or_missing_tables_are_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    loads: list[object] = []
    monkeypatch.setattr(tables.Lark, "load", lambda f: loads.append(f))  # must not be called
    edited = (ROOT / "deid" / "recipe" / "grammar.lark").read_text() + "\n// edited\n"
    monkeypatch.setattr(tables, "grammar_text", lambda: edited)
    assert not tables.tables_are_current()
    parser = tables.load_parser()  # built from the edited grammar instead
    assert loads == []
    assert parser.parse("PatientName", start="field_expr").data == "fe_keyword"
    monkeypatch.setattr(tables, "_stamps", lambda: None)
    assert not tables.tables_are_current(edited)


def test_render_tables_stamps_sources() -> None:
    text = tables.render_tables(tables.build_parser(), "ab" * 32)
    assert f'GRAMMAR_SHA256 = "{"ab" * 32}"' in text
    assert f'LARK_VERSION = "{tables.lark.__version__}"' in text
    module = ast.parse(text)  # the rendered module is valid Python, made of literals
    values = {
        node.targets[0].id: ast.literal_eval(node.value)  # type: ignore[attr-defined]
        for node in module.body
        if isinstance(node, ast.Assign)
    }
    assert set(values) == {"GRAMMAR_SHA256", "LARK_VERSION", "TABLES"}
    assert isinstance(values["TABLES"], str) and len(values["TABLES"]) > 1000
