"""tools/gen_profile_docs.py: the generated table page is current and lists every row."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import load_tool, run_tool

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "pages" / "profiles" / "table.md"


@pytest.fixture(scope="module")
def text():
    return load_tool("gen_profile_docs").build()


def test_page_is_current():
    proc = run_tool("gen_profile_docs", "--check")
    assert proc.returncode == 0, proc.stderr


def test_check_detects_a_stale_page(tmp_path):
    stale = tmp_path / "table.md"
    stale.write_text(PAGE.read_text(encoding="utf-8") + "edited\n", encoding="utf-8")
    proc = run_tool("gen_profile_docs", "--check", "--output", str(stale))
    assert proc.returncode == 1


def test_every_row_is_listed(text):
    from deid.profiles.table import load_table

    table = load_table()
    for row in table.rows:
        assert f"| `{row.tag_text}` |" in text, row.tag_text
    for sp in table.safe_private:
        assert f"| `{sp.tag_text}` | {sp.creator} |" in text


def test_rows_show_the_rule_deid_applies(text):
    lines = {
        line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| `(")
    }
    assert "REPLACE ps315_shift" in lines["`(0008,0020)`"]  # Study Date, modified dates
    assert "| REMOVE |" in lines["`(0010,1010)`"]  # Patient's Age under Basic
    assert "`K` → keep" in lines["`(0010,1010)`"]
    assert "REPLACE ps315_uid" in lines["`(0008,0018)`"]


def test_new_rows_are_marked(text):
    line = next(line for line in text.splitlines() if line.startswith("| `(0070,0006)`"))
    assert "†" in line
