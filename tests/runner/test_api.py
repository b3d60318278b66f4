"""End-to-end batches through deid.runner.run with the real engine (deid/runner/api.py)."""

from __future__ import annotations

import glob as _glob
import json
import os
import shutil
import tempfile as _tempfile
import zipfile as _zipfile
from pathlib import Path

import pydicom
import pytest

from deid.runner.api import build_plan, default_report_path, run
from deid.runner.report import read_report
from deid.runner.sources import RunnerError

from .helpers import (
    HEADER_RECIPE,
    StandInPlan,
    explode,
    make_dataset,
    make_tree,
    read_tree,
    real_plan,
    truncated_copy,
    write,
)

KEY = "a-test-key-that-is-long-enough"


def _messy_batch(root: Path) -> list[Path]:
    """Six good files, a truncated file, a non-DICOM file and a file whose function raises."""
    good = make_tree(root, series=2, per_series=3)
    truncated_copy(good[0], root / "bad" / "truncated.dcm", cut=50)
    (root / "bad" / "notes.txt").write_text("this is not DICOM\n" * 10)
    write(
        make_dataset(0, "1.2.826.0.1.3680043.8.498.999", patient="Doe^Boom"),
        root / "bad" / "boom.dcm",
    )
    return good


def test_messy_batch_finishes_and_reports_each(tmp_path: Path) -> None:
    plan = real_plan(tmp_path)
    src = tmp_path / "in"
    _messy_batch(src)
    before = read_tree(src)
    report = tmp_path / "report.jsonl"
    summary = run(
        [str(src)],
        str(tmp_path / "out"),
        plan=plan,
        key=KEY,
        report=str(report),
        workers=1,
        quarantine=str(tmp_path / "q"),
    )
    assert (summary.written, summary.failed, summary.rejected) == (6, 3, 0)
    assert summary.exit_code == 1
    recs = {Path(r["input"]).name: r for r in read_report(str(report))}
    assert len(read_report(str(report))) == 9
    assert "Truncated" in recs["truncated.dcm"]["reason"]
    assert "not a DICOM file" in recs["notes.txt"]["reason"]
    assert "user function failed on purpose" in recs["boom.dcm"]["reason"]
    for name in ("truncated.dcm", "notes.txt", "boom.dcm"):
        assert recs[name]["status"] == "failed" and recs[name]["output"] is None
        assert Path(recs[name]["quarantine"]).exists()
    assert read_tree(src) == before  # inputs never modified
    written = read_tree(tmp_path / "out")
    assert sorted(written) == [f"s{s}/{i}.dcm" for s in range(2) for i in range(3)]
    ds = pydicom.dcmread(tmp_path / "out" / "s0" / "0.dcm")
    assert str(ds.PatientName) == "ANON" and "PatientID" not in ds
    assert recs["0.dcm"]["SeriesInstanceUID"] is not None


def test_serial_parallel_and_dask_are_byte_identical(tmp_path: Path) -> None:
    plan = real_plan(tmp_path)
    src = tmp_path / "in"
    _messy_batch(src)
    s1 = run([str(src)], str(tmp_path / "o1"), plan=plan, key=KEY, workers=1)
    s2 = run([str(src)], str(tmp_path / "o2"), plan=plan, key=KEY, workers=2)
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        s3 = run([str(src)], str(tmp_path / "o3"), plan=plan, key=KEY, scheduler=client)
    assert (s1.written, s1.failed) == (s2.written, s2.failed) == (s3.written, s3.failed) == (6, 3)
    t1, t2, t3 = (read_tree(tmp_path / n) for n in ("o1", "o2", "o3"))
    assert t1 == t2 == t3 and len(t1) == 6


