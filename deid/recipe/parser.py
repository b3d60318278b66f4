"""Parse recipe text into a checked :class:`~deid.recipe.ast.Recipe`.

Pipeline: Lark (``grammar.lark``, LALR; tables prebuilt by :mod:`deid.recipe.tables`) →
:mod:`~deid.recipe.transformer` (shape) → section assembly (this module: which line belongs
where) → :mod:`~deid.recipe.checks` (meaning). A recipe is read as runs of lines; when a line
cannot be read, the recipe is read again one line at a time so that every broken line is
reported. Every problem is collected; errors raise :class:`~deid.errors.RecipeError` at the
end, warnings are returned by :func:`parse_recipe_with_diagnostics`.

Examples
--------
>>> r = parse_recipe("FORMAT dicom\\n%header\\nREMOVE PatientName\\n")
>>> r.header[0].action, r.header[0].field.text
('REMOVE', 'PatientName')
"""

from __future__ import annotations

import dataclasses
import os
import re
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import NamedTuple

from lark import Lark
from lark.exceptions import LarkError, UnexpectedInput

from deid.diagnostics import Diagnostic, suggest
from deid.errors import RecipeError
from deid.recipe.ast import (
    ACTIONS,
    COORDINATE_KEYWORDS,
    FILTERS,
    NO_SPAN,
    SECTIONS,
    VALUE_FILTERS,
    Action,
    Coordinate,
    CriteriaLine,
    Criterion,
    FieldExpr,
    FilterGroup,
    Group,
    GroupLine,
    Label,
    Recipe,
    Span,
    Value,
)
from deid.recipe.tables import load_parser
from deid.recipe.transformer import (
    CURRENT_FILE,
    CriterionParts,
    FieldTransformer,
    LineNode,
    Piece,
    RecipeTransformer,
    ValueTransformer,
    _line_shape,
    piece_span,
    upstream_value,
)

__all__ = [
    "SHIPPED_TAGS",
    "clear_cache",
    "get_parser",
    "load_recipe",
    "parse_field_expr",
    "parse_recipe",
    "parse_recipe_with_diagnostics",
    "parse_value",
    "read_recipe_source",
    "stack",
]

#: Tags of the shipped recipes (``recipes/deid.<tag>``).
SHIPPED_TAGS: tuple[str, ...] = ("dicom", "dicom.ultrasound", "dicom.xray.chest")

_LOCK = threading.Lock()
_PARSER: Lark | None = None
# parse results by (text, name, strict, functions): recipes are immutable, so a recipe loaded
# again (DeidRecipe() per call, as upstream code does) costs a dictionary look-up
_RESULTS: OrderedDict[tuple[object, ...], tuple[Recipe | None, tuple[Diagnostic, ...]]] = (
    OrderedDict()
)

#: Broken examples for friendly syntax errors (UnexpectedInput.match_examples).
_SYNTAX_EXAMPLES: dict[tuple[str, str], list[str]] = {
    (
        "E119",
        "unterminated quote",
    ): [
        "REMOVE Patient's\n",
        "REMOVE Patient's Name\n",
        'REPLACE (0010,"creator,10) x\n',
        'KEEP "abc\n',
        "FIELD 'abc\n",
    ],
    (
        "E101",
        "an operator ('+' or '||') must be followed by a filter criterion",
    ): [
        "+ foo\n",
        "|| Modality CT\n",
        "contains Modality CT + \n",
        "+\n",
        "||\n",
        "missing Modality ||\n",
    ],
}


def get_parser() -> Lark:
    """Return the compiled recipe parser, loading it once per process (thread-safe).

    It produces parse trees; :class:`~deid.recipe.transformer.RecipeTransformer` shapes them.

    Examples
    --------
    >>> get_parser() is get_parser()
    True
    """
    global _PARSER
    if _PARSER is None:
        with _LOCK:
            if _PARSER is None:
                # prebuilt LALR tables when they match grammar.lark (see deid.recipe.tables);
                # the transformer runs inline: recipe lines need no tree
                _PARSER = load_parser(transformer=RecipeTransformer())
    return _PARSER


def clear_cache() -> None:
    """Forget memoised parse results (the compiled parser is kept).

    Examples
    --------
    >>> clear_cache()
    """
    with _LOCK:
        _RESULTS.clear()
    _field_shape.cache_clear()
    _value_shape.cache_clear()
    _line_shape.cache_clear()


