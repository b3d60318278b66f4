"""``deid check`` (deid/cli/check.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deid.cli.main import main


def test_clean_recipe_is_0(recipe: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(recipe)]) == 0
    assert "1 checked, 0 error(s)" in capsys.readouterr().out


def test_errors_are_rendered_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.dicom"
    bad.write_text("FORMAT dicom\n%header\nREPLCE PatientName x\nREMOVE PatientID\n")
    assert main(["check", str(bad)]) == 2
    out = capsys.readouterr().out
    assert f"{bad}:3:1: error[" in out and "REPLCE" in out
    assert main(["check", "--json", str(bad)]) == 2
    data = json.loads(capsys.readouterr().out)
    assert data["errors"] >= 1 and data["diagnostics"][0]["line"] == 3


def test_shipped_recipe_and_profile(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "dicom", "--profile", "basic", "--option", "retain-uids"]) == 0
    assert main(["check", "--profile", "no-such-profile"]) == 2
    assert main(["check"]) == 2
    assert main(["check", "no/such/recipe.dicom"]) == 2
