"""The per-file job (deid/runner/job.py): read, conditions, apply, write, record."""

from __future__ import annotations

import io as _io
import json as _json
import os
import pickle
import struct as _struct
import subprocess as _subprocess
import sys as _sys
from pathlib import Path

import pydicom
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydicom.data import get_testdata_file

from deid.errors import DicomReadError, RejectedError
from deid.runner.conditions import parse_conditions
from deid.runner.job import (
    DEFAULT_MAX_FILE_SIZE,
    DEFER_SIZE,
    ElementWindow,
    FileTooLargeError,
    JobSpec,
    TruncatedFileError,
    check_size,
    evaluate_file_conditions,
    materialize,
    parse_size,
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


# ---- large files: size policy, windowed big elements --------------------------------------


def _header_without_pixels() -> bytes:
    ds = make_dataset(0, "1.2.826.0.1.3680043.8.498.77")
    del ds.PixelData
    buf = _io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def _big_pixel_file(path: Path, length: int, content: bytes | None = None) -> Path:
    """A file whose Pixel Data element really holds ``length`` bytes (sparse when no content)."""
    head = _header_without_pixels() + _struct.pack("<HH", 0x7FE0, 0x0010) + b"OW\0\0"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(head + _struct.pack("<I", length))
        if content is None:
            fh.truncate(len(head) + 4 + length)
        else:
            fh.write(content)
    return path


def test_parse_size_units_and_errors() -> None:
    assert parse_size("2G") == 2 * 1024**3
    assert parse_size("1.5GiB") == 3 * 1024**3 // 2
    assert parse_size("512m") == 512 * 1024**2
    assert parse_size("10 KB") == 10 * 1024
    assert parse_size(4096) == 4096
    assert parse_size("0") is None and parse_size("none") is None and parse_size(None) is None
    for bad in ("x", "-1", "12q", ""):
        with pytest.raises(ValueError, match="size"):
            parse_size(bad)
    assert DEFAULT_MAX_FILE_SIZE == 2 * 1024**3


def test_element_window_reads_seeks_and_reports_shrinking(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(bytes(range(100)))
    win = ElementWindow(str(path), 10, 20)
    assert win.readable() and win.seekable() and not win.closed
    assert win.read(5) == bytes(range(10, 15))
    assert win.tell() == 5
    assert win.read() == bytes(range(15, 30))
    assert win.read(3) == b""
    assert win.seek(-4, os.SEEK_END) == 16 and win.read() == bytes(range(26, 30))
    buf = bytearray(4)
    win.seek(0)
    assert win.readinto(buf) == 4 and bytes(buf) == bytes(range(10, 14))
    assert pickle.loads(pickle.dumps(win)).read(2) == bytes(range(10, 12))
    path.write_bytes(b"short")
    win.seek(0)
    with pytest.raises(TruncatedFileError, match="changed or shrank"):
        win.read()


def test_big_element_is_windowed_and_written_byte_for_byte(tmp_path: Path) -> None:
    n = DEFER_SIZE + 4098
    content = bytes(range(256)) * (n // 256) + bytes(n % 256)
    src = _big_pixel_file(tmp_path / "in" / "big.dcm", n, content)
    ds = read_dataset(str(src))
    elem = ds._dict[0x7FE00010]
    assert elem.is_buffered and isinstance(elem.value, ElementWindow)
    assert elem.value.length == n
    plan = real_plan(tmp_path, with_function=False)
    assert 0x7FE00010 in plan.skip
    rec = process_file(_task(src, tmp_path / "out"), JobSpec(plan=plan))
    assert rec["status"] == "written", rec
    out = pydicom.dcmread(rec["output"])
    assert out.PixelData == content
    assert str(out.PatientName) == "ANON" and "PatientID" not in out
    copy = read_dataset(str(src))
    materialize(copy)
    assert copy.PixelData == content and not copy["PixelData"].is_buffered


def test_only_values_the_plan_skips_stay_on_disk(tmp_path: Path) -> None:
    """A big private OB value is read like a small one, so a values: rule sees it either way;
    a plan that does not declare its skip list gets every value in memory."""
    from deid.recipe import parse_recipe

    engine = pytest.importorskip("deid.engine")
    recipe = parse_recipe(
        "FORMAT dicom\n%header\nBLANK values:names\n%values names\nSPLIT PatientName by=^\n"
    )
    plan = engine.compile_plan(recipe)
    results = {}
    for n in (4, DEFER_SIZE // 8 + 8):
        ds = make_dataset(0, "1.2.826.0.1.3680043.8.498.78", patient="Doe^Jane")
        ds.add_new(0x00090010, "LO", "ACME")
        ds.add_new(0x00091001, "OB", b"Doe^Jane" * n)
        src = write(ds, tmp_path / f"in{n}" / "a.dcm")
        rec = process_file(_task(src, tmp_path / f"out{n}"), JobSpec(plan=plan))
        assert rec["status"] == "written", rec
        results[n] = pydicom.dcmread(rec["output"])[0x00091001].value
        assert not read_dataset(str(src), window_tags=plan.skip)[0x00091001].is_buffered
    assert all(not value for value in results.values()), results  # blanked, big or small
    big = _big_pixel_file(tmp_path / "in" / "big.dcm", DEFER_SIZE + 2, b"\1" * (DEFER_SIZE + 2))
    assert not read_dataset(str(big), window_tags=()).get_item(0x7FE00010).is_buffered
    assert read_dataset(str(big)).get_item(0x7FE00010).is_buffered  # default: pixel tags


def test_small_elements_are_read_normally(tmp_path: Path) -> None:
    (src,) = make_tree(tmp_path / "in", series=1, per_series=1)
    ds = read_dataset(str(src))
    assert not ds["PixelData"].is_buffered


def test_declared_length_past_end_is_truncated_without_allocating(tmp_path: Path) -> None:
    head = _header_without_pixels() + _struct.pack("<HH", 0x7FE0, 0x0010) + b"OW\0\0"
    src = tmp_path / "in" / "claims-4gb.dcm"
    src.parent.mkdir()
    src.write_bytes(head + _struct.pack("<I", 0xFFFFFFF0) + b"\0" * 64)
    with pytest.raises(TruncatedFileError, match=r"\(7FE0,0010\).*declares"):
        read_dataset(str(src))
    rec = process_file(_task(src, tmp_path / "out"), JobSpec(plan=StandInPlan()))
    assert rec["status"] == "failed" and "TruncatedFileError" in rec["reason"]


def test_file_over_the_size_limit_is_failed_with_reason(tmp_path: Path) -> None:
    (src,) = make_tree(tmp_path / "in", series=1, per_series=1)
    size = src.stat().st_size
    assert check_size(str(src), size) == size
    with pytest.raises(FileTooLargeError, match="per-file limit of 100 bytes"):
        check_size(str(src), 100)
    spec = JobSpec(plan=StandInPlan(), max_file_size=size - 1, quarantine=str(tmp_path / "q"))
    rec = process_file(_task(src, tmp_path / "out"), spec)
    assert rec["status"] == "failed"
    assert "FileTooLargeError" in rec["reason"] and str(size - 1) in rec["reason"]
    assert not (tmp_path / "out").exists()
    assert Path(rec["quarantine"]).read_bytes() == src.read_bytes()  # streamed copy
    rec = process_file(
        _task(src, tmp_path / "out2"), JobSpec(plan=StandInPlan(), max_file_size=None)
    )
    assert rec["status"] == "written"


_RSS_CHILD = """
import json, resource, sys
from deid.runner import run

kw = {} if sys.argv[3] == "default" else {"max_file_size": sys.argv[3]}
s = run(sys.argv[1], sys.argv[2], profile="basic", key="k" * 32, workers=1, progress=False,
        keep_records=True, **kw)
# VmHWM, not ru_maxrss: on Linux ru_maxrss keeps the forking parent's peak across exec
peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"peak_kb": peak,
                  "records": [[r["status"], r["reason"]] for r in s.records]}))
"""


def _rss_run(src: Path, out: Path, limit: str) -> dict:
    proc = _subprocess.run(
        [_sys.executable, "-c", _RSS_CHILD, str(src), str(out), limit],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return _json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_rss_stays_bounded_on_a_real_1gb_element(tmp_path: Path) -> None:
    """A 1 GB Pixel Data element (sparse on disk) is de-identified with a small, flat RSS:
    the value is copied from the input in chunks, never held in memory (no rlimit needed)."""
    n = 1024**3
    src = _big_pixel_file(tmp_path / "in" / "big.dcm", n)
    result = _rss_run(src, tmp_path / "out", "default")
    assert result["records"] == [["written", None]]
    out = tmp_path / "out" / "big.dcm"
    assert out.stat().st_size > n
    with open(out, "rb") as fh:  # the element is really there, at full length, in the output
        fh.seek(-(n + 4), os.SEEK_END)
        assert _struct.unpack("<I", fh.read(4))[0] == n
    out.unlink()
    assert result["peak_kb"] < 250 * 1024, result["peak_kb"]


def test_file_above_max_file_size_is_refused_without_reading(tmp_path: Path) -> None:
    src = _big_pixel_file(tmp_path / "in" / "big.dcm", 1024**3)
    result = _rss_run(src, tmp_path / "out", "512M")
    ((status, reason),) = result["records"]
    assert status == "failed" and "per-file limit of 536870912 bytes" in reason
    assert not (tmp_path / "out" / "big.dcm").exists()
    assert result["peak_kb"] < 250 * 1024, result["peak_kb"]


def test_remove_stale_temporaries_on_fsspec_memory() -> None:
    import fsspec

    fs = fsspec.filesystem("memory")
    root = "/w2-stale-test"
    fs.pipe(f"{root}/a/.x.dcm.deid-tmp-123-abcd", b"partial")
    fs.pipe(f"{root}/a/x.dcm", b"kept")
    fs.pipe(f"{root}/.y.dcm.deid-tmp-9-ffff", b"partial")
    try:
        assert remove_stale_temporaries(f"memory://{root}") == 2
        assert sorted(fs.find(root)) == [f"{root}/a/x.dcm"]
        assert remove_stale_temporaries("memory://w2-missing-folder") == 0
    finally:
        fs.rm(root, recursive=True)


def test_error_task_is_failed_without_reading(tmp_path: Path) -> None:
    task = FileTask(0, "/x.zip!/a.dcm", "x/a.dcm", str(tmp_path / "o" / "a.dcm"), error="unsafe")
    rec = process_file(task, JobSpec(plan=StandInPlan()))
    assert rec["status"] == "failed" and rec["reason"] == "RunnerError: unsafe"
    cond = evaluate_file_conditions(task, JobSpec(plan=None))
    assert cond["passed"] is False and "unsafe" in cond["error"]


@pytest.mark.parametrize("name", ["examples_jpeg2k.dcm", "examples_ybr_color.dcm"])
def test_big_encapsulated_pixel_data_is_read_whole(tmp_path: Path, name: str) -> None:
    """pydicom defers an undefined-length value past the defer size; read_dataset reads it
    itself (nothing is left for pydicom to fetch later), whatever the window tags."""
    from deid.runner.job import PIXEL_TAGS, WINDOW_SIZE

    path = get_testdata_file(name)
    expected = pydicom.dcmread(path).PixelData
    assert len(expected) > WINDOW_SIZE
    for tags in (None, PIXEL_TAGS, frozenset()):
        ds = read_dataset(path, window_tags=tags)
        raw = ds._dict[pydicom.tag.Tag(0x7FE00010)]
        assert raw.value == expected
        assert ds.PixelData == expected
    rec = process_file(_task(Path(path), tmp_path / "out"), JobSpec(plan=real_plan(tmp_path)))
    assert rec["status"] == "written", rec["reason"]
    assert pydicom.dcmread(rec["output"]).PixelData == expected


def test_encapsulated_pixel_data_cut_before_its_delimiter_is_truncated(tmp_path: Path) -> None:
    data = Path(get_testdata_file("examples_ybr_color.dcm")).read_bytes()
    bad = tmp_path / "cut.dcm"
    bad.write_bytes(data[: len(data) - 5000])
    with pytest.raises((TruncatedFileError, DicomReadError)):
        read_dataset(str(bad))


@pytest.mark.filterwarnings("ignore")
@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=40))
def test_report_uid_from_raw_bytes_equals_pydicom_value(raw: bytes) -> None:
    from pydicom.dataelem import RawDataElement
    from pydicom.dataset import Dataset
    from pydicom.tag import Tag

    from deid.runner.job import _uid

    if len(raw) % 2:
        raw += b"\0"
    fast, slow = Dataset(), Dataset()
    for ds in (fast, slow):
        tag = Tag(0x0020000D)
        ds._dict[tag] = RawDataElement(tag, "UI", len(raw), raw, 0, False, True)
    value = slow.get("StudyInstanceUID")
    expected = None if value is None or value == "" else str(value)
    assert _uid(fast, "StudyInstanceUID") == expected
    if b"\\" not in raw:  # one value: read from the bytes, the element left undecoded
        assert type(fast._dict[Tag(0x0020000D)]) is RawDataElement
