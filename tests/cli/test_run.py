"""``deid run`` (deid/cli/run.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pydicom
import pytest
from runner.helpers import read_tree, truncated_copy

from deid.cli.main import main
from deid.runner.report import read_report


def test_run_recipe_writes_tree_and_default_report(
    tree: Path, recipe: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["run", str(tree), "-o", str(out), "-r", str(recipe), "-j", "1"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("4 files: 4 written, 0 skipped, 0 rejected, 0 failed")
    assert "files/s" in captured.out
    assert sorted(read_tree(out)) == ["s0/0.dcm", "s0/1.dcm", "s1/0.dcm", "s1/1.dcm"]
    report = Path(str(out) + ".deid-report.jsonl")
    assert len(read_report(str(report))) == 4
    ds = pydicom.dcmread(out / "s0" / "0.dcm")
    assert "PatientID" not in ds and ds.PatientName == "ANON"


def test_run_profile_json_summary_and_exit_1(
    tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    truncated_copy(tree / "s0" / "0.dcm", tree / "zz" / "cut.dcm", cut=30)
    out = tmp_path / "out"
    code = main(
        [
            "run",
            str(tree),
            "-o",
            str(out),
            "--profile",
            "basic",
            "--key",
            "0123456789abcdef0123",
            "--json",
            "-j",
            "2",
            "--quarantine",
            str(tmp_path / "q"),
            "--report",
            str(tmp_path / "r.jsonl"),
            "--crosswalk",
            str(tmp_path / "x.csv"),
        ]
    )
    captured = capsys.readouterr()
    assert code == 1
    summary = json.loads(captured.out)
    assert summary["written"] == 4 and summary["failed"] == 1
    assert "failed:" in captured.err and "cut.dcm" in captured.err
    assert (tmp_path / "q" / "zz" / "cut.dcm").exists()
    ds = pydicom.dcmread(out / "s0" / "0.dcm")
    assert ds.PatientIdentityRemoved == "YES"
    assert "PID0" in (tmp_path / "x.csv").read_text()


def test_run_conditions_and_resume(
    tree: Path, recipe: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    args = [
        "run",
        str(tree),
        "-o",
        str(out),
        "-r",
        str(recipe),
        "-j",
        "1",
        "--condition",
        "Modality in [MR]",
    ]
    assert main(args) == 1
    recs = read_report(str(out) + ".deid-report.jsonl")
    assert {r["status"] for r in recs} == {"rejected"}
    assert main(args + ["--resume"]) == 1
    assert "from the previous report" in capsys.readouterr().out
    assert len(read_report(str(out) + ".deid-report.jsonl")) == 4  # nothing redone


def test_run_usage_errors(tree: Path, recipe: Path, tmp_path: Path) -> None:
    assert main(["run", str(tree)]) == 2  # no output
    assert main(["run", str(tree), "-o", str(tmp_path / "o")]) == 2  # nothing to apply
    assert main(["run", str(tree), "-o", str(tree / "inner"), "-r", str(recipe)]) == 2
    assert main(["run", str(tree), "-o", str(tmp_path / "o"), "--profile", "nope"]) == 2
    assert (
        main(
            [
                "run",
                str(tree),
                "-o",
                str(tmp_path / "o"),
                "-r",
                str(recipe),
                "--condition",
                "Modality maybe CT",
            ]
        )
        == 2
    )
    bad = tmp_path / "bad.dicom"
    bad.write_text("FORMAT dicom\n%header\nREPLCE PatientName x\n")
    assert main(["run", str(tree), "-o", str(tmp_path / "o"), "-r", str(bad)]) == 2
    assert not (tmp_path / "o").exists()


def test_run_ids_file(tree: Path, tmp_path: Path) -> None:
    rec = tmp_path / "v.dicom"
    rec.write_text("FORMAT dicom\n%header\nREPLACE PatientID var:subject\n")
    ids = tmp_path / "ids.json"
    ids.write_text(json.dumps({"*": {"subject": "S-1"}}))
    out = tmp_path / "o"
    assert (
        main(
            [
                "run",
                str(tree),
                "-o",
                str(out),
                "-r",
                str(rec),
                "--ids",
                str(ids),
                "-j",
                "1",
                "--no-report",
            ]
        )
        == 0
    )
    assert pydicom.dcmread(out / "s1" / "1.dcm").PatientID == "S-1"
    assert not Path(str(out) + ".deid-report.jsonl").exists()
    ids.write_text("[1, 2]")
    assert (
        main(["run", str(tree), "-o", str(tmp_path / "o2"), "-r", str(rec), "--ids", str(ids)]) == 2
    )


def test_run_on_dask_scheduler_address(
    tree: Path, recipe: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        code = main(
            [
                "run",
                str(tree),
                "-o",
                str(tmp_path / "d"),
                "-r",
                str(recipe),
                "--scheduler",
                cluster.scheduler_address,
                "--key",
                "k" * 20,
            ]
        )
    assert code == 0, capsys.readouterr().err
    assert (
        main(
            [
                "run",
                str(tree),
                "-o",
                str(tmp_path / "s"),
                "-r",
                str(recipe),
                "-j",
                "1",
                "--key",
                "k" * 20,
            ]
        )
        == 0
    )
    assert read_tree(tmp_path / "d") == read_tree(tmp_path / "s")


def test_run_pixels_flag(tree: Path, tmp_path: Path) -> None:
    pytest.importorskip("deid.pixels.process")
    rec = tmp_path / "f.dicom"
    rec.write_text(
        "FORMAT dicom\n%filter graylist\nLABEL CT corner\n  contains Modality CT\n"
        "  coordinates 0,0,2,2\n%header\nREMOVE PatientID\n"
    )
    out = tmp_path / "o"
    assert main(["run", str(tree), "-o", str(out), "-r", str(rec), "--pixels", "-j", "2"]) == 0
    recs = read_report(str(out) + ".deid-report.jsonl")
    assert {r["pixels"]["status"] for r in recs} == {"cleaned"}
    assert (pydicom.dcmread(out / "s0" / "0.dcm").pixel_array[:2, :2] == 0).all()


def test_killed_run_resumes(tmp_path: Path, recipe: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from runner.helpers import make_tree

    src = tmp_path / "big"
    make_tree(src, series=4, per_series=10, size=64)
    out = tmp_path / "o"
    report = Path(str(out) + ".deid-report.jsonl")
    cmd = [
        sys.executable,
        "-m",
        "deid",
        "run",
        str(src),
        "-o",
        str(out),
        "-r",
        str(recipe),
        "-j",
        "1",
        "--key",
        "k" * 20,
    ]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if report.exists() and len(report.read_text().splitlines()) >= 3:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.005)
    proc.wait()
    first = {r["input"] for r in read_report(str(report))}
    res = subprocess.run(
        cmd + ["--resume", "--json"], capture_output=True, text=True, env=env, check=False
    )
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    assert summary["written"] == 40 and summary["resumed"] == len(first)
    records = read_report(str(report))
    assert len(records) == 40  # every file recorded once: nothing redone
    assert not [p for p in out.rglob("*") if ".deid-tmp-" in p.name]
    assert (
        main(
            [
                "run",
                str(src),
                "-o",
                str(tmp_path / "ref"),
                "-r",
                str(recipe),
                "-j",
                "1",
                "--key",
                "k" * 20,
            ]
        )
        == 0
    )
    assert read_tree(out) == read_tree(tmp_path / "ref")


def test_run_max_file_size_zip_and_chunksize_options(
    tree: Path, recipe: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import zipfile

    src = tmp_path / "zipped"
    src.mkdir()
    with zipfile.ZipFile(src / "batch.zip", "w") as zf:
        for p in sorted(tree.rglob("*.dcm")):
            zf.write(p, p.relative_to(tree).as_posix())
    out = tmp_path / "out"
    args = ["run", str(src), "-o", str(out), "-r", str(recipe), "--no-report"]
    assert main([*args, "-j", "2", "--chunksize", "2"]) == 0
    assert sorted(read_tree(out)) == [
        "batch/s0/0.dcm",
        "batch/s0/1.dcm",
        "batch/s1/0.dcm",
        "batch/s1/1.dcm",
    ]
    capsys.readouterr()
    # --no-zip: the archive itself is the (non-DICOM) input
    assert main([*args, "-o", str(tmp_path / "o2"), "-j", "1", "--no-zip"]) == 1
    assert "not a DICOM file" in capsys.readouterr().err
    # a per-file limit below the files' size fails them, naming the limit
    code = main(
        [
            "run",
            str(tree),
            "-o",
            str(tmp_path / "o3"),
            "-r",
            str(recipe),
            "--no-report",
            "-j",
            "1",
            "--max-file-size",
            "0.1K",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and "per-file limit of 102 bytes" in err
    # a bad size is a usage error: nothing processed
    code = main(
        ["run", str(tree), "-o", str(tmp_path / "o4"), "-r", str(recipe), "--max-file-size", "huge"]
    )
    assert code == 2 and "size 'huge'" in capsys.readouterr().err
    assert not (tmp_path / "o4").exists()
