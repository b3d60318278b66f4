"""The recipe abstract syntax tree: frozen dataclasses, each carrying a source span.

This module is the contract between the recipe language (``deid.recipe``) and everything that
consumes a recipe (the engine, the pixel filters, the compatibility facades). It holds shape
only: no parsing, no checking, no DICOM dictionary look-ups.

A :class:`Recipe` is produced by :func:`deid.recipe.parser.parse_recipe` and can also be built
from upstream's dictionary layout (``DeidRecipe.deid``) by
:func:`deid.recipe.compat.recipe_from_dict`, so code that edits ``recipe.deid["header"]`` keeps
working.

Examples
--------
>>> span = Span("site.dicom", 3, 1, 3, 20)
>>> field = FieldExpr(kind="keyword", text="PatientName", span=span, arg="PatientName")
>>> Action("REMOVE", field, None, span).action
'REMOVE'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "ACTIONS",
    "COORDINATE_KEYWORDS",
    "EXPANDERS",
    "FILTERS",
    "HEADER_ACTIONS",
    "NOVALUE_FILTERS",
    "NO_SPAN",
    "SECTIONS",
    "VALUE_FILTERS",
    "Action",
    "Coordinate",
    "CriteriaLine",
    "Criterion",
    "FieldExpr",
    "FieldKind",
    "FilterGroup",
    "Group",
    "GroupLine",
    "Label",
    "Recipe",
    "Span",
    "Value",
    "ValueKind",
]

#: Action keywords, in upstream's order (``deid.config.actions``).
ACTIONS: tuple[str, ...] = ("ADD", "BLANK", "JITTER", "KEEP", "REPLACE", "REMOVE", "LABEL")
#: Actions allowed in ``%header`` / ``%labels`` (LABEL only opens blocks in ``%filter``).
HEADER_ACTIONS: tuple[str, ...] = ("ADD", "BLANK", "JITTER", "KEEP", "REPLACE", "REMOVE")
#: Section kinds (``deid.config.sections``).
SECTIONS: tuple[str, ...] = ("header", "labels", "filter", "values", "fields")
#: Filter criteria taking a value.
VALUE_FILTERS: tuple[str, ...] = ("contains", "notcontains", "equals", "notequals")
#: Filter criteria without a value.
NOVALUE_FILTERS: tuple[str, ...] = ("missing", "present", "empty")
#: All filter criteria (``deid.config.standards.filters``).
FILTERS: tuple[str, ...] = VALUE_FILTERS + NOVALUE_FILTERS
#: Coordinate keywords inside a LABEL block.
COORDINATE_KEYWORDS: tuple[str, ...] = (
    "coordinates",
    "keepcoordinates",
    "ctpcoordinates",
    "ctpkeepcoordinates",
)
#: Regex expanders of a field expression (``<expander>:<regex>``).
EXPANDERS: tuple[str, ...] = ("contains", "startswith", "endswith", "except")


@dataclass(frozen=True, slots=True)
class Span:
    """A region of a recipe source: 1-based line and column, end column exclusive.

    Parameters
    ----------
    file : str
        Display name of the source (a path, ``<string>`` or ``<dict>``).
    line, col : int
        Start position (1-based).
    end_line, end_col : int
        End position (1-based, ``end_col`` exclusive).
    """

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


#: The span of nodes made in code (not read from a file).
NO_SPAN = Span("<code>", 0, 0, 0, 0)

FieldKind = Literal[
    "all",  # every element
    "keyword",  # a DICOM keyword, or element name (arg = the text)
    "tag",  # (gggg,eeee) or gggggggg; tag = the number
    "tag_mask",  # (50xx,0010): tag = value with x digits 0, mask = bits that must match
    "private",  # (gggg,"creator",ee) / gggg,"creator",ee; group, creator, offset
    "nested",  # a path with __ (uid form (g,e)__0__(g,e) or name form A__B); arg = text
    "contains",  # arg = regex
    "startswith",
    "endswith",
    "except",
    "select_vr",  # arg = the two-letter VR (upper-case)
    "select_group",  # group = the group number
    "values",  # arg = %values group name
    "fields",  # arg = %fields group name
]


@dataclass(frozen=True, slots=True)
class FieldExpr:
    """A field expression: the second token of an action, FIELD/SPLIT line, or criterion.

    Attributes
    ----------
    kind : str
        One of :data:`FieldKind`.
    text : str
        The expression exactly as written (used by the formatter and upstream's dict form).
    span : Span
        Where it was written.
    arg : str or None
        Keyword, regex, VR, group name or nested path, depending on ``kind``.
    tag : int or None
        Tag number for ``tag``; for ``private`` the group is in ``group``.
    group : int or None
        Group number for ``private`` and ``select_group``.
    creator : str or None
        Private creator for ``private``.
    offset : int or None
        Element offset (low byte, 0x00-0xFF) for ``private``.
    mask : int or None
        For ``tag_mask``: a tag number ``t`` matches when ``t & mask == tag``.
    """

    kind: str
    text: str
    span: Span = field(compare=False)
    arg: str | None = None
    tag: int | None = None
    group: int | None = None
    creator: str | None = None
    offset: int | None = None
    mask: int | None = None


ValueKind = Literal["literal", "var", "func", "deid_func"]


@dataclass(frozen=True, slots=True)
class Value:
    """The value of an action (third token onwards).

    Attributes
    ----------
    kind : str
        ``literal``, ``var``, ``func`` or ``deid_func``.
    text : str
        The value as upstream stores it (tokens joined by one space, cut at ``#``).
    span : Span
        Where it was written.
    name : str or None
        Variable or function name for ``var``/``func``/``deid_func``.
    args : tuple of (str, str)
        ``k=v`` pairs of a ``deid_func`` call, raw strings, in order.
    """

    kind: str
    text: str
    span: Span = field(compare=False)
    name: str | None = None
    args: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Action:
    """One header action line: ``ACTION field [value]``.

    Attributes
    ----------
    action : str
        ``ADD``, ``BLANK``, ``JITTER``, ``KEEP``, ``REPLACE`` or ``REMOVE``.
    field : FieldExpr
        The target expression.
    value : Value or None
        Value (required for ADD/REPLACE/JITTER, optional condition for REMOVE).
    span : Span
        The whole line.
    section : str
        ``header`` or ``labels``.
    index : int
        Position among the section's actions (0-based; file order).
    """

    action: str
    field: FieldExpr
    value: Value | None
    span: Span = field(compare=False)
    section: str = "header"
    index: int = 0


@dataclass(frozen=True, slots=True)
class GroupLine:
    """A ``FIELD`` or ``SPLIT`` line of a ``%values`` / ``%fields`` group.

    Attributes
    ----------
    action : str
        ``FIELD`` or ``SPLIT``.
    field : FieldExpr
        The expression whose elements feed the group.
    value : str or None
        Raw remainder of the line as upstream stores it (e.g. ``by="^";minlength=4``).
    by : str or None
        SPLIT separator (quotes removed); None means a single space.
    minlength : int or None
        SPLIT minimum piece length; None means 1.
    span : Span
        The whole line.
    """

    action: str
    field: FieldExpr
    value: str | None
    span: Span = field(compare=False)
    by: str | None = None
    minlength: int | None = None


@dataclass(frozen=True, slots=True)
class Group:
    """A named ``%values`` or ``%fields`` section (repeated sections are merged)."""

    kind: str  # "values" | "fields"
    name: str
    lines: tuple[GroupLine, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class Criterion:
    """One filter test: ``<filter> <field> [<value>]``.

    ``field`` is a keyword or a ``0xGGGGEEEE`` tag string, as written.
    """

    filter: str  # one of FILTERS, lower-case
    field: str
    value: str | None
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class CriteriaLine:
    """One criteria line of a LABEL block.

    Attributes
    ----------
    operator : str or None
        Leading ``+`` (``"and"``) or ``||`` (``"or"``), None when absent.
    criteria : tuple of Criterion
        The tests on the line, left to right.
    inner_operators : tuple of str
        ``"and"``/``"or"`` between consecutive criteria (len = len(criteria) - 1).
    """

    operator: str | None
    criteria: tuple[Criterion, ...]
    inner_operators: tuple[str, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class Coordinate:
    """A coordinates line of a LABEL block.

    Attributes
    ----------
    keyword : str
        ``coordinates``, ``keepcoordinates``, ``ctpcoordinates`` or ``ctpkeepcoordinates``.
    keep : bool
        True for the ``keep`` forms (mask value 1), False otherwise (mask value 0).
    kind : str
        ``box``, ``all`` or ``from``.
    box : tuple of int or None
        ``(x0, y0, x1, y1)`` end-exclusive; ctp forms already converted from x,y,w,h.
    from_field : str or None
        Keyword for ``from:<Keyword>``.
    text : str
        The spec as written (after the keyword).
    """

    keyword: str
    keep: bool
    kind: str
    span: Span = field(compare=False)
    box: tuple[int, int, int, int] | None = None
    from_field: str | None = None
    text: str = ""


@dataclass(frozen=True, slots=True)
class Label:
    """A ``LABEL`` block inside a ``%filter`` group."""

    name: str
    lines: tuple[CriteriaLine, ...]
    coordinates: tuple[Coordinate, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class FilterGroup:
    """A named ``%filter`` section (whitelist, graylist, blacklist, ...)."""

    name: str
    labels: tuple[Label, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class Recipe:
    """A whole parsed recipe (or several stacked ones).

    Attributes
    ----------
    format : str
        Always ``dicom``.
    header : tuple of Action
        ``%header`` actions in file order.
    labels : tuple of Action
        ``%labels`` lines (metadata; never executed).
    filters : tuple of FilterGroup
        ``%filter`` groups in file order.
    values : tuple of Group
        ``%values`` groups.
    fields : tuple of Group
        ``%fields`` groups.
    sources : tuple of str
        Display names of the files the recipe came from.
    sections : tuple of str
        Section kinds in order of first appearance in the source (``header``, ``filter`` ...);
        lets the upstream dict form keep exactly the keys upstream's loader creates. Empty for
        recipes built in code (then every non-empty section is present).
    """

    format: str = "dicom"
    header: tuple[Action, ...] = ()
    labels: tuple[Action, ...] = ()
    filters: tuple[FilterGroup, ...] = ()
    values: tuple[Group, ...] = ()
    fields: tuple[Group, ...] = ()
    sources: tuple[str, ...] = field(default=(), compare=False)
    sections: tuple[str, ...] = field(default=(), compare=False)

    def values_group(self, name: str) -> Group | None:
        """Return the ``%values`` group called ``name``, or None."""
        return next((g for g in self.values if g.name == name), None)

    def fields_group(self, name: str) -> Group | None:
        """Return the ``%fields`` group called ``name``, or None."""
        return next((g for g in self.fields if g.name == name), None)