# ------------------------------------------------------------------------------------------------
# sub-grammars
# ------------------------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _field_shape(text: str) -> FieldExpr:
    try:
        tree = get_parser().parse(text, start="field_expr")
        # every field_expr alternative is one flat rule: call its shaping method directly
        shape: FieldExpr = getattr(FieldTransformer(text, NO_SPAN), tree.data)(tree.children)
    except LarkError:
        shape = FieldExpr("invalid", text, NO_SPAN, arg=f"'{text}' is not a field expression")
    if shape.kind == "invalid" and (" " in text or "'" in text):
        from deid.recipe.checks import element_name_keyword

        if element_name_keyword(text) is not None:  # an element name given through the API
            return FieldExpr("keyword", text, NO_SPAN, arg=text)
    return shape


def _field(text: str, span: Span) -> FieldExpr:
    f = _field_shape(text)  # (a direct copy: dataclasses.replace is several times slower)
    return FieldExpr(f.kind, f.text, span, f.arg, f.tag, f.group, f.creator, f.offset, f.mask)


def parse_field_expr(text: str, span: Span = NO_SPAN) -> FieldExpr:
    """Parse one field expression (the sub-grammar used for action targets).

    Only the shape is checked here (e.g. ``foo:bar`` is refused); whether a keyword exists is
    decided by :func:`deid.recipe.checks.check_recipe`.

    Parameters
    ----------
    text : str
        The expression, e.g. ``PatientName``, ``(0010,0010)``, ``contains:UID``.
    span : Span, optional
        Where it was written (for diagnostics).

    Raises
    ------
    RecipeError
        When the text is not a field expression.

    Examples
    --------
    >>> parse_field_expr("(50xx,0010)").kind
    'tag_mask'
    >>> hex(parse_field_expr('(0033,"MITRA 1.0",1E)').group)
    '0x33'
    """
    fe = _field(text.strip(), span)
    if fe.kind == "invalid":
        raise RecipeError([Diagnostic("E109", "error", str(fe.arg), span)])
    return fe


@lru_cache(maxsize=4096)
def _value_shape(text: str) -> Value | str:
    try:
        tree = get_parser().parse(text, start="value")
    except LarkError:
        return f"cannot read value '{text}' (unexpected text after the reference)"
    return getattr(ValueTransformer(text, NO_SPAN), tree.data)(tree.children)  # type: ignore[no-any-return]


def _value(text: str, span: Span) -> Value | str:
    v = _value_shape(text)
    return v if isinstance(v, str) else Value(v.kind, v.text, span, v.name, v.args)


def parse_value(text: str, span: Span = NO_SPAN) -> Value:
    """Parse an action value: literal, ``var:NAME``, ``func:NAME``, ``deid_func:NAME k=v ...``.

    ``text`` is kept exactly (quotes included), as upstream stores it.

    Examples
    --------
    >>> v = parse_value("deid_func:jitter days=3")
    >>> v.kind, v.name, v.args
    ('deid_func', 'jitter', (('days', '3'),))
    >>> parse_value('"John Doe"').text
    '"John Doe"'
    """
    v = _value(text, span)
    if isinstance(v, str):
        raise RecipeError([Diagnostic("E109", "error", v, span)])
    return v


# ------------------------------------------------------------------------------------------------
# lexing lines
# ------------------------------------------------------------------------------------------------


def _shift(node: LineNode, lineno: int) -> None:
    node.line = lineno
    node.span = dataclasses.replace(node.span, line=lineno, end_line=lineno)


def _syntax_diag(exc: UnexpectedInput, file: str, lineno: int, line: str) -> Diagnostic:
    parser = get_parser()

    def parse(text: str) -> object:
        return parser.parse(text, start="line")

    label = exc.match_examples(parse, _SYNTAX_EXAMPLES, use_accepts=True)
    col = getattr(exc, "column", 1) or 1
    if label is None:
        code, msg = "E101", "cannot read this line"
    else:
        code, msg = label
    hint = None
    if code == "E119":
        quotes = [i for i in (line.find("'"), line.find('"')) if i >= 0]
        if quotes:
            col = min(quotes) + 1
        hint = (
            "quotes are only allowed in pairs; element names with an apostrophe cannot be "
            "written, use the keyword (e.g. PatientName)"
        )
    else:
        stripped = line.strip()
        words = stripped.split()
        if words and words[0] in ("+", "||") and len(words) > 1:
            guess = suggest(words[1], FILTERS)
            if guess:
                hint = f"did you mean '{guess}'?"
    end = len(line) + 1 if code == "E101" else col + 1
    return Diagnostic(code, "error", msg, Span(file, lineno, col, lineno, max(end, col + 1)), hint)


