"""Compose the Basic Profile and its options into recipe rules (one engine, no second one).

Each row of Table E.1-1 gets an *effective code*: the Basic Profile's code unless a selected
option gives one for the row (options override the Basic Profile, E.3). When two selected
options both name the row, ``K`` wins over ``C`` (the option that retains more). The effective
code is then turned into a recipe action by a documented policy (``docs/pages/profiles/``):

====================  =========================================================================
code                  rule
====================  =========================================================================
``X``                 ``REMOVE``
``Z``                 ``BLANK`` (identifiers that link instances get a keyed pseudonym instead)
``D``                 ``REPLACE`` with a VR-valid dummy; identifiers and names get keyed
                      pseudonyms, UIDs keyed UIDs; a sequence is emptied
``U``                 ``REPLACE`` with a keyed ``2.25.`` UID
``K``                 no rule: the attribute is kept, a sequence's items are still processed
``C``                 option-specific cleaning (date shift, descriptor cleaning, keyed AE ...)
``Z/D`` ``X/D``       resolved to ``D`` (present and non-identifying whatever the Type)
``X/Z/D``             resolved to ``D``
``X/Z``               resolved to ``Z`` (present, empty: valid for Type 2 and 3)
``X/Z/U*``            kept, items processed (their instance UIDs are U rows)
====================  =========================================================================

Examples
--------
>>> rules = effective_rules("basic", ["retain-uids"])
>>> by_tag = {r.row.tag: r for r in rules if r.row.kind == "tag"}
>>> by_tag[0x00080018].code, by_tag[0x00080018].action
('K', None)
>>> by_tag[0x00100010].action, by_tag[0x00100010].function
('REPLACE', 'ps315_name')
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from deid.errors import ProfileError
from deid.profiles.table import (
    DEFAULT_EDITION,
    OPTION_ALIASES,
    OPTION_IDS,
    Row,
    Table,
    format_tag,
    load_table,
)
from deid.recipe.ast import Action, FieldExpr, Recipe, Span, Value

__all__ = [
    "FUNCTION_NAMES",
    "KEYED_IDENTITY",
    "PROFILES",
    "UNKNOWN_PUBLIC_PATTERN",
    "EffectiveRule",
    "effective_code",
    "effective_rules",
    "normalize_options",
    "policy_rules",
    "private_mask_exprs",
    "rules_to_recipe",
]

#: Profile names accepted by :func:`effective_rules` (aliases -> canonical).
PROFILES: dict[str, str] = {
    "basic": "basic",
    "basic-profile": "basic",
    "basic_profile": "basic",
    "ps315": "basic",
    "ps3.15": "basic",
}

#: Names of the value functions the rules use (registered by deid.profiles.functions).
FUNCTION_NAMES = (
    "ps315_dummy",
    "ps315_uid",
    "ps315_pseudonym",
    "ps315_name",
    "ps315_shift",
    "ps315_clean_text",
    "ps315_private_unsafe",
)

#: Rows whose Z/D replacement must link instances: tag -> function.
KEYED_IDENTITY: dict[int, str] = {
    0x00100010: "ps315_name",  # Patient's Name
    0x00100020: "ps315_pseudonym",  # Patient ID
    0x00080050: "ps315_pseudonym",  # Accession Number
    0x00200010: "ps315_pseudonym",  # Study ID
}

#: Rows whose C (Clean Graphics) still removes: bitmaps and curves cannot be cleaned in the header.
_BITMAP_ROWS = frozenset({"60xx3000", "50xxxxxx"})

#: Policy source name (rules for attributes Table E.1-1 does not list).
POLICY_SOURCE = "deid policy (attributes not in Table E.1-1)"

#: ``except:`` pattern selecting public elements that neither pydicom's dictionary (standard and
#: repeating groups) nor any private dictionary names: such an element has no keyword and no
#: name, so none of its candidate strings (upstream's ``(gggg,eeee)``, ``ggggeeee``, an empty or
#: ``Parent__`` name) starts with a letter or ``[`` without an underscore after it.
UNKNOWN_PUBLIC_PATTERN = r"^(?![0-9a-f]{8}$)[a-z\[][^_]*$"

#: Free-text attributes of the overlay group that Table E.1-1 does not list (repeating group
#: 60xx): removed by the Basic Profile, cleaned under Clean Graphics.
_OVERLAY_TEXT = (
    (0x0022, "Overlay Description"),
    (0x0045, "Overlay Subtype"),
    (0x0061, "Overlay Compression Originator"),
    (0x0062, "Overlay Compression Label"),
    (0x1500, "Overlay Label"),
)

_OPTION_PAIRS_EXCLUSIVE = (("retain-long-full-dates", "retain-long-modified-dates"),)


@dataclass(frozen=True, slots=True)
class EffectiveRule:
    """What a profile does to one row of Table E.1-1.

    Attributes
    ----------
    row : Row
        The table row.
    code : str
        The effective action code after options (``K``, ``C``, ``X``, ``X/Z``, ...).
    source : str
        ``basic`` or the option id that set the code.
    action : str or None
        The recipe action (``REMOVE``, ``BLANK``, ``REPLACE``) or None (kept, no rule).
    function : str or None
        The value (REPLACE) or condition (REMOVE) function.
    why : str
        A one-line human explanation.
    """

    row: Row
    code: str
    source: str
    action: str | None
    function: str | None
    why: str


def normalize_options(options: Iterable[str] | str | None) -> tuple[str, ...]:
    """Return canonical option ids, in table order, refusing unknown names and conflicts.

    Accepts kebab-case ids, idiscore rule-set names (``retain_modified_dates``) and the
    innolitics column keys.

    Raises
    ------
    ProfileError
        Unknown option (with a suggestion) or mutually exclusive options.

    Examples
    --------
    >>> normalize_options(["retain_uid", "clean-descriptors"])
    ('retain-uids', 'clean-descriptors')
    """
    if options is None:
        return ()
    if isinstance(options, str):
        options = [o for o in options.replace(",", " ").split() if o]
    chosen: set[str] = set()
    for raw in options:
        name = str(raw).strip()
        key = name.lower()
        if key in OPTION_IDS:
            chosen.add(key)
        elif key in OPTION_ALIASES or key.replace("-", "_") in OPTION_ALIASES:
            chosen.add(OPTION_ALIASES.get(key) or OPTION_ALIASES[key.replace("-", "_")])
        elif key.replace("_", "-") in OPTION_IDS:
            chosen.add(key.replace("_", "-"))
        else:
            from deid.diagnostics import suggest

            hint = suggest(name, list(OPTION_IDS), cutoff=0.6)
            extra = f"; did you mean {hint!r}?" if hint else ""
            raise ProfileError(
                f"unknown PS3.15 option {name!r}{extra} (known: {', '.join(OPTION_IDS)})"
            )
    for a, b in _OPTION_PAIRS_EXCLUSIVE:
        if a in chosen and b in chosen:
            raise ProfileError(f"options {a!r} and {b!r} cannot be combined")
    return tuple(o for o in OPTION_IDS if o in chosen)


def _canonical_profile(name: str) -> str:
    key = str(name).strip().lower()
    if key not in PROFILES:
        raise ProfileError(f"unknown profile {name!r}; available: basic")
    return PROFILES[key]


def effective_code(row: Row, options: Sequence[str]) -> tuple[str, str]:
    """Return ``(code, source)`` for a row under the selected (canonical) options.

    Examples
    --------
    >>> t = load_table()
    >>> effective_code(t.row_for_tag(0x00080020), ["retain-long-modified-dates"])
    ('C', 'retain-long-modified-dates')
    """
    hits = [(opt, row.options[opt]) for opt in options if opt in row.options]
    if not hits:
        return row.basic, "basic"
    for opt, code in hits:
        if code == "K":
            return code, opt
    return hits[0][1], hits[0][0]


def _dictionary_vr(tag: int) -> str | None:
    from pydicom.datadict import dictionary_VR

    try:
        return str(dictionary_VR(tag))
    except KeyError:
        return None


def _looks_like_identifier(row: Row) -> bool:
    name = row.name.lower()
    return name.endswith((" id", " identifier", " number", " ids", " numbers"))


def _policy(row: Row, code: str, source: str) -> tuple[str | None, str | None, str]:
    """Map an effective code to ``(action, function, why)``."""
    vr = _dictionary_vr(row.tag) if row.kind == "tag" and row.tag is not None else None
    is_sq = vr == "SQ" or row.name.endswith(" Sequence")
    label = f"{code} ({'Basic Profile' if source == 'basic' else source})"
    if row.kind == "private":
        if code == "C":
            return (
                "REMOVE",
                "ps315_private_unsafe",
                f"{label}: private attributes removed unless known safe (with their creator)",
            )
        return "REMOVE", None, f"{label}: all private attributes removed"
    if row.kind == "unknown_public":
        return (
            "REMOVE",
            None,
            f"{label}: a public attribute no dictionary defines may hold anything",
        )
    if code == "K":
        what = "kept; items processed recursively" if is_sq else "kept"
        return None, None, f"{label}: {what}"
    if code == "X/Z/U*":
        return None, None, f"{label}: sequence kept, its instance UIDs replaced (U rows)"
    if code == "X":
        return "REMOVE", None, f"{label}: removed"
    if code in ("Z", "X/Z"):
        func = KEYED_IDENTITY.get(row.tag or -1)
        if func is not None:
            return "REPLACE", func, f"{label}: keyed pseudonym (keeps instances linked)"
        return "BLANK", None, f"{label}: emptied" + (" (present for Type 2)" if "/" in code else "")
    if code in ("D", "Z/D", "X/D", "X/Z/D"):
        resolved = "" if code == "D" else " (resolved to D: present whatever the Type)"
        if is_sq:
            return "BLANK", None, f"{label}: sequence emptied{resolved}"
        func = KEYED_IDENTITY.get(row.tag or -1)
        if func is None:
            if vr == "UI":
                func = "ps315_uid"
            elif vr == "PN":
                func = "ps315_name"
            elif _looks_like_identifier(row) and vr in (None, "LO", "SH", "CS", "UC", "LT", "ST"):
                func = "ps315_pseudonym"
            else:
                func = "ps315_dummy"
        kind = {
            "ps315_uid": "keyed UID",
            "ps315_name": "keyed pseudonym name",
            "ps315_pseudonym": "keyed pseudonym",
            "ps315_dummy": "dummy value valid for the VR",
        }[func]
        return "REPLACE", func, f"{label}: replaced by a {kind}{resolved}"
    if code == "U":
        return "REPLACE", "ps315_uid", f"{label}: replaced by a keyed 2.25 UID, same everywhere"
    if code == "C":
        if source == "retain-long-modified-dates":
            return "REPLACE", "ps315_shift", f"{label}: shifted by the patient's keyed day offset"
        if source == "retain-device-identity":
            return "REPLACE", "ps315_pseudonym", f"{label}: keyed pseudonym (network name)"
        if row.kind == "tag_mask" and source == "clean-graphics" and row.id in _BITMAP_ROWS:
            return "REMOVE", None, f"{label}: bitmap/curve cannot be cleaned in the header: removed"
        if is_sq:
            extra = (
                "; content items cleaned by concept (Table E.3.4-1)"
                if source == "clean-structured-content"
                else ""
            )
            return None, None, f"{label}: kept, items processed recursively{extra}"
        return (
            "REPLACE",
            "ps315_clean_text",
            f"{label}: kept after masking identifying values of the same dataset",
        )
    raise ProfileError(f"PS3.15 row {row.tag_text} {row.name}: unknown action code {code!r}")


def effective_rules(
    name: str = "basic",
    options: Iterable[str] | str | None = (),
    *,
    edition: str = DEFAULT_EDITION,
    table: Table | None = None,
) -> list[EffectiveRule]:
    """Return one :class:`EffectiveRule` per row of Table E.1-1, in table order.

    Parameters
    ----------
    name : str
        The profile (``basic``).
    options : iterable of str
        Option ids or aliases (see :func:`normalize_options`).
    edition : str
        Table edition (default the newest shipped).
    table : Table, optional
        A table already loaded.

    Examples
    --------
    >>> rules = effective_rules("basic")
    >>> sum(1 for r in rules if r.action == "REMOVE") > 300
    True
    """
    _canonical_profile(name)
    opts = normalize_options(options)
    tbl = table or load_table(edition)
    out = []
    for row in tbl.rows:
        code, source = effective_code(row, opts)
        action, func, why = _policy(row, code, source)
        out.append(EffectiveRule(row, code, source, action, func, why))
    return out


def _policy_rows(table: Table) -> tuple[Row, ...]:
    rows: list[Row] = []
    for elem, name in _OVERLAY_TEXT:
        rows.append(
            Row(
                id=f"60xx{elem:04x}",
                kind="tag_mask",
                tag=0x60000000 | elem,
                mask=0xFF00FFFF,
                name=name,
                basic="X",
                options={"clean-graphics": "C"},
                in_std_comp_iod=None,
                options_source="deid",
                tag_text=f"(60xx,{elem:04X})",
                line=len(rows) + 1,
            )
        )
    rows.append(
        Row(
            id="unknown-public",
            kind="unknown_public",
            tag=None,
            mask=None,
            name="Public attributes unknown to the data dictionary",
            basic="X",
            options={},
            in_std_comp_iod=None,
            options_source="deid",
            tag_text="(gggg,eeee) even, undefined",
            line=len(rows) + 1,
        )
    )
    return tuple(rows)


def policy_rules(
    options: Iterable[str] | str | None = (), *, table: Table | None = None
) -> list[EffectiveRule]:
    """deid's rules for attributes Table E.1-1 does not list (fail closed; see the profiles docs).

    * free-text overlay attributes (Overlay Description, Subtype, Label, compression texts):
      removed, or cleaned like descriptors under Clean Graphics;
    * public (even group) attributes that no dictionary defines: removed (they may hold
      anything). Table rows newer than pydicom's dictionary are protected from this rule when
      their effective code keeps them.

    Examples
    --------
    >>> rules = policy_rules()
    >>> [(r.row.tag_text, r.action) for r in rules][-1]
    ('(gggg,eeee) even, undefined', 'REMOVE')
    >>> policy_rules(["clean-graphics"])[0].function
    'ps315_clean_text'
    """
    opts = normalize_options(options)
    tbl = table or load_table()
    out = []
    for row in _policy_rows(tbl):
        code, source = effective_code(row, opts)
        action, func, why = _policy(row, code, source)
        if source == "basic":
            why = why.replace("(Basic Profile)", "(deid policy, not in Table E.1-1)")
        out.append(EffectiveRule(row, code, source, action, func, why))
    return out


def _unknown_kept_tags(rules: Sequence[EffectiveRule]) -> list[int]:
    """Table rows pydicom's dictionary does not know and that the profile keeps (no rule)."""
    from pydicom.datadict import dictionary_has_tag

    return [
        r.row.tag
        for r in rules
        if r.row.kind == "tag"
        and r.row.tag is not None
        and not (r.row.tag >> 16) & 1
        and r.action is None
        and not dictionary_has_tag(r.row.tag)
    ]


