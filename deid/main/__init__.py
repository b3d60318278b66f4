"""Upstream's CLI module, kept for code that imports ``deid.main``.

``deid.main.main()`` runs the ``deid`` command (:mod:`deid.cli.main`), which accepts upstream's
global flags and its ``identifiers`` / ``inspect`` invocations. ``get_parser()`` returns the
same parser.

Examples
--------
>>> get_parser().parse_args(["inspect", "folder"]).command
'inspect'
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from deid.cli.main import get_parser

__all__ = ["get_parser", "main"]


def main(argv: Sequence[str] | None = None) -> None:
    """Run the ``deid`` command; exits with the status when it is not 0.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default ``sys.argv[1:]``).
    """
    from deid.cli.main import main as cli_main

    code = cli_main(argv)
    if code:
        sys.exit(code)
