"""The value functions of profile rules, registered in the engine's function registry.

Every profile rule that computes a value calls one of these through ``func:ps315_*``. They are
registered with ``context=True`` so they reach the run's key, the UID map and the per-patient
date offsets of :class:`deid.engine.context.Context`.

Per-file state (the patient identity the date offset derives from, and the identifying values
masked by Clean Descriptors) is captured from the dataset *before* any change, by
:func:`prepare` - the plan's pre step - or, failing that, on the first call of any ``ps315_``
function for a dataset.

Without a key in the context, a random key is made once per process and the context is marked
``extra["ps315_reproducible"] = False`` (pseudonyms cannot be reproduced by another run).

Examples
--------
>>> from pydicom import Dataset
>>> from deid.engine.context import Context
>>> from deid.engine.walk import Field
>>> ds = Dataset(); ds.PatientID = "P1"; ds.StudyDate = "20240110"
>>> ctx = Context(key="0123456789abcdef-secret")
>>> f = Field(ds["StudyDate"], "StudyDate", "(0008,0020)")
>>> shifted = ps315_shift(dicom=ds, value="func:ps315_shift", field=f, item={}, context=ctx)
>>> shifted != "20240110" and len(shifted) == 8
True
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any, TypeVar

from deid.engine import keys as _keys
from deid.engine.values import MAX_VALUE_LENGTH, surely_valid
from deid.profiles.cleaning import DUMMY_BY_VR, dummy_value, identifying_terms, mask_terms

__all__ = [
    "ALL_NEEDS",
    "ProfileState",
    "fit_to_vr",
    "is_safe_private",
    "prepare",
    "ps315_clean_text",
    "ps315_dummy",
    "ps315_name",
    "ps315_private_unsafe",
    "ps315_pseudonym",
    "ps315_shift",
    "ps315_uid",
    "register_all",
    "resolve_parent",
    "state_for",
]

_STATE_KEY = "ps315_state"
_PROCESS_KEY: _keys.Key | None = None
_PROCESS_LOCK = threading.Lock()


def _process_key() -> _keys.Key:
    global _PROCESS_KEY
    with _PROCESS_LOCK:
        if _PROCESS_KEY is None:
            _PROCESS_KEY = _keys.Key.random()
        return _PROCESS_KEY


#: What :func:`prepare` can capture: the patient identity (date offsets), the identifying terms
#: (descriptor cleaning) and the safe private set (Retain Safe Private).
ALL_NEEDS = frozenset({"patient", "terms", "safe_private"})


class ProfileState:
    """What the profile functions captured from one dataset before it changed.

    ``patient``, ``terms`` and ``safe_private`` are captured by :func:`prepare` for the needs it
    is given (all of them by default), before any rule changes the dataset; one that was not
    asked for is computed the first time it is read.
    """

    __slots__ = ("_ds", "_patient", "_safe_private", "_terms", "context", "dataset_id", "offset")

    def __init__(self, ds: Any, context: Any = None, needs: Iterable[str] = ALL_NEEDS) -> None:
        self._ds = ds
        self.context = context
        self.dataset_id = id(ds)
        self.offset: int | None = None
        self._patient: str | None = None
        self._terms: tuple[str, ...] | None = None
        self._safe_private: frozenset[tuple[int, str, int]] | None = None
        wanted = set(needs)
        if "patient" in wanted:
            _ = self.patient
        if "terms" in wanted:
            _ = self.terms
        if "safe_private" in wanted:
            _ = self.safe_private

    def _extra(self) -> dict[str, Any]:
        extra = getattr(self.context, "extra", None)
        return extra if isinstance(extra, dict) else {}

    @property
    def patient(self) -> str:
        """The original patient (what the date offset derives from)."""
        if self._patient is None:
            self._patient = getattr(self.context, "patient", None) or _keys.patient_identity(
                self._ds
            )
        return self._patient

    @property
    def terms(self) -> tuple[str, ...]:
        """The identifying values masked by Clean Descriptors."""
        if self._terms is None:
            more = tuple(self._extra().get("ps315_extra_terms", ()) or ())
            self._terms = identifying_terms(self._ds, more)
        return self._terms

    @property
    def safe_private(self) -> frozenset[tuple[int, str, int]]:
        """``(group, CREATOR, offset)`` of the private elements known safe in this dataset."""
        if self._safe_private is None:
            from deid.profiles.private import default_definition

            definition = self._extra().get("ps315_safe_private") or default_definition()
            self._safe_private = definition.safe_set(self._ds)
        return self._safe_private

    def release(self) -> None:
        """Drop the reference to the dataset (after the run)."""
        self._ds = None


def _key_of(context: Any) -> _keys.Key:
    if context is None:
        return _process_key()
    key = context.keyed() if hasattr(context, "keyed") else None
    if key is None:
        key = _process_key()
        extra = getattr(context, "extra", None)
        if isinstance(extra, dict):
            extra["ps315_reproducible"] = False
    return key


def prepare(ds: Any, context: Any = None, needs: Iterable[str] = ALL_NEEDS) -> ProfileState:
    """Capture the per-file state from ``ds`` before any rule runs (the plan's pre step).

    Stores it in ``context.extra["ps315_state"]``; safe to call more than once per dataset.
    ``needs`` limits what is captured now (``patient``, ``terms``, ``safe_private``); the rest
    is computed when first read.

    Examples
    --------
    >>> from pydicom import Dataset
    >>> from deid.engine.context import Context
    >>> ds = Dataset(); ds.PatientID = "P7"; ds.PatientName = "Roe^Richard"
    >>> st = prepare(ds, Context())
    >>> st.patient, "Roe" in st.terms
    ('id:|P7', True)
    """
    extra = getattr(context, "extra", None)
    if isinstance(extra, dict):
        cached = extra.get(_STATE_KEY)
        if isinstance(cached, ProfileState) and cached.dataset_id == id(ds):
            return cached
    state = ProfileState(ds, context, needs)
    if isinstance(extra, dict):
        extra[_STATE_KEY] = state
    return state


def state_for(dicom: Any, context: Any) -> ProfileState:
    """The state of ``dicom`` (captured now if :func:`prepare` has not run)."""
    return prepare(dicom, context)


def _element(field: Any) -> Any:
    return getattr(field, "element", None)


def _vr(element: Any) -> str:
    return str(getattr(element, "VR", "") or "UN").split(" ")[0].upper()


def _lookup(context: Any) -> Mapping[str, str]:
    extra = getattr(context, "extra", None)
    if isinstance(extra, dict):
        table = extra.get("ps315_lookup")
        if isinstance(table, Mapping):
            return table
    return {}


def _note(context: Any, kind: str, original: str, new: str) -> None:
    extra = getattr(context, "extra", None)
    if isinstance(extra, dict) and extra.get("ps315_record") and original != new:
        extra.setdefault("ps315_crosswalk", {})[(kind, original)] = new


def _values(element: Any) -> list[Any]:
    value = element.value
    if value is None:
        return []
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return list(value)
    return [value]


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\\\\]")
#: Control characters a VR does not allow (ESC is kept for character set switching; LT, ST and
#: UT also keep CR, LF and FF).
_CONTROL_TEXT = re.compile(r"[\x00-\x09\x0b\x0e-\x1a\x1c-\x1f\x7f]")
_CONTROL_LINE = re.compile(r"[\x00-\x1a\x1c-\x1f\x7f]")
_TEXT_VRS = frozenset({"AE", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UT"})


def _valid(vr: str, value: Any) -> bool:
    if isinstance(value, str) and surely_valid(vr, value):
        return True
    from pydicom import config as _config
    from pydicom.valuerep import validate_value

    try:
        validate_value(vr, value, _config.RAISE)
    except (ValueError, TypeError, KeyError):
        return False
    return True


def _fit_one(value: Any, vr: str) -> Any:
    if not isinstance(value, str) or vr not in MAX_VALUE_LENGTH and vr not in _TEXT_VRS:
        return value
    if vr == "PN":
        groups = [g[: MAX_VALUE_LENGTH["PN"]] for g in value.split("=")]
        text = "=".join(groups)
    else:
        limit = MAX_VALUE_LENGTH.get(vr)
        text = value[:limit] if limit else value
    if vr in _TEXT_VRS:
        control = _CONTROL_TEXT if vr in ("LT", "ST", "UT") else _CONTROL_LINE
        text = control.sub(" ", text)
    if _valid(vr, text):
        return text
    if vr in _TEXT_VRS:
        text = _CONTROL.sub(" ", text)
        if vr == "CS":
            text = re.sub(r"[^A-Z0-9 _]", "_", text.upper())
        if vr in ("LO", "SH", "CS", "AE", "PN", "UC"):
            text = text.replace("\r", " ").replace("\n", " ").replace("\f", " ")
        if _valid(vr, text):
            return text
    dummy = dummy_value(vr)
    return dummy if _valid(vr, dummy) else ""


def fit_to_vr(value: Any, vr: str) -> Any:
    """Make a value the profile writes valid for ``vr``: cut to the VR's length (per value; PN
    per component group), replace characters the VR does not allow; a value that still does not
    fit becomes the VR's dummy.

    Examples
    --------
    >>> fit_to_vr("x" * 70, "LO") == "x" * 64
    True
    >>> fit_to_vr(["a*b", "Doe"], "CS")
    ['A_B', 'DOE']
    >>> fit_to_vr("2.25.1234567890123", "SH")
    '2.25.12345678901'
    >>> fit_to_vr("20200101\\\\20200102", "DA")
    '20200101\\\\20200102'
    """
    vr = str(vr or "UN").split(" ")[0].upper()
    if type(value) is str and surely_valid(vr, value):
        return value  # what _fit_one gives a value that is already valid, found cheaply
    if isinstance(value, (list, tuple)):
        return [_fit_one(v, vr) for v in value]
    if isinstance(value, str) and "\\" in value and vr not in ("LT", "ST", "UT", "UR"):
        return "\\".join(_fit_one(v, vr) for v in value.split("\\"))
    return _fit_one(value, vr)


_R = TypeVar("_R")


def _profile_function(body: Callable[[Any, Any, Any], _R]) -> Callable[..., _R]:
    """Give ``body(dicom, field, context)`` the call signature of a recipe value function.

    The engine calls ``func(dicom=, value=, field=, item=, context=, **extras)``; the profile
    functions only read the dataset, the field and the context.
    """

    def call(
        dicom: Any = None,
        value: Any = None,
        field: Any = None,
        item: Any = None,
        context: Any = None,
        **extras: Any,
    ) -> _R:
        return body(dicom, field, context)

    call.__name__ = body.__name__
    call.__qualname__ = body.__qualname__
    call.__doc__ = body.__doc__
    return call


def _join(values: list[str], element: Any) -> Any:
    if len(values) == 1 and not (
        isinstance(element.value, (list, tuple)) or type(element.value).__name__ == "MultiValue"
    ):
        return values[0]
    return values


@_profile_function
def ps315_dummy(dicom: Any, field: Any, context: Any) -> Any:
    """D: a dummy value valid for the element's VR (``19000101``, ``ANONYMIZED``, 0 ...).

    UIDs get keyed UIDs and person names keyed names, so that D never breaks references.
    """
    element = _element(field)
    vr = _vr(element)
    if vr == "UI":
        return ps315_uid(dicom, field=field, context=context)
    if vr == "PN":
        return ps315_name(dicom, field=field, context=context)
    return fit_to_vr(dummy_value(vr), vr)


def _each_value(
    dicom: Any,
    field: Any,
    context: Any,
    namespace: str,
    new: Callable[[str, _keys.Key], str],
    strip_nul: bool = False,
) -> Any:
    """Replace each value of the field's element by ``new(text, key)``; empty values stay empty.

    Every replacement is noted in the crosswalk under ``namespace``; the result is fitted to the
    element's VR. None when the field has no element.
    """
    element = _element(field)
    if element is None:
        return None
    state_for(dicom, context)
    key = _key_of(context)
    out = []
    for original in _values(element):
        text = str(original).strip()
        if strip_nul:
            text = text.rstrip("\x00")
        if not text:
            out.append("")
            continue
        replacement = new(text, key)
        _note(context, namespace, text, replacement)
        out.append(replacement)
    if not out:
        return ""
    return fit_to_vr(_join(out, element), _vr(element))


@_profile_function
def ps315_uid(dicom: Any, field: Any, context: Any) -> Any:
    """U: ``2.25.<int>`` from the HMAC of the original UID (each value of a multi-valued UI).

    The map is shared through ``context.uid_map``; an empty UID stays empty.
    """
    uid_map = getattr(context, "uid_map", None)

    def new(text: str, key: _keys.Key) -> str:
        mapped = uid_map.get(text) if isinstance(uid_map, dict) else None
        if mapped is None:
            mapped = _keys.keyed_uid(key, text)
            if isinstance(uid_map, dict):
                uid_map[text] = mapped
        return str(mapped)

    return _each_value(dicom, field, context, "uid", new, strip_nul=True)


@_profile_function
def ps315_pseudonym(dicom: Any, field: Any, context: Any) -> Any:
    """Keyed pseudonym for an identifier, valid for the element's VR (lookup table first)."""
    element = _element(field)
    if element is None:
        return None
    vr = _vr(element)
    namespace = getattr(element, "keyword", "") or f"{int(element.tag):08X}"
    lookup = _lookup(context)

    def new(text: str, key: _keys.Key) -> str:
        found = lookup.get(text)
        if found is None:
            found = _keys.keyed_pseudonym(key, text, vr=vr, namespace=namespace)
        return found

    return _each_value(dicom, field, context, namespace, new)


