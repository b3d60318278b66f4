"""The per-file job: read -> save conditions -> apply the plan -> pixels -> atomic write -> record.

This is the seam between the runner and the rest of deid. A :class:`JobSpec` is small and
picklable; it carries the compiled plan (built once, in the parent process) and is sent once to
each worker (process-pool initializer, or one broadcast on a Dask cluster). A worker then calls
:func:`process_file` for each :class:`~deid.runner.sources.FileTask` and returns a plain-dict
record that the parent streams into the JSON-lines report.

The plan is any object with ``apply(ds, context) -> ChangeLog`` (normally a
:class:`deid.engine.Plan`). Context objects are built with :class:`deid.engine.Context` when the
engine is importable.

Every outcome is one of ``written``, ``skipped``, ``rejected`` (a save condition, a series
condition or the engine/pixel step said the file is not safe to release) or ``failed`` (an error:
unreadable or truncated file, a raising user function, a write error). No exception escapes
:func:`process_file`.

Examples
--------
>>> import tempfile, os, pydicom
>>> from pydicom.data import get_testdata_file
>>> from deid.runner.sources import collect_tasks
>>> class Blank:  # any object with apply(ds, context)
...     def apply(self, ds, context=None):
...         ds.PatientName = ""
...         return []
>>> out = os.path.join(tempfile.mkdtemp(), "out")
>>> task = collect_tasks([get_testdata_file("CT_small.dcm")], out)[0]
>>> rec = process_file(task, JobSpec(plan=Blank()))
>>> rec["status"], str(pydicom.dcmread(rec["output"]).PatientName)
('written', '')
"""

from __future__ import annotations

import io
import os
import re
import secrets
import time
import warnings
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from deid.errors import DeidError
from deid.runner.conditions import SaveCondition, evaluate_conditions
from deid.runner.sources import FileTask, RunnerError, is_url

__all__ = [
    "DEFAULT_MAX_FILE_SIZE",
    "DEFER_SIZE",
    "EXISTING_MODES",
    "PIXEL_TAGS",
    "ElementWindow",
    "FileTooLargeError",
    "JobSpec",
    "TruncatedFileError",
    "check_size",
    "evaluate_file_conditions",
    "file_size",
    "materialize",
    "new_record",
    "parse_size",
    "process_file",
    "read_dataset",
    "remove_stale_temporaries",
    "remove_task_temporaries",
    "summarize_changes",
]

EXISTING_MODES = ("skip", "overwrite", "error")
TEMP_MARK = ".deid-tmp-"
#: Default per-file size limit (``--max-file-size``): 2 GiB.
DEFAULT_MAX_FILE_SIZE = 2 * 1024**3
#: Without window tags, values larger than this are read after parsing, once their declared
#: length has been checked against the size of the file (a hostile length allocates nothing).
DEFER_SIZE = 4 * 1024**2
#: Values of window tags (Pixel Data the plan never reads) at least this long stay on disk.
WINDOW_SIZE = 64 * 1024
_COPY_CHUNK = 1024 * 1024
#: Pixel Data, Float Pixel Data and Double Float Pixel Data.
PIXEL_TAGS = frozenset({0x7FE00010, 0x7FE00008, 0x7FE00009})
_BUFFER_VRS = frozenset({"OB", "OW", "OD", "OF", "OL", "OV"})


class TruncatedFileError(DeidError):
    """A DICOM file ends in the middle of an element (names the file)."""


@dataclass(frozen=True)
class JobSpec:
    """Everything a worker needs; picklable and sent once per worker.

    Attributes
    ----------
    plan : object
        The compiled plan (``apply(ds, context) -> ChangeLog``).
    key : str or bytes or None
        Secret key for keyed pseudonyms, passed to every file's Context.
    variables : mapping
        Per-file variables/functions (upstream's ``ids``): input path -> {name: value}.
        The key ``"*"`` applies to every file (per-file entries win).
    conditions : tuple of SaveCondition
        Save conditions, evaluated on the input before de-identification.
    existing : str
        ``skip``, ``overwrite`` or ``error`` when the output exists.
    quarantine : str or None
        Folder (or URL) where inputs that end rejected or failed are copied (same relative path).
    pixels : bool
        Run the pixel step: ``%filter`` detection on the input header (before the header plan
        changes it), then ``deid.pixels.process_pixels`` after the plan. A ``rejected`` pixel
        outcome rejects the file.
    pixel_filters : tuple
        The ``%filter`` groups (recipe AST) the pixel step evaluates.
    pixel_screen : FilterScreen or None
        ``pixel_filters`` compiled once (:class:`deid.runner.screen.FilterScreen`); used
        instead of :func:`deid.pixels.detect.detect` when given (the runner always gives it).
    pixel_options : object or None
        ``deid.pixels.PixelOptions`` (None for the defaults).
    force : bool
        Read files without the DICOM preamble (``dcmread(force=True)``).
    crosswalk : bool
        Record original and de-identified identifiers for the crosswalk file.
    max_file_size : int or None
        Files larger than this many bytes are not read and are reported ``failed`` (default
        :data:`DEFAULT_MAX_FILE_SIZE`, 2 GiB; None for no limit).
    """

    plan: Any
    key: Any = None
    variables: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    conditions: tuple[SaveCondition, ...] = ()
    existing: str = "error"
    quarantine: str | None = None
    pixels: bool = False
    pixel_filters: tuple[Any, ...] = ()
    pixel_screen: Any = None
    pixel_options: Any = None
    force: bool = False
    crosswalk: bool = False
    max_file_size: int | None = DEFAULT_MAX_FILE_SIZE


