"""The command line every generator in tools/ shares: write its output, or ``--check`` it.

A generator provides ``build() -> str``; :func:`write_or_check` parses ``--check`` and
``--output``, then either writes the text or compares it with the file on disk (exit status 1 and
a message naming the tool to run when they differ). It is imported by the scripts next to it.

Examples
--------
>>> import contextlib, io, tempfile
>>> from pathlib import Path
>>> out = Path(tempfile.mkdtemp()) / "page.md"
>>> write_or_check(["--output", str(out)], "demo", lambda: "x", out, "t")  # doctest: +ELLIPSIS
wrote .../page.md
0
>>> with contextlib.redirect_stdout(io.StringIO()) as said:
...     status = write_or_check(["--check"], "demo", lambda: "x", out, "t")
>>> status, said.getvalue().strip().endswith("page.md is up to date")
(0, True)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path


def write_or_check(
    argv: Sequence[str] | None,
    description: str,
    build: Callable[[], str],
    default: Path,
    tool: str,
) -> int:
    """Run a generator's command line; return the exit status.

    Parameters
    ----------
    argv : sequence of str or None
        The arguments (None: ``sys.argv[1:]``).
    description : str
        The ``--help`` description (the generator's first docstring line).
    build : callable
        Returns the generated text.
    default : Path
        Where the output lives (``--output`` overrides it).
    tool : str
        The generator's path, named in the "out of date" message.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true", help="verify the committed output")
    parser.add_argument(
        "--output", type=Path, default=default, help="where to write (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    text = build()
    output: Path = args.output
    if args.check:
        current = output.read_text(encoding="utf-8") if output.exists() else None
        if current != text:
            print(f"{output} is out of date; run {tool}", file=sys.stderr)
            return 1
        print(f"{output} is up to date")
        return 0
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    print(f"wrote {output}")
    return 0
