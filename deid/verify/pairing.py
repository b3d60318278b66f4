"""Pair each output file with the input it was made from.

In order, each step only pairing what is still unpaired and only where the match is unique:

1. a deid run report (JSON lines with ``input``/``output`` paths) or a crosswalk CSV (path
   columns, or old/new SOP Instance UID columns);
2. the same SOP Instance UID (a tool that keeps UIDs);
3. the same Pixel Data bytes (SHA-256 of the value);
4. the same instance geometry: SOP Class, size, frames, position, orientation, instance,
   series and acquisition numbers, echo, slice location and content-tree shape;
5. the same relative path;
6. the same SOP Class, modality, series and instance numbers; then the same SOP Class alone.

Examples
--------
>>> pair_files({}, {}).pairs
{}
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydicom import Dataset

__all__ = ["FileInfo", "Pairing", "pair_files", "read_crosswalk", "read_report", "signature"]

_IN_KEYS = ("input", "source", "src", "in", "input_path", "original", "path")
_OUT_KEYS = ("output", "destination", "dest", "dst", "out", "output_path", "written")
_STATUS_KEYS = ("status", "outcome", "result")
_OK = {
    "ok",
    "written",
    "success",
    "done",
    "deidentified",
    "changed",
    "unchanged",
    "copied",
    "skipped",
}


@dataclass
class FileInfo:
    """What pairing needs to know about one file (input or output)."""

    path: str
    rel: str
    dataset: Dataset | None = None
    sop_uid: str | None = None
    digest: str | None = None
    geometry: tuple[Any, ...] | None = None
    error: str | None = None
    sop_class: str | None = None
    instance: tuple[Any, ...] | None = None


@dataclass
class Pairing:
    """The result of pairing: ``pairs`` (input path -> output path) and how each was made."""

    pairs: dict[str, str] = field(default_factory=dict)
    method: dict[str, str] = field(default_factory=dict)
    rejected: dict[str, str] = field(default_factory=dict)


def _g(ds: Dataset, kw: str) -> Any:
    try:
        v = ds.get(kw)
    except Exception:  # noqa: BLE001
        return None
    if v is None:
        return None
    if isinstance(v, (list, tuple)) or type(v).__name__ == "MultiValue":
        return tuple(str(x) for x in v)
    return str(v)


def signature(ds: Dataset) -> tuple[Any, ...]:
    """Return a content signature of an instance that de-identification does not change.

    Examples
    --------
    >>> from pydicom import Dataset
    >>> ds = Dataset(); ds.Rows = 2; ds.InstanceNumber = 3
    >>> signature(ds)[1:3]
    ('2', None)
    """
    keys = (
        "SOPClassUID",
        "Rows",
        "Columns",
        "NumberOfFrames",
        "ImagePositionPatient",
        "ImageOrientationPatient",
        "InstanceNumber",
        "SeriesNumber",
        "AcquisitionNumber",
        "EchoNumbers",
        "SliceLocation",
        "Modality",
        "BitsAllocated",
        "SamplesPerPixel",
    )
    shape: tuple[Any, ...] = ()
    try:
        content = ds.get("ContentSequence")
        if content is not None:
            shape = tuple(str(item.get("ValueType", "")) for item in content)
    except Exception:  # noqa: BLE001
        shape = ()
    return tuple(_g(ds, k) for k in keys) + (shape,)


def _pick(record: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for k in keys:
        v = record.get(k)
        if isinstance(v, str) and v:
            return v
    return None


def read_report(
    path: str, input_root: str, output_root: str
) -> tuple[dict[str, str], dict[str, str]]:
    """Read a JSON-lines run report: returns (pairs, rejected) keyed by absolute input path.

    Records whose status is not a success are *rejected* (the tool refused them, which is not a
    lost file). Relative paths are resolved against the input and output roots.

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp(); p = os.path.join(d, "r.jsonl")
    >>> _ = open(p, "w").write('{"input": "a.dcm", "output": "b.dcm", "status": "ok"}\\n')
    >>> pairs, rejected = read_report(p, "/in", "/out")
    >>> pairs
    {'/in/a.dcm': '/out/b.dcm'}
    """
    from deid.runner.report import iter_json_lines

    pairs: dict[str, str] = {}
    rejected: dict[str, str] = {}
    for record in iter_json_lines(path):
        src = _pick(record, _IN_KEYS)
        if src is None:
            continue
        src = os.path.normpath(os.path.join(input_root, src))
        status = str(_pick(record, _STATUS_KEYS) or "ok").lower()
        dst = _pick(record, _OUT_KEYS)
        if status in _OK and dst:
            pairs[src] = os.path.normpath(os.path.join(output_root, dst))
        elif status not in _OK:
            detail = record.get("reason") or record.get("error") or record.get("message") or status
            detail = f"{status}: {detail}" if detail != status else status
            rejected[src] = str(detail)
    return pairs, rejected


def read_crosswalk(path: str) -> tuple[dict[str, str], dict[str, str]]:
    """Read a crosswalk CSV: returns (path pairs, UID map old -> new).

    Path columns are recognised by names such as ``input``/``output``; UID columns by
    ``old``/``original`` and ``new``/``replacement`` in their names.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "x.csv")
    >>> _ = open(p, "w").write("original_uid,new_uid\\n1.2.3,2.25.9\\n")
    >>> read_crosswalk(p)
    ({}, {'1.2.3': '2.25.9'})
    """
    paths: dict[str, str] = {}
    uids: dict[str, str] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        names = [n for n in (reader.fieldnames or [])]
        low = {n: n.lower() for n in names}
        in_col = next((n for n in names if low[n] in _IN_KEYS), None)
        out_col = next((n for n in names if low[n] in _OUT_KEYS), None)
        old_col = next(
            (n for n in names if any(w in low[n] for w in ("old", "orig", "source"))), None
        )
        new_col = next(
            (n for n in names if any(w in low[n] for w in ("new", "replace", "pseudo", "deid"))),
            None,
        )
        if "SOPInstanceUID" in names and "SOPInstanceUID_deid" in names:  # deid run's layout
            old_col, new_col = "SOPInstanceUID", "SOPInstanceUID_deid"
        for row in reader:
            if in_col and out_col and row.get(in_col) and row.get(out_col):
                paths[row[in_col]] = row[out_col]
            if old_col and new_col and row.get(old_col) and row.get(new_col):
                uids[row[old_col].strip()] = row[new_col].strip()
    return paths, uids


def _unique_match(
    inputs: dict[str, FileInfo],
    outputs: dict[str, FileInfo],
    pairing: Pairing,
    key: Callable[[FileInfo], Any],
    method: str,
) -> None:
    taken = set(pairing.pairs.values())
    free_in = [f for p, f in inputs.items() if p not in pairing.pairs and p not in pairing.rejected]
    free_out = [f for p, f in outputs.items() if p not in taken]
    by_in: dict[Any, list[FileInfo]] = {}
    by_out: dict[Any, list[FileInfo]] = {}
    for f in free_in:
        k = key(f)
        if k is not None:
            by_in.setdefault(k, []).append(f)
    for f in free_out:
        k = key(f)
        if k is not None:
            by_out.setdefault(k, []).append(f)
    for k, ins in by_in.items():
        outs = by_out.get(k, [])
        if len(ins) == 1 and len(outs) == 1:
            pairing.pairs[ins[0].path] = outs[0].path
            pairing.method[ins[0].path] = method


def pair_files(
    inputs: dict[str, FileInfo],
    outputs: dict[str, FileInfo],
    *,
    report_pairs: dict[str, str] | None = None,
    rejected: dict[str, str] | None = None,
    uid_map: dict[str, str] | None = None,
) -> Pairing:
    """Pair inputs with outputs (both keyed by absolute path).

    Parameters
    ----------
    inputs, outputs : dict of str to FileInfo
        The files found on each side.
    report_pairs : dict, optional
        Input path -> output path from a run report or crosswalk (trusted first).
    rejected : dict, optional
        Inputs the tool reported as refused (never paired, never "lost").
    uid_map : dict, optional
        Old SOP Instance UID -> new, from a crosswalk.

    Returns
    -------
    Pairing

    Examples
    --------
    >>> a = FileInfo("/i/a", "a", sop_uid="1.2"); b = FileInfo("/o/x", "x", sop_uid="1.2")
    >>> pair_files({"/i/a": a}, {"/o/x": b}).method
    {'/i/a': 'sop-instance-uid'}
    """
    pairing = Pairing(rejected=dict(rejected or {}))
    for src, dst in (report_pairs or {}).items():
        if src in inputs and dst in outputs:
            pairing.pairs[src] = dst
            pairing.method[src] = "report"
    if uid_map:
        out_by_uid = {f.sop_uid: f for f in outputs.values() if f.sop_uid}
        taken = set(pairing.pairs.values())
        for f in inputs.values():
            if f.path in pairing.pairs or not f.sop_uid:
                continue
            new = uid_map.get(f.sop_uid)
            target = out_by_uid.get(new) if new else None
            if target is not None and target.path not in taken:
                pairing.pairs[f.path] = target.path
                pairing.method[f.path] = "crosswalk"
                taken.add(target.path)
    _unique_match(inputs, outputs, pairing, lambda f: f.sop_uid, "sop-instance-uid")
    _unique_match(inputs, outputs, pairing, lambda f: f.digest, "pixel-data")
    _unique_match(inputs, outputs, pairing, lambda f: f.geometry, "geometry")
    _unique_match(inputs, outputs, pairing, lambda f: f.rel, "relative-path")
    _unique_match(inputs, outputs, pairing, lambda f: f.instance, "instance-numbers")
    _unique_match(inputs, outputs, pairing, lambda f: f.sop_class, "sop-class")
    return pairing
