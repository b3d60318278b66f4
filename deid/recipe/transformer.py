"""Shape only: turn Lark parse results into line nodes, field expressions and values.

Nothing here raises: a part that cannot be shaped is returned with a ``problem`` text that
:mod:`deid.recipe.parser` turns into a diagnostic. Meaning (is ``PatientNam`` a keyword? is the
regex valid? is the group defined?) is decided by :mod:`deid.recipe.checks`.

The ``recipe`` start symbol reads a run of lines of one kind as one token (see ``grammar.lark``);
:class:`RecipeTransformer` cuts each run into lines and each line into its parts with patterns
built from the grammar's own terminals (:func:`line_patterns`), so that both views of a line
(the run and the token-by-token ``line`` start symbol) give the same :class:`LineNode`.

Examples
--------
>>> upstream_value('"John  Doe" x # comment')
'"John  Doe" x '
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

from lark import Token, Transformer

from deid.recipe.ast import FieldExpr, Span, Value

__all__ = [
    "CURRENT_FILE",
    "FieldTransformer",
    "LineNode",
    "Piece",
    "RecipeTransformer",
    "ValueTransformer",
    "line_patterns",
    "piece_span",
    "split_criterion",
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


#: A part of a line: its text and its 1-based column (the line is the node's).
Piece = tuple[str, int]


def piece_span(
    file: str, line: int, piece: Piece, start: int = 0, length: int | None = None
) -> Span:
    """Span of a line part (or of ``text[start:start+length]`` of it).

    Examples
    --------
    >>> piece_span("r.dicom", 3, ("PatientName", 8))
    Span(file='r.dicom', line=3, col=8, end_line=3, end_col=19)
    """
    text, column = piece
    col = column + start
    n = len(text) - start if length is None else length
    return Span(file, line, col, line, col + max(n, 0))


class LineNode:
    """One recipe line, shaped but not interpreted.

    ``kind`` is ``format``, ``section``, ``action``, ``group``, ``label``, ``coord``,
    ``criteria`` or ``unknown``; ``line`` its 1-based number. ``head`` is the first word (line
    keywords without the blanks after them); ``field`` the field word; ``rest`` the raw
    remainder (comments included); each a :data:`Piece` or None. ``criteria`` holds
    ``(operator, filter, field, value)`` piece tuples for criteria lines (absent parts None,
    the value right-stripped).
    """

    __slots__ = ("kind", "line", "span", "head", "field", "rest", "criteria")

    def __init__(
        self,
        kind: str,
        line: int,
        span: Span,
        head: Piece,
        field: Piece | None = None,
        rest: Piece | None = None,
        criteria: tuple[tuple[Piece | None, Piece, Piece | None, Piece | None], ...] = (),
    ) -> None:
        self.kind = kind
        self.line = line
        self.span = span
        self.head = head
        self.field = field
        self.rest = rest
        self.criteria = criteria

    def __repr__(self) -> str:
        return (
            f"LineNode({self.kind!r}, {self.line}, head={self.head!r}, field={self.field!r}, "
            f"rest={self.rest!r}, criteria={self.criteria!r})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LineNode):
            return NotImplemented
        return all(getattr(self, k) == getattr(other, k) for k in self.__slots__)

    __hash__ = None  # type: ignore[assignment]


#: Display name of the source being parsed by the inline (tree-less) transformer.
CURRENT_FILE: ContextVar[str] = ContextVar("deid_recipe_file", default="<string>")


_FILTERS_RE = r"(?i:contains|notcontains|equals|notequals|missing|present|empty)"
# where one criterion of a (valid) criteria line ends and the next, with its operator, begins:
# the look-ahead CRITERION uses to end a value
_BOUNDARY_RE = re.compile(r"[ \t]*(?=(?:\|\||\+)[ \t]*" + _FILTERS_RE + r"(?:[ \t]|$))", re.M)
_CRITERION_RE = re.compile(
    r"(?:(\|\||\+)[ \t]*)?(\S+)(?:[ \t]+([^\s|+#]+)(?:[ \t]+(.*))?)?", re.DOTALL
)
# between two lines of a run: the end of a line, blank and comment-only lines, indentation
# (``_GAP`` in the grammar)
_GAP = r"[ \t\f]*(?:#[^\r\n]*)?\r?\n(?:[ \t\f]*(?:#[^\r\n]*)?\r?\n)*[ \t\f]*"


@lru_cache(maxsize=1)
def line_patterns() -> dict[str, re.Pattern[str]]:
    """Patterns that cut a run of lines (one token of the ``recipe`` start symbol) into lines.

    Built from the compiled grammar's terminals (``ACTION``, ``FIELD_TOKEN``, ``REST``, ...),
    composed as the grammar composes ``ACTION_LINE`` and friends, with named groups for the
    parts. Each pattern matches an optional gap, then one line (group ``body``).

    Examples
    --------
    >>> m = line_patterns()["action"].match("REMOVE  PatientName x # c")
    >>> m.group("head"), m.group("field"), m.group("rest")
    ('REMOVE  ', 'PatientName', 'x # c')
    """
    from deid.recipe.parser import get_parser

    lark = get_parser()

    def t(name: str) -> str:
        return "(?:" + lark.get_terminal(name).pattern.to_regexp() + ")"

    ws = t("WS")
    rest = rf"(?:{ws}?(?P<rest>{t('REST')}))?"
    with_field = rf"(?:{ws}?(?P<field>{t('FIELD_TOKEN')}){rest})?"
    bodies = {
        "format": rf"(?P<head>{t('FORMAT_KW')}){rest}",
        "section": rf"(?P<head>{t('SECTION')}){rest}",
        "action": rf"(?P<head>{t('ACTION')}){with_field}",
        "group": rf"(?P<head>{t('GROUP_KW')}){with_field}",
        "unknown": rf"(?P<head>{t('WORD')}){rest}",
        "filter": (
            rf"(?P<label>{t('LABEL_KW')})(?:{ws}?(?P<lrest>{t('REST')}))?"
            rf"|(?P<coord>{t('COORD_KW')})(?:{ws}?(?P<crest>{t('REST')}))?"
            rf"|(?P<crit>{t('CRITERION')}(?:{ws}?{t('CRITERION')})*)"
        ),
    }
    return {k: re.compile(rf"(?P<gap>{_GAP})?(?P<body>{v})") for k, v in bodies.items()}


def split_criteria(
    text: str, column: int
) -> tuple[tuple[Piece | None, Piece, Piece | None, Piece | None], ...]:
    """Cut the criteria of a criteria line (``text`` starting at ``column``) into parts.

    Each criterion gives ``(operator, filter, field, value)``; absent parts are None and the
    value is right-stripped.

    Examples
    --------
    >>> [tuple(p and p[0] for p in c) for c in split_criteria("contains A b || missing C", 3)]
    [(None, 'contains', 'A', 'b'), ('||', 'missing', 'C', None)]
    """
    out = []
    start = 0
    for m in _BOUNDARY_RE.finditer(text, 1):
        if m.end() > start:
            out.append(_criterion(text[start : m.start()], column + start))
            start = m.end()
    out.append(_criterion(text[start:], column + start))
    return tuple(out)


def _criterion(text: str, column: int) -> tuple[Piece | None, Piece, Piece | None, Piece | None]:
    m = _CRITERION_RE.fullmatch(text.rstrip())
    if m is None:  # not reachable through the grammar; keep the transformer total
        return None, (text, column), None, None
    op, filt, fld, val = m.groups()
    return (
        None if op is None else (op, column),
        (filt, column + m.start(2)),
        None if fld is None else (fld, column + m.start(3)),
        None if not val else (val, column + m.start(4)),
    )


def split_criterion(tok: Token) -> tuple[Token | None, Token, Token | None, Token | None]:
    """Split a CRITERION token into operator, filter, field and value tokens.

    Absent parts are None; the value is right-stripped.

    Examples
    --------
    >>> op, f, fld, val = split_criterion(Token("CRITERION", "+ contains Modality CT ", 0, 1, 1))
    >>> str(op), str(f), str(fld), str(val), val.column
    ('+', 'contains', 'Modality', 'CT', 21)
    """
    parts = _criterion(str(tok), tok.column or 0)
    return tuple(  # type: ignore[return-value]
        None if p is None else _sub(tok, name, p[0], p[1] - (tok.column or 0))
        for p, name in zip(parts, ("OP", "FILTER_KW", "CFIELD", "CVALUE"))
    )


def _sub(tok: Token, type_: str, text: str, offset: int) -> Token:
    col = (tok.column or 0) + offset
    pos = (tok.start_pos or 0) + offset
    return Token(type_, text, pos, tok.line, col, tok.line, col + len(text), pos + len(text))


def _piece(tok: Token | None) -> Piece | None:
    return None if tok is None else (str(tok), tok.column or 0)


def _head(tok: Token) -> Piece:
    """The first word, without the blanks a line keyword takes along."""
    return (tok.rstrip(), tok.column or 0)


class RecipeTransformer(Transformer[Token, Any]):
    """Shape a ``recipe`` (runs of lines) or ``line`` tree into a list of :class:`LineNode`.

    With ``file=None`` the display name is read from :data:`CURRENT_FILE` at each run, which
    lets one instance run inline inside the LALR parser (no parse tree is built).
    """

    def __init__(self, file: str | None = None) -> None:
        super().__init__()
        self._file = file

    @property
    def file(self) -> str:
        return self._file if self._file is not None else CURRENT_FILE.get()

    # -- runs (start symbol ``recipe``) ---------------------------------------------------------
    def recipe(self, children: list[Any]) -> list[LineNode]:
        if len(children) == 1:
            return children[0]  # type: ignore[no-any-return]
        return [node for run in children for node in run]

    def _split_run(self, kind: str, tok: Token) -> list[LineNode]:
        file = self.file
        text = str(tok)
        pattern = line_patterns()[kind]
        line = tok.line or 1
        first_col = tok.column or 1
        nodes: list[LineNode] = []
        append = nodes.append
        pos = 0
        for m in pattern.finditer(text):
            if m.start() != pos:  # not reachable for a token the grammar accepted
                break
            pos = m.end()
            b = m.start("body")
            if b:
                gap_start = m.start()
                line += text.count("\n", gap_start, b)
                col = b - text.rfind("\n", gap_start, b)
            else:
                col = first_col
            off = col - b
            if kind == "filter":
                if m.start("crit") >= 0:
                    criteria = split_criteria(m.group("crit"), col)
                    span = Span(file, line, col, line, pos + off)
                    append(LineNode("criteria", line, span, criteria[0][1], criteria=criteria))
                    continue
                if m.start("label") >= 0:
                    k, head, rs = "label", m.group("label"), m.start("lrest")
                    rest = None if rs < 0 else (m.group("lrest"), rs + off)
                else:
                    k, head, rs = "coord", m.group("coord"), m.start("crest")
                    rest = None if rs < 0 else (m.group("crest"), rs + off)
                field = None
            else:
                k, head, rs = kind, m.group("head"), m.start("rest")
                rest = None if rs < 0 else (m.group("rest"), rs + off)
                fs = m.start("field") if kind in ("action", "group") else -1
                field = None if fs < 0 else (m.group("field"), fs + off)
            head = head.rstrip()
            end_col = pos + off if rest is not None or field is not None else col + len(head)
            span = Span(file, line, col, line, end_col)
            append(LineNode(k, line, span, (head, col), field, rest))
        return nodes

    def format_run(self, c: list[Token]) -> list[LineNode]:
        return self._split_run("format", c[0])

    def section_run(self, c: list[Token]) -> list[LineNode]:
        return self._split_run("section", c[0])

    def action_run(self, c: list[Token]) -> list[LineNode]:
        return self._split_run("action", c[0])

    def group_run(self, c: list[Token]) -> list[LineNode]:
        return self._split_run("group", c[0])

    def filter_run(self, c: list[Token]) -> list[LineNode]:
        return self._split_run("filter", c[0])

    def unknown_run(self, c: list[Token]) -> list[LineNode]:
        return self._split_run("unknown", c[0])

    # -- single lines (start symbol ``line``) ---------------------------------------------------
    def line(self, children: list[Any]) -> list[LineNode]:
        return [c for c in children if isinstance(c, LineNode)]

    def _make(
        self, kind: str, children: list[Any], field: Token | None = None, rest: Token | None = None
    ) -> LineNode:
        head = children[0]
        last = [c for c in children if isinstance(c, Token)][-1]
        line = head.line or 0
        end_col = last.end_column or 0
        if last is head:
            end_col = (head.column or 0) + len(head.rstrip())
        span = Span(self.file, line, head.column or 0, line, end_col)
        return LineNode(kind, line, span, _head(head), _piece(field), _piece(rest))

    def format_line(self, c: list[Any]) -> LineNode:
        return self._make("format", c, rest=c[1] if len(c) > 1 else None)

    def section_line(self, c: list[Any]) -> LineNode:
        return self._make("section", c, rest=c[1] if len(c) > 1 else None)

    def action_line(self, c: list[Any]) -> LineNode:
        field, rest = _pad(c, 3)[1:]
        return self._make("action", c, field, rest)

    def group_line(self, c: list[Any]) -> LineNode:
        field, rest = _pad(c, 3)[1:]
        return self._make("group", c, field, rest)

    def label_line(self, c: list[Any]) -> LineNode:
        return self._make("label", c, rest=c[1])

    def coord_line(self, c: list[Any]) -> LineNode:
        return self._make("coord", c, rest=c[1])

    def unknown_line(self, c: list[Any]) -> LineNode:
        return self._make("unknown", c, rest=c[1])

    def criteria_line(self, c: list[Any]) -> LineNode:
        items = tuple(_criterion(str(tok), tok.column or 0) for tok in c)
        first, last = c[0], c[-1]
        span = Span(
            self.file, first.line or 0, first.column or 0, last.end_line or 0, last.end_column or 0
        )
        return LineNode("criteria", first.line or 0, span, items[0][1], criteria=items)


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
