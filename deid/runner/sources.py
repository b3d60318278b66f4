"""Turn the inputs of a run (files, folders, globs, fsspec URLs) into per-file tasks.

Each input file becomes a :class:`FileTask` with the path it is read from, the path relative to
the input it was found under (the output folder mirrors that tree) and the output path. Nothing
is read here; the order is deterministic (sorted within each input, inputs in the order given).

Examples
--------
>>> import tempfile, os, pathlib
>>> src = pathlib.Path(tempfile.mkdtemp())
>>> (src / "a").mkdir(); (src / "a" / "1.dcm").write_bytes(b"")
0
>>> out = pathlib.Path(tempfile.mkdtemp()) / "out"
>>> [t.relative for t in collect_tasks([str(src)], str(out))]
['a/1.dcm']
"""

from __future__ import annotations

import fnmatch
import glob as _glob
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from deid.errors import DeidError

__all__ = [
    "DEFAULT_MAX_ARCHIVE_MEMBERS",
    "DEFAULT_MAX_ARCHIVE_SIZE",
    "ArchiveExpander",
    "FileTask",
    "RunnerError",
    "check_output_location",
    "collect_tasks",
    "is_archive",
    "is_url",
    "iter_input_files",
]


class RunnerError(DeidError, ValueError):
    """A run cannot start: bad input, bad output location or bad option (exit status 2)."""


@dataclass(frozen=True)
class FileTask:
    """One file of a run.

    Attributes
    ----------
    index : int
        Position in the run (0-based, deterministic).
    input : str
        Absolute path or URL the file is read from.
    relative : str
        Path relative to the input it was found under (``/`` separated).
    output : str
        Absolute path or URL the de-identified file is written to.
    series_block : tuple of str or None
        With series aggregation: the inputs of the same series that failed their save
        conditions (the file is then rejected), else None.
    source : str or None
        Where the bytes are read from when that is not ``input``: a member of a ``.zip``
        input is named ``<archive>!/<member>`` and read from its extracted copy.
    error : str or None
        A problem found while listing the inputs (an unsafe or oversized archive member); the
        file is then reported as ``failed`` with this reason without being read.
    retry_after : float or None
        Set when the task is retried after its worker process died: an existing output last
        modified at or after this time (``time.time()``) was written by that worker and is
        replaced, whatever the ``existing`` mode.
    """

    index: int
    input: str
    relative: str
    output: str
    series_block: tuple[str, ...] | None = None
    source: str | None = None
    error: str | None = None
    retry_after: float | None = None

    @property
    def path(self) -> str:
        """Where the file's bytes are read from (``source``, else ``input``)."""
        return self.source or self.input


def is_url(path: str) -> bool:
    """Return True for an fsspec URL (``memory://x``, ``s3://b/k``; not ``file`` paths).

    Examples
    --------
    >>> is_url("memory://bucket/a.dcm"), is_url("/tmp/a.dcm")
    (True, False)
    """
    return "://" in path


def _has_magic(path: str) -> bool:
    return any(c in path for c in "*?[")


def _glob_root(pattern: str) -> str:
    parts = pattern.replace(os.sep, "/").split("/")
    root: list[str] = []
    for part in parts:
        if _has_magic(part):
            break
        root.append(part)
    return "/".join(root) or "."


def _realpath(path: str, folders: dict[str, str]) -> str:
    """``os.path.realpath(path)``, with the parent folder resolved once per folder (``folders``
    remembers them): a long list of files in one folder costs one ``lstat`` per file.

    Examples
    --------
    >>> import os
    >>> memo = {}
    >>> _realpath("x.dcm", memo) == os.path.realpath("x.dcm") and list(memo) == [""]
    True
    """
    head, tail = os.path.split(path)
    if tail in ("", ".", "..") or os.path.islink(path):
        return os.path.realpath(path)
    real_head = folders.get(head)
    if real_head is None:
        real_head = folders[head] = os.path.realpath(head)
    return os.path.join(real_head, tail)


