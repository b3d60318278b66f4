"""The ``deid`` command: argparse front end dispatching to one module per subcommand.

Exit status: 0 all done; 1 some files rejected or failed; 2 usage, recipe or profile error
(nothing processed). Results go to stdout, diagnostics and progress to stderr.

Upstream's global flags (``--quiet``, ``--debug``, ``--version``, ``--outfolder``, ``--format``,
``--overwrite``, given before the subcommand) are accepted, so ``deid -o out identifiers
--action all`` and ``deid inspect FOLDER`` work as they did.

Examples
--------
>>> main(["version", "--json"]) == 0  # doctest: +ELLIPSIS
{...
True
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

__all__ = ["SUBCOMMANDS", "get_parser", "main"]

#: Subcommand modules under ``deid.cli`` (``verify`` is wired in when present).
SUBCOMMANDS: tuple[str, ...] = (
    "run",
    "check",
    "explain",
    "identifiers",
    "inspect",
    "profiles",
    "version",
    "verify",
)


def get_parser() -> argparse.ArgumentParser:
    """Build the ``deid`` argument parser with every available subcommand.

    Examples
    --------
    >>> p = get_parser()
    >>> p.parse_args(["version"]).command
    'version'
    """
    import deid

    parser = argparse.ArgumentParser(
        prog="deid",
        description="Recipe-driven DICOM de-identification.",
    )
    parser.add_argument("--version", action="version", version=f"deid {deid.__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="only print results")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    parser.add_argument("-o", "--outfolder", default=None, help="output folder (upstream flag)")
    parser.add_argument(
        "-f",
        "--format",
        dest="recipe_format",
        choices=("dicom",),
        default="dicom",
        help="input format (upstream flag; only dicom)",
    )
    parser.add_argument("--overwrite", action="store_true", help="overwrite existing outputs")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"deid.cli.{name}")
        except ImportError:
            if name != "verify":
                raise
            continue  # verify not installed yet
        sub = module.add_parser(subparsers)
        sub.set_defaults(command_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``deid`` command and return its exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0, 1 or 2 (see the module docstring).
    """
    from deid.errors import DeidError

    parser = get_parser()
    try:
        args = parser.parse_args(None if argv is None else list(argv))
    except SystemExit as exc:  # argparse: --help/--version (0) or a usage error (2)
        return int(exc.code or 0) if isinstance(exc.code, int) else 2
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.command_run(args))
    except DeidError as exc:
        if args.debug:
            raise
        sys.stderr.write(f"deid {args.command}: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("deid: interrupted\n")
        return 130
    except BrokenPipeError:  # e.g. `deid identifiers ... | head`
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