def _lex_lines(text: str, file: str) -> tuple[list[LineNode], list[Diagnostic]]:
    parser = get_parser()
    token = CURRENT_FILE.set(file)
    try:
        try:
            # the fast path: a recipe is a dozen tokens (runs of lines), cut into lines by the
            # inline transformer
            return parser.parse(text + "\n", start="recipe"), []
        except UnexpectedInput:
            pass
        # slow path: one line at a time, so that every broken line is reported
        nodes: list[LineNode] = []
        diags: list[Diagnostic] = []
        # lines as Lark counts them: split on "\n" only, a "\r" before it belongs to the break
        for lineno, line in enumerate(text.split("\n"), start=1):
            line = line.removesuffix("\r")
            if not line.strip():
                continue
            try:
                sub = parser.parse(line + "\n", start="line")
            except UnexpectedInput as exc:
                diags.append(_syntax_diag(exc, file, lineno, line))
                continue
            for node in sub:
                _shift(node, lineno)
                nodes.append(node)
        return nodes, diags
    finally:
        CURRENT_FILE.reset(token)


# ------------------------------------------------------------------------------------------------
# assembly: lines -> sections
# ------------------------------------------------------------------------------------------------

_WORDS = list(ACTIONS) + ["FORMAT", "FIELD", "SPLIT"] + list(FILTERS) + list(COORDINATE_KEYWORDS)
_INT_RE = re.compile(r"\s*[+-]?\d+\s*")
_SPLIT_PARAM_RE = re.compile(r"""\s*([A-Za-z_]\w*)\s*=\s*("[^"]*"|'[^']*'|[^;]*?)\s*(?:;|$)""")


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


def _open_quote(text: str) -> int | None:
    """Index of a quote that is never closed (upstream would split the text there), or None."""
    quote: str | None = None
    start = 0
    for i, ch in enumerate(text):
        if quote is None and ch in "\"'":
            quote, start = ch, i
        elif ch == quote:
            quote = None
    return start if quote is not None else None


def _cut_comment(piece: Piece) -> tuple[str, int]:
    """Text of a REST piece before its first ``#`` (right-stripped) and its length."""
    raw = piece[0]
    cut = raw.find("#")
    body = (raw if cut < 0 else raw[:cut]).rstrip()
    return body, len(body)


@dataclasses.dataclass
class _OpenLabel:
    name: str
    span: Span
    lines: list[CriteriaLine] = dataclasses.field(default_factory=list)
    coords: list[Coordinate] = dataclasses.field(default_factory=list)


class _LazySpan:
    """The span of a line's remainder (up to ``n`` characters), made only when reported."""

    __slots__ = ("assembler", "n", "node")

    def __init__(self, assembler: _Assembler, node: LineNode, n: int) -> None:
        self.assembler, self.node, self.n = assembler, node, n

    def get(self) -> Span:
        assert self.node.rest is not None
        return self.assembler.at(self.node, self.node.rest, 0, max(self.n, 1))


class _CriteriaProblem(NamedTuple):
    """Why a criteria line cannot be used: code, message, the piece to point at, hint."""

    code: str
    message: str
    piece: Piece
    hint: str | None


#: leading operator, inner operators, (filter, field, value, start, end) per criterion
_CriteriaParts = tuple[
    "str | None", tuple[str, ...], tuple[tuple[str, str, "str | None", int, int], ...]
]
_PreparedCriteria = "_CriteriaParts | _CriteriaProblem"


def _prepare_criteria(criteria: tuple[CriterionParts, ...]) -> _CriteriaParts | _CriteriaProblem:
    """The position-free meaning of a criteria line's parts (shared by equal lines)."""
    parts: list[tuple[str, str, str | None, int, int]] = []
    ops: list[str] = []
    leading: str | None = None
    for i, (op, filt, fld, val) in enumerate(criteria):
        opname = None if op is None else ("and" if op[0] == "+" else "or")
        if i == 0:
            leading = opname
        elif opname is not None:
            ops.append(opname)
        word = filt[0]
        name = word.lower()
        if fld is None:
            return _CriteriaProblem("E107", f"criterion '{word}' needs a field", filt, None)
        value = None if val is None else val[0].strip()
        if name in VALUE_FILTERS:
            if not value:
                return _CriteriaProblem(
                    "E108",
                    f"criterion '{word} {fld[0]}' needs a value",
                    fld,
                    f"e.g. '{word} {fld[0]} CT'",
                )
        elif value:
            assert val is not None
            return _CriteriaProblem(
                "E108",
                f"criterion '{word}' takes no value (found '{value}')",
                val,
                "a criterion per operator: 'missing X || contains Y z'",
            )
        end = fld if val is None else val
        parts.append((name, fld[0], value, filt[1], end[1] + len(end[0].rstrip())))
    return leading, tuple(ops), tuple(parts)


