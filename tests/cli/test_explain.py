"""``deid explain`` (deid/cli/explain.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pydicom
import pytest

from deid.cli.main import main


def test_rules_of_a_recipe(recipe: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "-r", str(recipe)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"{recipe}:3: REMOVE PatientID", f"{recipe}:4: REPLACE PatientName ANON"]


def test_profile_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--profile", "basic"]) == 0
    out = capsys.readouterr().out
    assert "PatientName" in out and "Basic Profile" in out


def test_on_a_file_does_not_modify_it(
    tree: Path, recipe: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tree / "s0" / "0.dcm"
    before = f.read_bytes()
    assert main(["explain", str(f), "-r", str(recipe), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    by_kw = {r["keyword"]: r for r in rows}
    assert by_kw["PatientID"]["action"] == "REMOVE"
    assert by_kw["PatientName"]["rule"].startswith(f"{recipe}:4")
    assert f.read_bytes() == before
    assert pydicom.dcmread(f).PatientID == "PID0"
    assert main(["explain", str(f), "-r", str(recipe)]) == 0
    text = capsys.readouterr().out
    assert f"(0010,0020) PatientID: REMOVE by {recipe}:3" in text


def test_needs_a_plan() -> None:
    assert main(["explain"]) == 2
