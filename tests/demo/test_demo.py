"""``python -m deid.demo`` (deid/demo.py) on a subset of the deid-data sample sets."""

from __future__ import annotations

import io
from pathlib import Path

import pydicom
import pytest

from deid.demo import SAMPLE_SETS, main, run_demo


def test_demo_humans_and_cookies(tmp_path: Path) -> None:
    pytest.importorskip("deid_data")
    out = io.StringIO()
    code = run_demo(str(tmp_path / "demo"), ["dicom-cookies", "humans"], workers=1, out=out)
    text = out.getvalue()
    assert code == 0, text
    assert "dicom-cookies  7 files: 7 written" in text
    assert "humans         2 files: 2 written" in text
    assert "summary: 9 written, 0 skipped, 0 rejected, 0 failed" in text
    assert "verify: 0 leaks" in text
    ds = pydicom.dcmread(tmp_path / "demo" / "humans" / "ctbrain1.dcm")
    assert ds.PatientIdentityRemoved == "YES"
    assert (tmp_path / "demo" / "humans.deid-report.jsonl").exists()


def test_demo_cli_rejects_unknown_set(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--set", "nope"])
    assert exc.value.code == 2
    assert set(SAMPLE_SETS) == {"dicom-cookies", "humans", "ultrasounds", "animals"}
