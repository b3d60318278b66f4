"""``deid profiles``: list the PS3.15 profiles, their options and the table edition."""

from __future__ import annotations

import argparse
from typing import Any

from deid.cli._common import emit

__all__ = ["add_parser", "describe_profiles", "run"]


def _call(module: Any, name: str, default: Any) -> Any:
    func = getattr(module, name, None)
    return func() if callable(func) else default


def describe_profiles() -> dict[str, Any]:
    """Return profiles, options and table editions known to :mod:`deid.profiles`.

    Examples
    --------
    >>> "editions" in describe_profiles()
    True
    """
    from deid import profiles

    info: dict[str, Any] = {
        "profiles": list(_call(profiles, "available_profiles", [])),
        "options": list(_call(profiles, "available_options", [])),
    }
    try:
        from deid.profiles import table

        info["edition"] = getattr(table, "DEFAULT_EDITION", None)
        info["editions"] = list(_call(table, "available_editions", []))
    except ImportError:
        info["edition"] = None
        info["editions"] = []
    return info


def _name(item: Any) -> str:
    if isinstance(item, str):
        return item
    for attr in ("name", "keyword", "key"):
        if hasattr(item, attr):
            return str(getattr(item, attr))
    return str(item)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``deid profiles``."""
    p = subparsers.add_parser("profiles", help="list profiles, options and the table edition")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(command_run=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Print the profiles; returns 0."""
    info = describe_profiles()
    if args.json:
        emit(
            {
                "profiles": [_name(p) for p in info["profiles"]],
                "options": [_name(o) for o in info["options"]],
                "edition": info["edition"],
                "editions": info["editions"],
            },
            True,
        )
        return 0
    lines = [f"table edition: {info['edition']} (available: {', '.join(info['editions'])})"]
    lines.append("profiles:")
    lines += [f"  {_name(p)}" for p in info["profiles"]]
    lines.append("options:")
    lines += [f"  {_name(o)}" for o in info["options"]]
    emit(lines, False)
    return 0
