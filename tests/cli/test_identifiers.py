"""``deid identifiers`` (deid/cli/identifiers.py)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from pydicom import Dataset

from deid.cli.identifiers import file_identifiers, flatten
from deid.cli.main import main


def test_flatten_names_nested_fields() -> None:
    ds, item = Dataset(), Dataset()
    item.ReferencedSOPInstanceUID = "1.2.3"
    ds.ReferencedImageSequence = [item, item]
    ds.PatientID = "x"
    got = [(u, n) for u, n, _e, _m in flatten(ds)]
    assert (
        "(0008,1140)__1__(0008,1155)",
        "ReferencedImageSequence__ReferencedSOPInstanceUID",
    ) in got
    assert ("(0010,0020)", "PatientID") in got
    assert len([u for u, _n in got if u.startswith("(0008,1140)")]) == 3


def test_json_output(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["identifiers", str(tree / "s0")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data) == 2
    fields = next(iter(data.values()))
    assert fields["(0010,0010)"]["value"] == "Doe^Pat0"
    assert "(7FE0,0010)" not in fields  # pixel data skipped, as upstream
    assert fields["(0008,1140)__0__(0008,1155)"]["name"] == (
        "ReferencedImageSequence__ReferencedSOPInstanceUID"
    )


@pytest.mark.parametrize("fmt, sep", [("csv", ","), ("tsv", "\t")])
def test_table_output(tree: Path, tmp_path: Path, fmt: str, sep: str) -> None:
    target = tmp_path / f"ids.{fmt}"
    assert main(["identifiers", str(tree), "--format", fmt, "--output", str(target)]) == 0
    rows = list(csv.DictReader(io.StringIO(target.read_text()), delimiter=sep))
    assert {r["file"] for r in rows} == {str(p.resolve()) for p in tree.rglob("*.dcm")}
    assert any(r["keyword"] == "PatientName" and r["value"] == "Doe^Pat1" for r in rows)


def test_bad_file_is_reported_not_fatal(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tree / "s0" / "junk.txt").write_text("junk")
    assert main(["identifiers", str(tree / "s0")]) == 1
    captured = capsys.readouterr()
    assert "junk.txt" in captured.err and len(json.loads(captured.out)) == 2


def test_file_identifiers_meta_flag(tree: Path) -> None:
    ids = file_identifiers(str(tree / "s0" / "0.dcm"))
    assert ids["(0002,0003)"]["is_filemeta"] is True
    assert ids["(0010,0020)"]["is_filemeta"] is False


def test_upstream_action_get(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["identifiers", "--action", "get", "--input", str(tree / "s1")]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2


def test_upstream_action_put_requires_ids(tree: Path, tmp_path: Path) -> None:
    assert (
        main(["-o", str(tmp_path / "o"), "identifiers", "--action", "put", "--input", str(tree)])
        == 2
    )
    ids = tmp_path / "ids.json"
    ids.write_text("{}")
    assert (
        main(
            [
                "-o",
                str(tmp_path / "o"),
                "identifiers",
                "--action",
                "put",
                "--ids",
                str(ids),
                "--input",
                str(tree),
            ]
        )
        == 0
    )
    assert len(list((tmp_path / "o").rglob("*.dcm"))) == 4
