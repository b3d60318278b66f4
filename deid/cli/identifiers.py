"""``deid identifiers``: every field of every file, flattened, as JSON, CSV or TSV.

Sequences are flattened the way upstream's ``get_identifiers`` names them: a nested element's
uid is ``(0008,1110)__0__(0008,1150)`` (parent tag, item index, child tag) and its name
``ReferencedStudySequence__ReferencedSOPClassUID``. Pixel data, palette data and the file-meta
bookkeeping elements are skipped, as upstream does.

Upstream's invocation ``deid identifiers --action get|put|all|inspect [--deid R] [--ids F]
[--input PATH]`` still works: ``get``/``inspect`` print the identifiers, ``all`` and ``put``
de-identify into ``--outfolder`` through :func:`deid.runner.run`.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import Iterator
from typing import Any

from deid.cli._common import add_plan_arguments, open_output, warn

__all__ = ["add_parser", "flatten", "run"]


def flatten(ds: Any, expand_sequences: bool = True) -> Iterator[tuple[str, str, Any, bool]]:
    """Yield ``(uid, name, element, is_filemeta)`` for every field, breadth first.

    Examples
    --------
    >>> from pydicom import Dataset
    >>> ds, item = Dataset(), Dataset()
    >>> item.ReferencedSOPClassUID = "1.2"
    >>> ds.ReferencedStudySequence = [item]
    >>> [u for u, *_ in flatten(ds)]
    ['(0008,1110)', '(0008,1110)__0__(0008,1150)']
    """
    from deid.engine.walk import iter_fields

    for item in iter_fields(ds, expand_sequences=expand_sequences):
        yield item.uid, item.name, item.element, item.is_filemeta


def _value(elem: Any) -> Any:
    value = elem.value
    if elem.VR == "SQ":
        return f"<sequence of {len(value or [])} item(s)>"
    if isinstance(value, (bytes, bytearray)):
        return value.hex() if len(value) <= 32 else f"<{len(value)} bytes>"
    if value is None:
        return ""
    if type(value).__name__ == "MultiValue" or isinstance(value, (list, tuple)):
        return "\\".join(str(v) for v in value)
    return str(value)


def file_identifiers(path: str, force: bool = False) -> dict[str, dict[str, Any]]:
    """Return ``{uid: {"name", "tag", "keyword", "vr", "value", "is_filemeta"}}`` for one file.

    Examples
    --------
    >>> from pydicom.data import get_testdata_file
    >>> ids = file_identifiers(get_testdata_file("CT_small.dcm"))
    >>> ids["(0010,0010)"]["value"]
    'CompressedSamples^CT1'
    """
    from deid.engine import walk
    from deid.runner.job import read_dataset

    ds = read_dataset(path, force=force)
    return {
        uid: {
            "name": name,
            "tag": walk.tag_string(elem.tag),
            "keyword": elem.keyword,
            "vr": elem.VR,
            "value": _value(elem),
            "is_filemeta": meta,
        }
        for uid, name, elem, meta in flatten(ds)
    }


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``deid identifiers``."""
    p = subparsers.add_parser("identifiers", help="list every field of every file (JSON, CSV, TSV)")
    p.add_argument("inputs", nargs="*", metavar="INPUT", help="files, folders, globs or URLs")
    p.add_argument(
        "--format",
        dest="table_format",
        choices=("json", "csv", "tsv"),
        default="json",
        help="output format (default json)",
    )
    p.add_argument("--output", dest="table_output", default=None, help="write here, not stdout")
    p.add_argument("--pattern", default=None, help="only base names matching this glob")
    p.add_argument("--force", action="store_true", help="read files without a preamble")
    # upstream's invocation
    p.add_argument("-a", "--action", choices=("get", "put", "all", "inspect"), default=None)
    p.add_argument("-i", "--input", dest="legacy_input", default=None, help=argparse.SUPPRESS)
    p.add_argument("--ids", default=None, help="(with --action put) per-file variables JSON")
    add_plan_arguments(p)
    p.set_defaults(command_run=run)
    return p


def _write(results: dict[str, dict[str, dict[str, Any]]], fmt: str, target: str | None) -> None:
    out = open_output(target)
    try:
        if fmt == "json":
            json.dump(results, out, indent=2)
            out.write("\n")
            return
        writer = csv.writer(out, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
        writer.writerow(["file", "uid", "name", "tag", "keyword", "vr", "value", "is_filemeta"])
        for path, fields in results.items():
            for uid, f in fields.items():
                writer.writerow(
                    [
                        path,
                        uid,
                        f["name"],
                        f["tag"],
                        f["keyword"],
                        f["vr"],
                        f["value"],
                        str(f["is_filemeta"]).lower(),
                    ]
                )
    finally:
        if out is not sys.stdout:
            out.close()
        else:
            out.flush()


def _demo_input() -> str:
    from deid._optional import require

    data = require("deid_data.data", "data")
    return str(data.get_dataset("dicom-cookies"))


def run(args: argparse.Namespace) -> int:
    """Print identifiers (or, for upstream's ``--action all|put``, de-identify); exit status."""
    from deid.runner.sources import RunnerError, iter_input_files

    inputs = list(args.inputs)
    if args.legacy_input:
        inputs.append(args.legacy_input)
    if args.action is not None and not inputs:
        inputs = [_demo_input()]
    if not inputs:
        raise RunnerError("deid identifiers: give at least one input")
    if args.action in ("all", "put"):
        return _legacy_deidentify(args, inputs)
    results: dict[str, dict[str, dict[str, Any]]] = {}
    status = 0
    for path, _rel in iter_input_files(inputs, args.pattern):
        try:
            results[path] = file_identifiers(path, force=args.force)
        except Exception as exc:  # noqa: BLE001 - one bad file does not stop the listing
            warn(f"failed: {path}: {exc}")
            status = 1
    _write(results, args.table_format, args.table_output)
    return status


def _legacy_deidentify(args: argparse.Namespace, inputs: list[str]) -> int:
    import tempfile

    from deid.cli._common import plan_from_args
    from deid.runner.api import run as run_batch
    from deid.runner.sources import RunnerError

    variables: dict[str, Any] = {}
    if args.action == "put":
        if not args.ids:
            raise RunnerError("deid identifiers --action put needs --ids FILE")
        with open(args.ids, encoding="utf-8") as fh:
            variables = json.load(fh)
    if not args.recipes and not args.profile:
        args.recipes = ["dicom"]  # upstream's default recipe
    output = getattr(args, "outfolder", None) or tempfile.mkdtemp(prefix="deid-")
    existing = "overwrite" if getattr(args, "overwrite", False) else "error"
    summary = run_batch(
        inputs,
        output,
        plan=plan_from_args(args),
        variables=variables,
        existing=existing,
        workers=1,
        progress=False,
        on_record=lambda r: (
            r["status"] in ("rejected", "failed")
            and warn(f"{r['status']}: {r['input']}: {r['reason']}")
        ),
    )
    print(os.path.realpath(output) if "://" not in output else output)
    print(summary.text())
    return summary.exit_code
