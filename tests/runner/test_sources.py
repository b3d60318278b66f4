"""Inputs to tasks (deid/runner/sources.py)."""

from __future__ import annotations

import os
import stat as _stat
import zipfile as _zipfile
from pathlib import Path

import pytest

from deid.runner.sources import (
    ArchiveExpander,
    RunnerError,
    check_output_location,
    collect_tasks,
    is_archive,
    is_url,
)


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


# ---- .zip inputs --------------------------------------------------------------------------


def _zip(path: Path, members: dict[str, bytes], **infos: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with _zipfile.ZipFile(path, "w", compression=_zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            info = _zipfile.ZipInfo(name)
            if name in infos:
                info.external_attr = infos[name]
            zf.writestr(info, data)
    return path


def test_is_archive() -> None:
    assert is_archive("/a/b.zip") and is_archive("memory://x/B.ZIP")
    assert not is_archive("/a/b.dcm") and not is_archive("/a/zip")


def test_zip_members_become_tasks_under_the_archive_name(tmp_path: Path) -> None:
    src = tmp_path / "in"
    _touch(src / "plain.dcm")
    _zip(src / "sub" / "study.zip", {"a/2.dcm": b"two", "a/1.dcm": b"one", "notes.txt": b"t"})
    ex = ArchiveExpander()
    try:
        tasks = collect_tasks([str(src)], str(tmp_path / "out"), archives=ex)
        by_rel = {t.relative: t for t in tasks}
        assert sorted(by_rel) == [
            "plain.dcm",
            "sub/study/a/1.dcm",
            "sub/study/a/2.dcm",
            "sub/study/notes.txt",
        ]
        t = by_rel["sub/study/a/1.dcm"]
        archive = str((src / "sub" / "study.zip").resolve())
        assert t.input == f"{archive}!/a/1.dcm"
        assert t.output == str((tmp_path / "out" / "sub" / "study" / "a" / "1.dcm").resolve())
        assert t.error is None and Path(t.path).read_bytes() == b"one"
        assert by_rel["plain.dcm"].source is None
        folders = list(ex.folders)
        assert len(folders) == 1 and all(os.path.isdir(f) for f in folders)
        # the pattern filters members, not the archive itself
        only = collect_tasks([str(src)], str(tmp_path / "out"), "*.dcm", archives=ex)
        assert sorted(t.relative for t in only) == [
            "plain.dcm",
            "sub/study/a/1.dcm",
            "sub/study/a/2.dcm",
        ]
    finally:
        ex.cleanup()
    assert not any(os.path.exists(f) for f in folders)
    # without an expander a .zip is an ordinary input
    tasks = collect_tasks([str(src)], str(tmp_path / "out"))
    assert "sub/study.zip" in [t.relative for t in tasks]


@pytest.mark.parametrize(
    "name",
    ["../escape.dcm", "/abs/escape.dcm", "a/../../escape.dcm", "..\\escape.dcm", "C:/x.dcm"],
)
def test_zip_path_traversal_refuses_the_archive(tmp_path: Path, name: str) -> None:
    src = _zip(tmp_path / "in" / "evil.zip", {"ok.dcm": b"fine", name: b"bad"})
    ex = ArchiveExpander()
    try:
        tasks = collect_tasks([str(src)], str(tmp_path / "out"), archives=ex)
    finally:
        ex.cleanup()
    assert len(tasks) == 1
    assert tasks[0].error is not None and "outside the extraction folder" in tasks[0].error
    assert tasks[0].input == str(src.resolve()) and tasks[0].source is None
    assert not (tmp_path / "escape.dcm").exists() and not (tmp_path / "in" / "escape.dcm").exists()
    assert not ex.folders  # nothing was extracted


def test_zip_symlink_and_duplicates_refused(tmp_path: Path) -> None:
    link = (_stat.S_IFLNK | 0o777) << 16
    src = _zip(tmp_path / "in" / "link.zip", {"l.dcm": b"/etc/passwd"}, **{"l.dcm": link})
    ex = ArchiveExpander()
    try:
        (task,) = collect_tasks([str(src)], str(tmp_path / "out"), archives=ex)
        assert "symbolic link" in task.error
        both = _zip(tmp_path / "in2" / "both.zip", {"a": b"file", "a/b.dcm": b"x"})
        (task,) = collect_tasks([str(both)], str(tmp_path / "out2"), archives=ex)
        assert "both a file and a folder" in task.error
    finally:
        ex.cleanup()


def test_zip_size_caps(tmp_path: Path) -> None:
    src = _zip(tmp_path / "in" / "big.zip", {"a.dcm": b"\0" * 5000, "b.dcm": b"\0" * 10})
    ex = ArchiveExpander(max_member=1000)
    try:
        tasks = {t.relative: t for t in collect_tasks([str(src)], str(tmp_path / "o"), archives=ex)}
        assert "per-file limit of 1000 bytes" in tasks["big/a.dcm"].error
        assert (
            tasks["big/b.dcm"].error is None and Path(tasks["big/b.dcm"].path).stat().st_size == 10
        )
    finally:
        ex.cleanup()
    ex = ArchiveExpander(max_total=4000)
    try:
        (task,) = collect_tasks([str(src)], str(tmp_path / "o"), archives=ex)
        assert "expands to 5010 bytes" in task.error
    finally:
        ex.cleanup()
    ex = ArchiveExpander(max_members=1)
    try:
        (task,) = collect_tasks([str(src)], str(tmp_path / "o"), archives=ex)
        assert "more than the limit of 1" in task.error
    finally:
        ex.cleanup()


def test_zip_whose_header_lies_about_size_is_capped_while_extracting(tmp_path: Path) -> None:
    """The real byte count is checked while extracting, not only the declared sizes."""
    src = _zip(tmp_path / "in" / "lie.zip", {"a.dcm": b"\0" * 5000})
    data = bytearray(src.read_bytes())
    # shrink the declared uncompressed size in the local and central headers (5000 -> 100)
    data = data.replace((5000).to_bytes(4, "little"), (100).to_bytes(4, "little"))
    src.write_bytes(bytes(data))
    ex = ArchiveExpander(max_member=1000)
    try:
        (task,) = collect_tasks([str(src)], str(tmp_path / "o"), archives=ex)
    finally:
        ex.cleanup()
    assert task.error is not None and task.source is None
    extracted = [p for f in ex.folders for p in Path(f).rglob("*")]
    assert not extracted


def test_corrupt_zip_is_one_failed_task(tmp_path: Path) -> None:
    src = tmp_path / "in" / "broken.zip"
    src.parent.mkdir()
    src.write_bytes(b"PK\x03\x04 not really a zip")
    ex = ArchiveExpander()
    try:
        (task,) = collect_tasks([str(src)], str(tmp_path / "o"), archives=ex)
    finally:
        ex.cleanup()
    assert "not a readable zip file" in task.error


def test_zip_on_fsspec_memory(tmp_path: Path) -> None:
    fsspec = pytest.importorskip("fsspec")
    local = _zip(tmp_path / "s.zip", {"x/1.dcm": b"one"})
    fs = fsspec.filesystem("memory")
    fs.pipe("/w2-zip-src/s.zip", local.read_bytes())
    ex = ArchiveExpander()
    try:
        (task,) = collect_tasks(["memory://w2-zip-src"], str(tmp_path / "o"), archives=ex)
        assert task.relative == "s/x/1.dcm" and task.input.endswith("s.zip!/x/1.dcm")
        assert Path(task.path).read_bytes() == b"one"
    finally:
        ex.cleanup()
        fs.rm("/w2-zip-src", recursive=True)


def test_realpath_with_folder_memo_equals_os_realpath(tmp_path, monkeypatch) -> None:
    """The per-folder shortcut resolves exactly as os.path.realpath: symlinked folders and
    files, dangling links, '..' and '.', relative paths, missing files."""
    from deid.runner.sources import _realpath

    real = tmp_path / "real"
    (real / "sub").mkdir(parents=True)
    (real / "a.dcm").write_bytes(b"")
    (real / "sub" / "b.dcm").write_bytes(b"")
    (tmp_path / "linkdir").symlink_to(real)
    (real / "linkfile.dcm").symlink_to(real / "sub" / "b.dcm")
    (real / "dangling.dcm").symlink_to(tmp_path / "nowhere.dcm")
    (real / "sub" / "up").symlink_to(tmp_path)
    monkeypatch.chdir(real)
    paths = [
        "a.dcm",
        "./a.dcm",
        "sub/b.dcm",
        "sub/../a.dcm",
        "linkfile.dcm",
        "dangling.dcm",
        "missing.dcm",
        "sub/up/linkdir/a.dcm",
        "sub/up/real/sub/..",
        "sub/",
        ".",
        "..",
        str(tmp_path / "linkdir" / "a.dcm"),
        str(tmp_path / "linkdir" / "linkfile.dcm"),
        str(tmp_path / "linkdir" / "sub" / ".." / "a.dcm"),
        "",
    ]
    memo: dict[str, str] = {}
    for _ in range(2):  # the second round answers from the memo
        for path in paths:
            assert _realpath(path, memo) == os.path.realpath(path), path