@_profile_function
def ps315_name(dicom: Any, field: Any, context: Any) -> Any:
    """Keyed person name ``ANON^<letters>`` (lookup table first); empty stays empty."""
    element = _element(field)
    if element is None:
        return None
    lookup = _lookup(context)
    namespace = "PatientName" if int(element.tag) == 0x00100010 else "person"

    def new(text: str, key: _keys.Key) -> str:
        return lookup.get(text) or _keys.keyed_name(key, text, namespace=namespace)

    return _each_value(dicom, field, context, namespace, new)


def _offset(dicom: Any, context: Any) -> int:
    state = state_for(dicom, context)
    if state.offset is not None:
        return state.offset
    offsets = getattr(context, "date_offsets", None)
    days = offsets.get(state.patient) if isinstance(offsets, dict) else None
    if days is None:
        days = _keys.date_offset_days(_key_of(context), state.patient)
        if isinstance(offsets, dict):
            offsets[state.patient] = days
    state.offset = days
    return days


@lru_cache(maxsize=8192)
def _shifted(text: str, vr: str, days: int) -> Any:
    """A shifted date, fitted to its VR (the same dates recur in every file of a study)."""
    return fit_to_vr(_keys.shift_value(text, vr, days), vr)


@_profile_function
def ps315_shift(dicom: Any, field: Any, context: Any) -> Any:
    """C (modified dates): DA/DT moved by the patient's keyed whole-day offset; TM unchanged.

    A value that is not a valid date is emptied (fail closed).
    """
    element = _element(field)
    if element is None:
        return None
    days = _offset(dicom, context)
    vr = _vr(element)
    raw = element.value
    if raw is None or raw == "":
        return ""
    text = "\\".join(str(v) for v in _values(element))
    if vr not in ("DA", "DT"):
        return raw
    try:
        return _shifted(text, vr, days)
    except ValueError:
        return ""


