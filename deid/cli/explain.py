"""``deid explain``: what the plan will do to each attribute and why.

Without a file, every rule of the compiled recipe/profile is listed with where it comes from
(recipe file and line, or the PS3.15 table row). With a file, the plan is applied to an
in-memory copy (the file is not modified) and each change is shown with the rule that made it.
"""

from __future__ import annotations

import argparse
from typing import Any

from deid.cli._common import add_plan_arguments, emit

__all__ = ["add_parser", "explain_file", "explain_rules", "run"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``deid explain``."""
    p = subparsers.add_parser("explain", help="show what the plan does to each attribute, and why")
    p.add_argument("file", nargs="?", default=None, help="a DICOM file to explain the plan on")
    add_plan_arguments(p)
    p.add_argument("--key", default=None, help="secret key for keyed pseudonyms")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(command_run=run)
    return p


def _recipes(args: argparse.Namespace) -> list[Any]:
    from deid.recipe import load_recipe

    parts = []
    if args.profile:
        from deid.profiles import profile_recipe

        parts.append(profile_recipe(args.profile, tuple(args.options)))
    parts += [load_recipe(r) for r in args.recipes]
    return parts


def explain_rules(recipes: list[Any]) -> list[dict[str, Any]]:
    """List the header rules of parsed recipes in application order.

    Examples
    --------
    >>> from deid.recipe import parse_recipe
    >>> r = parse_recipe("FORMAT dicom\\n%header\\nREMOVE PatientName\\n", name="r.dicom")
    >>> explain_rules([r])[0]["where"]
    'r.dicom:3'
    """
    rows = []
    for recipe in recipes:
        for action in recipe.header:
            rows.append(
                {
                    "where": f"{action.span.file}:{action.span.line}",
                    "action": action.action,
                    "field": action.field.text,
                    "value": None if action.value is None else action.value.text,
                }
            )
    return rows


def explain_file(path: str, plan: Any, key: Any = None) -> list[dict[str, Any]]:
    """Apply ``plan`` to an in-memory copy of ``path`` and list the changes.

    Returns
    -------
    list of dict
        ``{"path", "tag", "keyword", "action", "rule", "detail"}`` per change.
    """
    from deid.engine import Context
    from deid.runner.job import read_dataset

    ds = read_dataset(path)
    changes = plan.apply(ds, Context(key=key, filename=path))
    rows = []
    for c in changes:
        tag = f"({c.tag >> 16:04X},{c.tag & 0xFFFF:04X})"
        rows.append(
            {
                "path": c.path,
                "tag": tag,
                "keyword": c.keyword,
                "action": c.action,
                "rule": None if c.rule is None else str(c.rule),
                "detail": c.detail,
            }
        )
    return rows


def run(args: argparse.Namespace) -> int:
    """Print the explanation; returns 0 (2 on a recipe/profile error, raised)."""
    from deid.cli._common import plan_from_args

    if not args.recipes and not args.profile:
        from deid.runner.sources import RunnerError

        raise RunnerError("deid explain: give --recipe and/or --profile")
    plan = plan_from_args(args)
    if args.file is None and args.profile and not args.json:
        from deid.profiles import explain
        from deid.recipe import load_recipe

        site = [load_recipe(r) for r in args.recipes]
        emit(explain(args.profile, tuple(args.options), recipes=site or None), False)
        return 0
    if args.file is None:
        rows = explain_rules(_recipes(args))
        if args.json:
            emit(rows, True)
        else:
            emit(
                [
                    f"{r['where']}: {r['action']} {r['field']}"
                    + (f" {r['value']}" if r["value"] else "")
                    for r in rows
                ],
                False,
            )
        return 0
    rows = explain_file(args.file, plan, args.key)
    if args.json:
        emit(rows, True)
    else:
        emit(
            [
                f"{r['path']} {r['keyword'] or '-'}: {r['action']}"
                + (f" by {r['rule']}" if r["rule"] else "")
                + (f" [{r['detail']}]" if r["detail"] else "")
                for r in rows
            ],
            False,
        )
    return 0