class _CheckedReader:
    """File-like wrapper that notices reads cut short by the end of the data."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self._read = raw.read  # bound once: pydicom calls read() for every element
        self.zero_reads = 0
        self.truncated = False

    def read(self, size: int = -1) -> bytes:
        data = self._read(size)
        if size is None or size <= 0 or len(data) >= size:
            return data if type(data) is bytes else bytes(data)
        if data or size != 8:  # a short read: the file ends inside an element
            self.truncated = True
        else:  # pydicom probes for one more element at the end: once is normal
            self.zero_reads += 1
            if self.zero_reads > 1:
                self.truncated = True
        return bytes(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


class ElementWindow(io.BufferedIOBase):
    """A read-only, seekable view of ``length`` bytes at ``offset`` of a local file.

    Used as the value of a large binary element (Pixel Data of a big multi-frame image) so the
    value is never held in memory: pydicom writes buffered values in chunks. The file is opened
    on demand and released as soon as the end of the window has been read.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "f.bin")
    >>> _ = open(path, "wb").write(b"0123456789")
    >>> w = ElementWindow(path, 2, 5)
    >>> w.read(), w.seek(0, os.SEEK_END), w.seek(1), w.read(2)
    (b'23456', 5, 1, b'34')
    """

    def __init__(self, path: str, offset: int, length: int) -> None:
        super().__init__()
        self.path = path
        self.offset = offset
        self.length = length
        self._pos = 0
        self._fh: Any = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self.length}[whence]
        self._pos = max(0, base + pos)
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        left = self.length - self._pos
        n = left if size is None or size < 0 else min(size, left)
        if n <= 0:
            return b""
        if self._fh is None:  # unbuffered: no stale bytes if the file changes under us
            self._fh = open(self.path, "rb", buffering=0)  # noqa: SIM115 - see _release
        self._fh.seek(self.offset + self._pos)
        data = self._fh.read(n)
        while data is not None and 0 < len(data) < n:
            more = self._fh.read(n - len(data))
            if not more:
                break
            data += more
        if data is None or len(data) < n:
            self._release()
            raise TruncatedFileError(f"{self.path}: the file changed or shrank while being read")
        self._pos += n
        if self._pos >= self.length:
            self._release()
        return bytes(data)

    read1 = read

    def copy_to(self, out: Any) -> int:
        """Append the whole window to the binary file ``out``; return the bytes copied.

        Between two local files the kernel copies the bytes (``os.copy_file_range``, else
        ``os.sendfile``): they never pass through Python, so a big Pixel Data value costs
        neither memory nor a user-space copy. Other targets get 1 MiB chunks.

        Raises
        ------
        TruncatedFileError
            The source file shrank since it was read.

        Examples
        --------
        >>> import io, os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "f.bin")
        >>> _ = open(path, "wb").write(b"0123456789")
        >>> out = io.BytesIO()
        >>> ElementWindow(path, 2, 5).copy_to(out), out.getvalue()
        (5, b'23456')
        """
        try:
            target = out.fileno()
        except (AttributeError, OSError, ValueError):
            target = None
        if target is None or not hasattr(os, "copy_file_range") and not hasattr(os, "sendfile"):
            return self._copy_chunks(out)
        out.flush()
        with open(self.path, "rb", buffering=0) as src:
            source = src.fileno()

            def copy(at: int, count: int) -> int:  # count bytes from offset at, appended
                if hasattr(os, "copy_file_range"):
                    return os.copy_file_range(source, target, count, at)
                return os.sendfile(target, source, at, count)

            done = 0
            while done < self.length:
                try:
                    n = copy(self.offset + done, self.length - done)
                except OSError:  # e.g. a filesystem that refuses: copy through Python
                    if done:
                        raise
                    return self._copy_chunks(out)
                if n <= 0:
                    raise TruncatedFileError(
                        f"{self.path}: the file changed or shrank while being read"
                    )
                done += n
        out.seek(os.lseek(target, 0, os.SEEK_CUR))  # the file object learns where it is
        return done

    def _copy_chunks(self, out: Any) -> int:
        self.seek(0)
        done = 0
        while True:
            chunk = self.read(_COPY_CHUNK)
            if not chunk:
                return done
            out.write(chunk)
            done += len(chunk)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _release(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def close(self) -> None:
        self._release()
        super().close()

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "offset": self.offset, "length": self.length}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"], state["offset"], state["length"])  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"ElementWindow({self.path!r}, offset={self.offset}, length={self.length})"


class FileTooLargeError(DeidError):
    """A file is larger than the per-file size limit (``--max-file-size``)."""


def parse_size(text: str | int | None) -> int | None:
    """Read a size such as ``2G``, ``512M``, ``1.5GiB``, ``1000000``; ``0``/``none`` = no limit.

    Units are binary (``K`` = 1024 bytes).

    Raises
    ------
    ValueError
        When the text is not a size.

    Examples
    --------
    >>> parse_size("2G"), parse_size("512m"), parse_size("100"), parse_size("none")
    (2147483648, 536870912, 100, None)
    """
    if text is None:
        return None
    if isinstance(text, int):
        if text < 0:
            raise ValueError(f"size {text!r}: must not be negative")
        return text or None
    raw = str(text).strip().lower().replace(" ", "")
    if raw in ("none", "unlimited", "off"):
        return None
    match = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)([kmgt]?)(?:i?b)?", raw)
    if match is None:
        raise ValueError(f"size {text!r}: expected a number with an optional K/M/G/T unit")
    units = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
    return int(float(match.group(1)) * units[match.group(2)]) or None


def file_size(path: str) -> int:
    """Size in bytes of a local file or an fsspec URL.

    Examples
    --------
    >>> from pydicom.data import get_testdata_file
    >>> file_size(get_testdata_file("CT_small.dcm")) > 0
    True
    """
    if is_url(path):
        import fsspec

        fs, p = fsspec.core.url_to_fs(path)
        return int(fs.size(p))
    return os.path.getsize(path)


def check_size(path: str, limit: int | None) -> int:
    """Return the size of ``path``; raise :class:`FileTooLargeError` above ``limit`` bytes.

    Examples
    --------
    >>> from pydicom.data import get_testdata_file
    >>> check_size(get_testdata_file("CT_small.dcm"), 100)
    Traceback (most recent call last):
    ...
    deid.runner.job.FileTooLargeError: ... is larger than the per-file limit of 100 bytes ...
    """
    size = file_size(path)
    if limit is not None and size > limit:
        raise FileTooLargeError(
            f"{path}: {size} bytes is larger than the per-file limit of {limit} bytes "
            "(raise it with --max-file-size / max_file_size=)"
        )
    return size


def _read_bytes(path: str) -> bytes:
    if is_url(path):
        import fsspec

        with fsspec.open(path, "rb") as fh:
            return bytes(fh.read())
    with open(path, "rb") as fh:
        return fh.read()


def _element_vr(raw: Any) -> str | None:
    vr = raw.VR
    if vr is None:
        from pydicom.datadict import dictionary_VR

        try:
            vr = dictionary_VR(raw.tag)
        except KeyError:
            return None
    if vr in ("OB or OW", "US or OW", "US or SS or OW"):
        return "OW"
    return str(vr)


def _settle_deferred(
    ds: Any,
    fh: Any,
    path: str,
    size: int,
    window_tags: frozenset[int] = frozenset(),
    source: str | None = None,
) -> None:
    """Replace the elements pydicom deferred: big binary values of ``window_tags`` become
    :class:`ElementWindow` buffers (never read into memory), others are read now; a value that
    would end past the end of the file is a truncated file."""
    from pydicom.dataelem import DataElement, RawDataElement

    for tag, elem in list(ds._dict.items()):
        if isinstance(elem, RawDataElement):
            value = elem.value
            if value is None and elem.length == 0xFFFFFFFF:
                # pydicom scanned an undefined-length value (encapsulated Pixel Data) past the
                # defer size and dropped it: read it again, here (never by pydicom later)
                ds._dict[tag] = elem._replace(value=_read_undefined(fh, elem, path))
            elif value is None and elem.length != 0:
                if elem.value_tell + elem.length > size:
                    raise TruncatedFileError(
                        f"{path}: truncated DICOM file: ({tag >> 16:04X},{tag & 0xFFFF:04X}) "
                        f"declares {elem.length} bytes but the file ends first"
                    )
                vr = _element_vr(elem)
                if tag in window_tags and vr in _BUFFER_VRS:
                    window = ElementWindow(source or path, elem.value_tell, elem.length)
                    ds._dict[tag] = DataElement(tag, vr, window)
                else:
                    fh.seek(elem.value_tell)
                    ds._dict[tag] = elem._replace(value=fh.read(elem.length))
            elif isinstance(value, list):
                for item in value:
                    if hasattr(item, "_dict"):
                        _settle_deferred(item, fh, path, size, window_tags, source)
        elif getattr(elem, "VR", None) == "SQ" and isinstance(elem.value, list):
            for item in elem.value:
                _settle_deferred(item, fh, path, size, window_tags, source)


def _read_undefined(fh: Any, elem: Any, path: str) -> bytes:
    """The value of a deferred undefined-length element, up to its sequence delimiter."""
    from pydicom.fileutil import read_undefined_length_value
    from pydicom.tag import SequenceDelimiterTag

    fh.seek(elem.value_tell)
    try:
        value = read_undefined_length_value(
            fh, elem.is_little_endian, SequenceDelimiterTag, defer_size=None
        )
    except EOFError as exc:
        tag = elem.tag
        raise TruncatedFileError(
            f"{path}: truncated DICOM file: ({tag >> 16:04X},{tag & 0xFFFF:04X}) ends "
            f"before its sequence delimiter ({exc})"
        ) from exc
    return value if value is not None else b""


def materialize(ds: Any) -> None:
    """Read the buffered (windowed) values of ``ds`` into memory, e.g. before decoding pixels.

    Examples
    --------
    >>> from pydicom.dataset import Dataset
    >>> materialize(Dataset())
    """
    for elem in ds._dict.values():
        if getattr(elem, "is_buffered", False) and isinstance(elem.value, ElementWindow):
            window = elem.value
            window.seek(0)
            elem.value = window.read()


def read_dataset(
    path: str,
    data: bytes | None = None,
    *,
    force: bool = False,
    max_size: int | None = None,
    source: str | None = None,
    window_tags: Collection[int] | None = None,
) -> Any:
    """Read a whole DICOM file, refusing non-DICOM and truncated files.

    A local file is parsed from disk (never held twice). Binary elements of ``window_tags``
    of at least :data:`WINDOW_SIZE` (big Pixel Data) are not read at all but become
    :class:`ElementWindow` buffers, copied file to file when the dataset is saved
    (:func:`deid.runner.fastwrite.save_dataset`), so memory does not grow with the size of the
    image and an untouched image never passes through Python.

    Parameters
    ----------
    path : str
        Local path or fsspec URL (used for reading when ``data`` is None, and in messages).
    data : bytes, optional
        The file's content when already read.
    force : bool
        Accept files without the 128-byte preamble and ``DICM`` prefix.
    max_size : int, optional
        Refuse files larger than this many bytes (:class:`FileTooLargeError`).
    source : str, optional
        Where the bytes really are when that differs from ``path`` (an archive member
        extracted to a temporary folder); ``path`` is still the name used in messages.
    window_tags : collection of int, optional
        Tags whose big values may stay on disk (default :data:`PIXEL_TAGS`). The runner passes
        the plan's skip list: only values the plan never looks at are left unread, so what a
        rule matches does not depend on the size of the value.

    Raises
    ------
    deid.errors.DicomReadError
        Not a DICOM file, or unreadable.
    TruncatedFileError
        The file ends inside an element.
    FileTooLargeError
        The file is larger than ``max_size``.

    Examples
    --------
    >>> from pydicom.data import get_testdata_file
    >>> read_dataset(get_testdata_file("CT_small.dcm")).Modality
    'CT'
    """
    from pydicom.errors import InvalidDicomError

    from deid.errors import DicomReadError
    from deid.runner.fastread import read_file

    where = source or path
    fh: Any = None
    size = 0
    try:
        if data is None:
            try:
                size = check_size(where, max_size)
            except FileNotFoundError as exc:
                raise DicomReadError(f"{path}: no such file") from exc
            if is_url(where):
                data = _read_bytes(where)
        if data is not None:
            reader = _CheckedReader(io.BytesIO(data))
            defer = None
        else:
            fh = open(where, "rb")  # noqa: SIM115 - closed in finally
            reader = _CheckedReader(fh)
            # values of at least WINDOW_SIZE are not read now: big ones of window_tags stay
            # on disk (the writer copies them file to file), the rest are read just after
            defer = WINDOW_SIZE if window_tags is None or window_tags else DEFER_SIZE
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                ds = read_file(reader, force=force, defer_size=defer, direct=reader._raw)
        except InvalidDicomError as exc:
            raise DicomReadError(f"{path}: not a DICOM file ({exc})") from exc
        except Exception as exc:  # pydicom raises many types on corrupt data
            if reader.truncated:
                raise TruncatedFileError(f"{path}: truncated DICOM file ({exc})") from exc
            raise DicomReadError(
                f"{path}: cannot read as DICOM ({type(exc).__name__}: {exc})"
            ) from exc
        if reader.truncated or any("End of file reached" in str(w.message) for w in caught):
            raise TruncatedFileError(f"{path}: truncated DICOM file (ends inside an element)")
        if len(ds) == 0:
            raise DicomReadError(f"{path}: no data elements (not a DICOM dataset)")
        if fh is not None:
            tags = PIXEL_TAGS if window_tags is None else frozenset(window_tags)
            _settle_deferred(ds, fh, path, size, tags, where)
    finally:
        if fh is not None:
            fh.close()
    ds.filename = path
    return ds


_WINDOW_TAGS: dict[int, tuple[Any, frozenset[int]]] = {}


def _window_tags(plan: Any) -> frozenset[int]:
    """The tags whose big values may stay on disk for ``plan``: those of its skip list (the
    engine never reads them); none for a plan that does not say (it might read anything).
    Computed once per plan and process (plans are immutable)."""
    cached = _WINDOW_TAGS.get(id(plan))
    if cached is not None and cached[0] is plan:
        return cached[1]
    skip = getattr(plan, "skip", None)
    if not isinstance(skip, (set, frozenset)):
        tags: frozenset[int] = frozenset()
    else:
        tags = frozenset(t for t in skip if isinstance(t, int))
    if len(_WINDOW_TAGS) > 16:
        _WINDOW_TAGS.clear()
    _WINDOW_TAGS[id(plan)] = (plan, tags)
    return tags


def _uid(ds: Any, keyword: str) -> str | None:
    """The text of a UID (or ID) for the report, as ``str(ds.get(keyword))``; a single raw UI
    value is read from its bytes, leaving the element undecoded for the engine."""
    from pydicom.datadict import tag_for_keyword
    from pydicom.dataelem import RawDataElement

    tag = tag_for_keyword(keyword)
    elem = ds._dict.get(tag) if tag is not None and hasattr(ds, "_dict") else None
    if (
        type(elem) is RawDataElement
        and elem.VR == "UI"
        and type(elem.value) is bytes
        and b"\\" not in elem.value  # one value: as pydicom's convert_UI
    ):
        return elem.value.decode("iso8859").rstrip("\0 ").strip() or None  # as UID(...)
    value = ds.get(keyword)
    return None if value is None or value == "" else str(value)


def summarize_changes(changes: Any) -> list[dict[str, Any]]:
    """Group a ChangeLog by the rule that made each change.

    Returns
    -------
    list of dict
        ``{"rule": "file:line", "text": ..., "action": ..., "count": n}`` in first-seen order.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> rule = NS(source="r.dicom", line=3, text="REMOVE PatientName")
    >>> summarize_changes([NS(action="REMOVE", rule=rule)] * 2)[0]["count"]
    2
    """
    grouped: dict[tuple[Any, ...], dict[str, Any]] = {}
    # the changes of one rule share its RuleRef object: its fields are read once
    seen: dict[tuple[int, Any], dict[str, Any]] = {}
    for change in changes or ():
        rule = getattr(change, "rule", None)
        action = getattr(change, "action", None)
        entry = seen.get((id(rule), action))
        if entry is None:
            source = getattr(rule, "source", None)
            line = getattr(rule, "line", None)
            text = getattr(rule, "text", None)
            key = (source, line, text, action)
            entry = grouped.get(key)
            if entry is None:
                where = f"{source}:{line}" if source is not None else None
                entry = {"rule": where, "text": text, "action": action, "count": 0}
                grouped[key] = entry
            seen[(id(rule), action)] = entry
        entry["count"] += 1
    return list(grouped.values())


def _context(spec: JobSpec, task: FileTask) -> Any:
    variables: dict[str, Any] = dict(spec.variables.get("*", {}))
    variables.update(spec.variables.get(task.input, {}))
    try:
        from deid.engine.context import Context
    except ImportError:  # pragma: no cover - engine not installed
        from types import SimpleNamespace

        return SimpleNamespace(variables=variables, functions=None, key=spec.key)
    return Context(variables=variables, key=spec.key, filename=task.input)


def _exists(path: str) -> bool:
    if is_url(path):
        import fsspec

        fs, p = fsspec.core.url_to_fs(path)
        return bool(fs.exists(p))
    return os.path.lexists(path)


def _written_by_dead_worker(task: FileTask) -> bool:
    """True when a retried task's output was written during this run (by the worker that
    died before it could report); a coarse clock margin of one second is allowed."""
    if task.retry_after is None:
        return False
    try:
        if is_url(task.output):
            import fsspec

            fs, p = fsspec.core.url_to_fs(task.output)
            modified = fs.modified(p).timestamp()
        else:
            modified = os.stat(task.output).st_mtime
    except (OSError, NotImplementedError, ValueError, AttributeError):
        return False
    return bool(modified >= task.retry_after - 1.0)


def _atomic_write(path: str, data: bytes | Any) -> None:
    """Write ``data`` (bytes, or a dataset to save) to a temporary name next to ``path`` and
    rename it into place; nothing is left behind on error."""
    tmp_name = f"{TEMP_MARK}{os.getpid()}-{secrets.token_hex(4)}"
    if is_url(path):
        import fsspec

        fs, p = fsspec.core.url_to_fs(path)
        parent = p.rsplit("/", 1)[0]
        tmp = f"{parent}/.{p.rsplit('/', 1)[-1]}{tmp_name}"
        fs.makedirs(parent, exist_ok=True)
        try:
            with fs.open(tmp, "wb") as fh:
                _write_to(fh, data)
            fs.mv(tmp, p)
        except BaseException:
            if fs.exists(tmp):
                fs.rm(tmp)
            raise
        return
    parent = os.path.dirname(path)
    if parent not in _MADE_DIRS:
        os.makedirs(parent, exist_ok=True)
        _remember_dir(parent)
    tmp = os.path.join(parent, f".{os.path.basename(path)}{tmp_name}")
    try:
        try:
            fh = open(tmp, "wb")  # noqa: SIM115 - closed below
        except FileNotFoundError:  # the folder was removed since this process made it
            os.makedirs(parent, exist_ok=True)
            fh = open(tmp, "wb")  # noqa: SIM115 - closed below
        with fh:
            _write_to(fh, data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


#: Output folders this process has created (saves a makedirs per file; bounded).
_MADE_DIRS: set[str] = set()


def _remember_dir(parent: str) -> None:
    if len(_MADE_DIRS) > 4096:
        _MADE_DIRS.clear()
    _MADE_DIRS.add(parent)


def _write_to(fh: Any, data: bytes | Any) -> None:
    if isinstance(data, (bytes, bytearray)):
        fh.write(data)
        return
    from pydicom.config import settings

    chunk = settings.buffered_read_size
    settings.buffered_read_size = max(chunk, _COPY_CHUNK)  # buffered values: copy in 1 MiB
    try:
        if isinstance(data, _SourceFile):
            data.save_as(fh)
        else:  # a dataset: pydicom's bytes, unchanged elements written without its overhead
            from deid.runner.fastwrite import save_dataset

            save_dataset(data, fh)
    finally:
        settings.buffered_read_size = chunk


def _quarantine(spec: JobSpec, task: FileTask, data: bytes | None = None) -> str | None:
    if not spec.quarantine:
        return None
    if task.error is not None and task.source is None and "!/" in task.input:
        return None  # an archive member that was never extracted: nothing to copy
    if is_url(spec.quarantine):
        target = spec.quarantine.rstrip("/") + "/" + task.relative
    else:
        target = os.path.join(os.path.realpath(spec.quarantine), *task.relative.split("/"))
    if data is None:
        _atomic_write(target, _SourceFile(task.path))
    else:
        _atomic_write(target, data)
    return target


class _SourceFile:
    """A file copied chunk by chunk by :func:`_atomic_write` (quarantine of any size)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def save_as(self, out: Any) -> None:
        import shutil

        if is_url(self.path):
            import fsspec

            with fsspec.open(self.path, "rb") as fh:
                shutil.copyfileobj(fh, out, 1024 * 1024)
        else:
            with open(self.path, "rb") as fh:
                shutil.copyfileobj(fh, out, 1024 * 1024)


