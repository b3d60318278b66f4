"""Helpers shared by the ``deid`` subcommands: recipe/profile arguments and output."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

__all__ = ["add_plan_arguments", "emit", "open_output", "plan_from_args", "warn"]


def add_plan_arguments(parser: argparse.ArgumentParser, required: bool = False) -> None:
    """Add ``--recipe``/``--deid``, ``--profile`` and ``--option`` to a subcommand."""
    group = parser.add_argument_group("what to apply")
    group.add_argument(
        "-r",
        "--recipe",
        "--deid",
        dest="recipes",
        action="append",
        default=[],
        metavar="RECIPE",
        help="recipe file or shipped recipe tag (repeatable; stacked in order)",
    )
    group.add_argument("-p", "--profile", default=None, help="PS3.15 profile, e.g. basic")
    group.add_argument(
        "--option",
        dest="options",
        action="append",
        default=[],
        metavar="OPTION",
        help="profile option, e.g. retain-uids (repeatable)",
    )


def plan_from_args(args: argparse.Namespace) -> Any:
    """Compile the plan named by ``--recipe`` / ``--profile`` / ``--option``."""
    from deid.runner.api import build_plan

    recipes = list(getattr(args, "recipes", []) or [])
    return build_plan(recipes or None, getattr(args, "profile", None), getattr(args, "options", []))


def emit(data: Any, as_json: bool, stream: TextIO | None = None) -> None:
    """Print a result to stdout, as JSON or as text lines."""
    out = stream or sys.stdout
    if as_json:
        out.write(json.dumps(data, indent=2, default=str) + "\n")
    elif isinstance(data, str):
        out.write(data + ("" if data.endswith("\n") else "\n"))
    else:
        for line in data:
            out.write(f"{line}\n")


def warn(message: str) -> None:
    """Print a diagnostic to stderr."""
    sys.stderr.write(message.rstrip("\n") + "\n")


def open_output(path: str | None) -> TextIO:
    """Open ``path`` for writing, or return stdout for None / ``-``."""
    if path in (None, "-"):
        return sys.stdout
    return open(path, "w", encoding="utf-8", newline="")