def _local_files(item: str, folders: dict[str, str] | None = None) -> Iterator[tuple[str, str]]:
    """Yield (absolute path, relative path) for one local input (``folders``: see
    :func:`_realpath`)."""
    folders = {} if folders is None else folders
    if _has_magic(item):
        root = os.path.realpath(_glob_root(item))
        matches = sorted(_glob.glob(item, recursive=True))
        if not matches:
            raise RunnerError(f"input {item!r}: the pattern matches no file")
        for match in matches:
            if os.path.isdir(match):
                for path, rel in _local_files(match):
                    yield path, os.path.relpath(path, root).replace(os.sep, "/")
            else:
                real = os.path.realpath(match)
                yield real, os.path.relpath(real, root).replace(os.sep, "/")
        return
    if not os.path.exists(item):
        raise RunnerError(f"input {item!r}: no such file or folder")
    real = _realpath(item, folders)
    if os.path.isdir(real):
        for dirpath, dirnames, filenames in os.walk(real):
            dirnames.sort()
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                yield path, os.path.relpath(path, real).replace(os.sep, "/")
    else:
        yield real, os.path.basename(real)


def _url_files(item: str) -> Iterator[tuple[str, str]]:
    from deid._optional import require

    core = require("fsspec.core", "dask")
    fs, path = core.url_to_fs(item)

    def url(p: str) -> str:
        return str(fs.unstrip_protocol(p))

    if _has_magic(path):
        root = _glob_root(path).rstrip("/")
        found = sorted(p for p in fs.glob(path) if not fs.isdir(p))
        if not found:
            raise RunnerError(f"input {item!r}: the pattern matches no file")
        for p in found:
            yield url(p), p[len(root) :].lstrip("/")
        return
    if not fs.exists(path):
        raise RunnerError(f"input {item!r}: no such file or folder")
    if fs.isdir(path):
        base = path.rstrip("/")
        for p in sorted(fs.find(path)):
            yield url(p), p[len(base) :].lstrip("/")
    else:
        yield url(path), path.rstrip("/").rsplit("/", 1)[-1]


def iter_input_files(
    inputs: Sequence[str], pattern: str | None = None, *, keep_archives: bool = False
) -> Iterator[tuple[str, str]]:
    """Yield ``(path_or_url, relative)`` for every file of every input, deterministically.

    Parameters
    ----------
    inputs : sequence of str
        Files, folders, glob patterns (``**`` recursive) or fsspec URLs.
    pattern : str, optional
        Keep only files whose base name matches this ``fnmatch`` pattern.
    keep_archives : bool
        Yield ``.zip`` files whatever the pattern (their members are filtered instead).

    Raises
    ------
    RunnerError
        When an input does not exist or a pattern matches nothing.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); (d / "x.dcm").write_bytes(b"")
    0
    >>> [rel for _, rel in iter_input_files([str(d)])]
    ['x.dcm']
    """
    folders: dict[str, str] = {}
    for item in inputs:
        source = _url_files(item) if is_url(item) else _local_files(item, folders)
        for path, rel in source:
            if keep_archives and is_archive(path):
                yield path, rel
                continue
            if pattern and not fnmatch.fnmatch(rel.rsplit("/", 1)[-1], pattern):
                continue
            yield path, rel


def _input_roots(inputs: Iterable[str]) -> list[str]:
    roots = []
    folders: dict[str, str] = {}
    for item in inputs:
        if is_url(item):
            continue
        root = _glob_root(item) if _has_magic(item) else item
        roots.append(_realpath(root, folders))
    return roots


