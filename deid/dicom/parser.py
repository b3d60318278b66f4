"""``DicomParser``: the per-file object of the pydicom/deid drop-in API.

A parser holds one dataset (``.dicom``), the recipe, the lookup namespace (``.lookup``: variables
and functions given with :meth:`DicomParser.define` or ``ids``, plus ``%values``/``%fields``
group results) and the field index (``.fields``). :meth:`DicomParser.parse` applies the recipe's
``%header`` actions in file order with upstream's documented semantics, except that it fails
closed: a ``var:``/``func:``/``deid_func:`` that is not defined raises
:class:`deid.errors.DeidError` before the dataset is touched, and a REMOVE that was held back for
a REPLACE/JITTER still happens if that replacement did not write a value.

The recipe's dictionary (``recipe.deid``) is read on every :meth:`DicomParser.parse`, so edits of
``recipe.deid["header"]`` made after the recipe was loaded are honoured.

Examples
--------
>>> from pydicom import Dataset
>>> ds = Dataset(); ds.PatientName = "Doe^John"; ds.PatientID = "123"
>>> class R:  # anything with upstream's ``deid`` dictionary works as a recipe
...     deid = {"format": "dicom", "header": [
...         {"action": "REPLACE", "field": "PatientName", "value": "var:name"},
...         {"action": "REMOVE", "field": "PatientID"}]}
>>> parser = DicomParser(ds, recipe=R())
>>> parser.define("name", "Anon")
>>> _ = parser.parse()
>>> str(parser.dicom.PatientName), "PatientID" in parser.dicom
('Anon', False)
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections import OrderedDict
from typing import Any

from pydicom.datadict import dictionary_VR, keyword_dict
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from deid.dicom.actions import deid_funcs as _builtin_funcs
from deid.dicom.actions import jitter_timestamp
from deid.dicom.fields import (
    DicomField,
    FieldsWithLookups,
    expand_field_expression,
    get_fields_with_lookup,
    tag_string,
)
from deid.dicom.groups import extract_fields_list, extract_values_list
from deid.dicom.tags import get_private, remove_sequences
from deid.dicom.utils import load_dicom, save_dicom
from deid.engine.walk import DEFAULT_SKIP
from deid.errors import ApplyError, DeidError
from deid.utils.actions import convert_value, parse_keyvalue_pairs

__all__ = ["DEFAULT_CONFIG", "DicomParser", "FieldExpressionError", "load_config"]

#: Upstream's ``deid/dicom/config.json``: what is never indexed, and what runs after a recipe.
DEFAULT_CONFIG: dict[str, Any] = {
    "get": {"skip": list(DEFAULT_SKIP)},
    "put": {"actions": [{"action": "KEEP", "field": "PixelData"}]},
}

_HEX8 = re.compile(r"^[0-9A-Fa-f]{8}$")
_TAG_FORM = re.compile(r"^\([0-9A-Fa-f]{4},[0-9A-Fa-f]{4}\)$")


class FieldExpressionError(DeidError, ValueError):
    """A field expression that an action cannot use (e.g. ``ADD contains:x``)."""


def load_config(config: Any = None) -> OrderedDict[str, Any]:
    """Return the get/put configuration: a dict, a path to a JSON file, or None (default).

    Examples
    --------
    >>> "PixelData" in load_config()["get"]["skip"]
    True
    """
    if config is None:
        return OrderedDict(
            get={"skip": list(DEFAULT_CONFIG["get"]["skip"])},
            put={"actions": [dict(a) for a in DEFAULT_CONFIG["put"]["actions"]]},
        )
    if isinstance(config, dict):
        data = copy.deepcopy(config)
    else:
        try:
            with open(config) as handle:
                data = json.load(handle, object_pairs_hook=OrderedDict)
        except (OSError, ValueError) as exc:
            raise DeidError(f"{config}: cannot read the deid config JSON: {exc}") from exc
    data.setdefault("get", {}).setdefault("skip", [])
    data.setdefault("put", {}).setdefault("actions", [])
    return OrderedDict(data)


def _describe(field: DicomField) -> str:
    keyword = field.element.keyword or field.name or "private"
    return f"{field.uid} {keyword}"


def _resolve_recipe(recipe: Any) -> Any:
    if recipe is not None and hasattr(recipe, "deid"):
        return recipe
    from deid.config import DeidRecipe

    return DeidRecipe(recipe)


def _recipe_dict(recipe: Any) -> dict[str, Any]:
    data = getattr(recipe, "deid", None)
    if data is None:
        raise DeidError(
            f"recipe {recipe!r} has no content (nothing could be loaded); refusing to run "
            "without a recipe"
        )
    return data


_PLAN_CACHE: OrderedDict[Any, Any] = OrderedDict()
_PLAN_CACHE_SIZE = 16


def _field_factory(element: Any, name: str, uid: str, is_filemeta: bool = False) -> DicomField:
    return DicomField(element, name, uid, is_filemeta=is_filemeta)


def _plan_for(recipe: Any, data: dict[str, Any], skip: tuple[str, ...], disable_skip: bool) -> Any:
    """Compile (once per recipe content) the engine plan for ``recipe``."""
    from deid.engine.compile import compile_plan

    fingerprint = repr(
        (
            data.get("header"),
            data.get("values"),
            data.get("fields"),
            getattr(recipe, "_files", None),
        )
    )
    key = (fingerprint, skip, disable_skip)
    plan = _PLAN_CACHE.get(key)
    if plan is None:
        ast = recipe.to_recipe() if hasattr(recipe, "to_recipe") else _ast_from_dict(data)
        plan = compile_plan(ast, skip=list(skip), disable_skip=disable_skip)
        _PLAN_CACHE[key] = plan
        while len(_PLAN_CACHE) > _PLAN_CACHE_SIZE:
            _PLAN_CACHE.popitem(last=False)
    else:
        _PLAN_CACHE.move_to_end(key)
    return plan


def _ast_from_dict(data: dict[str, Any]) -> Any:
    from deid.recipe.compat import recipe_from_dict

    return recipe_from_dict(data)


class DicomParser:
    """Apply a recipe to one DICOM dataset (upstream's ``deid.dicom.parser.DicomParser``).

    Parameters
    ----------
    dicom_file : str or pydicom.Dataset
        A path, a ``FileDataset`` or a plain ``Dataset``.
    recipe : DeidRecipe, str, list or None
        A ``deid.config.DeidRecipe`` or anything it accepts; None means the default recipe.
    config : dict or str, optional
        The get/put configuration (:data:`DEFAULT_CONFIG` when None).
    force : bool
        Read files without the DICM preamble.
    disable_skip : bool
        Index (and so act on) the elements of the skip list too (PixelData, ...).

    Examples
    --------
    >>> from pydicom import Dataset
    >>> ds = Dataset(); ds.PatientName = "x"
    >>> class R:
    ...     deid = {"format": "dicom", "header": []}
    >>> p = DicomParser(ds, recipe=R())
    >>> list(p.get_fields())
    ['(0010,0010)']
    >>> sorted(p.find_by_name("patient"))
    ['(0010,0010)']
    """

    #: Apply recipes through the compiled engine (``deid.engine``); False uses the facade's
    #: rule-by-rule executor (:meth:`parse_rules`).
    use_engine: bool = os.environ.get("DEID_FACADE_RULES", "") == ""
    #: Plans already looked up by the caller's batch (``replace_identifiers`` shares one dict
    #: across the files of a call); None means look the plan up per parse.
    _plan_memo: dict[Any, Any] | None = None

    def __init__(
        self,
        dicom_file: Any,
        recipe: Any = None,
        config: Any = None,
        force: bool = True,
        disable_skip: bool = False,
    ) -> None:
        self.config = load_config(config)
        self.disable_skip = disable_skip
        self.lookup: dict[str, Any] = {}
        self._fields: Any = {}
        self._fields_stale = False
        self.seen: list[str] = []
        self.deid_funcs = dict(_builtin_funcs)
        self.dicom: Dataset
        self.dicom_file: str | None = None
        self.dicom_name: str | None = None
        self.load(dicom_file, force=force)
        self._recipe_arg = recipe
        self._recipe: Any = None
        self._written: set[str] = set()
        self._pending_remove: dict[str, DicomField] = {}
        self.changelog: Any = None

    # ------------------------------------------------------------------ state
    @property
    def fields(self) -> Any:
        """The uid -> DicomField index (``{}`` until built; rebuilt lazily after ``parse``)."""
        if self._fields_stale:
            self.get_fields()
        return self._fields

    @fields.setter
    def fields(self, value: Any) -> None:
        self._fields = value
        self._fields_stale = False

    def __str__(self) -> str:
        return f"[dicom-parser:{self.dicom_name}]"

    __repr__ = __str__

    @property
    def recipe(self) -> Any:
        """The recipe (a ``DeidRecipe``; loaded on first use)."""
        if self._recipe is None:
            self._recipe = _resolve_recipe(self._recipe_arg)
        return self._recipe

    @recipe.setter
    def recipe(self, value: Any) -> None:
        self._recipe_arg = value
        self._recipe = None

    def load(self, dicom_file: Any, force: bool = True) -> None:
        """Load a path or take a Dataset; sets ``dicom``, ``dicom_file``, ``dicom_name``."""
        self.dicom = load_dicom(dicom_file, force=force)
        filename = dicom_file if not isinstance(dicom_file, Dataset) else None
        if filename is None:
            candidate = getattr(self.dicom, "filename", None)
            filename = candidate if isinstance(candidate, (str, os.PathLike)) else None
        if filename:
            self.dicom_file = os.path.abspath(os.fspath(filename))
            self.dicom_name = os.path.basename(self.dicom_file)
        else:
            self.dicom_file = None
            self.dicom_name = None

    def define(self, name: str, value: Any) -> None:
        """Add a variable, function or list to ``lookup`` (``var:``/``func:``/``values:``).

        Examples
        --------
        >>> from pydicom import Dataset
        >>> p = DicomParser(Dataset(), recipe=type("R", (), {"deid": {}})())
        >>> p.define("x", 1); p.lookup
        {'x': 1}
        """
        self.lookup[name] = value

    def _actions(self, action: str | None = None) -> list[dict[str, Any]]:
        header = _recipe_dict(self.recipe).get("header") or []
        if action is None:
            return list(header)
        return [a for a in header if str(a.get("action", "")).upper() == action]

    @property
    def keep(self) -> list[str]:
        """uids selected by the recipe's KEEP actions (they join the skip list)."""
        keep_actions = self._actions("KEEP")
        if not keep_actions:
            return []
        base = [] if self.disable_skip else list(self.config["get"]["skip"])
        everything = get_fields_with_lookup(self.dicom, skip=base)
        uids: list[str] = []
        for action in keep_actions:
            uids.extend(expand_field_expression(action["field"], self.dicom, everything))
        return uids

    @property
    def skip(self) -> list[str]:
        """Keywords/tags never indexed: the config skip list (unless disabled) + KEEP uids."""
        base = [] if self.disable_skip else list(self.config["get"]["skip"])
        return base + self.keep

    @property
    def excluded_from_deletion(self) -> list[str]:
        """Field expressions of REPLACE and JITTER actions (their fields are not removed)."""
        return [a["field"] for a in self._actions() if a.get("action") in ("REPLACE", "JITTER")]

    def get_fields(self, expand_sequences: bool = True) -> FieldsWithLookups:
        """(Re)build and return the uid -> DicomField index (may be called any number of times)."""
        self.fields = get_fields_with_lookup(
            self.dicom, skip=self.skip, expand_sequences=expand_sequences
        )
        return self.fields

    def _index(self) -> FieldsWithLookups:
        if not isinstance(self.fields, FieldsWithLookups):
            self.get_fields()
        return self.fields

    def find_by_name(self, name: str) -> dict[str, DicomField]:
        """Fields whose names, tag or keyword regex-match ``name`` (case-insensitive)."""
        return {u: f for u, f in self._index().items() if f.name_contains(name)}

    def find_by_values(self, values: Any) -> dict[str, DicomField]:
        """Fields whose value contains any of ``values`` (literal, case-insensitive).

        As upstream, a sequence matches when the text of its items contains a value (so
        ``REMOVE values:x`` removes it whole); the values are matched literally, not as
        regular expressions.
        """
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            values = [values]
        texts = [str(v) for v in values if v not in ("", None)]
        if not texts:
            return {}
        alternatives = "|".join(re.escape(t) for t in texts)
        regex = re.compile(f"({alternatives})", re.IGNORECASE)
        found = {}
        for uid, field in self._index().items():
            element = field.element
            value = element.value
            items = value if isinstance(value, (list, tuple)) else [value]
            if any(regex.search(str(v)) for v in items if v is not None):
                found[uid] = field
        return found

    # ------------------------------------------------------------------ values
    def _check_references(self, actions: list[dict[str, Any]]) -> None:
        """Fail before touching the dataset if a value names something undefined."""
        for action in actions:
            value = action.get("value")
            where = f"{action.get('action')} {action.get('field')} {value}"
            if not isinstance(value, str):
                continue
            # ADD with an undefined variable adds nothing (nothing identifying survives); a
            # REPLACE/JITTER/REMOVE condition with one would keep the original, so it is refused.
            if (
                action.get("action") != "ADD"
                and value.startswith("var:")
                and (value[4:] not in self.lookup)
            ):
                raise DeidError(f"recipe line '{where}': variable {value[4:]!r} is not defined")
            if value.startswith("func:") and self._user_func(value[5:]) is None:
                raise DeidError(
                    f"recipe line '{where}': function {value[5:]!r} is not defined "
                    "(register it with DicomParser.define or ids)"
                )
            if value.startswith("deid_func:"):
                name = (value[len("deid_func:") :].split() or [""])[0]
                if self._deid_func(name) is None:
                    raise DeidError(
                        f"recipe line '{where}': deid_func {name!r} does not exist "
                        f"(known: {', '.join(sorted(self.deid_funcs))})"
                    )

    def _user_func(self, name: str) -> Any:
        """A ``func:`` callable: from ``lookup``, else registered with the engine's registry."""
        func = self.lookup.get(name)
        if callable(func):
            return func
        from deid.engine.functions import get_function

        spec = get_function(name)
        return None if spec is None else spec.func

    def _deid_func(self, name: str) -> Any:
        """A ``deid_func:`` callable: from ``deid_funcs``, else the engine's registry."""
        func = self.deid_funcs.get(name)
        if func is not None:
            return func
        from deid.engine.functions import get_function

        spec = get_function(name)
        return None if spec is None else spec.func

    def _value(self, value: Any, field: Any) -> Any:
        if not isinstance(value, str):
            return value
        if value.startswith("var:"):
            name = value[4:]
            if name not in self.lookup:
                raise DeidError(f"variable {name!r} is not defined")
            return self.lookup[name]
        if value.startswith("func:"):
            func = self._user_func(value[5:])
            if func is None:
                raise DeidError(f"function {value[5:]!r} is not defined")
            return func(dicom=self.dicom, value=value, field=field, item=self.lookup)
        if value.startswith("deid_func:"):
            parts = value[len("deid_func:") :].split()
            func = self._deid_func(parts[0]) if parts else None
            if func is None:
                raise DeidError(f"deid_func {value!r} does not exist")
            extras = parse_keyvalue_pairs(parts[1:])
            return func(dicom=self.dicom, value=value, field=field, item=self.lookup, **extras)
        if isinstance(field, DicomField):
            return convert_value(_describe(field), field.element.VR, value)
        return value

    # ------------------------------------------------------------------ parse
    def parse(self, strip_sequences: bool = False, remove_private: bool = False) -> Dataset:
        """Apply the recipe to ``self.dicom`` (in place) and return it.

        The recipe is compiled once into a :class:`deid.engine.plan.Plan` (cached per recipe
        content) and applied in one walk; ``self.changelog`` holds what changed and which rule
        decided it. Set ``DicomParser.use_engine = False`` to run the facade's own
        rule-by-rule executor instead (same results; kept as a reference implementation).
        """
        if not self.use_engine:
            return self.parse_rules(strip_sequences, remove_private)
        from deid.engine.context import Context

        data = _recipe_dict(self.recipe)
        memo = self._plan_memo
        memo_key = (self._skip_config(), self.disable_skip)
        plan = memo.get(memo_key) if memo is not None else None
        if plan is None:
            plan = _plan_for(self.recipe, data, *memo_key)
            if memo is not None:
                memo[memo_key] = plan
        if strip_sequences:
            remove_sequences(self.dicom)
        if remove_private:
            self.remove_private()
        if data.get("values") or data.get("fields"):
            index = get_fields_with_lookup(self.dicom, skip=self.skip)
            for name, group in (data.get("values") or {}).items():
                self.lookup[name] = extract_values_list(self.dicom, group, index)
            for name, group in (data.get("fields") or {}).items():
                self.lookup[name] = extract_fields_list(self.dicom, group, index)
        context = Context(
            variables=self.lookup,
            functions={k: v for k, v in self.lookup.items() if callable(v)},
            filename=self.dicom_file,
            field_factory=_field_factory,
        )
        self.changelog = plan.apply(self.dicom, context)
        put = [a for a in self.config["put"]["actions"] if a.get("action") != "KEEP"]
        if put:
            self.get_fields()
            for action in put:
                self.perform_action(
                    field=action["field"], value=action.get("value"), action=action["action"]
                )
        self._fields_stale = True  # the index is rebuilt when someone looks at it
        return self.dicom

    def _skip_config(self) -> tuple[str, ...]:
        return () if self.disable_skip else tuple(self.config["get"]["skip"])

    def parse_rules(self, strip_sequences: bool = False, remove_private: bool = False) -> Dataset:
        """Apply the recipe to ``self.dicom`` (in place) and return it.

        Order: strip sequences, remove private tags, index, evaluate ``%values`` then
        ``%fields`` groups, run ``%header`` actions in file order, run the config's put actions.
        May be called more than once.
        """
        data = _recipe_dict(self.recipe)
        actions = list(data.get("header") or [])
        self._check_references(actions)
        if strip_sequences:
            remove_sequences(self.dicom)
        if remove_private:
            self.remove_private()
        self._written = set()
        self._pending_remove = {}
        self.get_fields()
        for name, group in (data.get("values") or {}).items():
            self.lookup[name] = extract_values_list(self.dicom, group, self.fields)
        for name, group in (data.get("fields") or {}).items():
            self.lookup[name] = extract_fields_list(self.dicom, group, self.fields)
        for action in actions:
            self.perform_action(
                field=action["field"], value=action.get("value"), action=action["action"]
            )
        for action in self.config["put"]["actions"]:
            self.perform_action(
                field=action["field"], value=action.get("value"), action=action["action"]
            )
        # a REMOVE held back for a REPLACE/JITTER that wrote nothing still removes
        for uid, field in self._pending_remove.items():
            if uid not in self._written:
                self.delete_field(field)
        self._pending_remove = {}
        return self.dicom

    def _select(self, field: str, action: str = "REMOVE") -> dict[str, DicomField]:
        index = self._index()
        if field.startswith("values:"):
            name = field[len("values:") :]
            if name not in self.lookup:
                raise DeidError(f"{field}: no %values group or variable called {name!r}")
            found = self.find_by_values(self.lookup[name])
            if action != "REMOVE":  # other actions go to the elements inside a sequence
                found = {u: f for u, f in found.items() if f.element.VR != "SQ"}
            return found
        if field.startswith("fields:"):
            name = field[len("fields:") :]
            if name not in self.lookup:
                raise DeidError(f"{field}: no %fields group or variable called {name!r}")
            selected: dict[str, DicomField] = {}
            for member in dict(self.lookup[name]).values():
                selected.update(expand_field_expression(member.stripped_tag, self.dicom, index))
            return selected
        return expand_field_expression(field=field, dicom=self.dicom, contenders=index)

    def perform_action(self, field: str, value: Any, action: str, filemeta: bool = False) -> None:
        """Run one header action (ADD, REPLACE, JITTER, BLANK, KEEP, REMOVE) on ``self.dicom``."""
        action = str(action)
        if action == "ADD":
            self.add_field(field, value)
            return
        if action in ("KEEP", "LABEL"):
            return
        if action not in ("REPLACE", "JITTER", "BLANK", "REMOVE"):
            raise DeidError(f"unknown action {action!r} for field {field!r}")
        for uid, selected in self._select(field, action).items():
            if uid not in self._index():
                continue  # removed earlier in this expansion (child of a removed sequence)
            self._run_action(selected, action, value)

    def _run_action(self, field: DicomField, action: str, value: Any = None) -> None:
        if action == "REPLACE":
            new = self._value(value, field)
            if new is None:
                # upstream left the original value in place (and cancelled REMOVEs of it)
                raise ApplyError(
                    f"REPLACE {field.uid} {value}: {value} gave None; the element "
                    f"{_describe(field)} would keep its original value"
                )
            self.replace_field(field, new)
        elif action == "JITTER":
            days = self._value(value, field)
            if days is None or field.element.value in ("", None):
                return
            if field.element.VR == "SQ":
                raise ApplyError(f"{_describe(field)}: cannot JITTER a sequence")
            self.replace_field(field, jitter_timestamp(field, days), convert=False)
        elif action == "BLANK":
            self.blank_field(field)
        elif action == "REMOVE":
            if value not in (None, "") and not self._value_condition(value, field):
                return
            if self._protected(field):
                self._pending_remove[field.uid] = field
                return
            self.delete_field(field)

    def _value_condition(self, value: Any, field: DicomField) -> bool:
        if isinstance(value, str) and not value.startswith(("var:", "func:", "deid_func:")):
            # upstream's literal condition was always true and removed (almost) everything
            raise DeidError(
                f"REMOVE {field.uid} {value}: a REMOVE condition must be func:/var:/deid_func:, "
                "not a literal"
            )
        return bool(self._value(value, field))

    def _protected(self, field: DicomField) -> bool:
        index = self._index()
        for expression in self.excluded_from_deletion:
            if expression.startswith(("values:", "fields:")):
                if field.uid in self._select(expression):
                    return True
            elif field.uid in expand_field_expression(expression, self.dicom, index):
                return True
        return False

    # ------------------------------------------------------------------ element edits
    def add_field(self, field: str, value: Any) -> None:
        """ADD: set a top-level element named by keyword or 8 hex digits (created if absent)."""
        if field in keyword_dict:
            tag = keyword_dict[field]
        elif _HEX8.match(field):
            tag = int(field, 16)
        elif _TAG_FORM.match(field):
            tag = int(field[1:5] + field[6:10], 16)
        else:
            raise FieldExpressionError(
                f"ADD {field}: ADD needs a DICOM keyword or a tag (00100010 or (0010,0010))"
            )
        if isinstance(value, str) and value.startswith("var:") and value[4:] not in self.lookup:
            return
        value = self._value(value, field)
        if value is None:
            return
        try:
            vr = dictionary_VR(tag)
        except KeyError:
            vr = "ST"
        if "or" in vr:
            vr = vr.split(" or ")[0]
        value = convert_value(field, vr, value) if isinstance(value, str) else value
        dataset = self.dicom
        if tag >> 16 == 0x0002:
            if getattr(self.dicom, "file_meta", None) is None:
                from pydicom.dataset import FileMetaDataset

                self.dicom.file_meta = FileMetaDataset()
            dataset = self.dicom.file_meta
        if tag in dataset:
            dataset[tag].value = value
        else:
            dataset.add_new(tag, vr, value)
        element = dataset[tag]
        uid = tag_string(tag)
        new = DicomField(element, element.keyword, uid, is_filemeta=dataset is not self.dicom)
        new.parent = dataset
        self._index().add(uid, new)
        self._written.add(uid)

    def replace_field(self, field: DicomField, value: Any, convert: bool = True) -> None:
        """REPLACE: set the element's value in place (sequences cannot take a value)."""
        element = field.element
        if element.VR == "SQ":
            raise ApplyError(f"{_describe(field)}: cannot REPLACE a sequence with {value!r}")
        if convert and isinstance(value, str):
            value = convert_value(_describe(field), element.VR, value)
        try:
            element.value = value
        except (ValueError, TypeError) as exc:
            raise ApplyError(f"{_describe(field)}: cannot set value {value!r}: {exc}") from exc
        self._written.add(field.uid)

    def blank_field(self, field: DicomField) -> None:
        """BLANK: empty the value (a sequence becomes an empty sequence)."""
        element = field.element
        if element.VR == "SQ":
            element.value = Sequence([])
            self._index().remove_children(field.uid)
        else:
            element.value = None  # as upstream: text VRs are written (and read back) empty
        self._written.add(field.uid)

    def delete_field(self, field: DicomField) -> None:
        """REMOVE: delete the element from its dataset, and its children from the index."""
        parent = field.parent if field.parent is not None else self._parent_of(field)
        tag = field.element.tag
        if parent is not None and tag in parent:
            del parent[tag]
        index = self._index()
        index.remove(field.uid)
        index.remove_children(field.uid)

    def _parent_of(self, field: DicomField) -> Dataset | None:
        if field.is_filemeta:
            return getattr(self.dicom, "file_meta", None)
        parent, _ = self.get_nested_field(field, return_parent=True)
        return parent

    def get_nested_field(self, field: Any, return_parent: bool = False) -> Any:
        """Follow a nested uid (``(0008,1110)__0__(0008,1150)``) to its element (and parent)."""
        uid = field.uid if isinstance(field, DicomField) else str(field)
        parts = uid.split("__")
        dataset: Any = self.dicom
        element = None
        for i in range(0, len(parts), 2):
            tag = int(parts[i].strip("()").replace(",", ""), 16)
            if tag not in dataset:
                return (None, None) if return_parent else None
            element = dataset[tag]
            if i + 1 < len(parts):
                dataset = element.value[int(parts[i + 1])]
        return (dataset, element) if return_parent else element

    def get_child_fields(self, field: Any) -> dict[str, DicomField]:
        """Indexed fields nested below ``field``."""
        uid = field.uid if isinstance(field, DicomField) else str(field)
        return {u: f for u, f in self._index().items() if u.startswith(uid + "__")}

    def remove_private(self) -> None:
        """Delete every private element (nested ones too)."""
        try:
            self.dicom.remove_private_tags()
        except (KeyError, ValueError, TypeError):  # e.g. an unreadable private element
            for element in get_private(self.dicom):
                del self.dicom[element.tag]
        if isinstance(self.fields, FieldsWithLookups):
            self.get_fields()

    def reset_preamble(self) -> None:
        """Zero the 128-byte preamble (it can hide data)."""
        if hasattr(self.dicom, "preamble"):
            self.dicom.preamble = b"\x00" * 128

    def save(self, filename: str | None = None, overwrite: bool = False) -> str:
        """Write the dataset (``save_dicom`` rules: never over an existing file unless asked).

        ``filename`` is the output path; when None the input's own name is used in a new
        temporary folder (or over the input with ``overwrite=True``).
        """
        if filename is None:
            return save_dicom(self.dicom, self.dicom_file, overwrite=overwrite)
        folder = os.path.dirname(os.path.abspath(filename))
        return save_dicom(self.dicom, filename, output_folder=folder, overwrite=overwrite)
