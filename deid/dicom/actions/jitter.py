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

from datetime import timedelta
from typing import Any

from pydicom.multival import MultiValue

from deid.errors import ApplyError
from deid.utils.actions import parse_datetime

__all__ = ["jitter_timestamp", "jitter_timestamp_func"]

_DA_FORMAT = "%Y%m%d"
_DT_FORMAT = "%Y%m%d%H%M%S.%f%z"
_NUMERIC_VRS = {"IS", "SL", "SS", "SV", "UL", "US", "UV"}


def _describe(field: Any) -> str:
    element = getattr(field, "element", None)
    if element is None:
        return str(field)
    return "%s %s" % (getattr(field, "tag", element.tag), element.keyword or field.name)


def _shift_one(field: Any, vr: str, original: Any, days: int) -> Any:
    text = str(original).strip()
    try:
        stamp = parse_datetime(text)
    except ValueError as exc:
        raise ApplyError(f"{_describe(field)}: cannot JITTER {text!r} ({vr}): {exc}") from exc
    shifted = stamp + timedelta(days=days)
    if vr == "DA":
        return shifted.strftime(_DA_FORMAT)
    if vr == "DT":
        return shifted.strftime(_DT_FORMAT)
    digits = text.replace("-", "").replace("/", "").replace(".", "")
    result = shifted.strftime(_DA_FORMAT if len(digits) == 8 else _DT_FORMAT)
    return int(result) if vr in _NUMERIC_VRS else result


def jitter_timestamp(field: Any, value: Any) -> Any:
    """Return the value of ``field`` shifted by ``value`` days, or None if it is empty.

    DA values come back as ``YYYYMMDD``; DT values as ``YYYYMMDDHHMMSS.ffffff[+ZZZZ]``; other VRs
    are accepted only when their value is a date or date-time (``YYYYMMDD``, ``YYYY-MM-DD``...).
    Multi-valued elements are shifted item by item and joined with ``\\``.

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
        days = value if isinstance(value, int) else int(str(value).strip())
    except ValueError as exc:
        raise ApplyError(f"{_describe(field)}: JITTER needs a whole number of days, got {value!r}") from exc
    element = field.element
    original = element.value
    if original in (None, "") or (isinstance(original, (list, MultiValue)) and not original):
        return None
    vr = element.VR
    if isinstance(original, (list, MultiValue)):
        shifted = [_shift_one(field, vr, item, days) for item in original if item not in ("", None)]
        return "\\".join(str(s) for s in shifted)
    return _shift_one(field, vr, original, days)


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