class _Assembler:
    def __init__(self, file: str) -> None:
        self.file = file
        self.diags: list[Diagnostic] = []
        self.format: str | None = None
        self.section: str | None = None
        self.section_name: str | None = None
        self.header: list[Action] = []
        self.labels: list[Action] = []
        self.filters: dict[str, list[Label]] = {}
        self.filter_spans: dict[str, Span] = {}
        self.groups: dict[tuple[str, str], list[GroupLine]] = {}
        self.group_spans: dict[tuple[str, str], Span] = {}
        self.label: _OpenLabel | None = None
        self.sections: list[str] = []
        # criteria lines with the same text share their shape (see transformer._line_shape)
        self.criteria_shapes: dict[tuple[CriterionParts, ...], _PreparedCriteria] = {}

    def err(self, code: str, msg: str, span: Span, hint: str | None = None) -> None:
        self.diags.append(Diagnostic(code, "error", msg, span, hint))

    def warn(self, code: str, msg: str, span: Span, hint: str | None = None) -> None:
        self.diags.append(Diagnostic(code, "warning", msg, span, hint))

    def at(self, node: LineNode, piece: Piece, start: int = 0, length: int | None = None) -> Span:
        return piece_span(self.file, node.line, node.col, piece, start, length)

    # -- dispatch -------------------------------------------------------------------------------
    def run(self, nodes: Iterable[LineNode]) -> Recipe:
        handlers = {
            "format": self.on_format,
            "section": self.on_section,
            "action": self.on_action,
            "group": self.on_group,
            "label": self.on_label,
            "coord": self.on_coord,
            "criteria": self.on_criteria,
            "unknown": self.on_unknown,
        }
        for node in nodes:
            kind = node.kind
            if kind != "criteria" and kind != "coord" and self.label is not None:
                self.close_label()
            handlers[kind](node)
        self.close_label()
        if self.format is None:
            self.warn(
                "W106", "no FORMAT line; assuming 'FORMAT dicom'", Span(self.file, 1, 1, 1, 2)
            )
        header = tuple(self.header)  # each action was made with its index
        labels = tuple(self.labels)
        filters = tuple(
            FilterGroup(name, tuple(lbls), self.filter_spans[name])
            for name, lbls in self.filters.items()
        )
        values = tuple(
            Group(k, name, tuple(lines), self.group_spans[(k, name)])
            for (k, name), lines in self.groups.items()
            if k == "values"
        )
        fields = tuple(
            Group(k, name, tuple(lines), self.group_spans[(k, name)])
            for (k, name), lines in self.groups.items()
            if k == "fields"
        )
        return Recipe(
            "dicom", header, labels, filters, values, fields, (self.file,), tuple(self.sections)
        )

    def on_format(self, node: LineNode) -> None:
        body, _ = _cut_comment(node.rest) if node.rest is not None else ("", 0)
        if body.strip().lower() != "dicom":
            span = self.at(node, node.rest) if node.rest is not None else node.span
            shown = body.strip() or "(nothing)"
            self.err("E106", f"unsupported recipe format '{shown}'", span, "write 'FORMAT dicom'")
        self.format = "dicom"

    def on_section(self, node: LineNode) -> None:
        kind_text = node.head[0][1:]
        kind = kind_text.lower()
        name = _cut_comment(node.rest)[0].strip() if node.rest is not None else ""
        head_span = self.at(node, node.head)
        self.section, self.section_name = None, None
        if kind not in SECTIONS:
            guess = suggest(kind, SECTIONS, cutoff=0.6)
            self.err(
                "E103",
                f"unknown section '%{kind_text}'",
                head_span,
                f"did you mean '%{guess}'?"
                if guess
                else "sections are %header, %labels, %filter NAME, %values NAME and %fields NAME",
            )
            self.section = "invalid"
            return
        if kind in ("filter", "values", "fields") and not name:
            self.err("E104", f"'%{kind}' needs a name", node.span, f"e.g. '%{kind} mygroup'")
            self.section = "invalid"
            return
        if kind in ("header", "labels") and name:
            self.err(
                "E104",
                f"'%{kind}' takes no name (found '{name}')",
                self.at(node, node.rest) if node.rest is not None else node.span,
                "remove the name, or put it in a comment",
            )
        self.section, self.section_name = kind, name or None
        if kind not in self.sections:
            self.sections.append(kind)
        if kind == "filter":
            self.filters.setdefault(name, [])
            self.filter_spans.setdefault(name, node.span)
        elif kind in ("values", "fields"):
            self.groups.setdefault((kind, name), [])
            self.group_spans.setdefault((kind, name), node.span)

    def _misplaced(self, node: LineNode, what: str, allowed: str) -> None:
        where = "before any section" if self.section is None else f"in a %{self.section} section"
        if self.section == "invalid":
            return  # the section header was already reported
        self.err(
            "E105",
            f"{what} {where}",
            self.at(node, node.head),
            f"{what} belongs in {allowed}",
        )

    def _quotes_ok(self, node: LineNode) -> bool:
        if node.field is None or node.rest is None:
            return True
        rest = node.rest[0]
        body = rest.split("#", 1)[0] if _open_quote(rest) is None or "#" not in rest else rest
        at = _open_quote(body)
        if at is None:
            return True
        col = node.col + node.rest[1] + at
        self.err(
            "E119",
            "unterminated quote",
            Span(self.file, node.line, col, node.line, col + 1),
            "quotes are only allowed in pairs; element names with an apostrophe cannot be written "
            "(use the keyword, e.g. PatientName), and a value with an apostrophe must be quoted: "
            '"O\'Brien"',
        )
        return False

    def _field_of(self, node: LineNode, what: str) -> FieldExpr | None:
        if node.field is None:
            self.err("E107", f"{what} needs a field expression", node.span)
            return None
        fe = _field(node.field[0], self.at(node, node.field))
        if fe.kind == "invalid":
            self.err("E109", str(fe.arg), fe.span, _field_hint(node.field[0]))
            return None
        return fe

    def on_action(self, node: LineNode) -> None:
        action = node.head[0]
        if self.section not in ("header", "labels"):
            self._misplaced(node, f"action {action}", "%header")
            return
        if not self._quotes_ok(node):
            return
        fe = self._field_of(node, action)
        value: Value | None = None
        if node.rest is not None:
            text = upstream_value(node.rest[0])
            body, n = _cut_comment(node.rest)
            span = self.at(node, node.rest, 0, n)
            if text.strip():
                if action in ("BLANK", "KEEP"):
                    self.warn("W104", f"{action} takes no value; '{body}' is ignored", span)
                else:
                    parsed = _value(text, span)
                    if isinstance(parsed, str):
                        self.err("E109", parsed, span)
                        return
                    value = parsed
        if fe is None:
            return
        target = self.header if self.section == "header" else self.labels
        target.append(Action(action, fe, value, node.span, self.section, len(target)))

    def on_group(self, node: LineNode) -> None:
        word = node.head[0]
        if self.section not in ("values", "fields"):
            self._misplaced(node, f"{word} line", "a %values or %fields section")
            return
        if word == "SPLIT" and self.section == "fields":
            self.err(
                "E105",
                "SPLIT in a %fields section",
                self.at(node, node.head),
                "SPLIT only works in %values; use FIELD",
            )
            return
        if not self._quotes_ok(node):
            return
        fe = self._field_of(node, word)
        raw_value: str | None = None
        by: str | None = None
        minlength: int | None = None
        if node.rest is not None:
            text = upstream_value(node.rest[0])
            body, n = _cut_comment(node.rest)
            span = self.at(node, node.rest, 0, n)
            if text.strip():
                if self.section == "fields" or word == "FIELD":
                    self.warn("W104", f"{word} takes no parameters; '{body}' is ignored", span)
                    if self.section == "values":
                        raw_value = text
                else:
                    raw_value = text
                    by, minlength = self._split_params(body, span)
        if fe is None:
            return
        key = (self.section, self.section_name or "")
        self.groups[key].append(GroupLine(word, fe, raw_value, node.span, by, minlength))

    def _split_params(self, body: str, span: Span) -> tuple[str | None, int | None]:
        by: str | None = None
        minlength: int | None = None
        pos = 0
        text = body.strip()
        while pos < len(text):
            m = _SPLIT_PARAM_RE.match(text, pos)
            if m is None or m.end() == pos:
                self.err(
                    "E115",
                    f"cannot read SPLIT parameters '{text[pos:]}'",
                    span,
                    "write key=value pairs separated by ';', e.g. by=\"^\";minlength=4",
                )
                return by, minlength
            key, val = m.group(1), m.group(2)
            if key in ("by", "splitval"):  # splitval: the name upstream's documentation uses
                by = _unquote(val)
                if by == "":
                    self.err("E115", "SPLIT separator 'by' is empty", span)
            elif key == "minlength":
                raw = _unquote(val)
                if not re.fullmatch(r"\d+", raw):
                    self.err("E115", f"SPLIT minlength must be a whole number, not '{val}'", span)
                else:
                    minlength = int(raw)
            else:
                guess = suggest(key, ["by", "minlength"], cutoff=0.5)
                self.err(
                    "E115",
                    f"unknown SPLIT parameter '{key}'",
                    span,
                    f"did you mean '{guess}'?" if guess else "SPLIT takes by= and minlength=",
                )
            pos = m.end()
        return by, minlength

    def on_label(self, node: LineNode) -> None:
        if self.section != "filter":
            self._misplaced(node, "LABEL", "a %filter section")
            return
        name = _cut_comment(node.rest)[0].strip() if node.rest is not None else ""
        if not name:
            self.warn("W109", "LABEL without a name", node.span)
        self.label = _OpenLabel(name, node.span)

    def close_label(self) -> None:
        if self.label is None:
            return
        lbl = self.label
        self.label = None
        if not lbl.lines and not lbl.coords:
            self.warn(
                "W109",
                f"LABEL '{lbl.name}' has no criteria and no coordinates; it never matches",
                lbl.span,
            )
        label = Label(lbl.name, tuple(lbl.lines), tuple(lbl.coords), lbl.span)
        self.filters[self.section_name or ""].append(label)

    def on_coord(self, node: LineNode) -> None:
        keyword = node.head[0].lower()
        if self.label is None:
            if self.section != "filter":
                self._misplaced(node, f"'{keyword}' line", "a LABEL block of a %filter section")
            else:
                self.err(
                    "E105",
                    f"'{keyword}' line outside a LABEL block",
                    self.at(node, node.head),
                    "start the block with 'LABEL <name>'",
                )
            return
        keep = "keep" in keyword
        ctp = keyword.startswith("ctp")
        if node.rest is None:
            self.err(
                "E116", f"'{keyword}' needs a region: x0,y0,x1,y1, all or from:Keyword", node.span
            )
            return
        raw = node.rest[0]
        body, n = _cut_comment(node.rest)
        span = _LazySpan(self, node, n)
        if n != len(raw.rstrip()):
            self.warn(
                "W108",
                "comment after a coordinate region ignored",
                self.at(node, node.rest, n),
                None,
            )
        spec = body.strip()
        coord: Coordinate | None
        if spec.lower() == "all":
            coord = Coordinate(keyword, keep, "all", node.span, text=spec)
        elif spec.startswith("from:"):
            coord = Coordinate(
                keyword, keep, "from", node.span, from_field=spec[5:].strip(), text=spec
            )
            if not coord.from_field:
                self.err("E116", "'from:' needs a keyword", span.get())
                return
        else:
            parts = spec.split(",")
            if len(parts) != 4 or not (
                _INT_RE.fullmatch(parts[0])
                and _INT_RE.fullmatch(parts[1])
                and _INT_RE.fullmatch(parts[2])
                and _INT_RE.fullmatch(parts[3])
            ):
                self.err(
                    "E116",
                    f"bad coordinates '{spec}'",
                    span.get(),
                    "write four integers x0,y0,x1,y1 (x,y,width,height for ctp forms), "
                    "'all' or from:Keyword",
                )
                return
            a, b, c, d = (int(p) for p in parts)
            box = (a, b, a + c, b + d) if ctp else (a, b, c, d)
            if box[2] < box[0] or box[3] < box[1] or min(box) < 0:
                self.err(
                    "E116",
                    f"bad coordinates '{spec}': the region is empty or negative",
                    span.get(),
                )
                return
            coord = Coordinate(keyword, keep, "box", node.span, box=box, text=spec)
        self.label.coords.append(coord)

    def on_criteria(self, node: LineNode) -> None:
        if self.label is None:
            if self.section != "filter":
                self._misplaced(
                    node,
                    f"filter criterion '{node.criteria[0][1][0]}'",
                    "a LABEL block of a %filter section",
                )
            else:
                self.err(
                    "E105",
                    "filter criterion outside a LABEL block",
                    self.at(node, node.head),
                    "start the block with 'LABEL <name>'",
                )
            return
        prepared = self.criteria_shapes.get(node.criteria)
        if prepared is None:
            prepared = self.criteria_shapes[node.criteria] = _prepare_criteria(node.criteria)
        if isinstance(prepared, _CriteriaProblem):
            code, msg, which, hint = prepared
            self.err(code, msg, self.at(node, which), hint)
            return
        leading, ops, parts = prepared
        file, line, col = self.file, node.line, node.col
        if len(parts) == 1:  # the usual line: one criterion
            name, field, value, start, end = parts[0]
            crits: tuple[Criterion, ...] = (
                Criterion(name, field, value, Span(file, line, col + start, line, col + end)),
            )
        else:
            crits = tuple(
                Criterion(name, field, value, Span(file, line, col + start, line, col + end))
                for name, field, value, start, end in parts
            )
        self.label.lines.append(CriteriaLine(leading, crits, ops, node.span))

    def on_unknown(self, node: LineNode) -> None:
        word = node.head[0]
        span = self.at(node, node.head)
        upper = word.upper()
        if upper in ACTIONS or upper in ("FIELD", "SPLIT", "FORMAT"):
            self.err(
                "E102", f"'{word}' must be written in upper case", span, f"did you mean '{upper}'?"
            )
            return
        if upper.startswith("LABEL"):
            self.err(
                "E102",
                f"unknown keyword '{word}'",
                span,
                "did you mean 'LABEL'? (LABEL is followed by a space and the label name)",
            )
            return
        guess = suggest(word, _WORDS, cutoff=0.6)
        self.err(
            "E102",
            f"unknown action '{word}'"
            if word.isupper()
            else f"unrecognised line starting with '{word}'",
            span,
            f"did you mean '{guess}'?"
            if guess
            else "recipe lines start with FORMAT, %section, an action "
            "(ADD BLANK JITTER KEEP REPLACE REMOVE), FIELD/SPLIT, LABEL, a filter or coordinates",
        )