def test_interrupt_and_resume(tmp_path: Path) -> None:
    plan = real_plan(tmp_path)
    src = tmp_path / "in"
    _messy_batch(src)
    report = tmp_path / "r.jsonl"
    seen: list[str] = []

    class Stop(Exception):
        pass

    def interrupt(rec: dict) -> None:
        seen.append(rec["input"])
        if len(seen) == 4:
            raise Stop

    with pytest.raises(Stop):
        run(
            [str(src)],
            str(tmp_path / "out"),
            plan=plan,
            key=KEY,
            report=str(report),
            workers=1,
            on_record=interrupt,
        )
    first = read_report(str(report))
    assert len(first) == 4
    done_first = {r["input"] for r in first if r["status"] != "failed"}
    redo: list[str] = []
    summary = run(
        [str(src)],
        str(tmp_path / "out"),
        plan=plan,
        key=KEY,
        report=str(report),
        workers=1,
        resume=True,
        on_record=lambda r: redo.append(r["input"]),
    )
    assert not (set(redo) & done_first)  # done files are not processed again
    assert summary.total == 9 and summary.written == 6 and summary.failed == 3
    assert summary.resumed == len(done_first)
    # a fresh full run gives the same bytes
    run([str(src)], str(tmp_path / "ref"), plan=plan, key=KEY, workers=1)
    assert read_tree(tmp_path / "out") == read_tree(tmp_path / "ref")


def test_resume_needs_report(tmp_path: Path) -> None:
    make_tree(tmp_path / "in", series=1, per_series=1)
    with pytest.raises(RunnerError, match="resume"):
        run([str(tmp_path / "in")], str(tmp_path / "o"), plan=StandInPlan(), resume=True)


def test_existing_default_is_error_and_skip_mode(tmp_path: Path) -> None:
    make_tree(tmp_path / "in", series=1, per_series=2)
    out = tmp_path / "o"
    assert run([str(tmp_path / "in")], str(out), plan=StandInPlan(), workers=1).written == 2
    again = run([str(tmp_path / "in")], str(out), plan=StandInPlan(), workers=1)
    assert again.failed == 2 and again.exit_code == 1
    skip = run([str(tmp_path / "in")], str(out), plan=StandInPlan(), workers=1, existing="skip")
    assert skip.skipped == 2 and skip.exit_code == 0
    with pytest.raises(RunnerError, match="existing"):
        run([str(tmp_path / "in")], str(out), plan=StandInPlan(), existing="maybe")


def test_save_conditions_with_series_aggregation(tmp_path: Path) -> None:
    src = tmp_path / "in"
    make_tree(src, series=2, per_series=2, image_type=("DERIVED", "SECONDARY"))
    # one file of series s1 is a PRIMARY image: the whole series is held back
    write(
        make_dataset(
            5,
            "1.2.826.0.1.3680043.8.498.101",
            patient="Doe^Pat1",
            image_type=("ORIGINAL", "PRIMARY"),
        ),
        src / "s1" / "5.dcm",
    )
    report = tmp_path / "r.jsonl"
    conds = ["ImageType does not contain PRIMARY", "Modality in [CT, MR]"]
    summary = run(
        [str(src)],
        str(tmp_path / "out"),
        plan=StandInPlan(),
        conditions=conds,
        series_aggregate=True,
        report=str(report),
        workers=2,
    )
    assert (summary.written, summary.rejected) == (2, 3)
    recs = {r["input"].split("/in/")[1]: r for r in read_report(str(report))}
    bad = recs["s1/5.dcm"]
    assert bad["save_condition"] is False and bad["save_condition_series_agg"] is False
    held = recs["s1/0.dcm"]
    assert held["status"] == "rejected" and held["save_condition"] is True
    assert held["save_disabling_inputs_series_agg"] == [bad["input"]]
    ok = recs["s0/0.dcm"]
    assert ok["status"] == "written" and ok["save_condition_series_agg"] is True
    assert [c["evaluated_value"] for c in ok["conditions"]] == [True, True]
    assert sorted(read_tree(tmp_path / "out")) == ["s0/0.dcm", "s0/1.dcm"]


