"""Inputs to tasks (deid/runner/sources.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deid.runner.sources import RunnerError, check_output_location, collect_tasks, is_url


def _touch(p: Path) -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(b"x")
    return p


def test_folder_is_mirrored_sorted(tmp_path: Path) -> None:
    src = tmp_path / "in"
    for rel in ["b/2.dcm", "a/1.dcm", "a/0.dcm", "top.dcm"]:
        _touch(src / rel)
    tasks = collect_tasks([str(src)], str(tmp_path / "out"))
    assert [t.relative for t in tasks] == ["top.dcm", "a/0.dcm", "a/1.dcm", "b/2.dcm"]
    assert [t.index for t in tasks] == [0, 1, 2, 3]
    assert tasks[1].output == str((tmp_path / "out" / "a" / "0.dcm").resolve())
    assert tasks[1].input == str((src / "a" / "0.dcm").resolve())


def test_glob_and_pattern(tmp_path: Path) -> None:
    src = tmp_path / "in"
    for rel in ["x/1.dcm", "x/2.txt", "y/3.dcm"]:
        _touch(src / rel)
    tasks = collect_tasks([str(src / "**" / "*.dcm")], str(tmp_path / "o"))
    assert [t.relative for t in tasks] == ["x/1.dcm", "y/3.dcm"]
    tasks = collect_tasks([str(src)], str(tmp_path / "o"), pattern="*.txt")
    assert [t.relative for t in tasks] == ["x/2.txt"]


def test_missing_input_and_empty_glob(tmp_path: Path) -> None:
    with pytest.raises(RunnerError, match="no such file"):
        collect_tasks([str(tmp_path / "nope")], str(tmp_path / "o"))
    with pytest.raises(RunnerError, match="matches no file"):
        collect_tasks([str(tmp_path / "g" / "*.zzz")], str(tmp_path / "o"))
    with pytest.raises(RunnerError, match="no input"):
        collect_tasks([], str(tmp_path / "o"))


@pytest.mark.parametrize("where", ["same", "inside", "around"])
def test_output_overlapping_input_is_refused(tmp_path: Path, where: str) -> None:
    src = tmp_path / "in"
    _touch(src / "a.dcm")
    out = {"same": src, "inside": src / "out", "around": tmp_path}[where]
    with pytest.raises(RunnerError):
        collect_tasks([str(src)], str(out))


def test_symlinked_output_into_input_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "in"
    _touch(src / "a.dcm")
    link = tmp_path / "link"
    os.symlink(src, link)
    with pytest.raises(RunnerError):
        check_output_location([str(src)], str(link / "out"))


def test_colliding_outputs_are_refused(tmp_path: Path) -> None:
    a = _touch(tmp_path / "a" / "x.dcm")
    b = _touch(tmp_path / "b" / "x.dcm")
    with pytest.raises(RunnerError, match="both be written"):
        collect_tasks([str(a), str(b)], str(tmp_path / "o"))


def test_duplicate_inputs_are_listed_once(tmp_path: Path) -> None:
    a = _touch(tmp_path / "a" / "x.dcm")
    tasks = collect_tasks([str(a), str(tmp_path / "a")], str(tmp_path / "o"))
    assert len(tasks) == 1


def test_fsspec_memory_urls() -> None:
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    fs.pipe("/srcbucket/s/1.dcm", b"1")
    fs.pipe("/srcbucket/2.dcm", b"2")
    tasks = collect_tasks(["memory://srcbucket"], "memory://dstbucket/out")
    assert [t.relative for t in tasks] == ["2.dcm", "s/1.dcm"]
    assert tasks[1].output == "memory://dstbucket/out/s/1.dcm"
    assert is_url(tasks[0].input)
    with pytest.raises(RunnerError):
        collect_tasks(["memory://srcbucket"], "memory://srcbucket/out")
    fs.rm("/srcbucket", recursive=True)
