"""Shape only: turn Lark parse trees into line nodes, field expressions and values.

Nothing here raises: a part that cannot be shaped is returned with a ``problem`` text that
:mod:`deid.recipe.parser` turns into a diagnostic. Meaning (is ``PatientNam`` a keyword? is the
regex valid? is the group defined?) is decided by :mod:`deid.recipe.checks`.

Examples
--------
>>> upstream_value('"John  Doe" x # comment')
'"John  Doe" x '
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from lark import Token, Transformer

from deid.recipe.ast import FieldExpr, Span, Value

__all__ = [
    "CURRENT_FILE",
    "FieldTransformer",
    "LineNode",
    "RecipeTransformer",
    "ValueTransformer",
    "split_criterion",
    "token_span",
    "upstream_tokens",
    "upstream_value",
]

# upstream's tokenizer: whitespace-separated, quoted runs kept whole (quotes retained)
_TOKEN_RE = re.compile(r"""(?:[^\s"']+|"[^"]*"|'[^']*'|["'])+""")


def upstream_tokens(text: str) -> list[str]:
    """Split ``text`` into tokens the way upstream does (quoted runs stay whole).

    Examples
    --------
    >>> upstream_tokens('a "b c"d  e')
    ['a', '"b c"d', 'e']
    """
    return _TOKEN_RE.findall(text)


def upstream_value(rest: str) -> str:
    """Return the value string upstream stores for the rest of an action line.

    Tokens are joined by one space, then the text is cut at the first ``#``.

    Examples
    --------
    >>> upstream_value("John # c")
    'John '
    >>> upstream_value("a   b")
    'a b'
    """
    joined = " ".join(upstream_tokens(rest))
    cut = joined.find("#")
    return joined if cut < 0 else joined[:cut]


def token_span(file: str, tok: Token, start: int = 0, length: int | None = None) -> Span:
    """Span of a token (or of ``tok[start:start+length]`` on the same line)."""
    line = tok.line or 0
    col = (tok.column or 0) + start
    n = len(tok) - start if length is None else length
    return Span(file, line, col, line, col + max(n, 0))


@dataclass
class LineNode:
    """One recipe line, shaped but not interpreted.

    ``kind`` is ``format``, ``section``, ``action``, ``group``, ``label``, ``coord``,
    ``criteria`` or ``unknown``. ``head`` is the first token; ``field`` the field token;
    ``rest`` the raw remainder (comments included); ``criteria`` holds
    ``(operator_token, filter_token, field_token, value_token)`` tuples for criteria lines.
    """

    kind: str
    span: Span
    head: Token
    field: Token | None = None
    rest: Token | None = None
    criteria: tuple[tuple[Token | None, Token, Token | None, Token | None], ...] = ()


#: Display name of the source being parsed by the inline (tree-less) transformer.
CURRENT_FILE: ContextVar[str] = ContextVar("deid_recipe_file", default="<string>")


class RecipeTransformer(Transformer[Token, Any]):
    """Shape a ``recipe`` tree into a list of :class:`LineNode`.

    With ``file=None`` the display name is read from :data:`CURRENT_FILE` at each line, which
    lets one instance run inline inside the LALR parser (no parse tree is built).
    """

    def __init__(self, file: str | None = None) -> None:
        super().__init__()
        self._file = file

    @property
    def file(self) -> str:
        return self._file if self._file is not None else CURRENT_FILE.get()

    def _make(self, kind: str, children: list[Any]) -> LineNode:
        head = _stripped(children[0])
        rest = [c for c in children[1:] if isinstance(c, Token)]
        last = rest[-1] if rest else head
        span = Span(
            self.file,
            head.line or 0,
            head.column or 0,
            last.end_line or head.line or 0,
            last.end_column or head.column or 0,
        )
        return LineNode(kind, span, head)

    def recipe(self, children: list[Any]) -> list[LineNode]:
        return [c for c in children if isinstance(c, LineNode)]

    def format_line(self, c: list[Any]) -> LineNode:
        node = self._make("format", c)
        node.rest = c[1] if len(c) > 1 else None
        return node

    def section_line(self, c: list[Any]) -> LineNode:
        node = self._make("section", c)
        node.rest = c[1] if len(c) > 1 else None
        return node

    def action_line(self, c: list[Any]) -> LineNode:
        node = self._make("action", c)
        node.field, node.rest = _pad(c, 3)[1:]
        return node

    def group_line(self, c: list[Any]) -> LineNode:
        node = self._make("group", c)
        node.field, node.rest = _pad(c, 3)[1:]
        return node

    def label_line(self, c: list[Any]) -> LineNode:
        node = self._make("label", c)
        node.rest = c[1]
        return node

    def coord_line(self, c: list[Any]) -> LineNode:
        node = self._make("coord", c)
        node.rest = c[1]
        return node

    def unknown_line(self, c: list[Any]) -> LineNode:
        node = self._make("unknown", c)
        node.rest = c[1]
        return node

    def criteria_line(self, c: list[Any]) -> LineNode:
        items = tuple(split_criterion(tok) for tok in c)
        first, last = c[0], c[-1]
        span = Span(
            self.file, first.line or 0, first.column or 0, last.end_line or 0, last.end_column or 0
        )
        return LineNode("criteria", span, items[0][1], criteria=items)


_CRITERION_RE = re.compile(
    r"(?:(\|\||\+)[ \t]*)?(\S+)(?:[ \t]+([^\s|+#]+)(?:[ \t]+(.*))?)?", re.DOTALL
)


def _sub(tok: Token, type_: str, text: str, offset: int) -> Token:
    col = (tok.column or 0) + offset
    pos = (tok.start_pos or 0) + offset
    return Token(type_, text, pos, tok.line, col, tok.line, col + len(text), pos + len(text))


def split_criterion(tok: Token) -> tuple[Token | None, Token, Token | None, Token | None]:
    """Split a CRITERION token into operator, filter, field and value tokens.

    Absent parts are None; the value is right-stripped.

    Examples
    --------
    >>> op, f, fld, val = split_criterion(Token("CRITERION", "+ contains Modality CT ", 0, 1, 1))
    >>> str(op), str(f), str(fld), str(val), val.column
    ('+', 'contains', 'Modality', 'CT', 21)
    """
    m = _CRITERION_RE.fullmatch(str(tok))
    if m is None:  # not reachable through the grammar; keep the transformer total
        return None, tok, None, None
    op = None if m.group(1) is None else _sub(tok, "OP", m.group(1), 0)
    filt = _sub(tok, "FILTER_KW", m.group(2), m.start(2))
    field = value = None
    if m.group(3) is not None:
        field = _sub(tok, "CFIELD", m.group(3), m.start(3))
    if m.group(4) is not None and m.group(4).rstrip():
        value = _sub(tok, "CVALUE", m.group(4).rstrip(), m.start(4))
    return op, filt, field, value


def _stripped(tok: Token) -> Token:
    """The token without the blanks a line keyword takes along."""
    text = tok.rstrip()
    if len(text) == len(tok):
        return tok
    return _sub(tok, tok.type, text, 0)


def _pad(c: list[Any], n: int) -> list[Any]:
    return list(c) + [None] * (n - len(c))


def _hex(text: str) -> int:
    return int(text, 16)


class FieldTransformer(Transformer[Token, FieldExpr]):
    """Shape a ``field_expr`` tree into a :class:`FieldExpr` (span given by the caller)."""

    def __init__(self, text: str, span: Span) -> None:
        super().__init__()
        self.text = text
        self.span = span

    def _fe(self, kind: str, **kw: Any) -> FieldExpr:
        return FieldExpr(kind=kind, text=self.text, span=self.span, **kw)

    def fe_all(self, c: list[Token]) -> FieldExpr:
        return self._fe("all")

    def fe_groupref(self, c: list[Token]) -> FieldExpr:
        kind, _, name = str(c[0]).partition(":")
        return self._fe(kind, arg=name)

    def fe_select(self, c: list[Token]) -> FieldExpr:
        rest = str(c[0])[len("select:") :]
        what, _, arg = rest.partition(":")
        if what.lower() == "vr":
            return self._fe("select_vr", arg=arg.upper()[:2] if arg else arg)
        if what.lower() == "group":
            try:
                return self._fe("select_group", arg=arg, group=_hex(arg))
            except ValueError:
                return self._fe("select_group", arg=arg)
        return self._fe("select_" + what.lower(), arg=arg)

    def fe_expander(self, c: list[Token | None]) -> FieldExpr:
        kind = str(c[0])[:-1]
        return self._fe(kind, arg=str(c[1]) if len(c) > 1 and c[1] is not None else "")

    def fe_tag(self, c: list[Token]) -> FieldExpr:
        digits = re.sub(r"[^0-9A-Fa-f]", "", str(c[0]))
        return self._fe("tag", tag=_hex(digits), group=_hex(digits[:4]))

    def fe_mask(self, c: list[Token]) -> FieldExpr:
        digits = re.sub(r"[(),]", "", str(c[0]))
        value = int("".join("0" if d in "xX" else d for d in digits), 16)
        mask = int("".join("0" if d in "xX" else "F" for d in digits), 16)
        return self._fe("tag_mask", tag=value, mask=mask)

    def fe_private(self, c: list[Token]) -> FieldExpr:
        text = str(c[0])
        m = re.fullmatch(
            r"(\(?)([0-9A-Fa-f]{4}),([\"'])(.*)\3,([0-9A-Fa-f]{2})(\)?)", text, re.DOTALL
        )
        if m is None or (m.group(1) == "") != (m.group(6) == ""):
            return self._fe("invalid", arg="unbalanced parentheses in a private tag")
        return self._fe(
            "private", group=_hex(m.group(2)), creator=m.group(4), offset=_hex(m.group(5))
        )

    def fe_nested_uid(self, c: list[Token]) -> FieldExpr:
        return self._fe("nested", arg=self.text)

    def fe_nested_name(self, c: list[Token]) -> FieldExpr:
        return self._fe("nested", arg=self.text)

    def fe_keyword(self, c: list[Token]) -> FieldExpr:
        if re.fullmatch(r"0[xX][0-9A-Fa-f]+", self.text):
            return self._fe(
                "invalid",
                arg=f"'{self.text}' is not a field expression (0x tags are "
                "only for filter criteria)",
            )
        return self._fe("keyword", arg=str(c[0]))

    def fe_unknown(self, c: list[Token]) -> FieldExpr:
        return self._fe("invalid", arg=f"'{self.text}' is not a field expression")


class ValueTransformer(Transformer[Token, Value]):
    """Shape a ``value`` tree into a :class:`Value` (text and span given by the caller)."""

    def __init__(self, text: str, span: Span) -> None:
        super().__init__()
        self.text = text
        self.span = span

    def v_var(self, c: list[Token]) -> Value:
        return Value("var", self.text, self.span, name=str(c[0])[4:].strip())

    def v_func(self, c: list[Token]) -> Value:
        return Value("func", self.text, self.span, name=str(c[0])[5:].strip())

    def v_deid_func(self, c: list[Token]) -> Value:
        args = []
        for tok in c[1:]:
            key, eq, val = str(tok).partition("=")
            args.append((key, val) if eq else (key, "\x00"))
        return Value("deid_func", self.text, self.span, name=str(c[0])[10:], args=tuple(args))

    def v_literal(self, c: list[Token]) -> Value:
        return Value("literal", self.text, self.span)