def _field_hint(text: str) -> str | None:
    head, colon, _ = text.partition(":")
    if head.lower() in ("allfields", "allexcept"):
        return (
            f"'{head}' is documented by pydicom/deid but was never implemented (it matched "
            "nothing); use 'all' or 'except:REGEX'"
        )
    if colon:
        guess = suggest(
            head,
            ["contains", "startswith", "endswith", "except", "select", "values", "fields"],
            0.6,
        )
        if guess:
            return f"did you mean '{guess}:'?"
        return (
            "expanders are contains:, startswith:, endswith:, except:, select:vr:, "
            "select:group:, values:, fields:"
        )
    if re.fullmatch(r"0x[0-9A-Fa-f]{8}", text):
        return f"write the tag as ({text[2:6]},{text[6:]}) or {text[2:]}"
    if re.fullmatch(r"\([0-9A-Fa-f]{4},", text):
        return "no spaces inside a tag: write (gggg,eeee)"
    if re.fullmatch(r"\(?[0-9A-Fa-f]{4}, *[0-9A-Fa-f]{4}\)?", text):
        digits = re.sub(r"[^0-9A-Fa-f]", "", text)
        return f"write the tag as ({digits[:4]},{digits[4:]}) (no spaces) or {digits}"
    return None


# ------------------------------------------------------------------------------------------------
# public API
# ------------------------------------------------------------------------------------------------