@_profile_function
def ps315_clean_text(dicom: Any, field: Any, context: Any) -> Any:
    """C (descriptors): the text kept with the dataset's identifying values masked."""
    element = _element(field)
    if element is None:
        return None
    state = state_for(dicom, context)
    vr = _vr(element)
    if vr not in ("LO", "LT", "SH", "ST", "UT", "UC", "PN", "CS", "AE"):
        if vr == "UN":
            return b""
        return "" if element.value is None else element.value
    out = [mask_terms(str(v), state.terms) for v in _values(element)]
    if not out:
        return ""
    return fit_to_vr(_join(out, element), vr)


# --------------------------------------------------------------------------- safe private


def resolve_parent(root: Any, uid: str) -> Any:
    """Return the dataset holding the element whose upstream uid is ``uid``.

    Examples
    --------
    >>> from pydicom import Dataset
    >>> inner = Dataset(); inner.add_new(0x00091001, "LO", "x")
    >>> ds = Dataset(); ds.ReferencedStudySequence = [inner]
    >>> resolve_parent(ds, "(0008,1110)__0__(0009,1001)") is ds.ReferencedStudySequence[0]
    True
    """
    parts = str(uid).split("__")
    current = root
    for pos in range(0, len(parts) - 1, 2):
        text = parts[pos].strip("()").replace(",", "")
        try:
            tag = int(text[:8], 16)
            index = int(parts[pos + 1])
            current = current[tag].value[index]
        except (ValueError, KeyError, IndexError, TypeError):
            return None
    return current