def test_series_aggregation_needs_conditions(tmp_path: Path) -> None:
    make_tree(tmp_path / "in", series=1, per_series=1)
    with pytest.raises(RunnerError, match="condition"):
        run([str(tmp_path / "in")], str(tmp_path / "o"), plan=StandInPlan(), series_aggregate=True)


def test_crosswalk_and_variables(tmp_path: Path) -> None:
    engine = pytest.importorskip("deid.engine")
    from deid.recipe import parse_recipe

    recipe = parse_recipe("FORMAT dicom\n%header\nREPLACE PatientID var:newid\n", name="v.dicom")
    plan = engine.compile_plan(recipe)
    (f0, _f1) = make_tree(tmp_path / "in", series=1, per_series=2)
    xwalk = tmp_path / "x.csv"
    summary = run(
        [str(tmp_path / "in")],
        str(tmp_path / "o"),
        plan=plan,
        crosswalk=str(xwalk),
        variables={str(f0): {"newid": "SUBJ-0"}, "*": {"newid": "SUBJ-X"}},
        workers=1,
    )
    assert summary.written == 2
    assert pydicom.dcmread(tmp_path / "o" / "s0" / "0.dcm").PatientID == "SUBJ-0"
    assert pydicom.dcmread(tmp_path / "o" / "s0" / "1.dcm").PatientID == "SUBJ-X"
    text = xwalk.read_text()
    assert "PID0" in text and "SUBJ-0" in text and "SUBJ-X" in text


def test_missing_variable_fails_the_file_not_the_batch(tmp_path: Path) -> None:
    engine = pytest.importorskip("deid.engine")
    from deid.recipe import parse_recipe

    recipe = parse_recipe("FORMAT dicom\n%header\nREPLACE PatientID var:newid\n", name="v.dicom")
    plan = engine.compile_plan(recipe)
    make_tree(tmp_path / "in", series=1, per_series=2)
    summary = run(
        [str(tmp_path / "in")], str(tmp_path / "o"), plan=plan, workers=1, keep_records=True
    )
    assert summary.failed == 2 and not (tmp_path / "o").exists()
    assert all("newid" in r["reason"] for r in summary.records)


def test_fsspec_memory_in_and_out(tmp_path: Path) -> None:
    fsspec = pytest.importorskip("fsspec")
    plan = real_plan(tmp_path)
    local = make_tree(tmp_path / "in", series=1, per_series=2)
    fs = fsspec.filesystem("memory")
    for p in local:
        fs.pipe(f"/runner-src/{p.parent.name}/{p.name}", p.read_bytes())
    try:
        summary = run(
            ["memory://runner-src"],
            "memory://runner-dst/out",
            plan=plan,
            key=KEY,
            workers=1,
            keep_records=True,
        )
        assert summary.written == 2, summary.records
        data = fs.cat("/runner-dst/out/s0/0.dcm")
        run([str(tmp_path / "in")], str(tmp_path / "ref"), plan=plan, key=KEY, workers=1)
        assert data == (tmp_path / "ref" / "s0" / "0.dcm").read_bytes()
        assert not [p for p in fs.find("/runner-dst") if ".deid-tmp-" in p]
    finally:
        for d in ("/runner-src", "/runner-dst"):
            if fs.exists(d):
                fs.rm(d, recursive=True)


def test_build_plan_from_recipe_file_and_errors(tmp_path: Path) -> None:
    pytest.importorskip("deid.engine")
    recipe = tmp_path / "r.dicom"
    recipe.write_text(HEADER_RECIPE)
    plan = build_plan(str(recipe), functions={"explode": explode})
    make_tree(tmp_path / "in", series=1, per_series=1)
    s = run([str(tmp_path / "in")], str(tmp_path / "o"), plan=plan, workers=1)
    assert s.written == 1
    with pytest.raises(RunnerError):
        build_plan()
    bad = tmp_path / "bad.dicom"
    bad.write_text("FORMAT dicom\n%header\nREPLCE PatientName x\n")
    from deid.errors import DeidError

    with pytest.raises(DeidError):
        build_plan(str(bad))


