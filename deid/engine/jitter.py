"""Date shifting for JITTER and ``deid_func:jitter``.

Upstream's output formats are kept (DA ``YYYYMMDD``; DT expanded to ``YYYYMMDDHHMMSS.ffffff``
plus the offset when one was given; other VRs holding a date give ``YYYYMMDD``; numbers stay
numbers) but parsing is strict: a value is shifted only when it really is a full date. A value
that is not (a partial date such as ``2023``, a time, free text) is never completed from today's
date; :func:`shift_value` says so in its result and the engine reports it.

Examples
--------
>>> shift_value("20230101", "DA", 5).value
'20230106'
>>> shift_value("20131210081530", "DT", 10).value
'20131220081530.000000'
>>> shift_value("2023", "DA", 1).status
'unparseable'
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any, NamedTuple

__all__ = ["JitterResult", "jitter_timestamp", "parse_days", "shift_one", "shift_value"]

_DA = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DA_OLD = re.compile(r"^(\d{4})\.(\d{2})\.(\d{2})$")
#: Dates written with dashes or slashes (``2013-12-10``, ``2013/12/10``), which upstream's
#: parser reads too; the shifted value is written ``YYYYMMDD``.
_DA_SEP = re.compile(r"^(\d{4})([-/])(\d{2})\2(\d{2})$")
_DT = re.compile(
    r"^(\d{4})(\d{2})(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d{1,6}))?)?)?)?([+-]\d{4})?$"
)
#: VRs that never hold a date: JITTER leaves them and reports it.
NOT_DATE_VRS = frozenset({"TM", "SQ", "AT", "FL", "FD", "OB", "OD", "OF", "OL", "OV", "OW"})


class JitterResult(NamedTuple):
    """Outcome of a shift.

    ``status`` is ``shifted``, ``empty`` (nothing to shift), ``unparseable`` (a date VR whose
    value is not a full date) or ``not_date`` (a VR or value that holds no date).
    """

    value: Any
    status: str
    detail: str | None = None


def parse_days(value: Any) -> int:
    """Return a JITTER amount as an int; raise ``ValueError`` for anything else.

    Examples
    --------
    >>> parse_days("-3"), parse_days(7)
    (-3, 7)
    """
    if isinstance(value, bool):
        raise ValueError(f"JITTER needs a whole number of days, got {value!r}")  # noqa: TRY004
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not re.fullmatch(r"[+-]?\d+", text):
        raise ValueError(f"JITTER needs a whole number of days, got {value!r}")
    return int(text)


def _date(text: str) -> _dt.date | None:
    m = _DA.match(text) or _DA_OLD.match(text)
    if m:
        year, month, day = m[1], m[2], m[3]
    else:
        m = _DA_SEP.match(text)
        if not m:
            return None
        year, month, day = m[1], m[3], m[4]
    try:
        return _dt.date(int(year), int(month), int(day))
    except ValueError:
        return None


def _da(day: _dt.date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _shift_dt(text: str, days: int) -> str | None:
    m = _DT.match(text)
    if not m:
        sep = _DA_SEP.match(text)
        if not sep:
            return None
        m = _DT.match(f"{sep[1]}{sep[3]}{sep[4]}")
        if not m:  # pragma: no cover - eight digits always match
            return None
    try:
        frac = (m[7] or "").ljust(6, "0")
        when = _dt.datetime(
            int(m[1]),
            int(m[2]),
            int(m[3]),
            int(m[4] or 0),
            int(m[5] or 0),
            int(m[6] or 0),
            int(frac or 0),
        )
        when += _dt.timedelta(days=days)
    except (ValueError, OverflowError):
        return None
    return _da(when) + when.strftime("%H%M%S.%f") + (m[8] or "")


def shift_one(value: Any, vr: str | None, days: int) -> JitterResult:
    """Shift one (single) value by ``days``; see :func:`shift_value`.

    Examples
    --------
    >>> shift_one("20230101120000+0100", "DT", 1).value
    '20230102120000.000000+0100'
    >>> shift_one(20230101, "UL", 1).value
    20230102
    """
    if value is None or value == "" or value == b"":
        return JitterResult(value, "empty")
    if vr in NOT_DATE_VRS:
        return JitterResult(value, "not_date", f"JITTER does not apply to {vr}; left unchanged")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = int(value)
        day = _date(str(number)) if number == value else None
        if day is None:
            return JitterResult(value, "not_date", "not a date; left unchanged")
        try:
            return JitterResult(int(_da(day + _dt.timedelta(days=days))), "shifted")
        except OverflowError:
            return JitterResult(value, "unparseable", "date out of range after shifting")
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    text = str(value).strip(" \x00")
    if vr == "DT":
        shifted = _shift_dt(text, days)
        if shifted is None:
            return JitterResult(value, "unparseable", f"{text!r} is not a full DT value")
        return JitterResult(shifted, "shifted")
    day = _date(text)
    if day is None and _DT.match(text):  # a date-time where a date was expected
        day = _date(text[:8])
    if day is None:
        if vr == "DA":
            return JitterResult(value, "unparseable", f"{text!r} is not a full DA value")
        return JitterResult(value, "not_date", f"{text!r} is not a date; left unchanged")
    try:
        return JitterResult(_da(day + _dt.timedelta(days=days)), "shifted")
    except OverflowError:
        return JitterResult(value, "unparseable", "date out of range after shifting")


def shift_value(value: Any, vr: str | None, days: int) -> JitterResult:
    """Shift a DA/DT (or date-holding) value by ``days``.

    Multi-valued values are shifted item by item and joined with ``\\`` (as upstream). The
    status of a multi-valued shift is the worst of its items.

    Parameters
    ----------
    value : str, int, list or None
        The element value.
    vr : str or None
        The element VR.
    days : int
        Days to add (negative to go back).

    Examples
    --------
    >>> shift_value(["20230101", "20230201"], "DA", 1).value
    '20230102\\\\20230202'
    >>> shift_value("", "DA", 1).status
    'empty'
    """
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        items = list(value)
        if not items:
            return JitterResult(value, "empty")
        results = [shift_one(v, vr, days) for v in items]
        for status in ("unparseable", "not_date"):
            bad = [r for r in results if r.status == status]
            if bad:
                return JitterResult(value, status, bad[0].detail)
        return JitterResult("\\".join(str(r.value) for r in results), "shifted")
    return shift_one(value, vr, days)


def jitter_timestamp(field: Any, value: Any) -> Any:
    """Upstream's ``jitter_timestamp(field, value)``: the field's value shifted by ``value`` days.

    ``field`` is anything with an ``element`` attribute (a DicomField) or a DataElement. Values
    that cannot be shifted are returned unchanged (the engine reports them instead); an empty
    value gives None, as upstream.

    Examples
    --------
    >>> from pydicom.dataelem import DataElement
    >>> jitter_timestamp(DataElement(0x00080020, "DA", "20230101"), 1)
    '20230102'
    """
    element = getattr(field, "element", field)
    days = parse_days(value)
    if not element.value:
        return None
    return shift_value(element.value, element.VR, days).value
