"""``python -m deid.demo`` (deid/demo.py) on the deid-data sample sets."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pydicom
import pytest

from deid import demo
from deid.demo import SAMPLE_SETS, main, run_demo


def _records(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_demo_humans_and_cookies(tmp_path: Path) -> None:
    pytest.importorskip("deid_data")
    out = io.StringIO()
    code = run_demo(str(tmp_path / "demo"), ["dicom-cookies", "humans"], workers=1, out=out)
    text = out.getvalue()
    assert code == 0, text
    assert "dicom-cookies  7 files: 7 written" in text
    assert "humans         2 files: 2 written" in text
    assert "summary: 9 written, 0 skipped, 0 rejected, 0 failed" in text
    assert text.rstrip().splitlines()[-1] == "verify: OK: 0 leaks, 0 other findings in 2 set(s)"
    ds = pydicom.dcmread(tmp_path / "demo" / "humans" / "ctbrain1.dcm")
    assert ds.PatientIdentityRemoved == "YES"
    recs = _records(tmp_path / "demo" / "humans.deid-report.jsonl")
    assert all("pixels" in r for r in recs)  # the pixel step ran on every file


def test_demo_ultrasounds_masked_and_cines_expanded(tmp_path: Path) -> None:
    pytest.importorskip("deid_data")
    out = io.StringIO()
    code = run_demo(str(tmp_path / "demo"), ["ultrasounds"], workers=1, out=out)
    text = out.getvalue()
    assert code == 0, text
    assert "ultrasounds    5 files: 5 written" in text
    assert "verify ultrasounds    OK   5 files checked, 0 leaks" in text
    root = tmp_path / "demo" / "ultrasounds"
    assert (root / "GREYSCALE_CINE" / "GREYSCALE_CINE.dcm").exists()
    assert (root / "RGB_CINE" / "RGB_CINE.dcm").exists()
    recs = _records(tmp_path / "demo" / "ultrasounds.deid-report.jsonl")
    assert {r["pixels"]["status"] for r in recs} == {"cleaned"}  # type: ignore[index]
    for r in recs:
        labels = r["pixels"]["labels"]  # type: ignore[index]
        assert "graylist/Blank Image" in labels
    ds = pydicom.dcmread(root / "GREYSCALE_IMAGE.dcm")
    arr = ds.pixel_array
    assert (arr[0, :] == 0).all()  # outside the ultrasound region: blanked
    assert arr.any()  # the region itself is kept


class _Report:
    """A stand-in VerifyReport with one burned-in finding and no leak."""

    ok = False

    def totals(self) -> dict[str, int]:
        return {"files": 1, "leaks": 0, "burned_in_unchanged": 1}

    def render(self) -> str:
        return "x.dcm: BURNED_IN ... \nFAIL: identifying data or integrity problems found"


def test_final_line_reflects_every_fail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A verify FAIL without leaks must not end with a clean-looking line."""
    pytest.importorskip("deid_data")
    import deid.verify

    monkeypatch.setattr(deid.verify, "verify", lambda *a, **k: _Report())
    out = io.StringIO()
    code = run_demo(str(tmp_path / "demo"), ["humans"], workers=1, out=out)
    last = out.getvalue().rstrip().splitlines()[-1]
    assert code == 1
    assert last.startswith("verify: FAIL: 1 finding(s) in 1 of 1 set(s)")
    assert "1 burned in unchanged" in last and "0 leaks" in last


def test_main_exit_status_follows_verify(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("deid_data")
    import deid.verify

    monkeypatch.setattr(deid.verify, "verify", lambda *a, **k: _Report())
    assert main(["--output", str(tmp_path / "d"), "--set", "humans", "-j", "1"]) == 1
    assert main(["--output", str(tmp_path / "e"), "--set", "humans", "--no-verify", "-j", "1"]) == 0


def test_verify_input_mirrors_archives(tmp_path: Path) -> None:
    import zipfile

    from deid.runner.sources import ArchiveExpander

    src = tmp_path / "src"
    src.mkdir()
    (src / "a.dcm").write_bytes(b"plain")
    with zipfile.ZipFile(src / "cine.zip", "w") as zf:
        zf.writestr("inner/b.dcm", b"member")
    expander = ArchiveExpander()
    try:
        staged = demo._verify_input(str(src), str(tmp_path / "stage"), expander)
        assert (Path(staged) / "a.dcm").read_bytes() == b"plain"
        assert (Path(staged) / "cine" / "inner" / "b.dcm").read_bytes() == b"member"
    finally:
        expander.cleanup()
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "a.dcm").write_bytes(b"x")
    assert demo._verify_input(str(plain), str(tmp_path / "s2"), ArchiveExpander()) == str(plain)


def test_demo_cli_rejects_unknown_set(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--set", "nope"])
    assert exc.value.code == 2
    assert set(SAMPLE_SETS) == {"dicom-cookies", "humans", "ultrasounds", "animals"}