def test_unpicklable_plan_refused_before_work(tmp_path: Path, monkeypatch) -> None:
    from deid.runner.executors import ProcessExecutor

    class Local:  # defined in a function: cannot be pickled
        def apply(self, ds: object, context: object = None) -> list:
            return []

    make_tree(tmp_path / "in", series=1, per_series=1)
    if ProcessExecutor.start_method() == "fork":  # forked workers inherit it: it just runs
        summary = run([str(tmp_path / "in")], str(tmp_path / "o1"), plan=Local(), workers=2)
        assert summary.written == 1
    # workers that are spawned receive the spec pickled: refused before any work
    monkeypatch.setattr(ProcessExecutor, "start_method", staticmethod(lambda: "spawn"))
    with pytest.raises(RunnerError, match="worker processes"):
        run([str(tmp_path / "in")], str(tmp_path / "o"), plan=Local(), workers=2)
    assert not (tmp_path / "o").exists()


def test_default_report_path_is_outside_output(tmp_path: Path) -> None:
    out = tmp_path / "release"
    assert not default_report_path(str(out)).startswith(str(out) + "/")


def test_report_records_are_json(tmp_path: Path) -> None:
    make_tree(tmp_path / "in", series=1, per_series=1)
    report = tmp_path / "r.jsonl"
    run(
        [str(tmp_path / "in")],
        str(tmp_path / "o"),
        plan=StandInPlan(),
        report=str(report),
        workers=1,
    )
    rec = json.loads(report.read_text().splitlines()[0])
    for key in (
        "input",
        "output",
        "status",
        "reason",
        "rules",
        "counts",
        "SeriesInstanceUID",
        "StudyInstanceUID",
        "timings",
    ):
        assert key in rec
    shutil.rmtree(tmp_path / "o")


def test_progress_bar_goes_to_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("tqdm")
    make_tree(tmp_path / "in", series=1, per_series=2)
    run([str(tmp_path / "in")], str(tmp_path / "o"), plan=StandInPlan(), workers=1, progress=True)
    captured = capsys.readouterr()
    assert "2/2" in captured.err and captured.out == ""
    run([str(tmp_path / "in")], str(tmp_path / "o2"), plan=StandInPlan(), workers=1)
    assert capsys.readouterr().err == ""  # not a terminal: quiet


PIXEL_RECIPE = """FORMAT dicom

%filter graylist

LABEL Corner text on CT
  contains Modality CT
  coordinates 0,0,4,4

%header

REMOVE PatientID
"""


def test_pixel_step_cleans_and_rejects(tmp_path: Path) -> None:
    pytest.importorskip("deid.pixels.process")
    src = tmp_path / "in"
    write(make_dataset(0, "1.2.3.1", modality="CT"), src / "ct.dcm")
    mr = make_dataset(0, "1.2.3.2", modality="MR")
    mr.BurnedInAnnotation = "YES"  # suspect, and no rule blanks anything: rejected
    write(mr, src / "mr.dcm")
    write(make_dataset(0, "1.2.3.3", modality="MR"), src / "clean.dcm")
    recipe = tmp_path / "p.dicom"
    recipe.write_text(PIXEL_RECIPE)
    summary = run(
        [str(src)],
        str(tmp_path / "o"),
        recipe=str(recipe),
        pixels=True,
        workers=1,
        keep_records=True,
    )
    recs = {Path(r["input"]).name: r for r in summary.records}
    assert recs["ct.dcm"]["status"] == "written"
    assert recs["ct.dcm"]["pixels"]["status"] == "cleaned"
    out = pydicom.dcmread(tmp_path / "o" / "ct.dcm").pixel_array
    orig = pydicom.dcmread(src / "ct.dcm").pixel_array
    assert (out[:4, :4] == 0).all() and (out[4:, 4:] == orig[4:, 4:]).all()
    assert (
        recs["mr.dcm"]["status"] == "rejected" and "BurnedInAnnotation" in recs["mr.dcm"]["reason"]
    )
    assert not (tmp_path / "o" / "mr.dcm").exists()
    assert recs["clean.dcm"]["pixels"]["status"] == "untouched"
    assert (
        (tmp_path / "o" / "clean.dcm")
        .read_bytes()
        .endswith(pydicom.dcmread(src / "clean.dcm").PixelData)
    )
    assert summary.exit_code == 1