def _creator_of(parent: Any, tag: int) -> str | None:
    from deid.engine.walk import private_creator

    return private_creator(parent, tag) if parent is not None else None


def is_safe_private(
    parent: Any,
    tag: int,
    safe: frozenset[tuple[int, str, int]],
) -> bool:
    """Whether the private element ``tag`` of ``parent`` is in ``safe``.

    ``safe`` holds ``(group, CREATOR, offset)`` keys
    (:meth:`deid.profiles.private.SafePrivateDefinition.safe_set`). A private creator element
    is safe when its creator has a safe element in the same group.

    Examples
    --------
    >>> from pydicom import Dataset
    >>> ds = Dataset()
    >>> block = ds.private_block(0x0019, "GEMS_ACQU_01", create=True)
    >>> block.add_new(0x23, "DS", "1.5")
    >>> is_safe_private(ds, 0x00191023, frozenset({(0x0019, "GEMS_ACQU_01", 0x23)}))
    True
    >>> is_safe_private(ds, 0x00191023, frozenset())
    False
    """
    group, elem = tag >> 16, tag & 0xFFFF
    if parent is None:
        return False
    if 0x0010 <= elem <= 0x00FF:
        value = parent[tag].value if tag in parent else None
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        creator = str(value or "").strip(" \x00").upper()
        return bool(creator) and any(g == group and c == creator for g, c, _ in safe)
    if elem < 0x1000:
        return False
    owner = _creator_of(parent, tag)
    if not owner:
        return False
    return (group, owner.strip().upper(), elem & 0xFF) in safe


