"""A run killed with SIGKILL leaves no partial output under a final name and resumes cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pydicom
import pytest

from deid.verify import verify

from .test_hostile_files import base_file

N_FILES = 400


def _lines(path):
    try:
        with open(path, encoding="utf-8") as fh:
            return sum(1 for line in fh if line.endswith("\n"))
    except FileNotFoundError:
        return 0


@pytest.mark.slow
def test_sigkill_mid_run_then_resume(tmp_path):
    src = tmp_path / "in"
    for i in range(N_FILES):
        sub = src / f"s{i // 100}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"{i}.dcm").write_bytes(base_file())
    out, report = tmp_path / "out", tmp_path / "run.jsonl"
    cmd = [
        sys.executable,
        "-m",
        "deid.cli.main",
        "run",
        str(src),
        "-o",
        str(out),
        "-p",
        "basic",
        "-j",
        "1",
        "--report",
        str(report),
        "--no-progress",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    start = time.monotonic()
    while _lines(report) < 25 and proc.poll() is None and time.monotonic() - start < 60:
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL, "the run finished before it could be killed"
    done = _lines(report)
    assert 0 < done < N_FILES

    finals = [
        os.path.join(d, n) for d, _, names in os.walk(out) for n in names if ".deid-tmp-" not in n
    ]
    for path in finals:  # whatever carries a final name is a complete file
        ds = pydicom.dcmread(path)
        assert ds.PixelData == bytes(range(16))
        assert ds.PatientIdentityRemoved == "YES"
    assert len(finals) < N_FILES

    resumed = subprocess.run(
        cmd + ["--resume"], capture_output=True, text=True, timeout=120, check=False
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    names = [n for _, _, ns in os.walk(out) for n in ns]
    assert not [n for n in names if ".deid-tmp-" in n], "temporary files survived the resume"
    assert len(names) == N_FILES
    result = verify(str(src), str(out), report=str(report))
    assert result.ok, result.render()
    assert result.totals()["files"] == N_FILES