def _detect_pixels(ds: Any, spec: JobSpec) -> Any:
    if spec.pixel_screen is not None:
        return spec.pixel_screen.detect(ds)
    from deid.pixels.detect import detect

    return detect(ds, tuple(spec.pixel_filters))


def _run_pixels(ds: Any, detection: Any, spec: JobSpec) -> Any:
    from deid.pixels import process_pixels

    return process_pixels(ds, detection, options=spec.pixel_options)


def evaluate_file_conditions(task: FileTask, spec: JobSpec) -> dict[str, Any]:
    """Read a file's header and evaluate the save conditions (series-aggregation pre-pass).

    Returns
    -------
    dict
        ``input``, ``series`` (SeriesInstanceUID or None), ``passed`` (bool) and ``error``.

    Examples
    --------
    >>> from pydicom.data import get_testdata_file
    >>> from deid.runner.sources import FileTask
    >>> from deid.runner.conditions import parse_conditions
    >>> spec = JobSpec(plan=None, conditions=parse_conditions(["Modality in [MR]"]))
    >>> f = get_testdata_file("CT_small.dcm")
    >>> evaluate_file_conditions(FileTask(0, f, "x", "/nowhere/x"), spec)["passed"]
    False
    """
    try:
        if task.error is not None:
            raise RunnerError(task.error)
        ds = read_dataset(
            task.input, force=spec.force, max_size=spec.max_file_size, source=task.source
        )
    except Exception as exc:  # noqa: BLE001 - contained, reported per file
        return {"input": task.input, "series": None, "passed": False, "error": str(exc)}
    results = evaluate_conditions(spec.conditions, ds)
    return {
        "input": task.input,
        "series": _uid(ds, "SeriesInstanceUID"),
        "passed": all(r.passed for r in results),
        "error": None,
    }


