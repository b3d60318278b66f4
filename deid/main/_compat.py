"""Fill an upstream-style argparse namespace with this parser's defaults for a subcommand."""

from __future__ import annotations

import argparse
from typing import Any


def complete_args(args: Any, command: str, required: list[str]) -> argparse.Namespace:
    """Return a namespace with every option of ``command``, taking values from ``args``.

    Examples
    --------
    >>> ns = complete_args(argparse.Namespace(folder=["x"]), "inspect", ["x"])
    >>> ns.inputs, ns.save
    (['x'], False)
    """
    from deid.cli.main import get_parser

    base = get_parser().parse_args([command, *required])
    for key, value in vars(args).items():
        setattr(base, key, value)
    return base
