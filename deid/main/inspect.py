"""Upstream's ``deid inspect`` entry: ``main(args, parser)``.

Examples
--------
>>> callable(main)
True
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["main"]


def main(args: Any, parser: argparse.ArgumentParser | None = None) -> int:
    """Run ``deid inspect`` with an upstream-style namespace (``folder``, ``deid``, ``pattern``,
    ``save``); returns the exit status."""
    from deid.cli import inspect
    from deid.main._compat import complete_args

    folders = list(getattr(args, "folder", None) or getattr(args, "inputs", None) or [])
    ns = complete_args(args, "inspect", folders or ["."])
    ns.inputs = folders or ns.inputs
    if getattr(args, "deid", None):
        ns.recipe = args.deid
    return inspect.run(ns)