def new_record(task: FileTask, reason: str | None = None) -> dict[str, Any]:
    """The report record of ``task`` before anything is known: status ``failed``.

    Examples
    --------
    >>> from deid.runner.sources import FileTask
    >>> new_record(FileTask(0, "in.dcm", "in.dcm", "out/in.dcm"), "boom")["reason"]
    'boom'
    """
    return {
        "index": task.index,
        "input": task.input,
        "output": None,
        "status": "failed",
        "reason": reason,
        "rules": [],
        "counts": {},
        "StudyInstanceUID": None,
        "SeriesInstanceUID": None,
        "conditions": [],
        "save_condition": None,
        "save_condition_series_agg": None,
        "save_disabling_inputs_series_agg": [],
        "quarantine": None,
    }


def process_file(task: FileTask, spec: JobSpec, plan: Any = None) -> dict[str, Any]:
    """De-identify one file and return its report record; never raises.

    Parameters
    ----------
    task : FileTask
    spec : JobSpec
    plan : object, optional
        The plan to use (defaults to ``spec.plan``).

    Returns
    -------
    dict
        The JSON-lines record: ``index``, ``input``, ``output``, ``status``, ``reason``,
        ``rules``, ``counts``, ``StudyInstanceUID``, ``SeriesInstanceUID``, ``conditions``,
        ``save_condition``, ``save_condition_series_agg``, ``save_disabling_inputs_series_agg``,
        ``quarantine``, ``timings`` and, with a crosswalk, ``crosswalk``.

    Examples
    --------
    See the module docstring.
    """
    plan = spec.plan if plan is None else plan
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    record = new_record(task)
    # every record says whether its pseudonyms can be reproduced by another run
    record["pseudonyms_reproducible"] = getattr(spec.key, "reproducible", True)
    try:
        if task.error is not None:
            raise RunnerError(task.error)
        if _exists(task.output) and not _written_by_dead_worker(task):
            if spec.existing == "skip":
                record.update(status="skipped", reason="output exists", output=task.output)
                return record
            if spec.existing == "error":
                record["reason"] = f"output {task.output} exists (use --existing overwrite|skip)"
                return record
        ds = read_dataset(
            task.input,
            force=spec.force,
            max_size=spec.max_file_size,
            source=task.source,
            window_tags=_window_tags(plan),
        )
        t1 = time.perf_counter()
        timings["read"] = t1 - t0
        record["StudyInstanceUID"] = _uid(ds, "StudyInstanceUID")
        record["SeriesInstanceUID"] = _uid(ds, "SeriesInstanceUID")
        original = {  # only the crosswalk needs them: no conversions otherwise
            k: _uid(ds, k)
            for k in ("PatientID", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")
            if spec.crosswalk
        }
        if spec.conditions:
            results = evaluate_conditions(spec.conditions, ds)
            record["conditions"] = [r.as_dict() for r in results]
            record["save_condition"] = all(r.passed for r in results)
            if task.series_block is not None:
                record["save_condition_series_agg"] = not task.series_block
                record["save_disabling_inputs_series_agg"] = list(task.series_block)
            if not record["save_condition"]:
                failed = "; ".join(r.condition.text for r in results if not r.passed)
                record.update(status="rejected", reason=f"save condition not met: {failed}")
            elif task.series_block:
                n = len(task.series_block)
                record.update(
                    status="rejected",
                    reason=f"series {record['SeriesInstanceUID']}: {n} file(s) of the series "
                    "did not meet the save conditions",
                )
            if record["status"] == "rejected":
                record["quarantine"] = _quarantine(spec, task)
                return record
        detection = _detect_pixels(ds, spec) if spec.pixels else None
        changes = plan.apply(ds, _context(spec, task))
        t2 = time.perf_counter()
        timings["apply"] = t2 - t1
        record["rules"] = summarize_changes(changes)
        counts = changes.counts() if hasattr(changes, "counts") else {}
        record["counts"] = dict(counts)
        if spec.pixels:
            if detection is not None and detection.regions:
                materialize(ds)  # the pixel step decodes the image: it needs the bytes
            outcome = _run_pixels(ds, detection, spec)
            timings["pixels"] = time.perf_counter() - t2
            record["pixels"] = outcome.to_dict()
            if outcome.status == "rejected":
                record.update(status="rejected", reason=f"pixels: {outcome.reason}")
                record["quarantine"] = _quarantine(spec, task)
                return record
        t3 = time.perf_counter()
        _atomic_write(task.output, ds)
        timings["write"] = time.perf_counter() - t3
        record.update(status="written", output=task.output)
        if spec.crosswalk:
            record["crosswalk"] = {k: [v, _uid(ds, k)] for k, v in original.items()}
    except Exception as exc:  # noqa: BLE001 - contained: one file never stops the batch
        from deid.errors import RejectedError

        status = "rejected" if isinstance(exc, RejectedError) else "failed"
        record.update(status=status, reason=f"{type(exc).__name__}: {exc}", output=None)
        try:
            record["quarantine"] = _quarantine(spec, task)
        except Exception as qexc:  # noqa: BLE001 - pragma: no cover - quarantine disk errors
            record["reason"] += f" (quarantine copy failed: {qexc})"
    finally:
        timings["total"] = time.perf_counter() - t0
        record["timings"] = {k: round(v, 6) for k, v in timings.items()}
    return record


def _is_temporary(name: str) -> bool:
    return name.startswith(".") and TEMP_MARK in name


def remove_stale_temporaries(folder: str) -> int:
    """Delete temporary files a killed run left in ``folder``; return how many were removed.

    Works on local folders and on fsspec URLs (``memory://``, ``s3://``, ...) where the
    filesystem can list and delete; a filesystem that refuses is left as it is (the leftovers
    are hidden ``.<name>.deid-tmp-*`` files that never carry a released name).

    Examples
    --------
    >>> import tempfile
    >>> remove_stale_temporaries(tempfile.mkdtemp())
    0
    """
    if is_url(folder):
        return _remove_stale_url(folder)
    if not os.path.isdir(folder):
        return 0
    removed = 0
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            if _is_temporary(name):
                try:
                    os.unlink(os.path.join(dirpath, name))
                except FileNotFoundError:  # pragma: no cover - removed concurrently
                    continue
                removed += 1
    return removed


def remove_task_temporaries(task: FileTask) -> int:
    """Delete the hidden ``.<name>.deid-tmp-*`` files next to ``task``'s output, left by a
    worker that died while writing it; return how many were removed.

    Examples
    --------
    >>> import tempfile, os
    >>> from deid.runner.sources import FileTask
    >>> out = os.path.join(tempfile.mkdtemp(), "a.dcm")
    >>> _ = open(os.path.join(os.path.dirname(out), ".a.dcm.deid-tmp-1-ab"), "wb").close()
    >>> remove_task_temporaries(FileTask(0, "in.dcm", "a.dcm", out))
    1
    """
    pattern_name = f".{task.output.rstrip('/').rsplit('/', 1)[-1]}{TEMP_MARK}*"
    removed = 0
    try:
        if is_url(task.output):
            import fsspec

            fs, p = fsspec.core.url_to_fs(task.output)
            parent = p.rsplit("/", 1)[0]
            for found in fs.glob(f"{parent}/{pattern_name}"):
                fs.rm(found)
                removed += 1
            return removed
        import glob

        folder = os.path.dirname(task.output)
        for found in glob.glob(os.path.join(glob.escape(folder), pattern_name)):
            os.unlink(found)
            removed += 1
    except (OSError, NotImplementedError, ValueError):
        pass
    return removed


def _remove_stale_url(folder: str) -> int:
    import fsspec

    fs, root = fsspec.core.url_to_fs(folder)
    try:
        if not fs.exists(root):
            return 0
        found = fs.find(root)
    except (NotImplementedError, OSError, ValueError):
        return 0
    removed = 0
    for path in found:
        if not _is_temporary(path.rstrip("/").rsplit("/", 1)[-1]):
            continue
        try:
            fs.rm(path)
        except (NotImplementedError, OSError, ValueError):
            continue
        removed += 1
    return removed
