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
import secrets
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from deid.errors import DeidError
from deid.runner.conditions import SaveCondition, evaluate_conditions
from deid.runner.sources import FileTask, is_url

__all__ = [
    "EXISTING_MODES",
    "JobSpec",
    "TruncatedFileError",
    "evaluate_file_conditions",
    "process_file",
    "read_dataset",
    "remove_stale_temporaries",
    "summarize_changes",
]

EXISTING_MODES = ("skip", "overwrite", "error")
TEMP_MARK = ".deid-tmp-"


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
    pixel_options : object or None
        ``deid.pixels.PixelOptions`` (None for the defaults).
    force : bool
        Read files without the DICOM preamble (``dcmread(force=True)``).
    crosswalk : bool
        Record original and de-identified identifiers for the crosswalk file.
    """

    plan: Any
    key: Any = None
    variables: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    conditions: tuple[SaveCondition, ...] = ()
    existing: str = "error"
    quarantine: str | None = None
    pixels: bool = False
    pixel_filters: tuple[Any, ...] = ()
    pixel_options: Any = None
    force: bool = False
    crosswalk: bool = False


class _CheckedReader:
    """File-like wrapper that notices reads cut short by the end of the data."""

    def __init__(self, raw: io.BytesIO) -> None:
        self._raw = raw
        self.zero_reads = 0
        self.truncated = False

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        if size is not None and size > 0 and len(data) < size:
            if data or size != 8:
                self.truncated = True
            else:
                self.zero_reads += 1
                if self.zero_reads > 1:
                    self.truncated = True
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


def _read_bytes(path: str) -> bytes:
    if is_url(path):
        import fsspec

        with fsspec.open(path, "rb") as fh:
            return bytes(fh.read())
    with open(path, "rb") as fh:
        return fh.read()


def read_dataset(path: str, data: bytes | None = None, *, force: bool = False) -> Any:
    """Read a whole DICOM file, refusing non-DICOM and truncated files.

    Parameters
    ----------
    path : str
        Local path or fsspec URL (used for reading when ``data`` is None, and in messages).
    data : bytes, optional
        The file's content when already read.
    force : bool
        Accept files without the 128-byte preamble and ``DICM`` prefix.

    Raises
    ------
    deid.errors.DicomReadError
        Not a DICOM file, or unreadable.
    TruncatedFileError
        The file ends inside an element.

    Examples
    --------
    >>> from pydicom.data import get_testdata_file
    >>> read_dataset(get_testdata_file("CT_small.dcm")).Modality
    'CT'
    """
    import pydicom
    from pydicom.errors import InvalidDicomError

    from deid.errors import DicomReadError

    raw = _read_bytes(path) if data is None else data
    reader = _CheckedReader(io.BytesIO(raw))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ds = pydicom.dcmread(reader, force=force)  # type: ignore[arg-type]
    except InvalidDicomError as exc:
        raise DicomReadError(f"{path}: not a DICOM file ({exc})") from exc
    except Exception as exc:  # pydicom raises many types on corrupt data
        if reader.truncated:
            raise TruncatedFileError(f"{path}: truncated DICOM file ({exc})") from exc
        raise DicomReadError(f"{path}: cannot read as DICOM ({type(exc).__name__}: {exc})") from exc
    if reader.truncated or any("End of file reached" in str(w.message) for w in caught):
        raise TruncatedFileError(f"{path}: truncated DICOM file (ends inside an element)")
    if len(ds) == 0:
        raise DicomReadError(f"{path}: no data elements (not a DICOM dataset)")
    ds.filename = path
    return ds


def _uid(ds: Any, keyword: str) -> str | None:
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
    for change in changes or ():
        rule = getattr(change, "rule", None)
        source = getattr(rule, "source", None)
        line = getattr(rule, "line", None)
        text = getattr(rule, "text", None)
        action = getattr(change, "action", None)
        key = (source, line, text, action)
        entry = grouped.get(key)
        if entry is None:
            where = f"{source}:{line}" if source is not None else None
            entry = {"rule": where, "text": text, "action": action, "count": 0}
            grouped[key] = entry
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
    os.makedirs(parent, exist_ok=True)
    tmp = os.path.join(parent, f".{os.path.basename(path)}{tmp_name}")
    try:
        with open(tmp, "wb") as fh:
            _write_to(fh, data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _write_to(fh: Any, data: bytes | Any) -> None:
    if isinstance(data, (bytes, bytearray)):
        fh.write(data)
    else:
        data.save_as(fh)


def _quarantine(spec: JobSpec, task: FileTask, data: bytes | None) -> str | None:
    if not spec.quarantine:
        return None
    if is_url(spec.quarantine):
        target = spec.quarantine.rstrip("/") + "/" + task.relative
    else:
        target = os.path.join(os.path.realpath(spec.quarantine), *task.relative.split("/"))
    if data is None:
        data = _read_bytes(task.input)
    _atomic_write(target, data)
    return target


def _detect_pixels(ds: Any, spec: JobSpec) -> Any:
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
        ds = read_dataset(task.input, force=spec.force)
    except Exception as exc:  # noqa: BLE001 - contained, reported per file
        return {"input": task.input, "series": None, "passed": False, "error": str(exc)}
    results = evaluate_conditions(spec.conditions, ds)
    return {
        "input": task.input,
        "series": _uid(ds, "SeriesInstanceUID"),
        "passed": all(r.passed for r in results),
        "error": None,
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
    record: dict[str, Any] = {
        "index": task.index,
        "input": task.input,
        "output": None,
        "status": "failed",
        "reason": None,
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
    data: bytes | None = None
    try:
        if _exists(task.output):
            if spec.existing == "skip":
                record.update(status="skipped", reason="output exists", output=task.output)
                return record
            if spec.existing == "error":
                record["reason"] = f"output {task.output} exists (use --existing overwrite|skip)"
                return record
        data = _read_bytes(task.input)
        ds = read_dataset(task.input, data, force=spec.force)
        t1 = time.perf_counter()
        timings["read"] = t1 - t0
        record["StudyInstanceUID"] = _uid(ds, "StudyInstanceUID")
        record["SeriesInstanceUID"] = _uid(ds, "SeriesInstanceUID")
        original = {
            k: _uid(ds, k)
            for k in ("PatientID", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")
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
                record["quarantine"] = _quarantine(spec, task, data)
                return record
        detection = _detect_pixels(ds, spec) if spec.pixels else None
        changes = plan.apply(ds, _context(spec, task))
        t2 = time.perf_counter()
        timings["apply"] = t2 - t1
        record["rules"] = summarize_changes(changes)
        counts = changes.counts() if hasattr(changes, "counts") else {}
        record["counts"] = dict(counts)
        if spec.pixels:
            outcome = _run_pixels(ds, detection, spec)
            timings["pixels"] = time.perf_counter() - t2
            record["pixels"] = outcome.to_dict()
            if outcome.status == "rejected":
                record.update(status="rejected", reason=f"pixels: {outcome.reason}")
                record["quarantine"] = _quarantine(spec, task, data)
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
            record["quarantine"] = _quarantine(spec, task, data)
        except Exception as qexc:  # noqa: BLE001 - pragma: no cover - quarantine disk errors
            record["reason"] += f" (quarantine copy failed: {qexc})"
    finally:
        timings["total"] = time.perf_counter() - t0
        record["timings"] = {k: round(v, 6) for k, v in timings.items()}
    return record


def remove_stale_temporaries(folder: str) -> int:
    """Delete temporary files a killed run left in ``folder`` (local only); return how many.

    Examples
    --------
    >>> import tempfile
    >>> remove_stale_temporaries(tempfile.mkdtemp())
    0
    """
    if is_url(folder) or not os.path.isdir(folder):
        return 0
    removed = 0
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            if TEMP_MARK in name and name.startswith("."):
                os.unlink(os.path.join(dirpath, name))
                removed += 1
    return removed
