"""Meaning: semantic checks of a parsed :class:`~deid.recipe.ast.Recipe`.

Runs on any Recipe (parsed from text or rebuilt from upstream's dict form) and returns
diagnostics; it never raises. Checks: DICOM keywords (with did-you-mean against the pydicom
dictionary), regexes of expanders, ``values:``/``fields:`` groups, built-in ``deid_func:`` names,
JITTER amounts, required values, ``select:`` forms, private tags, filter criteria fields.

Examples
--------
>>> from deid.recipe.parser import parse_recipe_with_diagnostics
>>> _, diags = parse_recipe_with_diagnostics("FORMAT dicom\\n%header\\nREMOVE contains:(\\n")
>>> diags[0].code
'E111'
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from deid.diagnostics import Diagnostic, suggest
from deid.recipe.ast import ACTIONS, FILTERS, VALUE_FILTERS, Action, FieldExpr, Recipe, Span, Value

__all__ = [
    "BUILTIN_FUNCTIONS",
    "VRS",
    "check_recipe",
    "element_name_keyword",
    "is_legacy_keyword",
    "keyword_tag",
    "known_functions",
    "suggest_keyword",
]

#: ``deid_func:`` names every run provides (upstream's built-ins).
BUILTIN_FUNCTIONS: tuple[str, ...] = (
    "jitter",
    "pydicom_uuid",
    "dicom_uuid",
    "basic_uuid",
    "suffix_uuid",
)

#: Value representations accepted by ``select:vr:``.
VRS: tuple[str, ...] = (
    "AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO", "LT", "OB", "OD", "OF",
    "OL", "OV", "OW", "PN", "SH", "SL", "SQ", "SS", "ST", "SV", "TM", "UC", "UI", "UL", "UN",
    "UR", "US", "UT", "UV",
)  # fmt: skip

_INT_RE = re.compile(r"[+-]?\d+")
_CRIT_TAG_RE = re.compile(r"0[xX][0-9A-Fa-f]{8}")


@lru_cache(maxsize=1)
def _keywords() -> tuple[dict[str, int], dict[str, str], dict[str, str]]:
    from pydicom.datadict import DicomDictionary, RepeatersDictionary, keyword_dict

    exact = dict(keyword_dict)
    for mask, entry in RepeatersDictionary.items():
        if entry[4]:
            exact.setdefault(entry[4], int(mask.replace("x", "0").replace("X", "0"), 16))
    exact.pop("", None)
    lower = {k.lower(): k for k in exact}
    legacy: dict[str, str] = {}
    for entry in DicomDictionary.values():
        name, keyword = entry[2], entry[4]
        if keyword and "'" in name:
            old = re.sub(r"[^A-Za-z0-9]", "", name)
            if old != keyword and old.lower() not in lower:
                legacy[old.lower()] = keyword
    return exact, lower, legacy


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    from pydicom.datadict import DicomDictionary

    return {entry[2].lower(): entry[4] for entry in DicomDictionary.values() if entry[4]}


def element_name_keyword(name: str) -> str | None:
    """Keyword of a DICOM element *name* (``Patient's Name``), case-insensitive, or None.

    Upstream matches element names too; they can only be given through the API (a name with a
    space or an apostrophe cannot be written in a recipe line).

    Examples
    --------
    >>> element_name_keyword("Patient's Name")
    'PatientName'
    """
    return _names().get(name.strip().lower())


@lru_cache(maxsize=1024)
def suggest_keyword(word: str) -> str | None:
    """Closest DICOM keyword to ``word`` (cached; the dictionary has ~5000 keywords).

    Examples
    --------
    >>> suggest_keyword("PatientNam")
    'PatientName'
    """
    return suggest(word, _plausible_keywords(word, 0.8), cutoff=0.8)


def _plausible_keywords(word: str, cutoff: float) -> list[str]:
    """The keywords that can reach ``cutoff`` against ``word``, in dictionary order.

    :func:`difflib.get_close_matches` only keeps candidates whose ``quick_ratio`` (twice the
    size of the multiset of shared characters over the total length) reaches the cutoff, and
    computes it in Python for each of the ~5000 keywords. The same bound, computed for all of
    them at once with numpy, leaves a handful, so the answer is the same and about ten times
    cheaper. Without numpy already imported, every keyword is returned.
    """
    keywords = list(_keywords()[0])
    np = sys.modules.get("numpy")
    if np is None:
        return keywords
    counts, lengths, columns = _keyword_counts()
    w = np.zeros(counts.shape[1], dtype=counts.dtype)
    for ch in word.lower():
        col = columns.get(ch)
        if col is not None:
            w[col] += 1
    shared = np.minimum(counts, w).sum(axis=1)
    bound = 2.0 * shared / (lengths + len(word))
    return [keywords[i] for i in np.flatnonzero(bound >= cutoff)]


@lru_cache(maxsize=1)
def _keyword_counts() -> tuple[Any, Any, dict[str, int]]:
    """Per keyword (lower-cased, dictionary order): character counts, lengths, char columns."""
    import numpy as np

    lowered = [k.lower() for k in _keywords()[0]]
    sizes = np.array([len(k) for k in lowered], dtype=np.int64)
    chars = np.frombuffer("".join(lowered).encode("utf-32-le"), dtype=np.uint32)
    present = np.zeros(int(chars.max(initial=0)) + 1, dtype=bool)  # keywords are ASCII
    present[chars] = True
    alphabet = np.flatnonzero(present)
    lookup = np.zeros(len(present), dtype=np.int64)
    lookup[alphabet] = np.arange(len(alphabet))
    column = lookup[chars]
    rows = np.repeat(np.arange(len(lowered)), sizes)
    flat = np.bincount(rows * len(alphabet) + column, minlength=len(lowered) * len(alphabet))
    counts = flat.reshape(len(lowered), len(alphabet))
    columns = {chr(int(code)): i for i, code in enumerate(alphabet)}
    return counts, sizes.astype(np.float64), columns


def keyword_tag(keyword: str) -> int | None:
    """Return the tag number of a DICOM keyword (case-insensitive, as upstream matches).

    Examples
    --------
    >>> hex(keyword_tag("patientname"))
    '0x100010'
    >>> keyword_tag("PatientNam") is None
    True
    """
    exact, lower, _ = _keywords()
    if keyword in exact:
        return exact[keyword]
    real = lower.get(keyword.lower())
    return exact[real] if real else None


def is_legacy_keyword(keyword: str) -> str | None:
    """Return the current keyword when ``keyword`` is a pre-1.0 pydicom spelling.

    Examples
    --------
    >>> is_legacy_keyword("PatientsName")
    'PatientName'
    """
    return _keywords()[2].get(keyword.lower())


def known_functions(extra: Iterable[str] = ()) -> set[str]:
    """Built-in function names plus those registered with ``deid.engine.functions``.

    The registry module is optional (imported lazily, its absence tolerated).

    Examples
    --------
    >>> "pydicom_uuid" in known_functions()
    True
    """
    names = set(BUILTIN_FUNCTIONS) | set(extra)
    try:
        mod = importlib.import_module("deid.engine.functions")
    except Exception:  # noqa: BLE001 - optional module, any import problem means "absent"
        return names
    for attr in ("registered", "names", "available"):
        fn = getattr(mod, attr, None)
        if callable(fn):
            try:
                names.update(str(n) for n in fn())
                return names
            except Exception:  # noqa: BLE001, S112 - a broken registry adds no names
                continue
    for attr in ("REGISTRY", "FUNCTIONS", "BUILTINS", "_REGISTRY", "registry"):
        reg = getattr(mod, attr, None)
        if isinstance(reg, dict):
            names.update(str(n) for n in reg)
    return names


class _Checker:
    def __init__(self, recipe: Recipe, strict: bool, functions: Iterable[str]) -> None:
        self.recipe = recipe
        self.strict = strict
        self.functions = known_functions(functions)
        self.values = [g.name for g in recipe.values]
        self.fields = [g.name for g in recipe.fields]
        self.diags: list[Diagnostic] = []

    def err(
        self, code: str, msg: str, span: Span, hint: str | None = None, lenient: bool = False
    ) -> None:
        sev = "warning" if (lenient and not self.strict) else "error"
        self.diags.append(Diagnostic(code, sev, msg, span, hint))

    def warn(self, code: str, msg: str, span: Span, hint: str | None = None) -> None:
        self.diags.append(Diagnostic(code, "warning", msg, span, hint))

    # -- field expressions ----------------------------------------------------------------------
    def keyword(self, word: str, span: Span, action: str | None) -> None:
        if keyword_tag(word) is not None or element_name_keyword(word) is not None:
            return
        if word.lower() in ("allfields", "allexcept"):
            self.err(
                "E109",
                f"'{word}' is not a field expression",
                span,
                f"'{word}' is documented by pydicom/deid but was never implemented (it matched "
                "nothing); use 'all' or 'except:REGEX'",
            )
            return
        legacy = is_legacy_keyword(word)
        if legacy and action in ("REMOVE", "BLANK", "KEEP"):
            self.warn(
                "W103",
                f"'{word}' is an old pydicom spelling; it matches no element",
                span,
                f"did you mean '{legacy}'?",
            )
            return
        if word.upper() in ACTIONS and word.islower() and action in ("REMOVE", "BLANK", "KEEP"):
            self.warn("W103", f"'{word}' is not a DICOM keyword; the line matches no element", span)
            return
        guess = legacy or suggest_keyword(word)
        self.err(
            "E110",
            f"unknown DICOM keyword '{word}'",
            span,
            f"did you mean '{guess}'?"
            if guess
            else "use a keyword from the DICOM dictionary, a tag "
            "(gggg,eeee) or an expander such as contains:",
            lenient=True,
        )

    def field(self, fe: FieldExpr, action: str | None) -> None:
        kind = fe.kind
        if kind == "keyword":
            self.keyword(fe.arg or fe.text, fe.span, action)
        elif kind == "nested":
            text = fe.arg or fe.text
            if not text.startswith("("):
                for part in text.split("__"):
                    if part and not part.isdigit():
                        self.keyword(part, fe.span, action)
        elif kind in ("contains", "startswith", "endswith", "except"):
            regex = fe.arg or ""
            if not regex:
                self.err(
                    "E111", f"'{kind}:' needs a regular expression", fe.span, f"e.g. {kind}:Date"
                )
                return
            try:
                re.compile(regex.lower(), re.IGNORECASE)
            except re.error as exc:
                self.err("E111", f"invalid regular expression '{regex}': {exc.msg}", fe.span)
        elif kind == "select_vr":
            if (fe.arg or "") not in VRS:
                guess = suggest(fe.arg or "", VRS, 0.5)
                self.err(
                    "E120",
                    f"unknown VR '{fe.arg}' in '{fe.text}'",
                    fe.span,
                    f"did you mean 'select:vr:{guess}'?" if guess else "e.g. select:vr:PN",
                )
        elif kind == "select_group":
            if fe.group is None or not re.fullmatch(r"[0-9A-Fa-f]{1,4}", fe.arg or ""):
                self.err("E120", f"bad group in '{fe.text}'", fe.span, "e.g. select:group:0010")
        elif kind.startswith("select_"):
            self.err(
                "E120",
                f"unknown selector '{fe.text}'",
                fe.span,
                "select:vr:XX or select:group:gggg",
            )
        elif kind in ("values", "fields"):
            defined = self.values if kind == "values" else self.fields
            name = fe.arg or ""
            if name not in defined:
                guess = suggest(name, defined, 0.6) if defined else None
                self.err(
                    "E112",
                    f"%{kind} group '{name}' is not defined",
                    fe.span,
                    f"did you mean '{kind}:{guess}'?"
                    if guess
                    else f"define it with '%{kind} {name or 'NAME'}'",
                )
        elif kind == "private":
            if fe.group is not None and fe.group % 2 == 0:
                self.err(
                    "E122",
                    f"group {fe.group:04X} of '{fe.text}' is not a private group (odd)",
                    fe.span,
                )
        elif kind == "invalid":
            self.err("E109", str(fe.arg), fe.span)

    # -- values -------------------------------------------------------------------------------
    def value(self, act: Action, v: Value) -> None:
        if v.kind in ("var", "func") and not v.name:
            self.err("E124", f"'{v.kind}:' needs a name", v.span, f"e.g. {v.kind}:my_name")
        if v.kind == "deid_func":
            if v.name not in self.functions:
                guess = suggest(v.name or "", sorted(self.functions), 0.6)
                self.err(
                    "E113",
                    f"unknown built-in function '{v.name}'",
                    v.span,
                    f"did you mean 'deid_func:{guess}'?"
                    if guess
                    else "built-ins: " + ", ".join(BUILTIN_FUNCTIONS),
                    lenient=True,
                )
            for key, val in v.args:
                if val == "\x00" or not key:
                    self.err(
                        "E121", f"argument '{key}' of deid_func:{v.name} is not key=value", v.span
                    )
                elif v.name == "jitter" and key in ("days", "years") and not _INT_RE.fullmatch(val):
                    self.err(
                        "E121",
                        f"deid_func:jitter {key}= must be a whole number, not '{val}'",
                        v.span,
                    )
        if act.action == "JITTER":
            if v.kind == "literal" and not _INT_RE.fullmatch(v.text.strip()):
                self.err(
                    "E114",
                    f"JITTER needs a whole number of days, not '{v.text.strip()}'",
                    v.span,
                    "e.g. 'JITTER StudyDate -7', or var:NAME / func:NAME",
                )
            elif v.kind == "deid_func":
                self.err(
                    "E114",
                    "JITTER needs a number of days; deid_func: returns a date",
                    v.span,
                    f"use 'REPLACE {act.field.text} {v.text}'",
                )
        if act.action == "REMOVE" and v.kind == "literal":
            self.warn(
                "W105",
                f"the REMOVE condition '{v.text}' is a literal and always true",
                v.span,
                "the line removes every selected element; use func:NAME for a condition",
            )

    def action(self, act: Action) -> None:
        self.field(act.field, act.action)
        example = "1" if act.action == "JITTER" else "VALUE"
        if act.action in ("ADD", "REPLACE", "JITTER") and (
            act.value is None or not act.value.text.strip()
        ):
            self.err(
                "E108",
                f"{act.action} needs a value",
                act.span,
                f"e.g. '{act.action} {act.field.text} {example}'",
            )
        if act.action == "ADD" and act.field.kind not in ("keyword", "tag", "private"):
            self.err(
                "E118",
                f"ADD needs a single element (keyword or tag), not '{act.field.text}'",
                act.field.span,
                "use REPLACE to change existing elements chosen by an expression",
            )
        if act.action not in ACTIONS or act.action == "LABEL":
            self.err("E102", f"unknown action '{act.action}'", act.span)
        if act.value is not None:
            self.value(act, act.value)

    def run(self) -> list[Diagnostic]:
        r = self.recipe
        for act in r.header:
            self.action(act)
        if r.labels:
            self.warn(
                "W102", "%labels lines are metadata; they are never executed", r.labels[0].span
            )
        for group in r.values + r.fields:
            for line in group.lines:
                self.field(line.field, None)
        for fg in r.filters:
            for label in fg.labels:
                for cl in label.lines:
                    for crit in cl.criteria:
                        self.criterion(crit.filter, crit.field, crit.value, crit.span)
                for coord in label.coordinates:
                    if coord.kind not in ("box", "all", "from"):
                        self.err(
                            "E116",
                            f"bad coordinates '{coord.text}'",
                            coord.span,
                            "write four integers x0,y0,x1,y1, 'all' or from:Keyword",
                        )
                    if coord.kind == "from" and keyword_tag(coord.from_field or "") is None:
                        self.err(
                            "E116",
                            f"unknown DICOM keyword '{coord.from_field}' in from:",
                            coord.span,
                        )
        return self.diags

    def criterion(self, filt: str, field: str, value: str | None, span: Span) -> None:
        if filt not in FILTERS:
            self.err("E117", f"unknown filter '{filt}'", span)
        if not _CRIT_TAG_RE.fullmatch(field):
            exact, _, _ = _keywords()
            if field not in exact:
                guess = suggest_keyword(field)
                self.warn(
                    "W110",
                    f"unknown DICOM keyword '{field}' in filter criterion; it never matches",
                    span,
                    f"did you mean '{guess}'?" if guess else "use a keyword or a 0xGGGGEEEE tag",
                )
        if value is not None and "#" in value:
            self.warn(
                "W101",
                f"'#' inside a filter value is part of the value ('{value}')",
                span,
                "comments are not allowed on criteria lines; move it to its own line",
            )
        if filt in ("equals", "notequals") and value and "|" in value:
            self.warn(
                "W107",
                f"'{filt}' compares text exactly; '|' in '{value}' is not an alternative",
                span,
                "use 'contains' for regular expressions",
            )
        if filt in VALUE_FILTERS and value is None:
            self.err("E108", f"criterion '{filt} {field}' needs a value", span)


def check_recipe(
    recipe: Recipe, *, strict: bool = True, functions: Iterable[str] = ()
) -> list[Diagnostic]:
    """Return the semantic diagnostics of ``recipe`` (errors and warnings; never raises).

    Parameters
    ----------
    recipe : Recipe
        A parsed (or dict-rebuilt) recipe.
    strict : bool
        False turns unknown keywords and unknown built-in functions into warnings.
    functions : iterable of str
        Extra ``deid_func:`` names to accept.

    Examples
    --------
    >>> from deid.recipe.compat import recipe_from_dict
    >>> r = recipe_from_dict({"format": "dicom", "header": [{"action": "JITTER",
    ...     "field": "StudyDate", "value": "soon"}]})
    >>> [d.code for d in check_recipe(r)]
    ['E114']
    """
    return _Checker(recipe, strict, functions).run()
