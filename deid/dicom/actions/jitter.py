"""Date shifting (``JITTER`` and ``deid_func:jitter``) of the pydicom/deid drop-in API.

Examples
--------
>>> from pydicom.dataelem import DataElement
>>> from deid.dicom.fields import DicomField
>>> f = DicomField(DataElement(0x00080020, "DA", "20131210"), "StudyDate", "(0008,0020)")
>>> jitter_timestamp(f, 10)
'20131220'
"""

from __future__ import annotations

import re
from typing import Any

from deid.dicom.fields import tag_string
from deid.engine.jitter import parse_days, shift_value
from deid.errors import ApplyError

__all__ = ["jitter_timestamp", "jitter_timestamp_func"]

_SEPARATED_DATE = re.compile(r"^\d{4}([-/])\d{2}\1\d{2}$")


def _describe(field: Any) -> str:
    element = getattr(field, "element", field)
    name = getattr(field, "name", None) or getattr(element, "keyword", "") or "element"
    return f"{tag_string(int(element.tag))} {name}"


def jitter_timestamp(field: Any, value: Any) -> Any:
    """Return the value of ``field`` shifted by ``value`` days, or None if it is empty.

    A wrapper over the engine's date shifting (:func:`deid.engine.jitter.shift_value`): DA values
    come back as ``YYYYMMDD``; DT values as ``YYYYMMDDHHMMSS.ffffff[+ZZZZ]``; other VRs only
    when their value is a date. Multi-valued elements are shifted item by item and joined with
    ``\\``.

    Parameters
    ----------
    field : DicomField
        The field whose element value is shifted (the element is not modified).
    value : int or str
        Number of days (an integer string is accepted).

    Raises
    ------
    deid.errors.ApplyError
        If the value is not a date (upstream invented one from today's date) or ``value`` is not
        an integer.

    Examples
    --------
    >>> from pydicom.dataelem import DataElement
    >>> from deid.dicom.fields import DicomField
    >>> f = DicomField(DataElement(0x0008002A, "DT", "20131210081530"), "X", "(0008,002A)")
    >>> jitter_timestamp(f, "-10")
    '20131130081530.000000'
    """
    try:
        days = parse_days(value)
    except ValueError as exc:
        raise ApplyError(f"{_describe(field)}: {exc}") from exc
    element = getattr(field, "element", field)
    original = element.value
    if isinstance(original, str) and _SEPARATED_DATE.match(original.strip()):
        original = re.sub(r"[-/]", "", original.strip())  # 2013-12-10, 2013/12/10
    result = shift_value(original, element.VR, days)
    if result.status == "empty":
        return None
    if result.status != "shifted":
        raise ApplyError(
            f"{_describe(field)}: cannot JITTER {element.value!r} ({element.VR}): {result.detail}"
        )
    return result.value


def jitter_timestamp_func(
    item: Any = None, value: Any = None, field: Any = None, **kwargs: Any
) -> Any:
    """``deid_func:jitter days=N years=M``: the field's date shifted by N + 365*M days.

    Examples
    --------
    >>> from pydicom.dataelem import DataElement
    >>> from deid.dicom.fields import DicomField
    >>> f = DicomField(DataElement(0x00080020, "DA", "20200101"), "StudyDate", "(0008,0020)")
    >>> jitter_timestamp_func(field=f, days="2")
    '20200103'
    """
    kwargs.pop("dicom", None)
    try:
        days = int(kwargs.get("days", 1)) + 365 * int(kwargs.get("years", 0))
    except (TypeError, ValueError) as exc:
        raise ApplyError(f"deid_func:jitter: days/years must be integers, got {kwargs}") from exc
    return jitter_timestamp(field, days)
