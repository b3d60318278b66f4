"""``deid inspect`` (deid/cli/inspect.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from runner.helpers import make_dataset, write

from deid.cli.main import main

FILTER_RECIPE = """FORMAT dicom

%filter graylist

LABEL Burned In CT
  contains Modality CT
  coordinates 0,0,4,4
"""


@pytest.fixture()
def mixed(tmp_path: Path) -> Path:
    root = tmp_path / "in"
    write(make_dataset(0, "1.2.3.1", modality="CT"), root / "ct.dcm")
    write(make_dataset(0, "1.2.3.2", modality="MR"), root / "mr.dcm")
    return root


def test_flags_per_file(mixed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recipe = tmp_path / "f.dicom"
    recipe.write_text(FILTER_RECIPE)
    assert main(["inspect", str(mixed), "--deid", str(recipe), "--json"]) == 0
    rows = {Path(r["file"]).name: r for r in json.loads(capsys.readouterr().out)}
    assert rows["ct.dcm"]["flagged"] is True and rows["ct.dcm"]["flags"] == ["graylist"]
    assert rows["mr.dcm"]["flagged"] is False
    assert main(["inspect", str(mixed), "-r", str(recipe)]) == 0
    out = capsys.readouterr().out
    assert "CLEAN 1 files, FLAGGED 1 files" in out


def test_save_writes_upstream_tsv(
    mixed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    recipe = tmp_path / "f.dicom"
    recipe.write_text(FILTER_RECIPE)
    assert main(["inspect", str(mixed), "--deid", str(recipe), "--save"]) == 0
    (tsv,) = [p for p in os.listdir(tmp_path) if p.startswith("pixel-flag-results-in-")]
    lines = (tmp_path / tsv).read_text().splitlines()
    assert lines[0].split("\t") == ["dicom_file", "pixels_flagged", "flag_list", "reason"]
    assert len(lines) == 3


def test_unreadable_file_gives_1(mixed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (mixed / "x.txt").write_text("no")
    assert main(["inspect", str(mixed)]) == 1
    assert "x.txt" in capsys.readouterr().err