def test_basic_profile_serial_equals_parallel(tmp_path: Path) -> None:
    pytest.importorskip("deid.profiles")
    plan = build_plan(profile="basic")
    make_tree(tmp_path / "in", series=2, per_series=2)
    a = run([str(tmp_path / "in")], str(tmp_path / "a"), plan=plan, key=KEY, workers=1)
    b = run([str(tmp_path / "in")], str(tmp_path / "b"), plan=plan, key=KEY, workers=2)
    assert a.written == b.written == 4
    ta, tb = read_tree(tmp_path / "a"), read_tree(tmp_path / "b")
    assert ta == tb
    ds = pydicom.dcmread(tmp_path / "a" / "s0" / "0.dcm")
    assert ds.PatientIdentityRemoved == "YES"
    assert ds.StudyInstanceUID != "1.2.826.0.1.3680043.8.498.1"
    # same key, same patient: the study UID is the same pseudonym in every file of the study
    other = pydicom.dcmread(tmp_path / "a" / "s1" / "1.dcm")
    assert other.StudyInstanceUID == ds.StudyInstanceUID


def test_third_positional_argument_plan_or_recipe(tmp_path: Path) -> None:
    pytest.importorskip("deid.engine")
    make_tree(tmp_path / "in", series=1, per_series=1)
    recipe = tmp_path / "r.dicom"
    recipe.write_text("FORMAT dicom\n%header\nREMOVE PatientID\n")
    s = run(str(tmp_path / "in"), str(tmp_path / "a"), str(recipe), workers=1)
    assert s.written == 1 and "PatientID" not in pydicom.dcmread(tmp_path / "a" / "s0" / "0.dcm")
    s = run(str(tmp_path / "in"), str(tmp_path / "b"), StandInPlan(), workers=1)
    assert pydicom.dcmread(tmp_path / "b" / "s0" / "0.dcm").PatientName == "ANON"
    with pytest.raises(RunnerError, match="not both"):
        run(str(tmp_path / "in"), str(tmp_path / "c"), str(recipe), recipe=str(recipe))


# ---- zip inputs, size policy, fsspec resume, chunking ---------------------------------------


def _zip_tree(zpath: Path, files: list[Path], root: Path, extra: dict[str, bytes] | None = None):
    zpath.parent.mkdir(parents=True, exist_ok=True)
    with _zipfile.ZipFile(zpath, "w") as zf:
        for p in files:
            zf.write(p, p.relative_to(root).as_posix())
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return zpath


def _zip_folders() -> set[str]:
    return set(_glob.glob(os.path.join(_tempfile.gettempdir(), "deid-zip-*")))