def check_output_location(inputs: Sequence[str], output: str) -> None:
    """Refuse an output folder equal to, inside, or containing an input folder.

    Raises
    ------
    RunnerError
        Naming the input and the output.

    Examples
    --------
    >>> check_output_location(["/data/in"], "/data/out")
    >>> check_output_location(["/data/in"], "/data/in/out")
    Traceback (most recent call last):
    ...
    deid.runner.sources.RunnerError: output folder '/data/in/out' is inside input '/data/in'; ...
    """
    if is_url(output):
        for item in inputs:
            if is_url(item):
                a, b = item.rstrip("/") + "/", output.rstrip("/") + "/"
                if a.startswith(b) or b.startswith(a):
                    raise RunnerError(
                        f"output {output!r} overlaps input {item!r}; choose a separate location"
                    )
        return
    out = os.path.realpath(output)
    for root in _input_roots(inputs):
        if out == root:
            raise RunnerError(
                f"output folder {output!r} is the input {root!r}; inputs are never overwritten"
            )
        if out.startswith(root.rstrip(os.sep) + os.sep):
            raise RunnerError(
                f"output folder {output!r} is inside input {root!r}; "
                "choose a folder outside the input tree"
            )
        if root.startswith(out.rstrip(os.sep) + os.sep):
            raise RunnerError(
                f"input {root!r} is inside the output folder {output!r}; "
                "outputs could overwrite inputs"
            )


def _join(output: str, rel: str, real_output: str | None = None) -> str:
    """Where ``rel`` goes under ``output`` (``real_output``: its realpath, when known)."""
    if is_url(output):
        return output.rstrip("/") + "/" + rel
    root = os.path.realpath(output) if real_output is None else real_output
    return os.path.join(root, *rel.split("/"))


def collect_tasks(
    inputs: Sequence[str],
    output: str,
    pattern: str | None = None,
    *,
    archives: ArchiveExpander | None = None,
) -> list[FileTask]:
    """List the tasks of a run.

    Parameters
    ----------
    inputs : sequence of str
        Files, folders, globs or fsspec URLs.
    output : str
        Output folder (path or URL); it mirrors the relative paths of the inputs.
    pattern : str, optional
        ``fnmatch`` pattern on base names (of archive members too).
    archives : ArchiveExpander, optional
        Expand ``.zip`` inputs with it: each member becomes a task named
        ``<archive>!/<member>`` written to ``<archive name without .zip>/<member>``. Without
        it a ``.zip`` file is a plain input (and fails as not DICOM).

    Raises
    ------
    RunnerError
        Missing inputs, an output overlapping an input, or two inputs mapping to one output.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); (d / "x.dcm").write_bytes(b"")
    0
    >>> t = collect_tasks([str(d / "x.dcm")], str(d.parent / "o"))[0]
    >>> t.relative, t.output.endswith("x.dcm")
    ('x.dcm', True)
    """
    if not inputs:
        raise RunnerError("no input given")
    check_output_location(inputs, output)
    tasks: list[FileTask] = []
    seen: dict[str, str] = {}
    inputs_seen: set[str] = set()

    def entries() -> Iterator[tuple[str, str, str | None, str | None]]:
        for path, rel in iter_input_files(inputs, pattern, keep_archives=archives is not None):
            if archives is not None and is_archive(path):
                for name, member_rel, source, error in archives.expand(path, rel):
                    base = member_rel.rsplit("/", 1)[-1]
                    if error is None and pattern and not fnmatch.fnmatch(base, pattern):
                        continue
                    yield name, member_rel, source, error
            else:
                yield path, rel, None, None

    real_output = None if is_url(output) else os.path.realpath(output)  # once, not per file
    for path, rel, source, error in entries():
        if path in inputs_seen:
            continue
        inputs_seen.add(path)
        target = _join(output, rel, real_output)
        if target in seen:
            raise RunnerError(
                f"inputs {seen[target]!r} and {path!r} would both be written to {target!r}; "
                "give their parent folder as the input instead"
            )
        if not is_url(path) and target == path:
            raise RunnerError(f"input {path!r} would be overwritten by its own output")
        seen[target] = path
        tasks.append(FileTask(len(tasks), path, rel, target, source=source, error=error))
    return tasks