def parse_recipe_with_diagnostics(
    text: str, name: str = "<string>", *, strict: bool = True, functions: Iterable[str] = ()
) -> tuple[Recipe | None, list[Diagnostic]]:
    """Parse and check recipe text; return the recipe (None on errors) and every diagnostic.

    Parameters
    ----------
    text : str
        The recipe source.
    name : str
        Display name used in diagnostics (a path, or ``<string>``).
    strict : bool
        When False, problems that upstream silently tolerates at run time (unknown DICOM
        keywords, unknown built-in functions) are reported as warnings instead of errors.
    functions : iterable of str
        Extra ``deid_func:`` names to accept (besides the built-ins and the registry).

    Examples
    --------
    >>> text = "FORMAT dicom\\n%header\\nREMOVE PatientNam\\n"
    >>> recipe, diags = parse_recipe_with_diagnostics(text)
    >>> recipe is None, diags[0].code, diags[0].hint
    (True, 'E110', "did you mean 'PatientName'?")
    """
    from deid.recipe.checks import check_recipe, known_functions

    key = (text, name, strict, frozenset(known_functions(functions)))
    hit = _RESULTS.get(key)
    if hit is not None:
        return hit[0], list(hit[1])
    source = text.removeprefix("\ufeff")
    nodes, diags = _lex_lines(source, name)
    assembler = _Assembler(name)
    recipe: Recipe | None = assembler.run(nodes)
    diags.extend(assembler.diags)
    assert recipe is not None
    diags.extend(check_recipe(recipe, strict=strict, functions=functions))
    diags.sort(key=lambda d: (d.span.line, d.span.col, d.code))
    if any(d.severity == "error" for d in diags):
        recipe = None
    with _LOCK:
        _RESULTS[key] = (recipe, tuple(diags))
        while len(_RESULTS) > 64:
            _RESULTS.popitem(last=False)
    return recipe, diags