def test_zip_input_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    monkeypatch.setattr(_tempfile, "tempdir", str(private_tmp))  # see what the run leaves
    files = make_tree(tmp_path / "staging", series=1, per_series=2)
    src = tmp_path / "in"
    _zip_tree(src / "study.zip", files, tmp_path / "staging", {"../evil.dcm": b"x"})
    _zip_tree(src / "good.zip", files, tmp_path / "staging")
    before = _zip_folders()
    during: set[str] = set()
    report = tmp_path / "r.jsonl"
    summary = run(
        [str(src)],
        str(tmp_path / "out"),
        plan=StandInPlan(),
        workers=2,
        report=str(report),
        keep_records=True,
        on_record=lambda r: during.update(_zip_folders()),
    )
    assert during and all(d.startswith(str(private_tmp)) for d in during)  # one existed
    assert _zip_folders() == before == set()  # the temporary folders are gone
    by_input = {r["input"]: r for r in summary.records}
    good = str((src / "good.zip").resolve())
    assert by_input[f"{good}!/s0/0.dcm"]["status"] == "written"
    out = tmp_path / "out" / "good" / "s0" / "0.dcm"
    assert by_input[f"{good}!/s0/0.dcm"]["output"] == str(out.resolve())
    assert str(pydicom.dcmread(out).PatientName) == "ANON"
    evil = by_input[str((src / "study.zip").resolve())]
    assert evil["status"] == "failed" and "outside the extraction folder" in evil["reason"]
    assert summary.written == 2 and summary.failed == 1 and summary.exit_code == 1
    assert not (tmp_path / "out" / "study").exists() and not (tmp_path / "evil.dcm").exists()
    # resume knows archive members by their stable names
    again = run(
        [str(src)],
        str(tmp_path / "out"),
        plan=StandInPlan(),
        workers=1,
        report=str(report),
        resume=True,
        keep_records=True,
    )
    assert again.resumed == 2 and [r["status"] for r in again.records] == ["failed"]
    # --no-zip: the archive is an ordinary (non-DICOM) input
    plain = run(
        [str(src / "good.zip")],
        str(tmp_path / "o2"),
        plan=StandInPlan(),
        workers=1,
        expand_zip=False,
        keep_records=True,
    )
    assert [r["status"] for r in plain.records] == ["failed"]


def test_max_file_size_option(tmp_path: Path) -> None:
    files = make_tree(tmp_path / "in", series=1, per_series=2)
    size = files[0].stat().st_size
    summary = run(
        [str(tmp_path / "in")],
        str(tmp_path / "out"),
        plan=StandInPlan(),
        workers=1,
        max_file_size=size - 1,
        keep_records=True,
    )
    assert summary.failed == 2
    assert all("per-file limit" in r["reason"] for r in summary.records)
    summary = run(
        [str(tmp_path / "in")],
        str(tmp_path / "o2"),
        plan=StandInPlan(),
        workers=1,
        max_file_size=f"{size}",
        keep_records=True,
    )
    assert summary.written == 2
    with pytest.raises(RunnerError, match="size 'lots'"):
        run([str(tmp_path / "in")], str(tmp_path / "o3"), plan=StandInPlan(), max_file_size="lots")
    with pytest.raises(RunnerError, match="chunksize"):
        run([str(tmp_path / "in")], str(tmp_path / "o3"), plan=StandInPlan(), chunksize=0)


def test_resume_cleans_fsspec_temporaries(tmp_path: Path) -> None:
    """A run killed mid-write leaves hidden temporaries in memory://; --resume removes them."""
    fsspec = pytest.importorskip("fsspec")
    make_tree(tmp_path / "in", series=1, per_series=3)
    fs = fsspec.filesystem("memory")
    out = "memory://w2-resume/out"
    report = tmp_path / "r.jsonl"
    try:
        first = run(
            [str(tmp_path / "in")],
            out,
            plan=StandInPlan(),
            workers=1,
            report=str(report),
            keep_records=True,
        )
        assert first.written == 3
        # simulate a kill: the last record is lost and its temporary stays behind
        lines = report.read_text().splitlines()
        report.write_text("\n".join(lines[:2]) + "\n")
        fs.rm("/w2-resume/out/s0/2.dcm")
        stale = "/w2-resume/out/s0/.2.dcm.deid-tmp-4242-deadbeef"
        fs.pipe(stale, b"half a file")
        quarantine_stale = "/w2-resume/q/s0/.1.dcm.deid-tmp-1-00000000"
        fs.pipe(quarantine_stale, b"half")
        again = run(
            [str(tmp_path / "in")],
            out,
            plan=StandInPlan(),
            workers=1,
            report=str(report),
            resume=True,
            quarantine="memory://w2-resume/q",
            keep_records=True,
        )
        assert again.resumed == 2 and again.written == 3
        assert not fs.exists(stale) and not fs.exists(quarantine_stale)
        assert not [p for p in fs.find("/w2-resume") if ".deid-tmp-" in p]
        assert fs.cat("/w2-resume/out/s0/2.dcm")[128:132] == b"DICM"
    finally:
        fs.rm("/w2-resume", recursive=True)


