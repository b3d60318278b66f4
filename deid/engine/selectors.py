"""Field selectors: a recipe field expression compiled into something cheap to test.

A :class:`Selector` is a small picklable record. Selectors that depend only on the element's tag,
its path of names, its private creator and its VR (every form except ``values:``, ``fields:`` and
a nested uid with item indexes) are decided by :func:`static_match` once per distinct
:class:`ElementKey`; the plan memoises the answer. The candidate strings are upstream's
(``deid-behaviour.md`` 3.3): nested name, ``(GGGG,EEEE)``, ``GGGGEEEE``, element name, keyword and,
for private elements with a creator, ``(GGGG,"creator",EE)`` and ``GGGG,"creator",EE``.

Examples
--------
>>> from deid.recipe.ast import FieldExpr, NO_SPAN
>>> sel = compile_selector(FieldExpr("endswith", "endswith:Date", NO_SPAN, arg="Date"))
>>> static_match(sel, ElementKey(None, 0x00080020, None, "DA"))
True
>>> static_match(sel, ElementKey(None, 0x00080030, None, "TM"))
False
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from pydicom.datadict import DicomDictionary, keyword_dict

from deid.engine.walk import element_name, keyword_of, stripped_tag, tag_string
from deid.errors import PlanError
from deid.recipe.ast import FieldExpr

__all__ = [
    "DYNAMIC_KINDS",
    "ElementKey",
    "Selector",
    "candidates",
    "compile_selector",
    "static_match",
]

#: Selector kinds decided per file (not memoisable).
DYNAMIC_KINDS = frozenset({"values", "fields", "nested_uid"})
_NESTED_UID = re.compile(
    r"^\([0-9a-f]{4},[0-9a-f]{4}\)(__\d+__\([0-9a-f]{4},[0-9a-f]{4}\))+$", re.IGNORECASE
)


class ElementKey(NamedTuple):
    """What a static selector may look at.

    ``prefix`` is the parent's name form (None at top level, ``""`` inside a private sequence).
    """

    prefix: str | None
    tag: int
    creator: str | None
    vr: str | None


@dataclass(frozen=True)
class Selector:
    """A compiled field expression.

    Attributes
    ----------
    kind : str
        ``all``, ``tags``, ``mask``, ``exact``, ``regex``, ``vr``, ``group``, ``private``,
        ``values``, ``fields``, ``nested_uid``, ``add`` or ``none``.
    tags : frozenset of int
        Tag numbers for ``tags``/``add``; the leaf tag for ``nested_uid``.
    text : str or None
        Lower-cased text for ``exact``/``nested_uid``; group name for ``values``/``fields``.
    pattern : re.Pattern or None
        For ``regex``.
    negate : bool
        ``except:`` (matches when the pattern matches no candidate).
    value : int or str or None
        Mask/group number/VR/offset, depending on ``kind``.
    tag : int or None
        For ``mask`` the value, for ``private`` the group.
    creator : str or None
        Lower-cased creator for ``private``.
    """

    kind: str
    tags: frozenset[int] = frozenset()
    text: str | None = None
    pattern: re.Pattern[str] | None = None
    negate: bool = False
    value: Any = None
    tag: int | None = None
    creator: str | None = None

    @property
    def dynamic(self) -> bool:
        """True when the selector must be evaluated for every file."""
        return self.kind in DYNAMIC_KINDS


@lru_cache(maxsize=1)
def _name_table() -> dict[str, tuple[int, ...]]:
    """Lower-cased keyword and element name -> tags (standard dictionary, no repeaters)."""
    table: dict[str, list[int]] = {}
    for tag, entry in DicomDictionary.items():
        for text in (entry[4], entry[2]):
            if text:
                table.setdefault(text.lower(), []).append(tag)
    return {k: tuple(sorted(set(v))) for k, v in table.items()}


def _regex(expr: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(expr.lower(), re.IGNORECASE)
    except re.error as exc:
        raise PlanError(f"{where}: invalid regular expression {expr!r}: {exc}") from None


def compile_selector(
    expr: FieldExpr, *, for_add: bool = False, where: str | None = None
) -> Selector:
    """Compile a :class:`~deid.recipe.ast.FieldExpr`.

    Parameters
    ----------
    expr : FieldExpr
        The expression.
    for_add : bool
        ADD targets: only a keyword or a tag number (top-level element) is allowed.
    where : str, optional
        ``file:line`` for messages (default: the expression's span).

    Raises
    ------
    PlanError
        Invalid regular expression, or an ADD target that is not a single tag.

    Examples
    --------
    >>> from deid.recipe.ast import FieldExpr, NO_SPAN
    >>> compile_selector(FieldExpr("keyword", "PatientName", NO_SPAN, arg="PatientName")).kind
    'tags'
    """
    if where is None:
        where = f"{expr.span.file}:{expr.span.line}"
    kind = expr.kind
    arg = expr.arg if expr.arg is not None else expr.text
    if for_add:
        if kind == "tag" and expr.tag is not None:
            return Selector("add", frozenset({expr.tag}))
        if kind == "keyword":
            tag = keyword_dict.get(arg)
            if tag is None:
                hits = _name_table().get(arg.lower(), ())
                tag = hits[0] if len(hits) == 1 else None
            if tag is None and re.fullmatch(r"[0-9a-fA-F]{8}", arg):
                tag = int(arg, 16)
            if tag is not None:
                return Selector("add", frozenset({tag}))
        raise PlanError(
            f"{where}: ADD needs a DICOM keyword or a tag (gggg,eeee)/ggggeeee, got {expr.text!r}"
        )
    if kind == "all":
        return Selector("all")
    if kind == "tag":
        if expr.tag is None:
            raise PlanError(f"{where}: tag expression {expr.text!r} has no tag number")
        return Selector("tags", frozenset({expr.tag}))
    if kind == "tag_mask":
        return Selector("mask", tag=expr.tag, value=expr.mask)
    if kind == "keyword":
        if re.fullmatch(r"[0-9a-fA-F]{8}", arg):
            return Selector("tags", frozenset({int(arg, 16)}))
        named = _name_table().get(arg.lower())
        if named:
            return Selector("tags", frozenset(named), text=arg.lower())
        return Selector("exact", text=arg.lower())
    if kind == "private":
        return Selector(
            "private", tag=expr.group, creator=(expr.creator or "").lower(), value=expr.offset
        )
    if kind == "nested":
        if _NESTED_UID.match(arg):
            leaf = int(arg[-10:-1].replace(",", ""), 16)
            return Selector("nested_uid", frozenset({leaf}), text=arg.lower())
        return Selector("exact", text=arg.lower())
    if kind in ("contains", "except"):
        return Selector("regex", pattern=_regex(arg, where), negate=kind == "except")
    if kind == "startswith":
        return Selector("regex", pattern=_regex(f"^({arg})", where))
    if kind == "endswith":
        return Selector("regex", pattern=_regex(f"({arg})$", where))
    if kind == "select_vr":
        return Selector("vr", value=(arg or "")[:2].upper())
    if kind == "select_group":
        return Selector("group", value=expr.group)
    if kind in ("values", "fields"):
        return Selector(kind, text=arg)
    return Selector("none")


@lru_cache(maxsize=65536)
def candidates(key: ElementKey) -> tuple[str, ...]:
    """Upstream's candidate strings for an element (see the module docstring).

    Examples
    --------
    >>> candidates(ElementKey("ReferencedStudySequence", 0x00081150, None, "UI"))[:3]
    ('ReferencedStudySequence__ReferencedSOPClassUID', '(0008,1150)', '00081150')
    """
    kw = keyword_of(key.tag)
    name = kw if key.prefix is None else f"{key.prefix}__{kw}"
    out = [name, tag_string(key.tag), stripped_tag(key.tag), element_name(key.tag, key.creator), kw]
    if key.creator:
        group, low = key.tag >> 16, key.tag & 0xFF
        out.append(f'({group:04X},"{key.creator}",{low:02X})')
        out.append(f'{group:04X},"{key.creator}",{low:02X}')
    return tuple(out)


def static_match(sel: Selector, key: ElementKey) -> bool:
    """Decide a non-dynamic selector for an element (dynamic ones return False).

    Examples
    --------
    >>> sel = Selector("private", tag=0x0033, creator="acme 1.0", value=0x1E)
    >>> static_match(sel, ElementKey(None, 0x0033101E, "ACME 1.0", "LO"))
    True
    """
    kind = sel.kind
    if kind == "all":
        return True
    if kind == "tags":
        return key.tag in sel.tags
    if kind == "add":
        return key.prefix is None and key.tag in sel.tags
    if kind == "mask":
        return bool((key.tag & sel.value) == sel.tag)
    if kind == "exact":
        return any(c.lower() == sel.text for c in candidates(key))
    if kind == "regex":
        assert sel.pattern is not None
        hit = any(sel.pattern.search(c) for c in candidates(key))
        return not hit if sel.negate else hit
    if kind == "vr":
        return key.vr is not None and key.vr[:2].upper() == sel.value
    if kind == "group":
        return bool((key.tag >> 16) == sel.value)
    if kind == "private":
        return (
            key.creator is not None
            and (key.tag >> 16) == sel.tag
            and (key.tag & 0xFF) == sel.value
            and (key.tag & 0xFFFF) >= 0x1000
            and key.creator.lower() == sel.creator
        )
    return False