def parse_recipe(
    text: str, name: str = "<string>", *, strict: bool = True, functions: Iterable[str] = ()
) -> Recipe:
    """Parse and check recipe text; raise :class:`~deid.errors.RecipeError` on any error.

    Warnings do not raise; use :func:`parse_recipe_with_diagnostics` to see them.

    Examples
    --------
    >>> r = parse_recipe("FORMAT dicom\\n%header\\nJITTER StudyDate 5\\n")
    >>> r.header[0].value.text
    '5'
    >>> parse_recipe("FORMAT dicom\\n%header\\nREPLCE PatientName x\\n")
    Traceback (most recent call last):
    ...
    deid.errors.RecipeError: 1 error(s) in recipe
    <string>:3:1: error[E102]: unknown action 'REPLCE'
       3 | REPLCE PatientName x
         | ^^^^^^
    help: did you mean 'REPLACE'?
    """
    recipe, diags = parse_recipe_with_diagnostics(text, name, strict=strict, functions=functions)
    if recipe is None:
        raise RecipeError(diags, {name: text})
    return recipe


def _shipped_path(tag: str) -> Path | None:
    try:
        res = resources.files("deid._recipes").joinpath(f"deid.{tag}")
    except ModuleNotFoundError:  # pragma: no cover - broken install
        return None
    if res.is_file():
        return Path(str(res))
    return None


