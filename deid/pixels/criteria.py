"""Filter criteria of ``%filter`` LABEL blocks, evaluated against one dataset.

These are the tests of upstream's ``deid.dicom.filter.apply_filter`` — ``contains``,
``notcontains``, ``equals``, ``notequals``, ``missing``, ``present`` and ``empty`` — written as
pure functions (no methods are added to :class:`pydicom.dataset.Dataset`).

Examples
--------
>>> from pydicom import Dataset
>>> ds = Dataset()
>>> ds.ImageType = ["ORIGINAL", "PRIMARY"]
>>> apply_filter(ds, "ImageType", "contains", "primary")
True
>>> evaluate_group([True, "or", False, "and", False])
False
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydicom.dataset import Dataset

from deid.errors import DeidError
from deid.recipe.ast import FILTERS, VALUE_FILTERS

__all__ = ["FilterError", "apply_filter", "evaluate_group", "field_value"]


class FilterError(DeidError, ValueError):
    """A filter criterion cannot be evaluated (unknown filter, missing value, bad regex)."""


_ABSENT = object()


def field_value(ds: Dataset, field: str) -> Any:
    """Return what a criterion compares for ``field``, or None when it is absent.

    A keyword gives the element's value; a string containing ``0x`` is read as a tag number and
    gives the whole :class:`~pydicom.dataelem.DataElement` (upstream compares its printed form).

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        The dataset to look in.
    field : str
        A keyword (``Modality``) or a tag number (``0x00080060``).

    Returns
    -------
    object or None
        The value, the element (tag form) or None.

    Examples
    --------
    >>> from pydicom import Dataset
    >>> ds = Dataset(); ds.Modality = "CT"
    >>> field_value(ds, "Modality")
    'CT'
    >>> field_value(ds, "0x00080060").keyword
    'Modality'
    """
    field = field.strip()
    if "0x" in field.lower():
        try:
            tag = int(field, 0)
        except ValueError as exc:
            raise FilterError(f"filter field {field!r} is not a tag number") from exc
        return ds.get(tag)
    try:
        return ds.get(field)
    except (AttributeError, KeyError, TypeError, ValueError):  # odd keywords
        return None


def _text(value: Any) -> str:
    return str(value).lower().strip()


def _is_empty(value: Any) -> bool:
    if value is None:
        return True
    inner = getattr(value, "value", _ABSENT)  # a DataElement (tag form): look at its value
    if inner is not _ABSENT and hasattr(value, "tag"):
        value = inner
    if value is None:
        return True
    if isinstance(value, (bytes, str)):
        return value.strip() == ("" if isinstance(value, str) else b"")
    try:
        return len(value) == 0
    except TypeError:
        return False


def apply_filter(ds: Dataset, field: str, filter_name: str, value: str | None = None) -> bool:
    """Evaluate one criterion with upstream's semantics.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        The image header.
    field : str
        Keyword or ``0xGGGGEEEE`` tag.
    filter_name : str
        One of ``contains notcontains equals notequals missing present empty``
        (case-insensitive).
    value : str or None
        The value for ``contains``/``equals`` and their negations (a regular expression for
        ``contains``, searched case-insensitively; a plain string for ``equals``).

    Returns
    -------
    bool

    Raises
    ------
    FilterError
        Unknown filter, a value filter without a value, or an invalid regular expression.

    Examples
    --------
    >>> from pydicom import Dataset
    >>> ds = Dataset(); ds.Modality = "US"
    >>> apply_filter(ds, "Modality", "equals", "us")
    True
    >>> apply_filter(ds, "PatientName", "missing")
    True
    """
    name = filter_name.strip().lower()
    if name not in FILTERS:
        raise FilterError(f"unknown filter {filter_name!r} (expected one of {', '.join(FILTERS)})")
    found = field_value(ds, field)
    if name == "missing":
        return found is None
    if name == "present":
        return found is not None
    if name == "empty":
        return found is not None and _is_empty(found)
    if value is None:
        raise FilterError(f"filter '{name} {field}' needs a value")
    if name in ("contains", "notcontains"):
        try:
            pattern = re.compile(value.lower().strip())
        except re.error as exc:
            raise FilterError(f"filter '{name} {field} {value}': bad regular expression: {exc}")
        hit = found is not None and pattern.search(_text(found)) is not None
        return hit if name == "contains" else not hit
    assert name in VALUE_FILTERS
    hit = found is not None and _text(found) == value.lower().strip()
    return hit if name == "equals" else not hit


def evaluate_group(flags: Sequence[Any]) -> bool:
    """Fold ``[bool, "and"|"or", bool, ...]`` strictly left to right (no precedence).

    Parameters
    ----------
    flags : sequence
        Booleans separated by ``"and"``/``"or"``; two booleans in a row are AND-ed.

    Returns
    -------
    bool
        False for an empty sequence.

    Examples
    --------
    >>> evaluate_group([True, "or", False, "and", True])
    True
    >>> evaluate_group([False, "or", True, "and", False])
    False
    """
    result = False
    first = True
    operator = "and"
    for flag in flags:
        if isinstance(flag, str):
            op = flag.strip().lower()
            if op in ("and", "+"):
                operator = "and"
            elif op in ("or", "||"):
                operator = "or"
            else:
                raise FilterError(f"unknown operator {flag!r} in filter group")
            continue
        if first:
            result = bool(flag)
            first = False
        elif operator == "or":
            result = result or bool(flag)
        else:
            result = result and bool(flag)
        operator = "and"
    return result
