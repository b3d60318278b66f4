"""The function registry and the built-in ``deid_func:`` functions.

Functions are called the way upstream calls them, with keywords only:

* ``func:NAME`` -> ``f(dicom=ds, value="func:NAME", field=field, item=lookup)``;
* ``deid_func:NAME k=v ...`` -> ``f(dicom=ds, value=..., field=field, item=lookup, k=v, ...)``
  where ``true``/``false`` become booleans and ``none``/``null`` None. The built-ins also accept
  upstream's form, the raw ``extras="k=v k=v"`` string, so they can stand in for
  ``deid.dicom.actions`` functions.

``field`` is the element's field object (``DicomField``-shaped) or, for ADD, the field expression
as written. A function registered with ``context=True`` also receives ``context=`` (the
:class:`~deid.engine.context.Context`), which is how keyed functions reach the key, the UID map
and the patient's date offset.

Examples
--------
>>> @register("shout")
... def shout(dicom, value, field, item, **extras):
...     return str(field.element.value).upper()
>>> get_function("shout").func is shout
True
>>> unregister("shout")
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydicom.uid import generate_uid

from deid.engine.jitter import parse_days, shift_value
from deid.errors import DeidError

__all__ = [
    "BUILTINS",
    "FunctionArgumentError",
    "FunctionSpec",
    "basic_uuid",
    "check_arguments",
    "check_uid_prefix",
    "dicom_uuid",
    "get_function",
    "jitter",
    "parse_extras",
    "pydicom_uuid",
    "register",
    "registered",
    "suffix_uuid",
    "unregister",
]


@dataclass(frozen=True)
class FunctionSpec:
    """A registered function: its name, the callable, and whether it wants ``context=``."""

    name: str
    func: Callable[..., Any]
    context: bool = False


_REGISTRY: dict[str, FunctionSpec] = {}


def register(
    name: str | None = None, *, context: bool = False, replace: bool = True
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: make a function available to ``func:`` and ``deid_func:`` in every run.

    Parameters
    ----------
    name : str, optional
        Name used in recipes (default: the function's ``__name__``).
    context : bool
        Also pass ``context=`` (the per-file :class:`~deid.engine.context.Context`).
    replace : bool
        Allow replacing an existing registration (otherwise ``ValueError``).

    Examples
    --------
    >>> @register("const_x")
    ... def const_x(**kwargs):
    ...     return "X"
    >>> "const_x" in registered()
    True
    >>> unregister("const_x")
    """

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        key = name or func.__name__
        if not replace and key in _REGISTRY:
            raise ValueError(f"a function named {key!r} is already registered")
        _REGISTRY[key] = FunctionSpec(key, func, context)
        return func

    return decorate


def unregister(name: str) -> None:
    """Remove a registered function (no error if absent)."""
    _REGISTRY.pop(name, None)


def get_function(name: str) -> FunctionSpec | None:
    """Return the registered function ``name`` or None."""
    return _REGISTRY.get(name)


def registered() -> dict[str, FunctionSpec]:
    """Return a copy of the registry."""
    return dict(_REGISTRY)


def parse_extras(pairs: tuple[tuple[str, str], ...] | list[tuple[str, str]]) -> dict[str, Any]:
    """Convert ``deid_func`` ``k=v`` pairs as upstream does.

    Examples
    --------
    >>> parse_extras([("days", "5"), ("stable_remapping", "false"), ("prefix", "none")])
    {'days': '5', 'stable_remapping': False, 'prefix': None}
    """
    out: dict[str, Any] = {}
    for key, raw in pairs:
        low = raw.lower()
        if low == "true":
            out[key] = True
        elif low == "false":
            out[key] = False
        elif low in ("none", "null"):
            out[key] = None
        else:
            out[key] = raw
    return out