@_profile_function
def ps315_private_unsafe(dicom: Any, field: Any, context: Any) -> bool:
    """Condition of ``REMOVE`` on private elements: True (remove) unless known safe."""
    element = _element(field)
    if element is None:
        return True
    state = state_for(dicom, context)
    uid = getattr(field, "uid", "") or ""
    parent = resolve_parent(dicom, uid) if "__" in uid else dicom
    try:
        return not is_safe_private(parent, int(element.tag), state.safe_private)
    except Exception:  # noqa: BLE001 - anything odd about the element: not safe
        return True


#: The engine may compute ps315_dummy once per rule and VR: for these VRs its result is the
#: VR's dummy whatever the element holds (UIDs and names depend on the value).
ps315_dummy.deid_vr_constant = frozenset(  # type: ignore[attr-defined]
    vr for vr in DUMMY_BY_VR if vr not in ("UI", "PN")
)

#: These functions only read ``tag``, ``VR``, ``value`` and ``keyword`` of the field's element:
#: the engine may pass a light stand-in instead of a pydicom DataElement.
for _func in (ps315_dummy, ps315_uid, ps315_pseudonym, ps315_name, ps315_shift, ps315_clean_text):
    _func.deid_light_element = True  # type: ignore[attr-defined]

_ALL: dict[str, Callable[..., Any]] = {
    "ps315_dummy": ps315_dummy,
    "ps315_uid": ps315_uid,
    "ps315_pseudonym": ps315_pseudonym,
    "ps315_name": ps315_name,
    "ps315_shift": ps315_shift,
    "ps315_clean_text": ps315_clean_text,
    "ps315_private_unsafe": ps315_private_unsafe,
}


def register_all() -> None:
    """Register every ``ps315_`` function in the engine's registry (idempotent)."""
    from deid.engine.functions import register

    for name, func in _ALL.items():
        register(name, context=True)(func)


register_all()
