"""``deid inspect``: burned-in pixel flags per file, from the recipe's ``%filter`` sections.

Upstream's ``deid inspect FOLDER... [--deid RECIPE] [--pattern GLOB] [--save]`` keeps working;
``--save`` writes ``pixel-flag-results-<folders>-<yy-mm-dd>.tsv`` in the current folder.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import os
from typing import Any

from deid.cli._common import emit, warn

__all__ = ["add_parser", "inspect_files", "run"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``deid inspect``."""
    p = subparsers.add_parser("inspect", help="flag files that may have burned-in annotations")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="files, folders, globs or URLs")
    p.add_argument(
        "-r",
        "--recipe",
        "--deid",
        dest="recipe",
        default=None,
        help="recipe with %%filter sections (default: the shipped dicom recipe)",
    )
    p.add_argument("--pattern", default=None, help="only base names matching this glob")
    p.add_argument("-s", "--save", action="store_true", help="also write a TSV in the CWD")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(command_run=run)
    return p


def inspect_files(
    inputs: list[str], recipe: str | None = None, pattern: str | None = None
) -> list[dict[str, Any]]:
    """Run pixel-flag detection on every file; one dict per file.

    Each dict has ``file``, ``flagged`` (bool or None when the file could not be read),
    ``flags`` (list of group names), ``reasons`` and ``error``.
    """
    from deid.pixels.detect import detect
    from deid.recipe import load_recipe
    from deid.runner.job import read_dataset
    from deid.runner.sources import iter_input_files

    parsed = load_recipe(recipe or "dicom")
    rows = []
    for path, _rel in iter_input_files(inputs, pattern):
        try:
            ds = read_dataset(path)
            result = detect(ds, parsed).as_upstream()
        except Exception as exc:  # noqa: BLE001 - contained, reported per file
            rows.append(
                {"file": path, "flagged": None, "flags": [], "reasons": [], "error": str(exc)}
            )
            continue
        rows.append(
            {
                "file": path,
                "flagged": bool(result["flagged"]),
                "flags": [r.get("group") for r in result["results"]],
                "reasons": [r.get("reason") for r in result["results"]],
                "error": None,
            }
        )
    return rows


def run(args: argparse.Namespace) -> int:
    """Print the flags; returns 0, or 1 when a file could not be read."""
    rows = inspect_files(args.inputs, args.recipe, args.pattern)
    status = 0
    for row in rows:
        if row["error"]:
            warn(f"failed: {row['file']}: {row['error']}")
            status = 1
    if args.json:
        emit(rows, True)
    else:
        lines = []
        for row in rows:
            state = "FAILED" if row["error"] else ("FLAGGED" if row["flagged"] else "CLEAN")
            extra = " ".join(f"{g}: {r}" for g, r in zip(row["flags"], row["reasons"]))
            lines.append(f"{state}\t{row['file']}" + (f"\t{extra}" if extra else ""))
        clean = sum(1 for r in rows if r["flagged"] is False)
        flagged = sum(1 for r in rows if r["flagged"])
        lines.append(f"CLEAN {clean} files, FLAGGED {flagged} files")
        emit(lines, False)
    if args.save:
        names = "-".join(os.path.basename(os.path.normpath(i)) for i in args.inputs)
        stamp = datetime.date.today().strftime("%y-%m-%d")
        target = f"pixel-flag-results-{names}-{stamp}.tsv"
        with open(target, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, delimiter="\t", lineterminator="\n")
            writer.writerow(["dicom_file", "pixels_flagged", "flag_list", "reason"])
            for row in rows:
                writer.writerow(
                    [
                        row["file"],
                        row["flagged"],
                        ",".join(map(str, row["flags"])),
                        "; ".join(map(str, row["reasons"])),
                    ]
                )
        warn(f"saved {target}")
    return status
