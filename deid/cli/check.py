"""``deid check``: lint recipe files; print every diagnostic; exit 2 when there are errors."""

from __future__ import annotations

import argparse
from typing import Any

from deid.cli._common import emit

__all__ = ["add_parser", "check_recipe", "run"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``deid check``."""
    p = subparsers.add_parser("check", help="lint recipes and print diagnostics")
    p.add_argument("recipes", nargs="*", metavar="RECIPE", help="recipe files or shipped tags")
    p.add_argument("-p", "--profile", default=None, help="also check a profile name")
    p.add_argument("--option", dest="options", action="append", default=[])
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")
    p.add_argument("--json", action="store_true", help="print diagnostics as JSON")
    p.set_defaults(command_run=run)
    return p


def _read_source(name: str) -> tuple[str, str]:
    import os

    if os.path.exists(name):
        with open(name, encoding="utf-8") as fh:
            return name, fh.read()
    from importlib.resources import files

    base = files("deid._recipes")
    for candidate in (name, f"deid.{name}", f"deid.dicom.{name}"):
        res = base.joinpath(candidate)
        if res.is_file():
            return candidate, res.read_text(encoding="utf-8")
    from deid.runner.sources import RunnerError

    raise RunnerError(f"recipe {name!r}: no such file or shipped recipe")


def check_recipe(name: str) -> tuple[list[Any], str]:
    """Parse one recipe and return (diagnostics, source text).

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "r.dicom")
    >>> _ = open(p, "w").write("FORMAT dicom\\n%header\\nREMOVE PatientName\\n")
    >>> check_recipe(p)[0]
    []
    """
    from deid.recipe import parse_recipe_with_diagnostics

    display, text = _read_source(name)
    _recipe, diagnostics = parse_recipe_with_diagnostics(text, name=display)
    return list(diagnostics), text


def run(args: argparse.Namespace) -> int:
    """Check the recipes (and profile); returns 0, or 2 when any error was found."""
    from deid.diagnostics import render_all

    if not args.recipes and not args.profile:
        from deid.runner.sources import RunnerError

        raise RunnerError("deid check: give at least one recipe or --profile")
    errors = 0
    rendered: list[str] = []
    found: list[dict[str, Any]] = []
    for name in args.recipes:
        diagnostics, text = check_recipe(name)
        for d in diagnostics:
            if d.severity == "error" or args.strict:
                errors += 1
            found.append(
                {
                    "file": d.span.file,
                    "line": d.span.line,
                    "col": d.span.col,
                    "severity": d.severity,
                    "code": d.code,
                    "message": d.message,
                    "hint": d.hint,
                }
            )
        if diagnostics:
            rendered.append(render_all(diagnostics, {diagnostics[0].span.file: text}))
    if args.profile:
        from deid.profiles import profile_recipe

        profile_recipe(args.profile, tuple(args.options))  # raises ProfileError
    if args.json:
        emit({"errors": errors, "diagnostics": found}, True)
    else:
        for block in rendered:
            emit(block, False)
        checked = len(args.recipes) + (1 if args.profile else 0)
        emit(f"{checked} checked, {errors} error(s), {len(found) - errors} warning(s)", False)
    return 2 if errors else 0
