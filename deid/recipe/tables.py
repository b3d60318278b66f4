"""Prebuilt LALR tables for the recipe grammar: build, save, load and check them.

Building the Lark parser from ``grammar.lark`` (grammar loading, terminal composition, LALR
analysis, lexer set-up) costs tens of milliseconds, paid by every process that reads a recipe.
The tables depend only on the grammar and the Lark version, so they are generated once, at
development time, into ``deid/recipe/_lalr_tables.py`` (Lark's own serialised form, with the
SHA-256 of the grammar text and the Lark version it was made from) and loaded with
:meth:`lark.Lark.load` in a few milliseconds.

:func:`load_parser` only uses the saved tables when both stamps match the running grammar and
Lark; otherwise it builds the parser from ``grammar.lark`` (slower, same result). So an edited
grammar can never be parsed with stale tables.

Usage::

    python -m deid.recipe.tables           # regenerate deid/recipe/_lalr_tables.py
    python -m deid.recipe.tables --check   # exit 1 if the file is missing or stale

Examples
--------
>>> tables_are_current()
True
>>> load_parser().parse("PatientName", start="field_expr").data
'fe_keyword'
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import sys
import textwrap
from importlib import resources
from pathlib import Path
from typing import Any

import lark
from lark import Lark, Transformer

__all__ = [
    "LARK_OPTIONS",
    "build_parser",
    "grammar_sha256",
    "load_parser",
    "render_tables",
    "tables_are_current",
]

#: Options of the recipe parser (the same for built and loaded parsers).
LARK_OPTIONS: dict[str, Any] = {
    "parser": "lalr",
    "lexer": "contextual",
    "start": ["recipe", "line", "field_expr", "value"],
    "maybe_placeholders": True,
    "cache": False,
}

TABLES_FILE = Path(__file__).resolve().parent / "_lalr_tables.py"


def grammar_text() -> str:
    """The packaged grammar (``deid/recipe/grammar.lark``)."""
    return resources.files("deid.recipe").joinpath("grammar.lark").read_text(encoding="utf-8")


def grammar_sha256(text: str | None = None) -> str:
    """SHA-256 (hex) of the grammar text.

    Examples
    --------
    >>> len(grammar_sha256("recipe: x"))
    64
    """
    data = grammar_text() if text is None else text
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def build_parser(text: str | None = None, transformer: Transformer[Any, Any] | None = None) -> Lark:
    """Build the recipe parser from the grammar text (the slow way).

    ``transformer`` is applied inline by the LALR parser (no parse tree is built).

    Examples
    --------
    >>> build_parser().parse("missing", start="field_expr").data
    'fe_keyword'
    """
    return Lark(grammar_text() if text is None else text, transformer=transformer, **LARK_OPTIONS)


def render_tables(parser: Lark, sha256: str) -> str:
    """Python source of the tables module for ``parser`` (built from a grammar of ``sha256``)."""
    buf = io.BytesIO()
    parser.save(buf)
    encoded = base64.b64encode(buf.getvalue()).decode("ascii")
    body = "\n".join(f'    "{chunk}"' for chunk in textwrap.wrap(encoded, 92))
    return (
        '"""Serialised LALR tables of deid/recipe/grammar.lark (generated; do not edit).\n\n'
        "Made by ``python -m deid.recipe.tables`` (``--check`` verifies it). Lark's own\n"
        "serialised form (:meth:`lark.Lark.save`), base64-encoded, stamped with the grammar's\n"
        "SHA-256 and the Lark version: :func:`deid.recipe.tables.load_parser` uses it only when\n"
        'both match.\n"""\n\n'
        f'GRAMMAR_SHA256 = "{sha256}"\n'
        f'LARK_VERSION = "{lark.__version__}"\n'
        f"TABLES = (\n{body}\n)\n"
    )


def _stamps() -> tuple[str, str, str] | None:
    try:
        from deid.recipe import _lalr_tables as saved
    except ImportError:
        return None
    return saved.GRAMMAR_SHA256, saved.LARK_VERSION, saved.TABLES


def tables_are_current(text: str | None = None) -> bool:
    """True when the saved tables were made from this grammar text with this Lark version.

    Examples
    --------
    >>> tables_are_current("recipe: a_different_grammar")
    False
    """
    stamps = _stamps()
    return (
        stamps is not None and stamps[0] == grammar_sha256(text) and stamps[1] == lark.__version__
    )


def load_parser(transformer: Transformer[Any, Any] | None = None) -> Lark:
    """The recipe parser: loaded from the saved tables when current, else built.

    ``transformer`` is applied inline by the LALR parser (no parse tree is built).

    Examples
    --------
    >>> load_parser().options.parser
    'lalr'
    """
    text = grammar_text()
    stamps = _stamps()
    if stamps is not None and stamps[0] == grammar_sha256(text) and stamps[1] == lark.__version__:
        data = io.BytesIO(base64.b64decode(stamps[2]))
        if transformer is None:
            return Lark.load(data)
        # Lark.load takes no options; its loader accepts the run-time ones (transformer among
        # them). The Lark version is pinned by the stamp checked above.
        return Lark.__new__(Lark)._load(data, transformer=transformer)
    return build_parser(text, transformer)


def main(argv: list[str] | None = None) -> int:
    """Regenerate the tables module, or with ``--check`` report whether it is current."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if the tables are stale")
    args = ap.parse_args(argv)
    if args.check:
        if tables_are_current():
            print(f"{TABLES_FILE.name} is current (grammar {grammar_sha256()[:12]})")
            return 0
        print(
            f"{TABLES_FILE.name} is missing or stale: run python -m deid.recipe.tables",
            file=sys.stderr,
        )
        return 1
    text = grammar_text()
    TABLES_FILE.write_text(render_tables(build_parser(text), grammar_sha256(text)))
    print(f"wrote {TABLES_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
