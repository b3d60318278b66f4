"""The ``deid`` dispatcher (deid/cli/main.py): subcommands, exit codes, streams."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from deid.cli.main import get_parser, main

DEID = Path(sys.executable).parent / "deid"


def test_every_subcommand_is_registered() -> None:
    text = get_parser().format_help()
    for name in ("run", "check", "explain", "identifiers", "inspect", "profiles", "version"):
        assert name in text


def test_no_subcommand_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage" in capsys.readouterr().err


def test_unknown_option_is_2_and_help_is_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--no-such-option"]) == 2
    assert main(["--help"]) == 0
    assert main(["--version"]) == 0
    assert "deid" in capsys.readouterr().out


def test_deid_error_becomes_2_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", str(tmp_path / "missing"), "-o", str(tmp_path / "o"), "--profile", "basic"])
    captured = capsys.readouterr()
    assert code == 2
    assert "no such file or folder" in captured.err and captured.out == ""


def test_upstream_global_flags_are_accepted(
    tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "legacy-out"
    code = main(
        [
            "--quiet",
            "-o",
            str(out),
            "--overwrite",
            "identifiers",
            "--action",
            "all",
            "--input",
            str(tree),
        ]
    )
    assert code == 0
    assert len(list(out.rglob("*.dcm"))) == 4


@pytest.mark.skipif(not DEID.exists(), reason="console script not installed")
def test_installed_script_runs(tree: Path, recipe: Path, tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run(
        [str(DEID), "version"], capture_output=True, text=True, env=env, check=False
    )
    assert out.returncode == 0 and out.stdout.startswith("deid ")
    res = subprocess.run(
        [str(DEID), "run", str(tree), "-o", str(tmp_path / "o"), "-r", str(recipe), "-j", "1"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    assert "4 files: 4 written" in res.stdout
    assert "report:" in res.stderr
    bad = subprocess.run(
        [str(DEID), "check", str(tmp_path / "nope.dicom")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert bad.returncode == 2 and "nope.dicom" in bad.stderr


def test_python_dash_m(tmp_path: Path) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "deid", "profiles", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0 and '"profiles"' in res.stdout
