"""deid.verify.report: totals, exit code, JSON and text renderings."""

from __future__ import annotations

import json

from deid.verify.report import FileReport, Finding, VerifyReport


def _report():
    r = VerifyReport("in", "out")
    fr = FileReport("in/a", "out/a", "report")
    fr.leaks.append(Finding("leak", "Doe", "name", "(0010,0010) PatientName", "preamble"))
    fr.leaks.append(
        Finding(
            "leak", "1.2.3", "uid", "(0020,000D) StudyInstanceUID", "(0020,000D) StudyInstanceUID"
        )
    )
    fr.ambiguous.append(Finding("ambiguous", "HEAD", "name", "x", "y"))
    r.files.append(fr)
    r.lost.append("in/b")
    return r


def test_totals_and_exit_code():
    r = _report()
    t = r.totals()
    assert (t["leaks"], t["original_uids"], t["ambiguous"], t["lost"]) == (2, 1, 1, 1)
    assert r.exit_code == 1 and not r.ok
    clean = VerifyReport("in", "out")
    clean.files.append(FileReport("in/a", "out/a", "geometry"))
    clean.rejected["in/c"] = "rejected"
    assert clean.ok and clean.exit_code == 0


def test_json_round_trip():
    data = json.loads(_report().to_json())
    assert data["ok"] is False
    assert data["files"][0]["leaks"][0]["value"] == "Doe"
    assert data["files"][0]["ok"] is False
    assert data["lost"] == ["in/b"]


def test_text_rendering():
    text = _report().render(verbose=True)
    assert "LEAK name 'Doe' (input (0010,0010) PatientName) found in preamble" in text
    assert "ambiguous name 'HEAD'" in text
    assert "in/b: LOST" in text
    assert text.splitlines()[-1].startswith("FAIL")
    assert "ambiguous" not in _report().render(verbose=False).splitlines()[0]
