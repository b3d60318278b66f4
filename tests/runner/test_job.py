"""The per-file job (deid/runner/job.py): read, conditions, apply, write, record."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

from deid.errors import DicomReadError, RejectedError
from deid.runner.conditions import parse_conditions
from deid.runner.job import (
    JobSpec,
    TruncatedFileError,
    evaluate_file_conditions,
    process_file,
    read_dataset,
    remove_stale_temporaries,
    summarize_changes,
)
from deid.runner.sources import FileTask, collect_tasks

from .helpers import ExplodingPlan, StandInPlan, make_dataset, make_tree, real_plan, write


def _task(src: Path, out: Path) -> FileTask:
    return collect_tasks([str(src)], str(out))[0]


def test_written_record_and_output(tmp_path: Path) -> None:
    (src,) = make_tree(tmp_path / "in", series=1, per_series=1)
    before = src.read_bytes()
    rec = process_file(_task(src, tmp_path / "out"), JobSpec(plan=StandInPlan()))
    assert rec["status"] == "written", rec
    assert rec["reason"] is None
    out = pydicom.dcmread(rec["output"])
    assert str(out.PatientName) == "ANON" and "PatientID" not in out
    assert src.read_bytes() == before  # input untouched
    assert rec["SeriesInstanceUID"] == "1.2.826.0.1.3680043.8.498.100"
    assert rec["StudyInstanceUID"] == "1.2.826.0.1.3680043.8.498.1"
    assert rec["rules"] == [
        {"rule": "standin:1", "text": "REPLACE PatientName ANON", "action": "REPLACE", "count": 1},
        {"rule": "standin:2", "text": "REMOVE PatientID", "action": "REMOVE", "count": 1},
    ]
    assert set(rec["timings"]) >= {"read", "apply", "write", "total"}
    # no temporary file left behind
    assert os.listdir(Path(rec["output"]).parent) == ["0.dcm"]


def test_existing_output_modes(tmp_path: Path) -> None:
    (src,) = make_tree(tmp_path / "in", series=1, per_series=1)
    task = _task(src, tmp_path / "out")
    Path(task.output).parent.mkdir(parents=True)
    Path(task.output).write_bytes(b"old")
    rec = process_file(task, JobSpec(plan=StandInPlan(), existing="error"))
    assert rec["status"] == "failed" and "exists" in rec["reason"]
    assert Path(task.output).read_bytes() == b"old"
    rec = process_file(task, JobSpec(plan=StandInPlan(), existing="skip"))
    assert rec["status"] == "skipped"
    assert Path(task.output).read_bytes() == b"old"
    rec = process_file(task, JobSpec(plan=StandInPlan(), existing="overwrite"))
    assert rec["status"] == "written"
    assert pydicom.dcmread(task.output).PatientName == "ANON"


def test_non_dicom_fails_and_is_quarantined(tmp_path: Path) -> None:
    src = tmp_path / "in" / "notes.txt"
    src.parent.mkdir(parents=True)
    src.write_text("not dicom at all " * 20)
    spec = JobSpec(plan=StandInPlan(), quarantine=str(tmp_path / "q"))
    rec = process_file(_task(src, tmp_path / "out"), spec)
    assert rec["status"] == "failed"
    assert "DicomReadError" in rec["reason"] and str(src.resolve()) in rec["reason"]
    assert rec["output"] is None and not (tmp_path / "out").exists()
    assert Path(rec["quarantine"]).read_bytes() == src.read_bytes()


@pytest.mark.parametrize("cut", [10, 300, 700])
def test_truncated_file_fails(tmp_path: Path, cut: int) -> None:
    src = Path(get_testdata_file("MR_small.dcm"))
    data = src.read_bytes()
    bad = tmp_path / "in" / "cut.dcm"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(data[: len(data) - cut] if cut < 100 else data[: cut + 300])
    with pytest.raises((TruncatedFileError, DicomReadError)):
        read_dataset(str(bad))
    rec = process_file(_task(bad, tmp_path / "out"), JobSpec(plan=StandInPlan()))
    assert rec["status"] == "failed"
    assert not (tmp_path / "out").exists()


def test_complete_testdata_files_are_not_called_truncated() -> None:
    names = [
        "CT_small.dcm",
        "MR_small.dcm",
        "JPEG2000.dcm",
        "rtplan.dcm",
        "SC_rgb_rle.dcm",
        "UN_sequence.dcm",
        "nested_priv_SQ.dcm",
        "liver_1frame.dcm",
    ]
    for name in names:
        assert len(read_dataset(get_testdata_file(name))) > 0


@pytest.mark.parametrize("name", ["MR_truncated.dcm", "rtplan_truncated.dcm"])
def test_pydicom_truncated_samples_are_refused(name: str) -> None:
    with pytest.raises(TruncatedFileError, match=name):
        read_dataset(get_testdata_file(name))


def test_raising_plan_is_contained(tmp_path: Path) -> None:
    ds = make_dataset(0, "1.2.3.4", patient="Doe^Boom")
    src = write(ds, tmp_path / "in" / "boom.dcm")
    rec = process_file(_task(src, tmp_path / "out"), JobSpec(plan=ExplodingPlan()))
    assert rec["status"] == "failed"
    assert "user function failed on purpose" in rec["reason"]
    assert not (tmp_path / "out").exists()


def test_rejected_error_gives_rejected(tmp_path: Path) -> None:
    class Reject:
        def apply(self, ds: object, context: object = None) -> list[object]:
            raise RejectedError("burned-in annotation cannot be cleaned")

    (src,) = make_tree(tmp_path / "in", series=1, per_series=1)
    rec = process_file(_task(src, tmp_path / "out"), JobSpec(plan=Reject()))
    assert rec["status"] == "rejected" and "burned-in" in rec["reason"]


def test_save_conditions_reject_and_record(tmp_path: Path) -> None:
    (src,) = make_tree(tmp_path / "in", series=1, per_series=1)
    conds = parse_conditions(["Modality in [CT, MR]", "ImageType does not contain PRIMARY"])
    spec = JobSpec(plan=StandInPlan(), conditions=conds, quarantine=str(tmp_path / "q"))
    rec = process_file(_task(src, tmp_path / "out"), spec)
    assert rec["status"] == "rejected"
    assert "ImageType does not contain PRIMARY" in rec["reason"]
    assert [c["evaluated_value"] for c in rec["conditions"]] == [True, False]
    assert rec["conditions"][0]["tag_value"] == "CT"
    assert rec["save_condition"] is False
    assert rec["quarantine"] and Path(rec["quarantine"]).exists()
    assert not (tmp_path / "out").exists()


def test_series_block_rejects_passing_file(tmp_path: Path) -> None:
    (src,) = make_tree(tmp_path / "in", series=1, per_series=1)
    conds = parse_conditions(["Modality in [CT]"])
    task = _task(src, tmp_path / "out")
    from dataclasses import replace

    rec = process_file(
        replace(task, series_block=("/x/other.dcm",)), JobSpec(plan=StandInPlan(), conditions=conds)
    )
    assert rec["status"] == "rejected" and rec["save_condition"] is True
    assert rec["save_condition_series_agg"] is False
    assert rec["save_disabling_inputs_series_agg"] == ["/x/other.dcm"]
    rec = process_file(
        replace(task, series_block=()), JobSpec(plan=StandInPlan(), conditions=conds)
    )
    assert rec["status"] == "written" and rec["save_condition_series_agg"] is True


def test_evaluate_file_conditions(tmp_path: Path) -> None:
    (src,) = make_tree(tmp_path / "in", series=1, per_series=1, modality="MR")
    spec = JobSpec(plan=None, conditions=parse_conditions(["Modality in [CT]"]))
    res = evaluate_file_conditions(_task(src, tmp_path / "o"), spec)
    assert res == {
        "input": str(src.resolve()),
        "series": "1.2.826.0.1.3680043.8.498.100",
        "passed": False,
        "error": None,
    }


def test_crosswalk_entries(tmp_path: Path) -> None:
    (src,) = make_tree(tmp_path / "in", series=1, per_series=1)
    rec = process_file(_task(src, tmp_path / "out"), JobSpec(plan=StandInPlan(), crosswalk=True))
    assert rec["crosswalk"]["PatientID"] == ["PID0", None]
    assert rec["crosswalk"]["SeriesInstanceUID"][0] == "1.2.826.0.1.3680043.8.498.100"


def test_spec_is_picklable() -> None:
    spec = JobSpec(plan=StandInPlan(), conditions=parse_conditions(["Modality in [CT]"]))
    assert pickle.loads(pickle.dumps(spec)).conditions == spec.conditions


def test_summarize_changes_groups_by_rule() -> None:
    from types import SimpleNamespace as NS

    r1 = NS(source="a", line=1, text="BLANK x")
    changes = [
        NS(action="BLANK", rule=r1),
        NS(action="BLANK", rule=r1),
        NS(action="ADD", rule=None),
    ]
    out = summarize_changes(changes)
    assert [(e["rule"], e["count"]) for e in out] == [("a:1", 2), (None, 1)]


def test_remove_stale_temporaries(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / ".x.dcm.deid-tmp-1-abcd").write_bytes(b"")
    (tmp_path / "a" / "x.dcm").write_bytes(b"")
    assert remove_stale_temporaries(str(tmp_path)) == 1
    assert os.listdir(tmp_path / "a") == ["x.dcm"]


def test_real_engine_file(tmp_path: Path) -> None:
    plan = real_plan(tmp_path, with_function=False)
    (src,) = make_tree(tmp_path / "in", series=1, per_series=1)
    rec = process_file(_task(src, tmp_path / "out"), JobSpec(plan=plan))
    assert rec["status"] == "written", rec
    out = pydicom.dcmread(rec["output"])
    assert "PatientID" not in out and out.InstitutionName == "" and out.StudyDate == "20000101"
    assert {r["action"] for r in rec["rules"]} >= {"REMOVE", "BLANK", "REPLACE"}
    assert all(r["rule"].startswith("runner-test.dicom:") for r in rec["rules"])
