"""Diagnostics: a problem found in a recipe, with a code, a span and an optional hint.

Rendered as::

    site.dicom:12:1: error[E102]: unknown action 'REPLCE'
       12 | REPLCE PatientName foo
          | ^^^^^^
    help: did you mean 'REPLACE'?

Examples
--------
>>> from deid.recipe.ast import Span
>>> d = Diagnostic("E102", "error", "unknown action 'REPLCE'", Span("r.dicom", 1, 1, 1, 7),
...                hint="did you mean 'REPLACE'?")
>>> print(d.render("REPLCE PatientName foo\\n"))
r.dicom:1:1: error[E102]: unknown action 'REPLCE'
    1 | REPLCE PatientName foo
      | ^^^^^^
help: did you mean 'REPLACE'?
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from deid.recipe.ast import Span

__all__ = ["Diagnostic", "render_all", "suggest"]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem in a recipe.

    Attributes
    ----------
    code : str
        Stable code, ``E1xx`` for errors and ``W1xx`` for warnings (catalogue in docs).
    severity : str
        ``"error"`` or ``"warning"``.
    message : str
        One-line description.
    span : Span
        Where the problem is.
    hint : str or None
        A suggestion (``did you mean 'REPLACE'?``).
    """

    code: str
    severity: str
    message: str
    span: Span
    hint: str | None = None

    def header(self) -> str:
        """Return the first line: ``file:line:col: severity[CODE]: message``."""
        span = self.span
        return f"{span.file}:{span.line}:{span.col}: {self.severity}[{self.code}]: {self.message}"

    def render(self, source: str | None = None) -> str:
        """Render the diagnostic with the source line and a caret when ``source`` is given."""
        out = [self.header()]
        if source is not None and self.span.line > 0:
            # lines as the parser counts them: only "\n" ends a line ("\r\n" too); "\f", "\v",
            # "\x1c" or "\u2028" inside a line do not (str.splitlines would split there)
            lines = source.split("\n")
            if source.endswith("\n"):
                lines.pop()
            if self.span.line <= len(lines):
                text = lines[self.span.line - 1].removesuffix("\r").expandtabs(1)
                num = str(self.span.line)
                pad = " " * max(4, len(num) + 1)
                out.append(f"{num.rjust(len(pad))} | {text}")
                start = max(self.span.col, 1)
                if self.span.end_line == self.span.line and self.span.end_col > start:
                    width = self.span.end_col - start
                else:
                    width = max(len(text) - start + 1, 1)
                out.append(f"{' ' * len(pad)} | {' ' * (start - 1)}{'^' * width}")
        if self.hint:
            out.append(f"help: {self.hint}")
        return "\n".join(out)


def render_all(diagnostics: Iterable[Diagnostic], sources: dict[str, str] | None = None) -> str:
    """Render several diagnostics, each with its source line where the source is known."""
    sources = sources or {}
    return "\n".join(d.render(sources.get(d.span.file)) for d in diagnostics)


def suggest(word: str, candidates: Sequence[str], cutoff: float = 0.75) -> str | None:
    """Return the closest candidate to ``word`` (case-insensitive), or None.

    Examples
    --------
    >>> suggest("REPLCE", ["ADD", "REPLACE", "REMOVE"])
    'REPLACE'
    >>> suggest("zzz", ["ADD"]) is None
    True
    """
    lowered = {c.lower(): c for c in candidates}
    match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=cutoff)
    return lowered[match[0]] if match else None
