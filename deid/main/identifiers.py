"""Upstream's ``deid identifiers`` entry: ``main(args, parser)``.

Examples
--------
>>> import argparse
>>> callable(main)
True
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["main"]


def main(args: Any, parser: argparse.ArgumentParser | None = None) -> int:
    """Run ``deid identifiers`` with an upstream-style namespace (``action``, ``deid``,
    ``ids``, ``input``, ``outfolder``, ``overwrite``); returns the exit status."""
    from deid.cli import identifiers
    from deid.main._compat import complete_args

    ns = complete_args(args, "identifiers", [])
    if getattr(args, "input", None) and not getattr(args, "legacy_input", None):
        ns.legacy_input = args.input
    deid_recipe = getattr(args, "deid", None)
    if deid_recipe and not ns.recipes:
        ns.recipes = [deid_recipe]
    if ns.action is None:
        ns.action = "get"
    return identifiers.run(ns)