def private_mask_exprs(span: Span) -> list[FieldExpr]:
    """Field expressions covering every odd group: ``(xxx1,xxxx)``, ``(xxx3,xxxx)``, ...

    Examples
    --------
    >>> [e.text for e in private_mask_exprs(Span("t", 1, 1, 1, 1))][:2]
    ['(xxx1,xxxx)', '(xxx3,xxxx)']
    """
    out = []
    for nib in "13579BDF":
        out.append(
            FieldExpr(
                kind="tag_mask",
                text=f"(xxx{nib},xxxx)",
                span=span,
                tag=int(nib, 16) << 16,
                mask=0x000F0000,
            )
        )
    return out


def _row_span(table: Table, row: Row) -> Span:
    return Span(f"PS3.15 {table.edition} Table E.1-1", row.line, 1, row.line, 1)


def _policy_span(row: Row) -> Span:
    return Span(POLICY_SOURCE, row.line, 1, row.line, 1)


def _options_of(rules: Sequence[EffectiveRule]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(r.source for r in rules if r.source != "basic"))


def rules_to_recipe(
    rules: Sequence[EffectiveRule],
    table: Table,
    *,
    source_name: str | None = None,
    include_policy: bool = True,
    options: Iterable[str] | None = None,
) -> Recipe:
    """Turn effective rules into a :class:`~deid.recipe.ast.Recipe` (``%header`` actions).

    Each action's span points at its table row (``file`` = ``PS3.15 <edition> Table E.1-1``,
    ``line`` = the row's position). Unless ``include_policy`` is false, deid's rules for
    attributes the table does not list (:func:`policy_rules`) follow, with spans in
    :data:`POLICY_SOURCE`.
    """
    actions: list[Action] = []
    policy = (
        policy_rules(tuple(options) if options is not None else _options_of(rules), table=table)
        if include_policy
        else []
    )
    for rule in list(rules) + policy:
        if rule.action is None:
            continue
        row = rule.row
        span = _row_span(table, row) if rule.row.options_source != "deid" else _policy_span(row)
        if row.kind == "unknown_public":
            for tag in _unknown_kept_tags(rules):
                fe = FieldExpr(kind="tag", text=format_tag(tag), span=span, tag=tag)
                actions.append(Action("KEEP", fe, None, span, section="header", index=len(actions)))
            fields = [
                FieldExpr(
                    kind="except",
                    text=f"except:{UNKNOWN_PUBLIC_PATTERN}",
                    span=span,
                    arg=UNKNOWN_PUBLIC_PATTERN,
                )
            ]
        elif row.kind == "private":
            fields = private_mask_exprs(span)
        elif row.kind == "tag_mask":
            assert row.tag is not None and row.mask is not None
            fields = [
                FieldExpr(kind="tag_mask", text=row.tag_text, span=span, tag=row.tag, mask=row.mask)
            ]
        else:
            assert row.tag is not None
            fields = [FieldExpr(kind="tag", text=format_tag(row.tag), span=span, tag=row.tag)]
        value = None
        if rule.function is not None:
            value = Value(kind="func", text=f"func:{rule.function}", span=span, name=rule.function)
        for fe in fields:
            actions.append(
                Action(rule.action, fe, value, span, section="header", index=len(actions))
            )
    name = source_name or f"PS3.15 {table.edition} Table E.1-1"
    return Recipe(header=tuple(actions), sources=(name,))
