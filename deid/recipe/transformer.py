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


class Piece(tuple):  # type: ignore[type-arg]
    """A part of a line: ``(text, offset)``, the offset counted from the start of the line's
    text (0 for the first word; the column is ``LineNode.col + offset``). ``str()`` gives the
    text.

    Examples
    --------
    >>> p = Piece("PatientName", 7)
    >>> str(p), p.text, p.offset, p == ("PatientName", 7)
    ('PatientName', 'PatientName', 7, True)
    """

    __slots__ = ()

    def __new__(cls, text: str, offset: int) -> Piece:  # noqa: PYI034
        return tuple.__new__(cls, (text, offset))

    @property
    def text(self) -> str:
        """The text of the part."""
        return self[0]  # type: ignore[no-any-return]

    @property
    def offset(self) -> int:
        """Offset from the start of the line's text."""
        return self[1]  # type: ignore[no-any-return]

    def __str__(self) -> str:
        return self[0]  # type: ignore[no-any-return]


#: The parts of one criterion: operator, filter, field, value (absent parts None).
CriterionParts = tuple[Piece | None, Piece, Piece | None, Piece | None]


def piece_span(
    file: str, line: int, col: int, piece: Piece, start: int = 0, length: int | None = None
) -> Span:
    """Span of a line part (or of ``text[start:start+length]`` of it); ``col`` is the line's.

    Examples
    --------
    >>> piece_span("r.dicom", 3, 1, ("PatientName", 7))
    Span(file='r.dicom', line=3, col=8, end_line=3, end_col=19)
    """
    text, offset = piece
    c = col + offset + start
    n = len(text) - start if length is None else length
    return Span(file, line, c, line, c + max(n, 0))