# ---- .zip inputs -----------------------------------------------------------------------------

#: Default cap on the bytes one archive may expand to.
DEFAULT_MAX_ARCHIVE_SIZE = 16 * 1024**3
#: Default cap on the number of members of one archive.
DEFAULT_MAX_ARCHIVE_MEMBERS = 100_000
_ZIP_SUFFIX = ".zip"


def is_archive(path: str) -> bool:
    """True for inputs that are expanded as archives (``.zip``, any case).

    Examples
    --------
    >>> is_archive("/data/study.ZIP"), is_archive("/data/a.dcm")
    (True, False)
    """
    return path.lower().endswith(_ZIP_SUFFIX)


def _safe_member_name(name: str) -> str | None:
    """The member's relative path (``/`` separated), or None when it could escape the folder."""
    norm = name.replace("\\", "/")
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":") or "\x00" in norm:
        return None
    parts = [p for p in norm.split("/") if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts):
        return None
    return "/".join(parts)


class ArchiveExpander:
    """Expands ``.zip`` inputs into one private temporary folder per archive.

    Members are checked before anything is written: a name that is absolute or climbs out with
    ``..``, a symbolic link, an encrypted member, duplicate names, more than ``max_members``
    members or more than ``max_total`` declared bytes refuse the whole archive (one ``failed``
    record naming the reason). A member larger than ``max_member`` is not extracted (a
    ``failed`` record for that member). While extracting, the bytes really written are counted
    against the same caps. :meth:`cleanup` deletes every folder made.

    Parameters
    ----------
    max_member : int, optional
        Largest member, in bytes (the run's ``max_file_size``).
    max_total : int, optional
        Most bytes one archive may expand to.
    max_members : int
        Most members in one archive.
    tempdir : str, optional
        Where the temporary folders are made (default: the system's).

    Examples
    --------
    >>> import tempfile, zipfile, os
    >>> src = os.path.join(tempfile.mkdtemp(), "study.zip")
    >>> with zipfile.ZipFile(src, "w") as zf:
    ...     zf.writestr("a/1.dcm", b"x")
    >>> ex = ArchiveExpander()
    >>> [(rel, error) for _, rel, _, error in ex.expand(src, "study.zip")]
    [('study/a/1.dcm', None)]
    >>> ex.cleanup()
    """

    def __init__(
        self,
        max_member: int | None = None,
        max_total: int | None = DEFAULT_MAX_ARCHIVE_SIZE,
        max_members: int = DEFAULT_MAX_ARCHIVE_MEMBERS,
        tempdir: str | None = None,
    ) -> None:
        self.max_member = max_member
        self.max_total = max_total
        self.max_members = max_members
        self.tempdir = tempdir
        self.folders: list[str] = []

    def expand(
        self, archive: str, relative: str
    ) -> Iterator[tuple[str, str, str | None, str | None]]:
        """Yield ``(logical name, relative output path, extracted path, error)`` per member.

        The logical name is ``<archive>!/<member>``; the relative path replaces the archive's
        ``.zip`` suffix by a folder (``sub/study.zip`` -> ``sub/study/<member>``). When the
        whole archive is refused one item is yielded with the archive's own name and relative
        path, and the error.
        """
        import zipfile

        base = relative[: -len(_ZIP_SUFFIX)] if is_archive(relative) else relative
        try:
            handle = self._open(archive)
        except OSError as exc:
            yield archive, relative, None, f"archive {archive}: cannot open ({exc})"
            return
        with handle:
            try:
                zf = zipfile.ZipFile(handle)
            except (zipfile.BadZipFile, OSError, ValueError) as exc:
                yield archive, relative, None, f"archive {archive}: not a readable zip file ({exc})"
                return
            with zf:
                members, problem = self._check(archive, zf.infolist())
                if problem is not None:
                    yield archive, relative, None, problem
                    return
                if not members:
                    return
                import tempfile

                folder = tempfile.mkdtemp(prefix="deid-zip-", dir=self.tempdir)
                self.folders.append(folder)
                total = 0
                for info, name in members:
                    logical = f"{archive}!/{name}"
                    rel = f"{base}/{name}"
                    if self.max_member is not None and info.file_size > self.max_member:
                        yield (
                            logical,
                            rel,
                            None,
                            (
                                f"{logical}: {info.file_size} bytes is larger than the per-file "
                                f"limit of {self.max_member} bytes (raise it with --max-file-size)"
                            ),
                        )
                        continue
                    target = os.path.join(folder, *name.split("/"))
                    try:
                        total += self._extract(zf, info, target, logical, total)
                    except _ArchiveLimit as exc:
                        yield logical, rel, None, str(exc)
                        if exc.whole:
                            return
                        continue
                    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
                        yield (
                            logical,
                            rel,
                            None,
                            (f"{logical}: cannot extract ({type(exc).__name__}: {exc})"),
                        )
                        continue
                    yield logical, rel, target, None

    @staticmethod
    def _open(archive: str) -> Any:
        if is_url(archive):
            import fsspec

            return fsspec.open(archive, "rb").open()
        return open(archive, "rb")

    def _check(self, archive: str, infos: list[Any]) -> tuple[list[tuple[Any, str]], str | None]:
        import stat

        members: list[tuple[Any, str]] = []
        seen: set[str] = set()
        declared = 0
        files = [i for i in infos if not i.is_dir()]
        if len(files) > self.max_members:
            return [], (
                f"archive {archive}: {len(files)} members, more than the limit of "
                f"{self.max_members}"
            )
        for info in files:
            name = _safe_member_name(info.filename)
            if name is None:
                return [], (
                    f"archive {archive}: member {info.filename!r} would be written outside "
                    "the extraction folder; the archive is refused"
                )
            if stat.S_ISLNK(info.external_attr >> 16):
                return [], f"archive {archive}: member {info.filename!r} is a symbolic link"
            if info.flag_bits & 0x1:
                return [], f"archive {archive}: member {info.filename!r} is encrypted"
            if name.lower() in seen:
                return [], f"archive {archive}: member {info.filename!r} appears twice"
            seen.add(name.lower())
            declared += info.file_size
            members.append((info, name))
        if self.max_total is not None and declared > self.max_total:
            return [], (
                f"archive {archive}: expands to {declared} bytes, more than the limit of "
                f"{self.max_total} bytes"
            )
        folders: set[str] = set()
        for _, name in members:
            parts = name.lower().split("/")
            folders.update("/".join(parts[:k]) for k in range(1, len(parts)))
        clash = folders & seen
        if clash:
            return [], f"archive {archive}: {min(clash)!r} is both a file and a folder"
        return members, None

    def _extract(self, zf: Any, info: Any, target: str, logical: str, total: int) -> int:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        written = 0
        chunk = 1024 * 1024
        try:
            with zf.open(info) as src, open(target, "wb") as dst:
                while True:
                    block = src.read(chunk)
                    if not block:
                        break
                    written += len(block)
                    if self.max_member is not None and written > self.max_member:
                        raise _ArchiveLimit(
                            f"{logical}: expands past the per-file limit of "
                            f"{self.max_member} bytes",
                            whole=False,
                        )
                    if self.max_total is not None and total + written > self.max_total:
                        raise _ArchiveLimit(
                            f"{logical}: the archive expands past the limit of "
                            f"{self.max_total} bytes; the rest of it is not extracted",
                            whole=True,
                        )
                    dst.write(block)
        except BaseException:
            if os.path.exists(target):
                os.unlink(target)
            raise
        return written

    def cleanup(self) -> None:
        """Delete the temporary folders."""
        import shutil

        while self.folders:
            shutil.rmtree(self.folders.pop(), ignore_errors=True)


class _ArchiveLimit(Exception):
    def __init__(self, message: str, whole: bool) -> None:
        super().__init__(message)
        self.whole = whole
