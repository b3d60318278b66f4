"""deid.verify.pairing: report, crosswalk and content-based pairing."""

from __future__ import annotations

import json
import os
import shutil

from pydicom import Dataset

from deid.verify import verify
from deid.verify.pairing import FileInfo, pair_files, read_crosswalk, read_report, signature


def test_report_records_pair_and_refusals(tmp_path):
    log = tmp_path / "r.jsonl"
    lines = [
        {"input": "a.dcm", "output": "x/a.dcm", "status": "written"},
        {"input": "b.dcm", "output": None, "status": "rejected", "reason": "burned in"},
        {"input": "c.dcm", "output": None, "status": "failed", "reason": "truncated"},
    ]
    log.write_text("\n".join(json.dumps(x) for x in lines) + "\n{cut")
    pairs, rejected = read_report(str(log), "/in", "/out")
    assert pairs == {"/in/a.dcm": "/out/x/a.dcm"}
    assert rejected == {"/in/b.dcm": "rejected: burned in", "/in/c.dcm": "failed: truncated"}


def test_crosswalk_of_deid_run_layout(tmp_path):
    csv = tmp_path / "x.csv"
    csv.write_text(
        "input,output,PatientID,PatientID_deid,SOPInstanceUID,SOPInstanceUID_deid\n"
        "/in/a,/out/a,P1,S1,1.2.3,2.25.7\n"
    )
    assert read_crosswalk(str(csv)) == ({"/in/a": "/out/a"}, {"1.2.3": "2.25.7"})


def _fi(path, **kw):
    return FileInfo(path, os.path.basename(path), **kw)


def test_content_pairing_only_unique_matches():
    ins = {
        "/i/1": _fi("/i/1", digest="d1"),
        "/i/2": _fi("/i/2", digest="d2"),
        "/i/3": _fi("/i/3", digest="same"),
        "/i/4": _fi("/i/4", digest="same"),
    }
    outs = {
        "/o/p": _fi("/o/p", digest="d2"),
        "/o/q": _fi("/o/q", digest="d1"),
        "/o/r": _fi("/o/r", digest="same"),
        "/o/s": _fi("/o/s", digest="same"),
    }
    pairing = pair_files(ins, outs)
    assert pairing.pairs == {"/i/1": "/o/q", "/i/2": "/o/p"}
    assert set(pairing.method.values()) == {"pixel-data"}


def test_uid_map_and_report_come_first():
    ins = {"/i/1": _fi("/i/1", sop_uid="1.1", digest="d"), "/i/2": _fi("/i/2", sop_uid="1.2")}
    outs = {"/o/a": _fi("/o/a", sop_uid="9.1"), "/o/b": _fi("/o/b", sop_uid="9.2", digest="d")}
    pairing = pair_files(ins, outs, report_pairs={"/i/2": "/o/a"}, uid_map={"1.1": "9.2"})
    assert pairing.pairs == {"/i/2": "/o/a", "/i/1": "/o/b"}
    assert pairing.method == {"/i/2": "report", "/i/1": "crosswalk"}


def test_signature_ignores_identifying_values():
    a, b = Dataset(), Dataset()
    for ds, name in ((a, "Doe^Jane"), (b, "ANON")):
        ds.PatientName = name
        ds.Rows, ds.Columns, ds.InstanceNumber = 4, 4, 7
    assert signature(a) == signature(b)
    b.InstanceNumber = 8
    assert signature(a) != signature(b)


def test_renamed_outputs_are_paired_by_content(corpus, clean_output, tmp_path):
    """Another tool that names files by new UID: pairing by pixel data / geometry still works."""
    src, key = corpus
    out = tmp_path / "flat"
    out.mkdir()
    for i, rec in enumerate(key["files"]):
        shutil.copy(os.path.join(clean_output, rec["path"]), out / f"IMG{i:04d}")
    report = verify(src, str(out))
    assert report.ok, report.render()
    methods = {fr.method for fr in report.files}
    assert methods <= {"pixel-data", "geometry", "instance-numbers"} and "pixel-data" in methods
    by_input = {os.path.relpath(fr.input, src): fr.output for fr in report.files}
    for i, rec in enumerate(key["files"]):
        assert by_input[rec["path"]] == str(out / f"IMG{i:04d}")
