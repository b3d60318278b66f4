"""``deid run``: de-identify files, folders, globs or fsspec URLs into a mirrored output tree.

Exit status: 0 every file written or skipped; 1 some file rejected or failed; 2 usage, recipe or
profile error (nothing processed). The summary goes to stdout; per-file problems and the
progress bar to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from deid.cli._common import add_plan_arguments, emit, plan_from_args, warn

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``deid run``."""
    p = subparsers.add_parser(
        "run",
        help="de-identify a batch of files",
        description="De-identify files, folders, globs or fsspec URLs into OUTPUT (mirrored tree).",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="file, folder, glob or URL")
    p.add_argument("-o", "--output", dest="output", default=None, help="output folder or URL")
    add_plan_arguments(p)
    keys = p.add_argument_group("keys and variables")
    keys.add_argument("--key", default=None, help="secret key for keyed pseudonyms")
    keys.add_argument("--key-file", default=None, help="file holding the secret key")
    keys.add_argument(
        "--ids",
        default=None,
        metavar="JSON",
        help="per-file variables: {input path: {name: value}}",
    )
    release = p.add_argument_group("release")
    release.add_argument(
        "--condition",
        dest="conditions",
        action="append",
        default=[],
        help="save condition, e.g. 'Modality in [CT, MR]' (repeatable)",
    )
    release.add_argument(
        "--series-aggregate",
        action="store_true",
        help="release a series only when all of its files meet the conditions",
    )
    release.add_argument(
        "--existing",
        choices=("skip", "overwrite", "error"),
        default=None,
        help="when an output exists (default: error)",
    )
    release.add_argument("--quarantine", default=None, help="copy rejected/failed inputs here")
    px = p.add_argument_group(
        "pixels",
        "The pixel step runs by default: %%filter detection on every header, matching regions "
        "blanked, burned-in images that no rule covers rejected.",
    )
    onoff = px.add_mutually_exclusive_group()
    onoff.add_argument(
        "--pixels",
        dest="pixels",
        action="store_true",
        default=True,
        help="run the pixel step (the default; kept for older scripts)",
    )
    onoff.add_argument(
        "--no-pixels",
        dest="pixels",
        action="store_false",
        help="opt out of the pixel step: Pixel Data is copied as it is and burned-in images "
        "are NOT rejected (refused with --option clean-pixel-data)",
    )
    px.add_argument(
        "--pixel-recipe",
        action="append",
        default=None,
        help="recipe whose %%filter sections drive the pixel step (default: the run's "
        "recipes, else the shipped dicom recipe)",
    )
    px.add_argument(
        "--accept-burned-in",
        action="store_true",
        help="write images marked BurnedInAnnotation YES (or suspect) that no rule covers, "
        "pixels unchanged and YES kept, instead of rejecting them",
    )
    px.add_argument(
        "--reject-blacklist",
        action="store_true",
        help="also reject images matching a %%filter blacklist LABEL that no rule blanks",
    )
    px.add_argument(
        "--suspect-modality",
        dest="suspect_modalities",
        action="append",
        default=[],
        metavar="MODALITY",
        help="treat this modality like BurnedInAnnotation YES, e.g. US (repeatable)",
    )
    px.add_argument(
        "--suspect-image-type",
        dest="suspect_image_types",
        action="append",
        default=[],
        metavar="VALUE",
        help="treat images with this ImageType value like BurnedInAnnotation YES, "
        "e.g. SECONDARY (repeatable)",
    )
    release.add_argument("--force", action="store_true", help="read files without a preamble")
    release.add_argument(
        "--max-file-size",
        default="2G",
        metavar="SIZE",
        help="files (and archive members) larger than this are reported failed, not read "
        "(e.g. 512M, 4G; 0 = no limit; default 2G)",
    )
    release.add_argument(
        "--no-zip",
        dest="expand_zip",
        action="store_false",
        help="do not expand .zip inputs (by default each is expanded into a temporary folder "
        "and written under OUTPUT/<archive name without .zip>/)",
    )
    release.add_argument(
        "--max-archive-size",
        default="16G",
        metavar="SIZE",
        help="most bytes one .zip input may expand to (default 16G)",
    )
    release.add_argument("--pattern", default=None, help="only base names matching this glob")
    rep = p.add_argument_group("reports")
    rep.add_argument(
        "--report", default=None, help="JSON-lines report (default: OUTPUT.deid-report.jsonl)"
    )
    rep.add_argument("--no-report", action="store_true", help="write no report")
    rep.add_argument("--crosswalk", default=None, help="CSV of original vs new identifiers")
    rep.add_argument("--resume", action="store_true", help="continue from the report")
    rep.add_argument("--json", action="store_true", help="print the summary as JSON")
    ex = p.add_argument_group("execution")
    ex.add_argument(
        "-j", "--workers", type=int, default=None, help="worker processes (default: all cores)"
    )
    ex.add_argument("--scheduler", default=None, help="Dask scheduler address")
    ex.add_argument(
        "--chunksize",
        type=int,
        default=None,
        help="files sent to a worker process at a time (default: chosen from the batch size)",
    )
    bar = ex.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None)
    bar.add_argument("--no-progress", dest="progress", action="store_false")
    p.set_defaults(command_run=run)
    return p


