"""File helpers of the pydicom/deid drop-in API (``deid.utils``).

Every writer here writes to a temporary name next to the target and renames it into place, so a
failure never leaves a half-written file behind.

Examples
--------
>>> import os, tempfile
>>> path = write_file(os.path.join(tempfile.mkdtemp(), "x.txt"), "hello")
>>> read_file(path)
['hello']
"""

from __future__ import annotations

import fnmatch
import json
import os
import tempfile
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

__all__ = [
    "atomic_write_bytes",
    "get_installdir",
    "get_temporary_name",
    "is_number",
    "read_file",
    "read_json",
    "recursive_find",
    "to_int",
    "write_file",
    "write_json",
]


def get_installdir() -> str:
    """Return the absolute path of the installed ``deid`` package directory.

    Examples
    --------
    >>> os.path.basename(get_installdir())
    'deid'
    """
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def get_temporary_name(prefix: str | None = None, ext: str | None = None) -> str:
    """Return a path in the temporary directory that does not exist yet.

    The name is ``deid-[prefix-]XXXXXXXX[.ext]``; nothing is created.

    Parameters
    ----------
    prefix : str, optional
        Inserted after ``deid-``.
    ext : str, optional
        Extension, with or without its leading dot.

    Examples
    --------
    >>> name = get_temporary_name(prefix="clean", ext="dcm")
    >>> os.path.basename(name).startswith("deid-clean-"), name.endswith(".dcm")
    (True, True)
    """
    base = f"deid-{prefix}-" if prefix else "deid-"
    while True:
        name = os.path.join(tempfile.gettempdir(), base + uuid.uuid4().hex[:8])
        if ext:
            name += ext if ext.startswith(".") else "." + ext
        if not os.path.exists(name):
            return name


def _atomic_write(filename: str, data: str | bytes, mode: str) -> str:
    folder = os.path.dirname(os.path.abspath(filename))
    binary = "b" in mode
    if "a" in mode:
        with open(filename, mode) as handle:
            handle.write(data)
        return filename
    tmp = os.path.join(folder, f".deid-{uuid.uuid4().hex}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # umask applies
    try:
        with os.fdopen(fd, "wb" if binary else "w") as handle:
            handle.write(data)
        os.replace(tmp, filename)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return filename


def atomic_write_bytes(filename: str, data: bytes) -> str:
    """Write ``data`` to ``filename`` through a temporary name and a rename.

    Examples
    --------
    >>> p = atomic_write_bytes(os.path.join(tempfile.mkdtemp(), "b.bin"), b"ab")
    >>> open(p, "rb").read()
    b'ab'
    """
    return _atomic_write(filename, data, "wb")


def read_file(filename: str, mode: str = "r", readlines: bool = True) -> Any:
    """Read a text file and return its lines (newlines kept), or the whole text.

    Examples
    --------
    >>> p = write_file(os.path.join(tempfile.mkdtemp(), "r.txt"), "a\\nb")
    >>> read_file(p)
    ['a\\n', 'b']
    """
    with open(filename, mode) as handle:
        return handle.readlines() if readlines else handle.read()


def write_file(filename: str, content: str, mode: str = "w") -> str:
    """Write ``content`` to ``filename`` (atomically) and return ``filename``.

    Examples
    --------
    >>> p = write_file(os.path.join(tempfile.mkdtemp(), "w.txt"), "hi")
    >>> read_file(p, readlines=False)
    'hi'
    """
    return _atomic_write(filename, content, mode)


def read_json(filename: str, mode: str = "r", ordered_dict: bool = False) -> Any:
    """Load a JSON file, optionally into an ``OrderedDict``.

    Examples
    --------
    >>> p = write_json({"a": 1}, os.path.join(tempfile.mkdtemp(), "j.json"))
    >>> read_json(p)
    {'a': 1}
    """
    with open(filename, mode) as handle:
        if ordered_dict:
            return json.load(handle, object_pairs_hook=OrderedDict)
        return json.load(handle)


def write_json(json_obj: Any, filename: str, mode: str = "w", print_pretty: bool = True) -> str:
    """Serialise ``json_obj`` to ``filename``; a non-serialisable object raises TypeError.

    Nothing is written when serialisation fails.

    Examples
    --------
    >>> p = write_json({"b": [1, "2"]}, os.path.join(tempfile.mkdtemp(), "j.json"))
    >>> read_json(p)["b"]
    [1, '2']
    """
    if print_pretty:
        text = json.dumps(json_obj, indent=4, separators=(",", ": "), sort_keys=True)
    else:
        text = json.dumps(json_obj)
    return _atomic_write(filename, text, mode)


def recursive_find(base: str, pattern: str | None = None) -> Iterator[str]:
    """Yield files under ``base`` whose basename matches the fnmatch ``pattern`` (default ``*``).

    Examples
    --------
    >>> d = tempfile.mkdtemp(); _ = write_file(os.path.join(d, "a.txt"), "")
    >>> [os.path.basename(p) for p in recursive_find(d, "*.txt")]
    ['a.txt']
    """
    pattern = pattern or "*"
    for root, dirnames, filenames in os.walk(base):
        dirnames.sort()
        for filename in sorted(fnmatch.filter(filenames, pattern)):
            yield os.path.join(root, filename)


def to_int(value: Any) -> int:
    """Return ``value`` as an int (``int(float(value))`` for strings).

    Examples
    --------
    >>> to_int("3.0"), to_int(4)
    (3, 4)
    """
    if isinstance(value, int):
        return value
    return int(float(value))


def is_number(value: Any) -> bool:
    """Return True if ``value`` is an int or float (not a bool).

    Examples
    --------
    >>> is_number(1.5), is_number("1")
    (True, False)
    """
    return isinstance(value, (int, float)) and not isinstance(value, bool)
