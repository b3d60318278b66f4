"""Upstream's dictionary layout (``DeidRecipe.deid``) to and from the recipe AST.

:func:`recipe_to_dict` yields exactly what pydicom/deid's loader builds for the same file
(quotes kept in values, LABEL names with their ``LABEL`` prefix, filter values packed without
the value-less criteria, ``[mask, spec]`` coordinates with ctp forms converted).
:func:`recipe_from_dict` reads such a dict back (also hand-edited ones), so edits to
``recipe.deid["header"]`` are honoured.

Examples
--------
>>> from deid.recipe.parser import parse_recipe
>>> d = recipe_to_dict(parse_recipe('FORMAT dicom\\n%header\\nREPLACE PatientName "J D"\\n'))
>>> d["header"]
[{'action': 'REPLACE', 'field': 'PatientName', 'value': '"J D"'}]
>>> recipe_from_dict(d).header[0].value.text
'"J D"'
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from deid.recipe.ast import (
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

__all__ = ["coordinate_spec", "label_dict_name", "recipe_from_dict", "recipe_to_dict"]

_ORDER = ("header", "labels", "filter", "values", "fields")


def label_dict_name(name: str) -> str:
    """The name upstream stores for ``LABEL <name>`` (it keeps the ``LABEL`` prefix).

    Examples
    --------
    >>> label_dict_name("CT Dose")
    'LABEL CT Dose'
    """
    return ("LABEL " + name if name else "LABEL").replace("label", "", 1).strip()


def coordinate_spec(coord: Coordinate) -> str:
    """The ``spec`` string upstream stores for a coordinates line.

    Examples
    --------
    >>> from deid.recipe.ast import NO_SPAN
    >>> coordinate_spec(Coordinate("ctpcoordinates", False, "box", NO_SPAN, box=(0, 0, 10, 5),
    ...                            text="0,0,10,5"))
    '0,0,10,5'
    """
    if coord.keyword.startswith("ctp") and coord.kind == "box" and coord.box is not None:
        return ",".join(str(n) for n in coord.box)
    return coord.text


def _action_dict(a: Action) -> dict[str, Any]:
    d: dict[str, Any] = {"action": a.action, "field": a.field.text}
    if a.value is not None:
        d["value"] = a.value.text
    return d


def _group_dict(line: GroupLine) -> dict[str, Any]:
    d: dict[str, Any] = {"action": line.action, "field": line.field.text}
    if line.value is not None:
        d["value"] = line.value
    return d


def _criteria_dict(cl: CriteriaLine) -> dict[str, Any]:
    return {
        "action": [c.filter for c in cl.criteria],
        "field": [c.field for c in cl.criteria],
        "value": [c.value for c in cl.criteria if c.filter in VALUE_FILTERS],
        "operator": cl.operator,
        "InnerOperators": list(cl.inner_operators),
    }


def recipe_to_dict(recipe: Recipe) -> OrderedDict[str, Any]:
    """Return upstream's ``DeidRecipe.deid`` layout for ``recipe``.

    Examples
    --------
    >>> from deid.recipe.parser import parse_recipe
    >>> d = recipe_to_dict(parse_recipe("FORMAT dicom\\n%values v\\nSPLIT PatientID by=\\"^\\"\\n"))
    >>> d["values"]["v"]
    [{'action': 'SPLIT', 'field': 'PatientID', 'value': 'by="^"'}]
    """
    out: OrderedDict[str, Any] = OrderedDict(format=recipe.format)
    present = list(recipe.sections)
    contents = (recipe.header, recipe.labels, recipe.filters, recipe.values, recipe.fields)
    # sections with content are always present (recipes built in code record no sections)
    present += [k for k, v in zip(_ORDER, contents) if v and k not in present]
    for kind in present:
        if kind == "header":
            out["header"] = [_action_dict(a) for a in recipe.header]
        elif kind == "labels":
            out["labels"] = [_action_dict(a) for a in recipe.labels]
        elif kind == "filter":
            out["filter"] = OrderedDict(
                (
                    fg.name,
                    [
                        {
                            "name": label_dict_name(lbl.name),
                            "filters": [_criteria_dict(cl) for cl in lbl.lines],
                            "coordinates": [
                                [1 if c.keep else 0, coordinate_spec(c)] for c in lbl.coordinates
                            ],
                        }
                        for lbl in fg.labels
                    ],
                )
                for fg in recipe.filters
            )
        elif kind in ("values", "fields"):
            groups = recipe.values if kind == "values" else recipe.fields
            out[kind] = OrderedDict((g.name, [_group_dict(x) for x in g.lines]) for g in groups)
    return out


# ------------------------------------------------------------------------------------------------


def _span(where: str) -> Span:
    return Span(where, 0, 0, 0, 0)


def _field(text: Any, span: Span) -> FieldExpr:
    from deid.recipe.parser import _field as shape

    if not isinstance(text, str):
        return FieldExpr("invalid", str(text), span, arg=f"field {text!r} is not a string")
    return shape(text.strip(), span)


def _value(text: Any, span: Span) -> Value | None:
    from deid.recipe.parser import _value as shape

    if text is None:
        return None
    text = str(text)
    v = shape(text, span)
    return Value("literal", text, span) if isinstance(v, str) else v


def _from_ctp(spec: str, keep: bool, span: Span) -> Coordinate:
    s = str(spec).strip()
    keyword = "keepcoordinates" if keep else "coordinates"
    if s.lower() == "all":
        return Coordinate(keyword, keep, "all", span, text=s)
    if s.startswith("from:"):
        return Coordinate(keyword, keep, "from", span, from_field=s[5:].strip(), text=s)
    try:
        a, b, c, d = (int(p) for p in s.split(","))
        return Coordinate(keyword, keep, "box", span, box=(a, b, c, d), text=s)
    except ValueError:
        return Coordinate(keyword, keep, "invalid", span, text=s)


def _actions(items: Any, section: str, original: tuple[Action, ...]) -> tuple[Action, ...]:
    known: dict[tuple[str, str, str | None], list[Action]] = {}
    for a in original:
        key = (a.action, a.field.text, None if a.value is None else a.value.text)
        known.setdefault(key, []).append(a)
    out: list[Action] = []
    for i, item in enumerate(items or []):
        where = f"recipe.deid['{section}'][{i}]"
        item = dict(item)
        act = str(item.get("action", ""))
        value = item.get("value")
        key = (act, str(item.get("field", "")), None if value is None else str(value))
        reuse = known.get(key)
        if reuse:
            a = reuse.pop(0)
            out.append(Action(a.action, a.field, a.value, a.span, section, i))
            continue
        span = _span(where)
        out.append(
            Action(act, _field(item.get("field", ""), span), _value(value, span), span, section, i)
        )
    return tuple(out)


def recipe_from_dict(d: Mapping[str, Any] | None, original: Recipe | None = None) -> Recipe:
    """Build a :class:`Recipe` from upstream's dict layout (the inverse of :func:`recipe_to_dict`).

    Parameters
    ----------
    d : mapping
        ``DeidRecipe.deid``: keys ``format``, ``header``, ``labels``, ``filter``, ``values``,
        ``fields`` (all optional).
    original : Recipe, optional
        The recipe the dict was made from; unchanged actions keep their source spans.

    The result is not checked; run :func:`deid.recipe.checks.check_recipe` on it.

    Examples
    --------
    >>> r = recipe_from_dict({"format": "dicom", "header": [{"action": "BLANK",
    ...                       "field": "PatientID"}]})
    >>> r.header[0].field.kind
    'keyword'
    """
    d = d or {}
    orig = original or Recipe()
    header = _actions(d.get("header"), "header", orig.header)
    labels = _actions(d.get("labels"), "labels", orig.labels)
    filters: list[FilterGroup] = []
    for gname, lbls in (d.get("filter") or {}).items():
        built: list[Label] = []
        for j, lbl in enumerate(lbls or []):
            span = _span(f"recipe.deid['filter'][{gname!r}][{j}]")
            name = str(lbl.get("name", ""))
            if name.startswith("LABEL"):
                name = name[5:].strip()
            lines: list[CriteriaLine] = []
            for member in lbl.get("filters", []) or []:
                acts = list(member.get("action", []) or [])
                flds = list(member.get("field", []) or [])
                vals = list(member.get("value", []) or [])
                crits: list[Criterion] = []
                for k, filt in enumerate(acts):
                    val = vals.pop(0) if str(filt).lower() in VALUE_FILTERS and vals else None
                    fld = flds[k] if k < len(flds) else ""
                    crits.append(Criterion(str(filt).lower(), str(fld), val, span))
                lines.append(
                    CriteriaLine(
                        member.get("operator"),
                        tuple(crits),
                        tuple(member.get("InnerOperators", []) or []),
                        span,
                    )
                )
            coords = tuple(
                _from_ctp(spec, bool(mask), span) for mask, spec in (lbl.get("coordinates") or [])
            )
            built.append(Label(name, tuple(lines), coords, span))
        filters.append(
            FilterGroup(str(gname), tuple(built), _span(f"recipe.deid['filter'][{gname!r}]"))
        )
    groups: dict[str, list[Group]] = {"values": [], "fields": []}
    for kind in ("values", "fields"):
        for gname, items in (d.get(kind) or {}).items():
            glines: list[GroupLine] = []
            for k, item in enumerate(items or []):
                span = _span(f"recipe.deid[{kind!r}][{gname!r}][{k}]")
                value = item.get("value")
                by, minlength = (
                    _split_params(value) if item.get("action") == "SPLIT" else (None, None)
                )
                glines.append(
                    GroupLine(
                        str(item.get("action", "")),
                        _field(item.get("field", ""), span),
                        None if value is None else str(value),
                        span,
                        by,
                        minlength,
                    )
                )
            groups[kind].append(
                Group(kind, str(gname), tuple(glines), _span(f"recipe.deid[{kind!r}]"))
            )
    sections = tuple(k for k in d if k in _ORDER)
    return Recipe(
        str(d.get("format", "dicom") or "dicom"),
        header,
        labels,
        tuple(filters),
        tuple(groups["values"]),
        tuple(groups["fields"]),
        ("<dict>",),
        sections,
    )


def _split_params(value: Any) -> tuple[str | None, int | None]:
    by: str | None = None
    minlength: int | None = None
    if value is None:
        return by, minlength
    for pair in str(value).split(";"):
        key, _, val = pair.strip().partition("=")
        val = val.strip()
        if len(val) >= 2 and val[0] == val[-1] and val[0] in "\"'":
            val = val[1:-1]
        if key.strip() in ("by", "splitval"):
            by = val
        elif key.strip() == "minlength" and val.isdigit():
            minlength = int(val)
    return by, minlength