def _load_ids(path: str | None) -> dict[str, Any]:
    from deid.runner.sources import RunnerError

    if path is None:
        return {}
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, json.JSONDecodeError) as exc:
        raise RunnerError(f"--ids {path}: {exc}") from exc
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise RunnerError(f"--ids {path}: expected a JSON object {{input path: {{name: value}}}}")
    return data


def run(args: argparse.Namespace) -> int:
    """Run the batch; returns the exit status."""
    from deid.runner.api import default_report_path
    from deid.runner.api import run as run_batch
    from deid.runner.sources import RunnerError

    output = args.output or getattr(args, "outfolder", None)
    if not output:
        raise RunnerError("deid run: an output folder is required (-o/--output)")
    existing = args.existing or ("overwrite" if getattr(args, "overwrite", False) else "error")
    report = None if args.no_report else (args.report or default_report_path(output))
    quiet = getattr(args, "quiet", False)
    if not args.pixels or args.accept_burned_in:
        from deid.runner.api import _claims_clean_pixels

        if _claims_clean_pixels(args.options or ()):
            flag = "--no-pixels" if not args.pixels else "--accept-burned-in"
            raise RunnerError(
                f"--option clean-pixel-data cannot be combined with {flag}: the output would "
                "claim a pixel cleaning that did not happen"
            )
    plan = plan_from_args(args)

    def on_record(rec: dict[str, Any]) -> None:
        if rec["status"] in ("rejected", "failed") and not quiet:
            warn(f"{rec['status']}: {rec['input']}: {rec['reason']}")

    summary = run_batch(
        args.inputs,
        output,
        plan=plan,
        key=args.key,
        key_file=args.key_file,
        variables=_load_ids(args.ids),
        conditions=args.conditions,
        series_aggregate=args.series_aggregate,
        existing=existing,
        quarantine=args.quarantine,
        report=report,
        crosswalk=args.crosswalk,
        resume=args.resume,
        workers=args.workers,
        scheduler=args.scheduler,
        pattern=args.pattern,
        options=list(args.options or ()),
        pixels=args.pixels,
        pixel_recipe=args.pixel_recipe or (args.recipes or None),
        accept_burned_in=args.accept_burned_in,
        reject_blacklist=args.reject_blacklist,
        suspect_modalities=args.suspect_modalities,
        suspect_image_types=args.suspect_image_types,
        force=args.force,
        progress=False if quiet else args.progress,
        on_record=on_record,
        max_file_size=args.max_file_size,
        expand_zip=args.expand_zip,
        max_archive_size=args.max_archive_size,
        chunksize=args.chunksize,
    )
    if args.json:
        emit(summary.as_dict(), True)
    else:
        emit(summary.text(), False)
        if report and not quiet:
            warn(f"report: {report}")
    sys.stdout.flush()
    return summary.exit_code
