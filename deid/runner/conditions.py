"""Save conditions: per-tag tests that decide whether a de-identified file may be released.

A condition is written as one short sentence about one attribute of the *input* file (it is
evaluated before de-identification, so it can test attributes the recipe removes)::

    Modality in [CT, MR]
    Modality not in [SR, PR]
    ImageType does not contain PRIMARY
    ImageType contains DERIVED
    BurnedInAnnotation equals NO
    BurnedInAnnotation not equals YES
    (0008,0016) is present
    PatientComments is missing

Comparisons are case-insensitive. A multi-valued attribute passes ``in`` / ``equals`` when any
of its values does, and ``contains`` looks at every value. Fail closed: an attribute that is
absent makes every condition false except ``is missing``.

Examples
--------
>>> from pydicom import Dataset
>>> ds = Dataset()
>>> ds.Modality = "CT"
>>> ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
>>> conds = parse_conditions(["Modality in [CT, MR]", "ImageType does not contain PRIMARY"])
>>> [e.passed for e in evaluate_conditions(conds, ds)]
[True, False]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from deid.errors import DeidError

__all__ = [
    "ConditionError",
    "ConditionResult",
    "SaveCondition",
    "evaluate_conditions",
    "parse_condition",
    "parse_conditions",
]


class ConditionError(DeidError, ValueError):
    """A save condition could not be parsed (names the condition text)."""


#: operator as written -> condition type recorded in the report
_OPERATORS: tuple[tuple[str, str], ...] = (
    ("does not contain", "NOT_SUBSTR"),
    ("not contains", "NOT_SUBSTR"),
    ("contains", "SUBSTR"),
    ("not in", "NOT_IN"),
    ("in", "IN"),
    ("not equals", "NOT_EQUALS"),
    ("equals", "EQUALS"),
    ("!=", "NOT_EQUALS"),
    ("==", "EQUALS"),
    ("is present", "PRESENT"),
    ("is missing", "MISSING"),
)
_NO_VALUE = {"PRESENT", "MISSING"}
_LIST_TYPES = {"IN", "NOT_IN"}
_TAG_RE = re.compile(r"^\(?\s*([0-9A-Fa-f]{4})\s*,\s*([0-9A-Fa-f]{4})\s*\)?$|^([0-9A-Fa-f]{8})$")


@dataclass(frozen=True)
class SaveCondition:
    """One parsed save condition.

    Attributes
    ----------
    text : str
        The condition as written.
    field : str
        Keyword or tag as written (``Modality``, ``(0008,0060)``).
    tag : int
        The tag number.
    condition_type : str
        ``IN``, ``NOT_IN``, ``SUBSTR``, ``NOT_SUBSTR``, ``EQUALS``, ``NOT_EQUALS``, ``PRESENT``
        or ``MISSING``.
    value : str or tuple of str or None
        The operand (a tuple for ``in`` / ``not in``).
    """

    text: str
    field: str
    tag: int
    condition_type: str
    value: str | tuple[str, ...] | None

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON form used in the report (``condition`` key)."""
        value: Any = list(self.value) if isinstance(self.value, tuple) else self.value
        return {
            "text": self.text,
            "dicom_tag": self.field,
            "condition_type": self.condition_type,
            "value": value,
        }