def test_chunked_pool_equals_serial(tmp_path: Path) -> None:
    make_tree(tmp_path / "in", series=2, per_series=5)
    one = run([str(tmp_path / "in")], str(tmp_path / "a"), plan=StandInPlan(), workers=1)
    two = run(
        [str(tmp_path / "in")],
        str(tmp_path / "b"),
        plan=StandInPlan(),
        workers=2,
        chunksize=3,
        keep_records=True,
    )
    assert one.written == two.written == 10
    assert sorted(r["index"] for r in two.records) == list(range(10))
    assert read_tree(tmp_path / "a") == read_tree(tmp_path / "b")


def test_refused_archive_and_oversized_member_are_quarantined_sanely(tmp_path: Path) -> None:
    files = make_tree(tmp_path / "staging", series=1, per_series=1)
    src = tmp_path / "in"
    _zip_tree(src / "evil.zip", files, tmp_path / "staging", {"/etc/x.dcm": b"x"})
    _zip_tree(src / "big.zip", files, tmp_path / "staging", {"huge.dcm": b"\0" * 5000})
    q = tmp_path / "q"
    summary = run(
        [str(src)],
        str(tmp_path / "out"),
        plan=StandInPlan(),
        workers=1,
        quarantine=str(q),
        max_file_size=4000,
        keep_records=True,
    )
    by_input = {r["input"].rsplit("/", 1)[-1]: r for r in summary.records}
    evil = by_input["evil.zip"]
    assert evil["status"] == "failed" and evil["quarantine"] == str(q.resolve() / "evil.zip")
    assert (q / "evil.zip").read_bytes() == (src / "evil.zip").read_bytes()
    huge = by_input["huge.dcm"]
    assert huge["status"] == "failed" and "per-file limit of 4000 bytes" in huge["reason"]
    assert huge["quarantine"] is None and "quarantine copy failed" not in huge["reason"]
    assert by_input["0.dcm"]["status"] == "written"


def test_pixel_step_is_on_by_default_and_pixels_false_opts_out(tmp_path: Path) -> None:
    src = tmp_path / "in"
    ds = make_dataset(0, "1.2.3.9")
    ds.BurnedInAnnotation = "YES"
    write(ds, src / "burned.dcm")
    summary = run([str(src)], str(tmp_path / "o"), recipe=str(_header_recipe(tmp_path)), workers=1)
    assert (summary.rejected, summary.written) == (1, 0)
    summary = run(
        [str(src)],
        str(tmp_path / "o2"),
        recipe=str(_header_recipe(tmp_path)),
        workers=1,
        pixels=False,
    )
    assert summary.written == 1
    assert pydicom.dcmread(tmp_path / "o2" / "burned.dcm").BurnedInAnnotation == "YES"
    summary = run(
        [str(src)],
        str(tmp_path / "o3"),
        recipe=str(_header_recipe(tmp_path)),
        workers=1,
        accept_burned_in=True,
        keep_records=True,
    )
    assert summary.written == 1
    assert "accepted because reject_uncovered is off" in summary.records[0]["pixels"]["reason"]


def _header_recipe(tmp_path: Path) -> Path:
    path = tmp_path / "h.dicom"
    path.write_text("FORMAT dicom\n%header\nREMOVE PatientID\n")
    return path


