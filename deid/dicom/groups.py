"""``%values`` and ``%fields`` groups of the pydicom/deid drop-in API.

Examples
--------
>>> from pydicom import Dataset
>>> ds = Dataset(); ds.PatientID = "ab^cdef^g"
>>> extract_values_list(ds, [{"action": "SPLIT", "field": "PatientID",
...                          "value": 'by="^";minlength=2'}])
['ab', 'cdef']
"""

from __future__ import annotations

from typing import Any

from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from deid.dicom.fields import DicomField, expand_field_expression, get_fields_with_lookup
from deid.errors import DeidError

__all__ = ["extract_fields_list", "extract_values_list", "parse_split_params"]


def parse_split_params(value: str | None) -> tuple[str, int]:
    """Parse SPLIT parameters ``by="^";minlength=4`` into ``(separator, minlength)``.

    Quotes around either value are removed (the docs' ``minlength='4'`` works).

    Examples
    --------
    >>> parse_split_params("by='^';minlength='4'")
    ('^', 4)
    >>> parse_split_params(None)
    (' ', 1)
    """
    by, minlength = " ", 1
    for param in (value or "").split(";"):
        if not param.strip():
            continue
        key, sep, raw = param.partition("=")
        if not sep:
            raise DeidError(f"SPLIT parameter {param.strip()!r} is not key=value")
        key = key.strip().lower()
        raw = raw.strip().strip("'\"")
        if key == "by":
            by = raw
        elif key == "minlength":
            try:
                minlength = int(raw)
            except ValueError as exc:
                raise DeidError(f"SPLIT minlength {raw!r} is not an integer") from exc
    return by, minlength


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return str(value)
    return value


def extract_values_list(
    dicom: Dataset, actions: list[dict[str, Any]], fields: Any = None
) -> list[Any]:
    """Evaluate a ``%values`` group (FIELD/SPLIT lines) to a de-duplicated list of values.

    FIELD collects the non-empty values of the matched elements (each item of a multi-value);
    SPLIT splits ``str(value)`` and keeps the pieces of at least ``minlength`` characters.
    Order is first-seen order.

    Examples
    --------
    >>> from pydicom import Dataset
    >>> ds = Dataset(); ds.OperatorsName = "Op"; ds.PatientName = "P"
    >>> extract_values_list(ds, [{"action": "FIELD", "field": "startswith:Operator"}])
    ['Op']
    """
    fields = get_fields_with_lookup(dicom) if fields is None else fields
    values: dict[Any, None] = {}
    for action in actions:
        kind = str(action.get("action", ""))
        subset = expand_field_expression(field=action["field"], dicom=dicom, contenders=fields)
        if kind.upper() == "FIELD":
            for field in subset.values():
                value = field.element.value
                if value in ("", None):
                    continue
                items = value if isinstance(value, (list, MultiValue)) else [value]
                for item in items:
                    if item not in ("", None):
                        values[_hashable(item)] = None
        elif kind.upper() == "SPLIT":
            by, minlength = parse_split_params(action.get("value"))
            for field in subset.values():
                for piece in str(field.element.value).split(by):
                    if len(piece) >= minlength:
                        values[piece] = None
        else:
            raise DeidError(
                f"%values line {kind} {action.get('field')}: only FIELD and SPLIT are allowed"
            )
    return list(values)


def extract_fields_list(
    dicom: Dataset,
    actions: list[dict[str, Any]],
    fields: Any = None,
    field_lookup_tables: Any = None,
) -> dict[str, DicomField]:
    """Evaluate a ``%fields`` group (FIELD lines) to ``{uid: DicomField}``.

    Examples
    --------
    >>> from pydicom import Dataset
    >>> ds = Dataset(); ds.SOPInstanceUID = "1.2"; ds.PatientID = "x"
    >>> list(extract_fields_list(ds, [{"action": "FIELD", "field": "contains:Instance"}]))
    ['(0008,0018)']
    """
    fields = get_fields_with_lookup(dicom) if fields is None else fields
    found: dict[str, DicomField] = {}
    for action in actions:
        kind = str(action.get("action", ""))
        if kind.upper() != "FIELD":
            raise DeidError(
                f"%fields line {kind} {action.get('field')}: only FIELD lines are allowed"
            )
        found.update(expand_field_expression(field=action["field"], dicom=dicom, contenders=fields))
    return found
