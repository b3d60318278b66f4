"""``deid verify INPUT OUTPUT``: show that nothing identifying survived de-identification.

Exit status: 0 when nothing leaked and nothing is wrong, 1 on any leak, lost file, broken
reference, missing marker or unreadable output, 2 on a usage error (missing path, bad recipe).

Examples
--------
>>> import argparse
>>> parser = argparse.ArgumentParser(prog="deid")
>>> sub = parser.add_subparsers(dest="command")
>>> _ = add_parser(sub)
>>> args = parser.parse_args(["verify", "in", "out", "--json", "--option", "retain-uids"])
>>> args.command, args.json, args.option
('verify', True, ['retain-uids'])
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["add_parser", "main", "run"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``verify`` subcommand to an argparse ``subparsers`` object and return it."""
    parser = subparsers.add_parser(
        "verify",
        help="check de-identified output for leaked identifying data",
        description=(
            "Pair each output file with its input (through a run report or crosswalk when "
            "present, else by content) and report every identifying value of the input still "
            "present in the output outside Pixel Data, original UIDs, broken references, "
            "missing de-identification markers and lost files. Exit 1 on any finding."
        ),
    )
    parser.add_argument("input", help="the original file or directory")
    parser.add_argument("output", help="the de-identified file or directory")
    parser.add_argument(
        "--recipe",
        action="append",
        default=[],
        metavar="FILE",
        help="recipe used: values of elements it changes are searched too (repeatable)",
    )
    parser.add_argument(
        "--profile",
        default=None,
        metavar="NAME",
        help="PS3.15 profile used (e.g. basic), evaluated the same way",
    )
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="NAME",
        help="PS3.15 option used (retain-uids, retain-long-full-dates, "
        "retain-device-identity, retain-institution-identity, "
        "retain-safe-private, clean-descriptors ...); repeatable",
    )
    parser.add_argument(
        "--report",
        default=None,
        metavar="FILE",
        help="run report (JSON lines) pairing inputs and outputs",
    )
    parser.add_argument(
        "--crosswalk",
        default=None,
        metavar="FILE",
        help="crosswalk CSV (input/output paths or old/new UIDs)",
    )
    parser.add_argument(
        "--no-markers",
        action="store_true",
        help="do not require PatientIdentityRemoved / DeidentificationMethod",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--json-out", default=None, metavar="FILE", help="also write the JSON report to FILE"
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also list ambiguous matches, refused and skipped inputs",
    )
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``deid verify`` with parsed arguments; return the exit status."""
    from deid.errors import DeidError
    from deid.verify import verify

    try:
        report = verify(
            args.input,
            args.output,
            recipes=args.recipe,
            profile=args.profile,
            options=args.option,
            report=args.report,
            crosswalk=args.crosswalk,
            require_markers=not args.no_markers,
        )
    except DeidError as exc:
        print(f"deid verify: error: {exc}", file=sys.stderr)
        return 2
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as fh:
            fh.write(report.to_json())
            fh.write("\n")
    if args.json:
        print(report.to_json())
    else:
        print(report.render(verbose=args.verbose))
    return report.exit_code


def main(argv: list[str] | None = None) -> int:
    """Run ``verify`` as a standalone command (``python -m deid.cli.verify IN OUT``)."""
    parser = argparse.ArgumentParser(prog="deid")
    sub = parser.add_subparsers(dest="command", required=True)
    add_parser(sub)
    args = parser.parse_args(["verify", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
