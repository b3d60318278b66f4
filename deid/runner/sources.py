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

from deid.errors import DeidError

__all__ = [
    "FileTask",
    "RunnerError",
    "check_output_location",
    "collect_tasks",
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
    """

    index: int
    input: str
    relative: str
    output: str
    series_block: tuple[str, ...] | None = None


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


def _local_files(item: str) -> Iterator[tuple[str, str]]:
    """Yield (absolute path, relative path) for one local input."""
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
    real = os.path.realpath(item)
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
    inputs: Sequence[str], pattern: str | None = None
) -> Iterator[tuple[str, str]]:
    """Yield ``(path_or_url, relative)`` for every file of every input, deterministically.

    Parameters
    ----------
    inputs : sequence of str
        Files, folders, glob patterns (``**`` recursive) or fsspec URLs.
    pattern : str, optional
        Keep only files whose base name matches this ``fnmatch`` pattern.

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
    for item in inputs:
        source = _url_files(item) if is_url(item) else _local_files(item)
        for path, rel in source:
            if pattern and not fnmatch.fnmatch(rel.rsplit("/", 1)[-1], pattern):
                continue
            yield path, rel


def _input_roots(inputs: Iterable[str]) -> list[str]:
    roots = []
    for item in inputs:
        if is_url(item):
            continue
        root = _glob_root(item) if _has_magic(item) else item
        roots.append(os.path.realpath(root))
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


def _join(output: str, rel: str) -> str:
    if is_url(output):
        return output.rstrip("/") + "/" + rel
    return os.path.join(os.path.realpath(output), *rel.split("/"))


def collect_tasks(inputs: Sequence[str], output: str, pattern: str | None = None) -> list[FileTask]:
    """List the tasks of a run.

    Parameters
    ----------
    inputs : sequence of str
        Files, folders, globs or fsspec URLs.
    output : str
        Output folder (path or URL); it mirrors the relative paths of the inputs.
    pattern : str, optional
        ``fnmatch`` pattern on base names.

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
    for path, rel in iter_input_files(inputs, pattern):
        if path in inputs_seen:
            continue
        inputs_seen.add(path)
        target = _join(output, rel)
        if target in seen:
            raise RunnerError(
                f"inputs {seen[target]!r} and {path!r} would both be written to {target!r}; "
                "give their parent folder as the input instead"
            )
        if not is_url(path) and target == path:
            raise RunnerError(f"input {path!r} would be overwritten by its own output")
        seen[target] = path
        tasks.append(FileTask(len(tasks), path, rel, target))
    return tasks