def _extras(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Merge upstream's raw ``extras="k=v k=v"`` string (if given) into keyword options."""
    raw = kwargs.pop("extras", None)
    if isinstance(raw, str) and raw.strip():
        pairs = [tuple(p.split("=", 1)) for p in raw.split(" ") if "=" in p]
        for key, value in parse_extras([(k.strip(), v.strip()) for k, v in pairs]).items():
            kwargs.setdefault(key, value)
    return kwargs


def _element(field: Any) -> Any:
    return getattr(field, "element", None)


class FunctionArgumentError(DeidError, ValueError):
    """A built-in function got an argument it cannot use (e.g. a UID prefix that is not one)."""


def check_uid_prefix(prefix: Any) -> str:
    """Return ``prefix`` if it can start a UID (digits and dots, ending in a dot, <= 54 chars).

    Raises
    ------
    FunctionArgumentError
        Naming the prefix and the rule it breaks.

    Examples
    --------
    >>> check_uid_prefix("1.2.826.0.1.3680043.10.")
    '1.2.826.0.1.3680043.10.'
    >>> check_uid_prefix("1.2.3")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ...
    deid.engine.functions.FunctionArgumentError: prefix '1.2.3' ...
    """
    text = str(prefix)
    if len(text) > 54 or not _UID_PREFIX.fullmatch(text):
        raise FunctionArgumentError(
            f"prefix {text!r} is not a valid UID root: it needs digits separated by dots, no "
            "leading zeros, a final dot and at most 54 characters (e.g. prefix=1.2.826.0.1.)"
        )
    return text


_UID_PREFIX = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*\.")


def check_arguments(name: str, args: Mapping[str, Any]) -> None:
    """Check the ``k=v`` arguments of a ``deid_func:`` call that can be checked before a run.

    Raises
    ------
    FunctionArgumentError
        An argument a built-in function cannot use.

    Examples
    --------
    >>> check_arguments("pydicom_uuid", {"prefix": "2.25."})
    >>> check_arguments("jitter", {"days": "x"})  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ...
    deid.engine.functions.FunctionArgumentError: days='x' ...
    """
    if name == "pydicom_uuid" and args.get("prefix") is not None:
        check_uid_prefix(args["prefix"])
    if name == "jitter":
        for key in ("days", "years"):
            raw = args.get(key)
            if raw is not None and not re.fullmatch(r"\s*[+-]?\d+\s*", str(raw)):
                raise FunctionArgumentError(f"{key}={raw!r} is not a whole number")


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in ("false", "0", "no", "")
    return bool(value)


def jitter(
    item: Any = None,
    value: Any = None,
    field: Any = None,
    dicom: Any = None,
    days: Any = 1,
    years: Any = 0,
    **kwargs: Any,
) -> Any:
    """``deid_func:jitter days=N years=M``: the field's own date moved by N + 365*M days.

    Use it with REPLACE. Returns None when the value is not a date that can be shifted (the
    engine then refuses the REPLACE, naming the element).

    Examples
    --------
    >>> from pydicom.dataelem import DataElement
    >>> from deid.engine.walk import Field
    >>> f = Field(DataElement(0x00080020, "DA", "20230101"), "StudyDate", "(0008,0020)")
    >>> jitter(field=f, days="2", years="1")
    '20240103'
    """
    opts = _extras(dict(kwargs))
    days, years = opts.get("days", days), opts.get("years", years)
    element = _element(field)
    if element is None:
        return None
    total = parse_days(days) + 365 * parse_days(years)
    result = shift_value(element.value, element.VR, total)
    if result.status == "empty":
        return element.value
    return result.value if result.status == "shifted" else None


def pydicom_uuid(
    item: Any = None,
    value: Any = None,
    field: Any = None,
    dicom: Any = None,
    prefix: Any = "2.25.",
    stable_remapping: Any = True,
    context: Any = None,
    **kwargs: Any,
) -> str:
    """``deid_func:pydicom_uuid [prefix=<root.>] [stable_remapping=true|false]``.

    Without a key: ``pydicom.uid.generate_uid(prefix, entropy_srcs=[str(original)])`` (stable,
    the same UIDs as pydicom/deid), or a random UID with ``stable_remapping=false``. With a key in
    the context: the keyed remap of ``deid.engine.keys`` (``2.25.<int>``), remembered in
    ``context.uid_map``. Under ADD (no original value) a new random UID.

    Examples
    --------
    >>> from pydicom.dataelem import DataElement
    >>> from deid.engine.walk import Field
    >>> f = Field(DataElement(0x0020000D, "UI", "1.2.3"), "StudyInstanceUID", "(0020,000D)")
    >>> pydicom_uuid(field=f) == pydicom_uuid(field=f)
    True
    """
    opts = _extras(dict(kwargs))
    prefix = opts.get("prefix", prefix)
    stable_remapping = opts.get("stable_remapping", stable_remapping)
    element = _element(field)
    original = None if element is None else element.value
    if prefix is None:
        prefix = "2.25."
    prefix = check_uid_prefix(prefix)
    if original in (None, ""):
        return str(generate_uid(prefix=prefix))
    if context is not None and getattr(context, "key", None) is not None:
        text = str(original)
        cached = context.uid_map.get(text)
        if cached is None:
            from deid.engine import keys

            cached = keys.keyed_uid(context.keyed(), text)
            context.uid_map[text] = cached
        return str(cached)
    if _as_bool(stable_remapping):
        return str(generate_uid(prefix=prefix, entropy_srcs=[str(original)]))
    return str(generate_uid(prefix=prefix))


def dicom_uuid(
    item: Any = None,
    value: Any = None,
    field: Any = None,
    dicom: Any = None,
    org_root: Any = "anonymous-organization",
    **kwargs: Any,
) -> str:
    """``deid_func:dicom_uuid [org_root=<root>]``: ``<org_root>.<uuid4 as int>``, at most 64 chars.

    Random on every call. The default root is upstream's literal text (not a valid UID root; the
    engine reports such values as invalid for UI).

    Examples
    --------
    >>> dicom_uuid(org_root="1.2.3").startswith("1.2.3.")
    True
    """
    org_root = _extras(dict(kwargs)).get("org_root", org_root)
    return f"{org_root}.{uuid.uuid4().int}"[:64]


def basic_uuid(
    item: Any = None, value: Any = None, field: Any = None, dicom: Any = None, **kwargs: Any
) -> str:
    """``deid_func:basic_uuid``: ``str(uuid4())``.

    Examples
    --------
    >>> len(basic_uuid())
    36
    """
    return str(uuid.uuid4())


def suffix_uuid(
    item: Any = None, value: Any = None, field: Any = None, dicom: Any = None, **kwargs: Any
) -> str:
    """``deid_func:suffix_uuid``: ``<lower-cased field name>-<uuid4>``.

    Examples
    --------
    >>> from pydicom.dataelem import DataElement
    >>> from deid.engine.walk import Field
    >>> f = Field(DataElement(0x00100020, "LO", "1"), "PatientID", "(0010,0020)")
    >>> suffix_uuid(field=f).startswith("patientid-")
    True
    """
    name = getattr(field, "name", field)
    return f"{str(name).lower()}-{uuid.uuid4()}"


#: Built-in ``deid_func:`` names.
BUILTINS: tuple[str, ...] = ("jitter", "pydicom_uuid", "dicom_uuid", "basic_uuid", "suffix_uuid")

register("jitter")(jitter)
register("pydicom_uuid", context=True)(pydicom_uuid)
register("dicom_uuid")(dicom_uuid)
register("basic_uuid")(basic_uuid)
register("suffix_uuid")(suffix_uuid)