class LineNode:
    """One recipe line, shaped but not interpreted.

    ``kind`` is ``format``, ``section``, ``action``, ``group``, ``label``, ``coord``,
    ``criteria`` or ``unknown``; ``line`` and ``col`` locate the line's text (1-based) and
    ``span`` covers it. ``head`` is the first word (line keywords without the blanks after
    them); ``field`` the field word; ``rest`` the raw remainder (comments included); each a
    :data:`Piece` or None. ``criteria`` holds the :data:`CriterionParts` of a criteria line
    (the value right-stripped). Pieces are shared between lines with the same text.
    """

    __slots__ = ("col", "criteria", "field", "head", "kind", "line", "rest", "span")

    def __init__(
        self,
        kind: str,
        line: int,
        col: int,
        span: Span,
        head: Piece,
        field: Piece | None = None,
        rest: Piece | None = None,
        criteria: tuple[CriterionParts, ...] = (),
    ) -> None:
        self.kind = kind
        self.line = line
        self.col = col
        self.span = span
        self.head = head
        self.field = field
        self.rest = rest
        self.criteria = criteria

    def __repr__(self) -> str:
        return (
            f"LineNode({self.kind!r}, {self.line}, {self.col}, head={self.head!r}, "
            f"field={self.field!r}, rest={self.rest!r}, criteria={self.criteria!r})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LineNode):
            return NotImplemented
        return all(getattr(self, k) == getattr(other, k) for k in self.__slots__)

    __hash__ = None  # type: ignore[assignment]


#: Display name of the source, for a :class:`RecipeTransformer` made without one.
CURRENT_FILE: ContextVar[str] = ContextVar("deid_recipe_file", default="<string>")


_FILTERS_RE = r"(?i:contains|notcontains|equals|notequals|missing|present|empty)"
# where one criterion of a (valid) criteria line ends and the next, with its operator, begins:
# the look-ahead CRITERION uses to end a value
_BOUNDARY_RE = re.compile(
    r"[ \t]*(?=(?:\|\||\+)[ \t]*" + _FILTERS_RE + r"(?:[ \t]|$))", re.MULTILINE
)
_CRITERION_RE = re.compile(
    r"(?:(\|\||\+)[ \t]*)?(\S+)(?:[ \t]+([^\s|+#]+)(?:[ \t]+(.*))?)?", re.DOTALL
)
# the lines of a %filter run that are not criteria lines (LABEL and coordinates lines)
_NOT_CRITERIA_RE = re.compile(
    r"LABEL(?=[ \t\r\n]|$)|(?i:coordinates|keepcoordinates|ctpcoordinates|ctpkeepcoordinates)"
    r"(?=[ \t\r\n]|$)"
)


@lru_cache(maxsize=1)
def line_patterns() -> dict[str, re.Pattern[str]]:
    """Patterns that cut one line of a run (a token of the ``recipe`` start symbol) into parts.

    Built from the compiled grammar's terminals (``ACTION``, ``FIELD_TOKEN``, ``REST``, ...),
    composed as the grammar composes ``ACTION_LINE`` and friends, with groups for the parts:
    ``(head, field, rest)`` for actions and FIELD/SPLIT lines, ``(head, rest)`` for the other
    kinds, and ``(label, label_rest, coord, coord_rest, criteria)`` for the lines of a
    ``%filter`` run.

    Examples
    --------
    >>> line_patterns()["action"].match("REMOVE  PatientName x # c").groups()
    ('REMOVE  ', 'PatientName', 'x # c')
    """
    from deid.recipe.parser import get_parser

    lark = get_parser()

    def t(name: str) -> str:
        return "(?:" + lark.get_terminal(name).pattern.to_regexp() + ")"

    ws, rest = t("WS"), t("REST")
    tail = rf"(?:{ws}?({rest}))?"
    with_field = rf"(?:{ws}?({t('FIELD_TOKEN')}){tail})?"
    bodies = {
        "format": rf"({t('FORMAT_KW')}){tail}",
        "section": rf"({t('SECTION')}){tail}",
        "action": rf"({t('ACTION')}){with_field}",
        "group": rf"({t('GROUP_KW')}){with_field}",
        "unknown": rf"({t('WORD')}){tail}",
        "filter": (
            rf"({t('LABEL_KW')}){tail}"
            rf"|({t('COORD_KW')}){tail}"
            rf"|({t('CRITERION')}(?:{ws}?{t('CRITERION')})*)"
        ),
    }
    bodies["criterion"] = t("CRITERION")
    bodies["blanks"] = rf"{ws}?"
    return {k: re.compile(v) for k, v in bodies.items()}


def split_criteria(text: str, offset: int = 0) -> tuple[CriterionParts, ...]:
    """Cut the criteria of a criteria line (``text``, at ``offset`` in its line) into parts.

    Each criterion gives ``(operator, filter, field, value)`` pieces; absent parts are None and
    the value is right-stripped.

    Examples
    --------
    >>> [tuple(p and p[0] for p in c) for c in split_criteria("contains A b || missing C")]
    [(None, 'contains', 'A', 'b'), ('||', 'missing', 'C', None)]
    >>> split_criteria("+ missing C")[0][1]
    ('missing', 2)
    """
    # usual case: cut before each operator that starts a criterion (the look-ahead the grammar
    # uses to end a value); if a piece is not one plain criterion, read the line with the
    # grammar's CRITERION terminal instead
    out = []
    start = 0
    if "|" in text or text.find("+", 1) >= 0:
        for m in _BOUNDARY_RE.finditer(text, 1):
            if m.end() > start:
                out.append(_criterion(text[start : m.start()], offset + start))
                start = m.end()
    out.append(_criterion(text[start:], offset + start))
    if any(parts is None for parts in out):
        return _criteria_by_terminal(text, offset)
    return tuple(out)  # type: ignore[arg-type]


def _criterion(text: str, offset: int) -> CriterionParts | None:
    m = _CRITERION_RE.fullmatch(text.rstrip())
    if m is None:
        return None
    op, filt, fld, val = m.groups()
    return (
        None if op is None else Piece(op, offset),
        Piece(filt, offset + m.start(2)),
        None if fld is None else Piece(fld, offset + m.start(3)),
        None if not val else Piece(val, offset + m.start(4)),
    )


def _criteria_by_terminal(text: str, offset: int) -> tuple[CriterionParts, ...]:
    crit, blanks = line_patterns()["criterion"], line_patterns()["blanks"]
    out: list[CriterionParts] = []
    pos = 0
    while pos < len(text):
        m = crit.match(text, pos)
        if m is None:  # not reachable for a line the grammar accepted; keep the shape total
            out.append((None, Piece(text[pos:], offset + pos), None, None))
            break
        parts = _criterion(m.group(), offset + pos)
        out.append(parts or (None, Piece(m.group(), offset + pos), None, None))
        pos = blanks.match(text, m.end()).end()  # type: ignore[union-attr]
    return tuple(out)


def split_criterion(tok: Token) -> tuple[Token | None, Token, Token | None, Token | None]:
    """Split a CRITERION token into operator, filter, field and value tokens.

    Absent parts are None; the value is right-stripped.

    Examples
    --------
    >>> op, f, fld, val = split_criterion(Token("CRITERION", "+ contains Modality CT ", 0, 1, 1))
    >>> str(op), str(f), str(fld), str(val), val.column
    ('+', 'contains', 'Modality', 'CT', 21)
    """
    parts = _criterion(str(tok), 0) or (None, Piece(str(tok), 0), None, None)
    return tuple(  # type: ignore[return-value]
        None if p is None else _sub(tok, name, p[0], p[1])
        for p, name in zip(parts, ("OP", "FILTER_KW", "CFIELD", "CVALUE"))
    )


def _sub(tok: Token, type_: str, text: str, offset: int) -> Token:
    col = (tok.column or 0) + offset
    pos = (tok.start_pos or 0) + offset
    return Token(type_, text, pos, tok.line, col, tok.line, col + len(text), pos + len(text))


def _piece(tok: Token | None, col: int) -> Piece | None:
    return None if tok is None else Piece(str(tok), (tok.column or 0) - col)


_Shape = tuple[str, Piece, "Piece | None", "Piece | None", "tuple[CriterionParts, ...]", int]


@lru_cache(maxsize=8192)
def _line_shape(kind: str, text: str) -> _Shape:
    """Kind, head, field, rest, criteria and text length of one line of a run (memoised:
    recipes repeat lines, e.g. ``+ contains Modality US``)."""
    if kind == "filter" and "#" not in text and not _NOT_CRITERIA_RE.match(text):
        # a criteria line of a run the grammar accepted, without a comment: its criteria run
        # to the end of the text, so the plain criterion pattern cuts it (the full pattern
        # decides when that does not fit)
        body = text.rstrip()
        criteria = split_criteria(body)
        *_, fld, val = criteria[-1]
        if val is not None:
            end = len(text.rstrip("\r"))  # a value keeps the blanks after it, as CRITERION
        else:
            last = fld if fld is not None else criteria[-1][1]
            end = last[1] + len(last[0])
        return "criteria", criteria[0][1], None, None, criteria, end
    m = line_patterns()[kind].match(text)
    if m is None:  # not reachable for a token the grammar accepted; keep the transformer total
        return "unknown", Piece(text, 0), None, None, (), len(text)
    field = rest = None
    if kind == "filter":
        label, lrest, coord, crest, crit = m.groups()
        if crit is not None:
            criteria = split_criteria(crit)
            return "criteria", criteria[0][1], None, None, criteria, m.end()
        if label is not None:
            k, head = "label", label
            rest = None if lrest is None else Piece(lrest, m.start(2))
        else:
            k, head = "coord", coord
            rest = None if crest is None else Piece(crest, m.start(4))
    elif kind == "action" or kind == "group":
        k, (head, fld, rst) = kind, m.groups()
        field = None if fld is None else Piece(fld, m.start(2))
        rest = None if rst is None else Piece(rst, m.start(3))
    else:
        k, (head, rst) = kind, m.groups()
        rest = None if rst is None else Piece(rst, m.start(2))
    head = head.rstrip()
    end = len(head) if field is None and rest is None else m.end()
    return k, Piece(head, 0), field, rest, (), end


class RecipeTransformer(Transformer[Token, Any]):
    """Shape a ``recipe`` (runs of lines) or ``line`` tree into a list of :class:`LineNode`.

    With ``file=None`` the display name is read from :data:`CURRENT_FILE` at each run, so one
    instance can serve several sources.

    Examples
    --------
    >>> from deid.recipe.parser import get_parser
    >>> text = "FORMAT dicom\\n%header\\nREMOVE PatientName\\n"
    >>> tree = get_parser().parse(text, start="recipe")
    >>> [(n.kind, n.line, n.head[0]) for n in RecipeTransformer("r.dicom").transform(tree)]
    [('format', 1, 'FORMAT'), ('section', 2, '%header'), ('action', 3, 'REMOVE')]
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
        # the token starts at its first line's text and ends where its last line's text ends;
        # the lines between may carry blanks, comments and "\r" after their text, and blank or
        # comment-only lines come between them
        file = self.file
        shape = _line_shape
        lineno = (tok.line or 1) - 1
        nodes: list[LineNode] = []
        append = nodes.append
        first = True
        for raw in tok.split("\n"):
            lineno += 1
            if first:
                first, text, col = False, raw, tok.column or 1
            else:
                text = raw.lstrip(" \t\f")
                if not text or text[0] == "#" or text == "\r":
                    continue
                col = len(raw) - len(text) + 1
            k, head, field, rest, criteria, end = shape(kind, text)
            append(
                LineNode(
                    k, lineno, col, Span(file, lineno, col, lineno, col + end),
                    head, field, rest, criteria,
                )
            )  # fmt: skip
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
        col = head.column or 0
        span = Span(self.file, line, col, line, end_col)
        return LineNode(
            kind, line, col, span, Piece(head.rstrip(), 0), _piece(field, col), _piece(rest, col)
        )

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
        first, last = c[0], c[-1]
        col = first.column or 0
        items = tuple(
            _criterion(str(tok), (tok.column or 0) - col)
            or (None, Piece(str(tok), (tok.column or 0) - col), None, None)
            for tok in c
        )
        span = Span(self.file, first.line or 0, col, last.end_line or 0, last.end_column or 0)
        return LineNode("criteria", first.line or 0, col, span, items[0][1], criteria=items)


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
