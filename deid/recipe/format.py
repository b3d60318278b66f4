"""Print a :class:`~deid.recipe.ast.Recipe` back as recipe text.

The output is canonical (two-space indented LABEL members, one blank line between sections) and
re-parses to an equal recipe: ``parse_recipe(format_recipe(r)) == r``.

Examples
--------
>>> from deid.recipe.parser import parse_recipe
>>> print(format_recipe(parse_recipe("FORMAT dicom\\n%header\\nREMOVE   PatientName\\n")), end="")
FORMAT dicom
<BLANKLINE>
%header
REMOVE PatientName
"""

from __future__ import annotations

from deid.recipe.ast import Action, CriteriaLine, Recipe

__all__ = ["format_recipe"]

_OPS = {"and": "+", "or": "||"}
_ATTR = {
    "filter": "filters",
    "values": "values",
    "fields": "fields",
    "header": "header",
    "labels": "labels",
}


def _value_text(text: str) -> str:
    # upstream values keep one trailing space when a comment followed; '#' reproduces it
    return text[:-1] + " #" if text.endswith(" ") else text


def _action(a: Action) -> str:
    line = f"{a.action} {a.field.text}"
    if a.value is not None and a.value.text != "":
        line += " " + _value_text(a.value.text)
    return line


def _criteria(cl: CriteriaLine) -> str:
    parts: list[str] = []
    if cl.operator:
        parts.append(_OPS.get(cl.operator, cl.operator))
    for i, c in enumerate(cl.criteria):
        if i:
            op = cl.inner_operators[i - 1] if i - 1 < len(cl.inner_operators) else "and"
            parts.append(_OPS.get(op, op))
        parts.append(c.filter)
        parts.append(c.field)
        if c.value is not None:
            parts.append(c.value)
    return " ".join(parts)


def format_recipe(recipe: Recipe) -> str:
    """Return recipe text for ``recipe``, sections in the order they first appeared.

    Examples
    --------
    >>> from deid.recipe.parser import parse_recipe
    >>> r = parse_recipe("FORMAT dicom\\n%filter f\\nLABEL x # c\\n contains Modality CT\\n")
    >>> parse_recipe(format_recipe(r)) == r
    True
    """
    out: list[str] = [f"FORMAT {recipe.format}"]
    order = list(recipe.sections)
    for kind in ("filter", "values", "fields", "header", "labels"):
        if kind not in order and getattr(recipe, _ATTR[kind]):
            order.append(kind)
    for kind in order:
        if kind == "filter":
            for fg in recipe.filters:
                out += ["", f"%filter {fg.name}"]
                for lbl in fg.labels:
                    out += ["", f"LABEL {lbl.name}".rstrip()]
                    out += ["  " + _criteria(cl) for cl in lbl.lines]
                    out += [f"  {c.keyword} {c.text}" for c in lbl.coordinates]
        elif kind in ("values", "fields"):
            for group in getattr(recipe, kind):
                out += ["", f"%{group.kind} {group.name}"]
                for gl in group.lines:
                    line = f"{gl.action} {gl.field.text}"
                    if gl.value is not None and gl.value != "":
                        line += " " + _value_text(gl.value)
                    out.append(line)
        else:
            out += ["", f"%{kind}"]
            out += [_action(a) for a in getattr(recipe, kind)]
    return "\n".join(out) + "\n"
