"""Per-file context of a run: variables, callbacks, the secret key and keyed-pseudonym state.

A :class:`Context` is what upstream calls the lookup (``ids[path]`` merged with
``DicomParser.define``): names that ``var:`` and ``func:`` refer to. It also carries the
secret key, the UID map and the per-patient date offsets used by keyed functions
(``deid.engine.keys``). The maps are plain dicts, so a runner may share one map across the files
of a batch by passing the same dict to every Context.

Examples
--------
>>> ctx = Context({"new_id": "ANON1"})
>>> ctx.lookup_variable("new_id")
'ANON1'
>>> ctx.lookup_variable("missing") is MISSING
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["MISSING", "Context"]


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __reduce__(self) -> str:
        return "MISSING"


#: Marker for a name that is not defined.
MISSING: Any = _Missing()


#: Key text -> Key, so that one Context per file does not re-derive the key every call.
_KEYS: dict[Any, Any] = {}


@dataclass
class Context:
    """Everything one apply needs besides the plan and the dataset.

    Parameters
    ----------
    variables : mapping, optional
        Upstream's lookup: variables for ``var:``, and also callables for ``func:`` (upstream
        keeps both in one dict; ``get_identifiers`` output plus user additions). Passed to
        ``func:`` callbacks as ``item``.
    functions : mapping, optional
        Extra callables for ``func:`` (looked up before ``variables``).
    key : deid.engine.keys.Key, str or bytes, optional
        Secret key for keyed pseudonyms (``deid_func:pydicom_uuid`` becomes a keyed remap).
    uid_map : dict, optional
        Original UID -> new UID, filled by keyed functions (share it across a batch).
    date_offsets : dict, optional
        Patient identity -> day offset, filled by keyed date shifting.
    patient : str, optional
        Patient identity for per-patient offsets (default: taken from the dataset by whoever
        needs it).
    filename : str, optional
        Display name of the file, used in error messages (default: ``ds.filename``).
    field_factory : callable, optional
        ``factory(element, name, uid, is_filemeta)`` building the object passed as ``field=`` to
        callbacks (the facade passes its ``DicomField``); default :class:`deid.engine.walk.Field`.
    extra : dict, optional
        Free-form state for post steps and keyed functions.
    """

    variables: Mapping[str, Any] | None = None
    functions: Mapping[str, Callable[..., Any]] | None = None
    key: Any = None
    uid_map: dict[str, str] = field(default_factory=dict)
    date_offsets: dict[str, int] = field(default_factory=dict)
    patient: str | None = None
    filename: str | None = None
    field_factory: Callable[..., Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.variables is None:
            self.variables = {}
        if self.functions is None:
            self.functions = {}

    def lookup_variable(self, name: str) -> Any:
        """Return the variable ``name`` or :data:`MISSING`."""
        assert self.variables is not None
        return self.variables.get(name, MISSING)

    def lookup_function(self, name: str) -> Callable[..., Any] | None:
        """Return the ``func:`` callable ``name`` from this context, or None."""
        assert self.functions is not None and self.variables is not None
        func = self.functions.get(name)
        if func is None:
            candidate = self.variables.get(name)
            if callable(candidate):
                func = candidate
        return func

    def keyed(self) -> Any:
        """Return the key as a ``deid.engine.keys.Key`` (None when no key is set)."""
        if self.key is None:
            return None
        from deid.engine import keys

        if isinstance(self.key, keys.Key):
            return self.key
        if isinstance(self.key, (str, bytes)):
            cached = _KEYS.get(self.key)
            if cached is None:
                cached = keys.Key.from_text(self.key)
                if len(_KEYS) > 64:
                    _KEYS.clear()
                _KEYS[self.key] = cached
            return cached
        return keys.Key.from_text(self.key)