@pytest.mark.parametrize("kwargs", [{"pixels": False}, {"accept_burned_in": True}])
def test_clean_pixel_data_option_needs_the_pixel_step(tmp_path: Path, kwargs: dict) -> None:
    src = tmp_path / "in"
    write(make_dataset(0, "1.2.3.9"), src / "a.dcm")
    with pytest.raises(RunnerError, match="clean-pixel-data"):
        run(
            [str(src)],
            str(tmp_path / "o"),
            profile="basic",
            options=["clean-pixel-data"],
            key=KEY,
            **kwargs,
        )
    assert not (tmp_path / "o").exists()


def test_pixel_options_for_defaults() -> None:
    from deid.pixels.process import PixelOptions
    from deid.runner.api import pixel_options_for

    default = pixel_options_for()
    assert default.reject_uncovered is True and default.reject_groups == ()
    given = PixelOptions(fill=7, reject_groups=("blacklist",))
    assert pixel_options_for(given) is given
    mixed = pixel_options_for(given, accept_burned_in=True, suspect_image_types=["secondary"])
    assert (mixed.fill, mixed.reject_uncovered, mixed.suspect_image_types) == (
        7,
        False,
        ("SECONDARY",),
    )
    assert pixel_options_for(given, reject_blacklist=True).reject_groups == ("blacklist",)


def test_big_pixel_data_of_zip_member_untouched_and_identical(tmp_path: Path) -> None:
    """A zip member with Pixel Data above the deferral size: never decoded, copied as is."""
    from deid.runner.job import DEFER_SIZE

    size = 1600  # 1600 * 1600 * 2 bytes = 5.1 MB > DEFER_SIZE
    assert size * size * 2 > DEFER_SIZE
    big = make_dataset(0, "1.2.3.10", size=size)
    path = write(big, tmp_path / "stage" / "big.dcm")
    src = tmp_path / "in"
    src.mkdir()
    with _zipfile.ZipFile(src / "study.zip", "w", _zipfile.ZIP_DEFLATED) as zf:
        zf.write(path, "series/big.dcm")
    summary = run(
        [str(src)],
        str(tmp_path / "o"),
        recipe=str(_header_recipe(tmp_path)),
        workers=1,
        keep_records=True,
    )
    assert summary.written == 1, summary.records
    assert summary.records[0]["pixels"]["status"] == "untouched"
    out = pydicom.dcmread(tmp_path / "o" / "study" / "series" / "big.dcm")
    assert out.PixelData == big.PixelData and "PatientID" not in out


def test_run_without_a_key_says_pseudonyms_are_not_reproducible(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.delenv("DEID_KEY", raising=False)
    make_tree(tmp_path / "in", series=1, per_series=2)
    report = tmp_path / "r.jsonl"
    summary = run(
        str(tmp_path / "in"),
        str(tmp_path / "out"),
        profile="basic",
        workers=1,
        progress=False,
        report=str(report),
    )
    assert summary.written == 2
    assert summary.reproducible is False and summary.key_source == "random"
    assert "NOT reproducible" in summary.text()
    assert summary.as_dict()["pseudonyms_reproducible"] is False
    records = [json.loads(line) for line in report.read_text().splitlines() if line.strip()]
    assert records and all(r["pseudonyms_reproducible"] is False for r in records)


def test_run_with_a_key_is_reproducible(tmp_path: Path) -> None:
    make_tree(tmp_path / "in", series=1, per_series=1)
    report = tmp_path / "r.jsonl"
    summary = run(
        str(tmp_path / "in"),
        str(tmp_path / "out"),
        profile="basic",
        key=KEY,
        workers=1,
        progress=False,
        report=str(report),
    )
    assert summary.reproducible is True and summary.key_source == "argument"
    assert "reproducible" not in summary.text()
    records = [json.loads(line) for line in report.read_text().splitlines() if line.strip()]
    assert all(r["pseudonyms_reproducible"] is True for r in records)
