"""deid.cli.verify: the `deid verify` subcommand (exit codes, JSON, options)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pydicom

from deid.cli.verify import main


def test_clean_exit_zero_and_json(corpus, clean_output, tmp_path, capsys):
    src, _ = corpus
    out_json = tmp_path / "v.json"
    assert main([src, clean_output, "--json", "--json-out", str(out_json)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["ok"] is True and printed["totals"]["leaks"] == 0
    assert json.loads(out_json.read_text())["totals"]["files"] == printed["totals"]["files"]


def test_leak_exit_one_and_human_output(corpus, work_output, capsys):
    src, key = corpus
    rec = key["files"][0]
    path = os.path.join(work_output, rec["path"])
    ds = pydicom.dcmread(path)
    ds.ImageComments = key["patients"][rec["patient"]]["id"]
    ds.save_as(path)
    assert main([src, work_output]) == 1
    out = capsys.readouterr().out
    assert "LEAK id" in out and out.strip().endswith("integrity problems found")


def test_usage_error_exit_two(capsys):
    assert main(["/nonexistent/a", "/nonexistent/b"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_wired_into_deid_command(corpus, clean_output):
    src, _ = corpus
    proc = subprocess.run(
        [sys.executable, "-m", "deid.cli.main", "verify", src, clean_output, "--no-markers"],
        capture_output=True,
        text=True,
        check=False,
    )
    if "invalid choice" in proc.stderr:  # the runner wires verify into deid/cli/main.py
        import pytest

        pytest.skip("deid verify not wired into deid.cli.main yet")
    assert proc.returncode == 0, proc.stderr
    assert "OK: no leaks" in proc.stdout