@dataclass(frozen=True)
class ConditionResult:
    """The evaluation of one :class:`SaveCondition` on one dataset."""

    condition: SaveCondition
    tag_value: Any
    passed: bool

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON form used in the report."""
        return {
            "condition": self.condition.as_dict(),
            "tag_value": self.tag_value,
            "evaluated_value": self.passed,
        }


def _resolve_tag(field: str, text: str) -> int:
    from pydicom.datadict import tag_for_keyword

    m = _TAG_RE.match(field)
    if m:
        return (
            int(m.group(3), 16) if m.group(3) else (int(m.group(1), 16) << 16) | int(m.group(2), 16)
        )
    tag = tag_for_keyword(field)
    if tag is None:
        raise ConditionError(f"save condition {text!r}: unknown DICOM keyword {field!r}")
    return int(tag)


def _parse_list(raw: str, text: str) -> tuple[str, ...]:
    raw = raw.strip()
    if raw.startswith("["):
        if not raw.endswith("]"):
            raise ConditionError(f"save condition {text!r}: unclosed '[' in the value list")
        raw = raw[1:-1]
    items = tuple(item.strip().strip("'\"") for item in raw.split(","))
    items = tuple(i for i in items if i)
    if not items:
        raise ConditionError(f"save condition {text!r}: empty value list")
    return items


def parse_condition(text: str) -> SaveCondition:
    """Parse one condition sentence.

    Parameters
    ----------
    text : str
        E.g. ``"Modality in [CT, MR]"``.

    Returns
    -------
    SaveCondition

    Raises
    ------
    ConditionError
        When the sentence has no known operator, an unknown keyword or no value.

    Examples
    --------
    >>> parse_condition("ImageType does not contain PRIMARY").condition_type
    'NOT_SUBSTR'
    >>> parse_condition("Modality in [CT, MR]").value
    ('CT', 'MR')
    """
    stripped = " ".join(text.split())
    if not stripped:
        raise ConditionError("empty save condition")
    parts = stripped.split(" ", 1)
    field = parts[0]
    rest = parts[1] if len(parts) > 1 else ""
    lowered = rest.lower()
    for op, ctype in _OPERATORS:
        if lowered == op or lowered.startswith(op + " "):
            operand = rest[len(op) :].strip()
            break
    else:
        ops = ", ".join(sorted({o for o, _ in _OPERATORS}))
        raise ConditionError(
            f"save condition {text!r}: expected '<Keyword> <operator> <value>' with one of: {ops}"
        )
    tag = _resolve_tag(field, text)
    value: str | tuple[str, ...] | None
    if ctype in _NO_VALUE:
        if operand:
            raise ConditionError(f"save condition {text!r}: '{op}' takes no value")
        value = None
    elif not operand:
        raise ConditionError(f"save condition {text!r}: '{op}' needs a value")
    elif ctype in _LIST_TYPES:
        value = _parse_list(operand, text)
    else:
        value = operand.strip("'\"")
    return SaveCondition(text=text, field=field, tag=tag, condition_type=ctype, value=value)


def parse_conditions(texts: Iterable[str | SaveCondition]) -> tuple[SaveCondition, ...]:
    """Parse several conditions (already parsed ones pass through).

    Examples
    --------
    >>> len(parse_conditions(["Modality in [CT]", "PatientName is present"]))
    2
    """
    return tuple(t if isinstance(t, SaveCondition) else parse_condition(t) for t in texts)


def _values(elem: Any) -> list[str]:
    value = elem.value
    if value is None:
        return []
    if isinstance(value, (bytes, bytearray)):
        return [value.decode("latin-1", "replace")]
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return [str(v) for v in value]
    return [str(value)]


def _json_value(values: list[str]) -> Any:
    if not values:
        return None
    return values[0] if len(values) == 1 else values


def evaluate_conditions(conditions: Sequence[SaveCondition], ds: Any) -> list[ConditionResult]:
    """Evaluate each condition on a dataset (top level only).

    Parameters
    ----------
    conditions : sequence of SaveCondition
    ds : pydicom.Dataset

    Returns
    -------
    list of ConditionResult
        In the order of ``conditions``.

    Examples
    --------
    >>> from pydicom import Dataset
    >>> ds = Dataset()
    >>> [r.passed for r in evaluate_conditions(parse_conditions(["Modality is missing"]), ds)]
    [True]
    """
    results = []
    for cond in conditions:
        elem = ds.get(cond.tag) if cond.tag in ds else None
        present = elem is not None
        values = _values(elem) if present else []
        folded = [v.strip().lower() for v in values]
        ctype = cond.condition_type
        if ctype == "PRESENT":
            passed = present
        elif ctype == "MISSING":
            passed = not present
        elif not present or elem is None or elem.VR == "SQ":
            passed = False  # fail closed: nothing to test
        elif ctype in ("IN", "NOT_IN"):
            wanted = {str(v).lower() for v in cond.value or ()}
            hit = any(v in wanted for v in folded)
            passed = hit if ctype == "IN" else not hit
        elif ctype in ("SUBSTR", "NOT_SUBSTR"):
            needle = str(cond.value).lower()
            hit = any(needle in v for v in folded)
            passed = hit if ctype == "SUBSTR" else not hit
        else:  # EQUALS / NOT_EQUALS
            target = str(cond.value).lower()
            hit = any(v == target for v in folded)
            passed = hit if ctype == "EQUALS" else not hit
        shown = None if elem is None or elem.VR == "SQ" else _json_value(values)
        results.append(ConditionResult(cond, shown, bool(passed)))
    return results