def read_recipe_source(path_or_tag: str | os.PathLike[str]) -> tuple[str, str]:
    """Resolve a path (file, or folder holding ``deid*`` files) or shipped tag; return
    ``(display_name, text)``.

    In a folder with several ``deid*`` files the first in name order is used, with a warning.

    Raises
    ------
    RecipeError
        When nothing can be loaded (fail closed: no silent default).

    Examples
    --------
    >>> name, text = read_recipe_source("dicom")
    >>> name.endswith("deid.dicom"), "%header" in text
    (True, True)
    """
    raw = os.fspath(path_or_tag)
    path = Path(raw).expanduser()
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.name.startswith("deid") and p.is_file())
        if not found:
            raise RecipeError(
                [
                    Diagnostic(
                        "E100",
                        "error",
                        f"folder {raw} holds no recipe file (named deid*)",
                        Span(raw, 0, 0, 0, 0),
                        "name the recipe file, or put a deid.<name> file in the folder",
                    )
                ]
            )
        if len(found) > 1:  # upstream takes an arbitrary one; deid the first in name order
            warnings.warn(
                f"folder {raw} holds several recipe files ({', '.join(p.name for p in found)}); "
                f"using {found[0].name}",
                UserWarning,
                stacklevel=2,
            )
        path = found[0]
    elif not path.is_file():
        tag = raw.removeprefix("deid.")
        shipped = _shipped_path(tag) if tag and os.sep not in tag else None
        if shipped is None:
            guess = suggest(tag, SHIPPED_TAGS, cutoff=0.6)
            hint = (
                f"did you mean '{guess}'?" if guess else f"shipped tags: {', '.join(SHIPPED_TAGS)}"
            )
            raise RecipeError(
                [
                    Diagnostic(
                        "E100",
                        "error",
                        f"cannot load recipe '{raw}': no such file or shipped tag",
                        Span(raw, 0, 0, 0, 0),
                        hint,
                    )
                ]
            )
        path = shipped
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RecipeError(
            [
                Diagnostic(
                    "E100",
                    "error",
                    f"cannot read recipe {path}: {exc}",
                    Span(str(path), 0, 0, 0, 0),
                )
            ]
        ) from exc
    return str(path), text


def load_recipe(path_or_tag: str | os.PathLike[str], *, strict: bool = True) -> Recipe:
    """Load a recipe from a file, a folder holding one ``deid*`` file, or a shipped tag.

    Examples
    --------
    >>> r = load_recipe("dicom")
    >>> len(r.header) > 60 and [g.name for g in r.filters]
    ['whitelist', 'graylist', 'blacklist']
    """
    name, text = read_recipe_source(path_or_tag)
    return parse_recipe(text, name, strict=strict)


def stack(recipes: Iterable[Recipe]) -> Recipe:
    """Concatenate recipes in order (header actions first-to-last, groups merged by name).

    Unlike upstream's combination, later ``%values``/``%fields``/``%labels`` are kept, and a
    ``%filter`` group of the same name gets the later labels appended.

    Examples
    --------
    >>> a = parse_recipe("FORMAT dicom\\n%header\\nREMOVE PatientName\\n")
    >>> b = parse_recipe("FORMAT dicom\\n%header\\nBLANK PatientID\\n")
    >>> [x.action for x in stack([a, b]).header]
    ['REMOVE', 'BLANK']
    """
    header: list[Action] = []
    labels: list[Action] = []
    filters: dict[str, FilterGroup] = {}
    groups: dict[tuple[str, str], Group] = {}
    sources: list[str] = []
    recipes_list = list(recipes)
    for r in recipes_list:
        header.extend(dataclasses.replace(a, index=len(header) + i) for i, a in enumerate(r.header))
        labels.extend(dataclasses.replace(a, index=len(labels) + i) for i, a in enumerate(r.labels))
        for fg in r.filters:
            old = filters.get(fg.name)
            filters[fg.name] = (
                fg if old is None else dataclasses.replace(old, labels=old.labels + fg.labels)
            )
        for g in r.values + r.fields:
            old_g = groups.get((g.kind, g.name))
            groups[(g.kind, g.name)] = (
                g if old_g is None else dataclasses.replace(old_g, lines=old_g.lines + g.lines)
            )
        sources.extend(r.sources)
    sections: list[str] = []
    for r in recipes_list:
        sections.extend(k for k in r.sections if k not in sections)
    return Recipe(
        "dicom",
        tuple(header),
        tuple(labels),
        tuple(filters.values()),
        tuple(g for g in groups.values() if g.kind == "values"),
        tuple(g for g in groups.values() if g.kind == "fields"),
        tuple(sources),
        tuple(sections),
    )
