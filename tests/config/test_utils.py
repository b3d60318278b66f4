"""deid.config.utils: find_deid, get_deid, load_deid, load_combined_deid."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deid.config.utils import find_deid, get_deid, load_combined_deid, load_deid
from deid.errors import RecipeError


def test_get_deid_tags() -> None:
    for tag in ("dicom", "dicom.ultrasound", "dicom.xray.chest"):
        assert Path(get_deid(tag)).name == f"deid.{tag}"
    assert Path(get_deid()).name == "deid.dicom"
    assert get_deid("dicom", load=True)["format"] == "dicom"


def test_get_deid_missing() -> None:
    with pytest.raises(RecipeError):
        get_deid("nope")
    assert get_deid("nope", exit_on_fail=False) is None


def test_find_and_load_in_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "deid.site").write_text("FORMAT dicom\n%header\nREMOVE PatientName\n")
    (tmp_path / "other.txt").write_text("x")
    assert find_deid(tmp_path) == str(tmp_path / "deid.site")
    monkeypatch.chdir(tmp_path)
    assert load_deid()["header"] == [{"action": "REMOVE", "field": "PatientName"}]
    assert os.path.basename(find_deid()) == "deid.site"


def test_find_deid_fails_closed(tmp_path: Path) -> None:
    with pytest.raises(RecipeError):
        find_deid(tmp_path)
    with pytest.raises(RecipeError):
        find_deid(tmp_path / "missing")


def test_load_combined_deid() -> None:
    d = load_combined_deid(["dicom.xray.chest", "dicom"])
    assert len(d["filter"]["whitelist"]) == 4  # 2 + 2: same-named groups are merged
    assert len(d["filter"]["blacklist"]) == 2 + 7
    assert load_combined_deid([]) is None


def test_line_helpers() -> None:
    from deid.config.utils import (
        _derive_ctp_coordinate,
        _remove_comments,
        parse_format,
        split_action_line,
    )

    assert split_action_line('  REPLACE PatientName "Doe  J"  # c') == [
        "REPLACE",
        "PatientName",
        '"Doe  J"',
        "#",
        "c",
    ]
    assert _remove_comments(["a", "b", "#", "c"]) == "a b "
    assert _derive_ctp_coordinate("10,20,30,40") == "10,20,40,60"
    assert _derive_ctp_coordinate("all") == "all"
    with pytest.raises(RecipeError):
        _derive_ctp_coordinate("1,2,3")
    assert parse_format("FORMAT DICOM") == "dicom"
    with pytest.raises(RecipeError):
        parse_format("FORMAT nifti")
