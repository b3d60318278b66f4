"""Report, crosswalk, summary and resume bookkeeping (deid/runner/report.py)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from deid.runner.report import CrosswalkWriter, ReportWriter, RunSummary, load_done, read_report


def test_writer_one_line_per_record_and_append(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "r.jsonl"
    with ReportWriter(str(path)) as w:
        w.write({"input": "a", "status": "written", "output": None})
        w.write({"input": "b", "status": "failed"})
    with ReportWriter(str(path), append=True) as w:
        w.write({"input": "b", "status": "rejected"})
    lines = path.read_text().splitlines()
    assert [json.loads(x)["input"] for x in lines] == ["a", "b", "b"]
    with ReportWriter(str(path)) as w:  # not appending: starts over
        w.write({"input": "c", "status": "failed"})
    assert len(path.read_text().splitlines()) == 1


def test_read_report_ignores_cut_and_foreign_lines(tmp_path: Path) -> None:
    p = tmp_path / "r.jsonl"
    p.write_text('{"input": "a", "status": "written"}\n[1, 2]\n\n{"x": 1}\n{"input": "b", "st')
    assert [r["input"] for r in read_report(str(p))] == ["a"]


def test_load_done_rules(tmp_path: Path) -> None:
    out = tmp_path / "o.dcm"
    out.write_bytes(b"x")
    p = tmp_path / "r.jsonl"
    recs = [
        {"input": "w", "status": "written", "output": str(out)},
        {"input": "gone", "status": "written", "output": str(tmp_path / "missing.dcm")},
        {"input": "f", "status": "failed"},
        {"input": "r", "status": "rejected"},
        {"input": "s", "status": "skipped"},
        {"input": "later", "status": "written", "output": str(out)},
        {"input": "later", "status": "failed"},
    ]
    p.write_text("".join(json.dumps(r) + "\n" for r in recs))
    assert sorted(load_done(str(p))) == ["r", "s", "w"]
    assert load_done(str(tmp_path / "none.jsonl")) == {}


def test_crosswalk_rows(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    w = CrosswalkWriter(str(p))
    w.write(
        {
            "input": "i",
            "output": "o",
            "status": "written",
            "crosswalk": {"PatientID": ["P1", "X9"], "StudyInstanceUID": ["1.2", "2.5"]},
        }
    )
    w.write({"input": "j", "output": None, "status": "failed"})
    w.close()
    rows = list(csv.DictReader(p.open()))
    assert len(rows) == 1
    assert rows[0]["PatientID"] == "P1" and rows[0]["PatientID_deid"] == "X9"
    assert rows[0]["SOPInstanceUID"] == ""
    w = CrosswalkWriter(str(p), append=True)
    w.write({"input": "k", "output": "o2", "status": "written", "crosswalk": {}})
    w.close()
    assert len(list(csv.DictReader(p.open()))) == 2  # header written once


def test_summary_counts_and_exit_code() -> None:
    s = RunSummary()
    for status in ["written", "written", "skipped"]:
        s.add({"status": status})
    s.finish()
    assert (s.total, s.exit_code) == (3, 0)
    s.add({"status": "weird"})  # unknown statuses count as failures (fail closed)
    assert s.failed == 1 and s.exit_code == 1
    d = s.as_dict()
    assert d["written"] == 2 and d["failed"] == 1 and "files_per_second" in d
    assert s.text().startswith("4 files: 2 written, 1 skipped, 0 rejected, 1 failed")


def test_append_after_a_cut_line_keeps_new_records(tmp_path: Path) -> None:
    p = tmp_path / "r.jsonl"
    p.write_text('{"input": "a", "status": "written"}\n{"input": "b", "sta')
    with ReportWriter(str(p), append=True) as w:
        w.write({"input": "c", "status": "failed"})
    assert [r["input"] for r in read_report(str(p))] == ["a", "c"]
