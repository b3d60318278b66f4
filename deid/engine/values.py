"""Turning recipe values into element values valid for a VR.

Upstream converts literals by VR (FL/FD to float, binary VRs to UTF-8 bytes, integer VRs to int)
and silently leaves the element unchanged when that fails. Here a value that cannot be converted
raises :class:`ValueConversionError` (the engine turns it into an ``ApplyError`` naming the tag
and the recipe line), and a string value that converts but breaks the VR's rules (length,
character set) is written and reported by :func:`check_value`.

Examples
--------
>>> convert_value("12", "US")
12
>>> convert_value("1\\\\2", "SS")
[1, 2]
>>> convert_value("abc", "DS")  # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
...
deid.engine.values.ValueConversionError: 'abc' is not a valid DS value
"""

from __future__ import annotations

import re
from typing import Any

from pydicom import config as _config
from pydicom.valuerep import validate_value

__all__ = [
    "BYTES_VRS",
    "FLOAT_VRS",
    "INT_VRS",
    "MAX_VALUE_LENGTH",
    "ValueConversionError",
    "check_value",
    "convert_value",
    "surely_valid",
]

INT_VRS = frozenset({"SL", "SS", "SV", "UL", "US", "UV"})
FLOAT_VRS = frozenset({"FL", "FD"})
BYTES_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN"})
_DS = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")
_IS = re.compile(r"^\s*[+-]?\d+\s*$")


class ValueConversionError(ValueError):
    """A value cannot be represented in the target VR."""


def _convert_text(text: str, vr: str) -> Any:
    if vr in BYTES_VRS:
        return text.encode("utf-8")
    if vr == "SQ":
        raise ValueConversionError(f"{text!r} cannot replace a sequence")
    parts = text.split("\\")
    if vr in INT_VRS or vr in FLOAT_VRS:
        kind = int if vr in INT_VRS else float
        try:
            out = [kind(p.strip()) for p in parts]
        except ValueError:
            raise ValueConversionError(f"{text!r} is not a valid {vr} value") from None
        return out[0] if len(out) == 1 else out
    if vr == "DS" and text and not all(_DS.match(p) or p.strip() == "" for p in parts):
        raise ValueConversionError(f"{text!r} is not a valid DS value")
    if vr == "IS" and text and not all(_IS.match(p) or p.strip() == "" for p in parts):
        raise ValueConversionError(f"{text!r} is not a valid IS value")
    return text


def convert_value(value: Any, vr: str | None) -> Any:
    """Convert ``value`` for an element of VR ``vr``.

    Strings (and lists of strings) are converted; other objects (numbers, bytes, datasets,
    PersonName, ...) are used as they are. ``vr`` None means unknown: no conversion.

    Examples
    --------
    >>> convert_value("1.5", "FD"), convert_value("x", "OB"), convert_value("Doe", "PN")
    (1.5, b'x', 'Doe')
    """
    if vr is None:
        return value
    if isinstance(value, str):
        return _convert_text(value, vr)
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
        if vr in BYTES_VRS:
            return _convert_text("\\".join(value), vr)
        return [_convert_text(v, vr) for v in value]
    if vr == "SQ" and not isinstance(value, (list, tuple)):
        raise ValueConversionError(f"a {type(value).__name__} cannot replace a sequence")
    return value


_PRINTABLE = r"[\x20-\x5b\x5d-\x7e]"
#: Patterns that prove a value valid for its VR without asking pydicom (printable ASCII and the
#: VR's own syntax); anything they do not match goes to pydicom's validator.
_SURELY_VALID: dict[str, re.Pattern[str]] = {
    "UI": re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*"),
    "CS": re.compile(r"[A-Z0-9 _]*"),
    "DA": re.compile(r"[0-9]{8}"),
    "TM": re.compile(r"[0-9]{6}"),
    "DT": re.compile(r"[0-9]{8,14}"),
    "IS": re.compile(r"[+-]?[0-9]{1,11}"),
    "DS": re.compile(r"[+-]?[0-9]{1,15}"),
    "AS": re.compile(r"[0-9]{3}[DWMY]"),
    "LO": re.compile(_PRINTABLE + "*"),
    "SH": re.compile(_PRINTABLE + "*"),
    "LT": re.compile(_PRINTABLE + "*"),
    "ST": re.compile(_PRINTABLE + "*"),
    "UT": re.compile(_PRINTABLE + "*"),
    "UC": re.compile(_PRINTABLE + "*"),
    "PN": re.compile(r"[\x20-\x3c\x3e-\x5b\x5d-\x7e]*"),  # one component group, no '='
}
#: Maximum length of one value by VR (PS3.5 Table 6.2-1; PN per component group). VRs without
#: a limit here (UC, UT, UR, binary VRs) have none that a value could exceed in practice.
MAX_VALUE_LENGTH: dict[str, int] = {
    "AE": 16,
    "AS": 4,
    "CS": 16,
    "DA": 8,
    "DS": 16,
    "DT": 26,
    "IS": 12,
    "LO": 64,
    "LT": 10240,
    "PN": 64,
    "SH": 16,
    "ST": 1024,
    "TM": 14,
    "UI": 64,
}


def surely_valid(vr: str, text: str) -> bool:
    """True when ``text`` is certainly a valid single value of ``vr`` (a cheap check that
    returns False whenever it cannot tell; then ask pydicom).

    Examples
    --------
    >>> surely_valid("UI", "2.25.123"), surely_valid("UI", "1.02"), surely_valid("SH", "x" * 17)
    (True, False, False)
    """
    pattern = _SURELY_VALID.get(vr)
    if (
        pattern is None
        or len(text) > MAX_VALUE_LENGTH.get(vr, 1 << 30)
        or not pattern.fullmatch(text)
    ):
        return False
    return vr != "PN" or text.count("^") <= 4


def check_value(value: Any, vr: str | None) -> str | None:
    """Return why ``value`` is not valid for ``vr`` (None when it is, or cannot be checked).

    Examples
    --------
    >>> check_value("1.2.3", "UI") is None
    True
    >>> check_value("x" * 20, "SH")
    'The value length (20) exceeds the maximum length of 16 allowed for VR SH.'
    """
    if vr is None or vr == "SQ" or value is None:
        return None
    items = value if isinstance(value, (list, tuple)) else [value]
    for item in items:
        if not isinstance(item, str):
            continue
        for part in item.split("\\") if vr not in ("LT", "ST", "UT", "UR") else [item]:
            if surely_valid(vr, part):
                continue
            try:
                validate_value(vr, part, _config.RAISE)
            except (ValueError, TypeError) as exc:
                return str(exc)
    return None
