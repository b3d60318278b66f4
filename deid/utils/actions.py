"""Value helpers of the pydicom/deid drop-in API: key=value pairs, timestamps, value forms.

Examples
--------
>>> parse_keyvalue_pairs("days=3 stable_remapping=false")
{'days': '3', 'stable_remapping': False}
>>> get_timestamp("20131210", jitter_days=10, format="%Y%m%d")
'20131220'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

from deid.errors import ApplyError, DeidError

__all__ = [
    "convert_value",
    "get_func",
    "get_timestamp",
    "parse_datetime",
    "parse_keyvalue_pairs",
    "parse_value",
]

_DATE_RE = re.compile(r"^(\d{4})[-/.]?(\d{2})[-/.]?(\d{2})$")
_DT_RE = re.compile(
    r"^(\d{4})(\d{2})(\d{2})(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,6}))?(?:([+-])(\d{2})(\d{2}))?$"
)
_TIME_RE = re.compile(r"^(\d{2}):?(\d{2})?:?(\d{2})?(?:\.(\d{1,6}))?$")


def parse_keyvalue_pairs(pairs: str | Iterable[str] | None) -> dict[str, Any]:
    """Turn ``"k=v k=v"`` (or a list of ``k=v``) into a dict.

    ``true``/``false`` become booleans and ``none``/``null`` become None (case-insensitive);
    everything else stays a string. Tokens without ``=`` are ignored.

    Examples
    --------
    >>> parse_keyvalue_pairs(["prefix=1.2.3.", "x=None"])
    {'prefix': '1.2.3.', 'x': None}
    """
    if pairs is None:
        return {}
    tokens = pairs.split() if isinstance(pairs, str) else list(pairs)
    result: dict[str, Any] = {}
    for token in tokens:
        if "=" not in token:
            continue
        key, value = token.split("=", 1)
        lowered = value.strip().lower()
        converted: Any = value.strip()
        if lowered == "true":
            converted = True
        elif lowered == "false":
            converted = False
        elif lowered in ("none", "null"):
            converted = None
        result[key.strip()] = converted
    return result


def parse_datetime(text: str) -> datetime:
    """Parse a DICOM DA/DT value (or a dashed/slashed date) strictly.

    Raises ``ValueError`` for anything else: no part of the result is invented.

    Examples
    --------
    >>> parse_datetime("20131210081530.5+0100").isoformat()
    '2013-12-10T08:15:30.500000+01:00'
    >>> parse_datetime("2013-12-10").date().isoformat()
    '2013-12-10'
    """
    text = str(text).strip()
    match = _DATE_RE.match(text)
    if match:
        return datetime(int(match[1]), int(match[2]), int(match[3]))
    match = _DT_RE.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a DICOM date (YYYYMMDD) or date-time")
    year, month, day, hour, minute, second, frac, sign, oh, om = match.groups()
    tz = None
    if sign:
        delta = timedelta(hours=int(oh), minutes=int(om))
        tz = timezone(-delta if sign == "-" else delta)
    micro = int((frac or "0").ljust(6, "0"))
    return datetime(
        int(year),
        int(month),
        int(day),
        int(hour or 0),
        int(minute or 0),
        int(second or 0),
        micro,
        tzinfo=tz,
    )


def get_timestamp(
    item_date: str | None,
    item_time: str | None = None,
    jitter_days: int | None = None,
    format: str | None = None,
) -> str | None:
    """Combine a date (and time), shift it by ``jitter_days`` and format it.

    Returns None when ``item_date`` is empty. Unparseable input raises ``ValueError`` (upstream
    filled missing parts from today's date).

    Examples
    --------
    >>> get_timestamp("20230101", "120000", jitter_days=-1, format="%Y%m%d%H%M%S")
    '20221231120000'
    """
    if item_date in (None, ""):
        return None
    stamp = parse_datetime(str(item_date))
    if item_time:
        tmatch = _TIME_RE.match(str(item_time).strip())
        if not tmatch:
            raise ValueError(f"{item_time!r} is not a DICOM time (HHMMSS.FFFFFF)")
        hh, mm, ss, frac = tmatch.groups()
        stamp = stamp.replace(
            hour=int(hh),
            minute=int(mm or 0),
            second=int(ss or 0),
            microsecond=int((frac or "0").ljust(6, "0")),
        )
    if jitter_days:
        stamp = stamp + timedelta(days=int(jitter_days))
    if format:
        return stamp.strftime(format)
    return stamp.isoformat()


_INT_VRS = {"SL", "SS", "SV", "UL", "US", "UV", "AT"}
_FLOAT_VRS = {"FL", "FD"}
_BYTES_VRS = {"OB", "OD", "OF", "OL", "OV", "OW", "UN"}


def convert_value(field: Any, VR: str | None, value: Any) -> Any:
    """Convert a recipe string to the Python type pydicom expects for ``VR``.

    FL/FD become float, SL/SS/SV/UL/US/UV int, OB/OD/OF/OL/OV/OW/UN UTF-8 bytes; other VRs keep
    the string. A value that cannot be converted raises :class:`deid.errors.ApplyError` naming
    the field (upstream logged "will be BLANKED" and left the original value in place).

    Examples
    --------
    >>> convert_value("Rows", "US", "12")
    12
    >>> convert_value("x", "OB", "ab")
    b'ab'
    """
    if not isinstance(value, str) or VR is None:
        return value
    try:
        if VR in _FLOAT_VRS:
            return float(value)
        if VR in _INT_VRS:
            return int(float(value)) if "." in value else int(value)
        if VR in _BYTES_VRS:
            return value.encode("utf-8")
    except ValueError as exc:
        name = getattr(field, "name", field)
        raise ApplyError(f"{name}: value {value!r} is not valid for VR {VR}") from exc
    return value


def get_func(function_name: str) -> Callable[..., Any] | None:
    """Return the built-in ``deid_func:`` function (or action helper) ``function_name``.

    Returns None for an unknown name.

    Examples
    --------
    >>> get_func("jitter").__name__
    'jitter_timestamp_func'
    >>> get_func("jitter_timestamp").__name__
    'jitter_timestamp'
    """
    from deid.dicom import actions

    func = actions.deid_funcs.get(function_name)
    if func is None and function_name in actions.__all__:
        func = getattr(actions, function_name)
    return func


def parse_value(
    dicom: Any,
    value: Any,
    item: dict[str, Any] | None = None,
    field: Any = None,
    funcs: dict[str, Callable[..., Any]] | None = None,
) -> Any:
    """Resolve a recipe value: literal, ``var:NAME``, ``func:NAME`` or ``deid_func:NAME k=v``.

    ``item`` is the per-file lookup (variables and user functions); ``funcs`` the built-in
    ``deid_func`` registry (default: :data:`deid.dicom.actions.deid_funcs`). A name that is not
    defined raises :class:`deid.errors.DeidError` (upstream warned and went on with None).
    Literals are converted with :func:`convert_value` when ``field`` has an element.

    Examples
    --------
    >>> parse_value(None, "var:x", item={"x": "1.2"})
    '1.2'
    >>> parse_value(None, "func:f", item={"f": lambda dicom, value, field, item: value})
    'func:f'
    """
    item = item or {}
    if not isinstance(value, str):
        return value
    if value.startswith("var:"):
        name = value[4:]
        if name not in item:
            raise DeidError(f"variable {name!r} (from {value!r}) is not defined")
        return item[name]
    if value.startswith("func:"):
        name = value[5:]
        func = item.get(name)
        if not callable(func):
            raise DeidError(f"function {name!r} (from {value!r}) is not defined")
        return func(dicom=dicom, value=value, field=field, item=item)
    if value.startswith("deid_func:"):
        parts = value[len("deid_func:") :].split()
        if not parts:
            raise DeidError(f"{value!r}: deid_func: needs a function name")
        if funcs is None:
            from deid.dicom.actions import deid_funcs

            funcs = deid_funcs
        func = funcs.get(parts[0])
        if func is None:
            raise DeidError(f"deid_func {parts[0]!r} (from {value!r}) does not exist")
        extras = parse_keyvalue_pairs(parts[1:])
        return func(dicom=dicom, value=value, field=field, item=item, **extras)
    element = getattr(field, "element", None)
    if element is not None:
        return convert_value(field, element.VR, value)
    return value
