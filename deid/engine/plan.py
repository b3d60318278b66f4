"""The compiled plan and its application to one dataset.

:meth:`Plan.apply` works in three phases so that nothing is changed when a rule cannot run:

1. **collect** -- one breadth-first walk over the dataset, every sequence item and the file meta.
   Each element's static selectors are looked up in the plan's memo by
   :class:`~deid.engine.selectors.ElementKey` (decided the first time such a key is seen); only
   elements that some rule selects become entries. Raw elements that no rule touches are never
   converted.
2. **simulate** -- the header rules run in recipe order on a virtual state per element (present?,
   in the index?, current value), reproducing upstream's interactions (``deid-behaviour.md`` 5.9):
   later REPLACE/ADD overwrite, JITTERs add up, BLANK makes a later JITTER a no-op, REMOVE is
   suppressed when a REPLACE/JITTER selects the element, KEEP (decided before the walk) beats
   everything but ADD, ADD re-creates after REMOVE, REMOVE after ADD deletes. Every value is
   resolved and converted here; any failure raises before the dataset is touched.
3. **commit** -- the final states are written back and a :class:`ChangeLog` returned.

Examples
--------
>>> from pydicom import Dataset
>>> from deid.recipe.ast import Action, FieldExpr, Recipe, Value, NO_SPAN
>>> from deid.engine.compile import compile_plan
>>> rule = Action("REPLACE", FieldExpr("keyword", "PatientName", NO_SPAN, arg="PatientName"),
...               Value("literal", "ANON", NO_SPAN), NO_SPAN)
>>> plan = compile_plan(Recipe(header=(rule,)))
>>> ds = Dataset()
>>> ds.PatientName = "Doe^John"
>>> plan.apply(ds).counts()
{'REPLACE': 1}
>>> str(ds.PatientName)
'ANON'
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydicom import config as _config
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag

from deid.engine.changelog import Change, ChangeLog, RuleRef, format_tag
from deid.engine.context import MISSING, Context
from deid.engine.functions import FunctionSpec, get_function, parse_extras
from deid.engine.jitter import parse_days, shift_value
from deid.engine.rawscan import decode_sequence, scan_sequence
from deid.engine.selectors import ElementKey, Selector, static_match
from deid.engine.values import (
    MAX_VALUE_LENGTH,
    ValueConversionError,
    check_value,
    convert_value,
    surely_valid,
)
from deid.engine.walk import (
    Field,
    is_sequence,
    keyword_of,
    light_element,
    private_creator,
    tag_string,
)
from deid.errors import ApplyError, PlanError
from deid.recipe.ast import Value

__all__ = ["CompiledAction", "GroupSpec", "Plan"]

_INF = 1 << 30
_UNSET: Any = object()


@dataclass(frozen=True)
class CompiledAction:
    """One header rule, ready to run.

    Attributes
    ----------
    index : int
        Position in the plan (recipe order); also the id of its selector.
    action : str
        ``ADD``, ``BLANK``, ``JITTER``, ``KEEP``, ``REPLACE`` or ``REMOVE``.
    value : Value or None
        The value (or REMOVE condition).
    rule : RuleRef
        Source, line and text, for the ChangeLog and error messages.
    target : int or None
        The tag an ADD creates.
    """

    index: int
    action: str
    value: Value | None
    rule: RuleRef
    target: int | None = None
    field_text: str = ""


@dataclass(frozen=True)
class GroupSpec:
    """A ``%values`` or ``%fields`` group: ``lines`` are ``(selector id, FIELD|SPLIT, by, min)``."""

    kind: str
    name: str
    lines: tuple[tuple[int, str, str | None, int | None], ...]


class _Entry:
    """Virtual state of one element during an apply."""

    __slots__ = (
        "ancestors",
        "chain",
        "changed",
        "creator",
        "in_index",
        "is_meta",
        "key",
        "kill",
        "name",
        "orig_present",
        "parent",
        "present",
        "raw_vr",
        "sels",
        "sq",
        "tag",
        "uid",
        "value",
        "vr",
    )

    def __init__(
        self,
        parent: Dataset | None,
        tag: int,
        uid: str,
        name: str,
        is_meta: bool,
        sels: tuple[int, ...],
        ancestors: tuple[_Entry, ...],
        sq: bool,
        creator: str | None,
        raw_vr: str | None,
        present: bool = True,
        in_index: bool = True,
    ):
        self.parent = parent
        self.tag = tag
        self.uid = uid
        self.name = name
        self.is_meta = is_meta
        self.sels = sels
        self.ancestors = ancestors
        self.sq = sq
        self.creator = creator
        self.orig_present = present
        self.present = present
        self.in_index = in_index
        self.value: Any = _UNSET
        self.vr: str | None = None
        self.changed = False
        self.kill = _INF
        self.raw_vr = raw_vr
        self.chain: tuple[list[Any], ...] = ()
        self.key: Any = tag  # the dataset's own key object (identity makes look-ups cheap)


def _dictionary_vr(tag: int) -> str | None:
    """The dictionary VR of a public tag when it is unambiguous (``US or SS`` gives None)."""
    vr = _DICT_VR.get(tag, _UNSET)
    if vr is _UNSET:
        try:
            vr = dictionary_VR(tag)
        except KeyError:
            vr = None
        if vr is not None and (" " in vr or vr == "UN"):
            vr = None
        _DICT_VR[tag] = vr
    return vr


_DICT_VR: dict[int, Any] = {}


def _light_element(entry: _Entry, stand_in: bool = False) -> Any:
    """A detached copy of an undecoded element read from its raw bytes (see light_element)."""
    assert entry.parent is not None
    return light_element(entry.parent, entry.key, stand_in=stand_in)


#: Text VRs whose ASCII values :func:`_encoded` stores as raw bytes.
_RAW_TEXT_VRS = frozenset(
    {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UI", "UT"}
)


def _encoded(key: Any, vr: str, value: Any) -> RawDataElement | None:
    """:func:`_encode_raw`, remembered for short text values (the dummies and constants a
    profile writes into every file); a RawDataElement is immutable, so files share it."""
    if type(value) is not str or len(value) > 64:
        return _encode_raw(key, vr, value)
    memo = (int(key), vr, value)
    try:
        return _ENCODED[memo]
    except KeyError:
        pass
    found = _encode_raw(key, vr, value)
    if len(_ENCODED) >= 4096:
        _ENCODED.clear()
    _ENCODED[memo] = found
    return found


_ENCODED: dict[tuple[int, str, str], RawDataElement | None] = {}


def _encode_raw(key: Any, vr: str, value: Any) -> RawDataElement | None:
    """The element as pydicom keeps an element it has read but not decoded, or None.

    Only for text VRs whose (possibly multiple) values are plain ASCII and certainly valid for
    the VR: their bytes are the same in every character set and transfer syntax, so the writer
    copies them and a later read decodes them exactly as pydicom would decode the file.
    """
    if vr not in _RAW_TEXT_VRS:
        return None
    if isinstance(value, str):
        parts = [value]
    elif isinstance(value, list) and value and all(type(v) is str for v in value):
        parts = value
    else:
        return None
    for part in parts:
        if not part.isascii() or not surely_valid(vr, part):
            return None
    text = "\\".join(parts)
    if type(value) is str and text != text.rstrip(" "):
        return None  # trailing spaces are padding in DICOM: keep pydicom's own handling
    data = text.encode("ascii")
    if len(data) % 2:
        if len(parts) > 1 and len(parts[-1]) >= MAX_VALUE_LENGTH.get(vr, 1 << 30):
            return None  # pydicom would count the padding into the last value when reading
        data += b"\x00" if vr == "UI" else b" "
    tag = key if isinstance(key, BaseTag) else BaseTag(key)
    return RawDataElement(tag, vr, len(data), data, 0, False, True)


def _default_vr(tag: int) -> str:
    try:
        return dictionary_VR(tag)[:2]
    except KeyError:
        return "ST"


class Plan:
    """An immutable, picklable compiled recipe; see :func:`deid.engine.compile.compile_plan`.

    Attributes
    ----------
    actions : tuple of CompiledAction
        Header rules in recipe order.
    selectors : tuple of Selector
        One per action (same index), then one per group line.
    skip : frozenset of int
        Tags left out of the walk (upstream's skip list unless disabled).
    groups : tuple of GroupSpec
        ``%values`` and ``%fields`` groups.
    functions : dict
        Functions resolved at compile time (``name -> FunctionSpec``).
    post : tuple of callables
        ``f(ds, context, changelog)`` run after the rules.
    pre : tuple of callables
        ``f(ds, context)`` run before anything is read or changed (e.g. to capture per-file
        state from the original dataset).
    """

    def __init__(
        self,
        actions: tuple[CompiledAction, ...],
        selectors: tuple[Selector, ...],
        skip: frozenset[int],
        groups: tuple[GroupSpec, ...] = (),
        functions: dict[str, FunctionSpec] | None = None,
        unresolved: tuple[tuple[str, RuleRef], ...] = (),
        post: tuple[Callable[..., Any], ...] = (),
        sources: tuple[str, ...] = (),
        pre: tuple[Callable[..., Any], ...] = (),
    ) -> None:
        self.actions = actions
        self.selectors = selectors
        self.skip = skip
        self.groups = groups
        self.functions = dict(functions or {})
        self.unresolved = unresolved
        self.post = post
        self.sources = sources
        self.pre = pre
        self._derive()

    # -- derived tables (rebuilt after unpickling) ---------------------------------------------
    def _derive(self) -> None:
        n = len(self.actions)
        by_tag: dict[int, list[int]] = {}
        patterns: list[int] = []
        dynamic: list[int] = []
        for sid, sel in enumerate(self.selectors):
            if sel.kind in ("tags", "add"):
                for tag in sel.tags:
                    by_tag.setdefault(tag, []).append(sid)
            elif sel.dynamic:
                if sid < n:
                    dynamic.append(sid)
            elif sel.kind != "none":
                patterns.append(sid)
        self._by_tag = {t: tuple(v) for t, v in by_tag.items()}
        self._patterns = tuple(patterns)
        self._dynamic = frozenset(dynamic)
        self._dynamic_sorted = tuple(sorted(dynamic))
        self._keep = frozenset(a.index for a in self.actions if a.action == "KEEP")
        self._rj = frozenset(a.index for a in self.actions if a.action in ("REPLACE", "JITTER"))
        self._needs_vr = any(s.kind == "vr" for s in self.selectors)
        self._group_selectors = frozenset(
            i for i, s in enumerate(self.selectors) if s.kind in ("values", "fields")
        )
        self._group_line: dict[int, tuple[GroupSpec, str, str | None, int | None]] = {}
        for group in self.groups:
            for sid, kind, by, minlength in group.lines:
                self._group_line[sid] = (group, kind, by, minlength)
        self._adds = tuple(a for a in self.actions if a.action == "ADD")
        # an element selected by an unconditional REMOVE that no REPLACE/JITTER selects is
        # certainly gone: its sequence items need not be read (only without dynamic
        # selectors and groups, which look at every element)
        self._can_prune = not dynamic and not self.groups
        self._remove_always = frozenset(
            a.index for a in self.actions if a.action == "REMOVE" and a.value is None
        )
        # an unconditional BLANK empties a sequence: nothing inside it reaches the output
        self._blank_always = frozenset(a.index for a in self.actions if a.action == "BLANK")
        #: keyed by ElementKey; the walk looks up plain tuples (same hash and equality, cheaper)
        self._memo: dict[tuple[Any, ...], tuple[int, ...]] = {}
        self._constants: dict[tuple[int, str, int], tuple[Any, str, Any]] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {
            k: getattr(self, k)
            for k in (
                "actions",
                "selectors",
                "skip",
                "groups",
                "functions",
                "unresolved",
                "post",
                "sources",
                "pre",
            )
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        state.setdefault("pre", ())
        self.__dict__.update(state)
        self._derive()

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self.__dict__ and not name.startswith("_"):
            raise AttributeError(f"Plan is immutable: cannot set {name!r}")
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        return f"<Plan {len(self.actions)} rules, {len(self.groups)} groups>"

    # -- selection ----------------------------------------------------------------------------
    def decide(self, key: ElementKey) -> tuple[int, ...]:
        """Return the ids of the static selectors matching an element (memoised).

        Examples
        --------
        >>> from deid.engine.compile import compile_plan
        >>> from deid.recipe.ast import Recipe
        >>> compile_plan(Recipe()).decide(ElementKey(None, 0x00100010, None, None))
        ()
        """
        hit = self._memo.get(key)
        if hit is None:
            ids = [s for s in self._by_tag.get(key.tag, ()) if static_match(self.selectors[s], key)]
            ids += [s for s in self._patterns if static_match(self.selectors[s], key)]
            hit = tuple(sorted(set(ids)))
            if len(self._memo) < 200_000:
                self._memo[key] = hit
        return hit

    @property
    def memo_size(self) -> int:
        """Number of distinct element keys decided so far."""
        return len(self._memo)

    # -- function resolution --------------------------------------------------------------------
    def _function(self, value: Value, ctx: Context) -> FunctionSpec | None:
        name = value.name or ""
        if value.kind == "func":
            func = ctx.lookup_function(name)
            if func is not None:
                return FunctionSpec(name, func, False)
        spec = self.functions.get(name)
        if spec is None:
            spec = get_function(name)
        return spec

    def check_functions(self, context: Context | None = None) -> None:
        """Raise PlanError when a ``func:`` the plan needs is not available.

        Examples
        --------
        >>> from deid.engine.compile import compile_plan
        >>> from deid.recipe.ast import Recipe
        >>> compile_plan(Recipe()).check_functions()
        """
        ctx = context or Context()
        missing = []
        for name, rule in self.unresolved:
            if (
                ctx.lookup_function(name) is None
                and name not in self.functions
                and get_function(name) is None
            ):
                missing.append(
                    f"{rule.source}:{rule.line}: func:{name} is not defined (in {rule.text!r})"
                )
        if missing:
            raise PlanError("; ".join(missing))

    # -- apply --------------------------------------------------------------------------------
    def apply(
        self,
        ds: Dataset,
        context: Context | None = None,
        *,
        strip_sequences: bool = False,
        remove_private: bool = False,
    ) -> ChangeLog:
        """Apply the plan to ``ds`` (and its file meta) in place; return the ChangeLog.

        Parameters
        ----------
        ds : pydicom.Dataset
            Dataset or FileDataset; modified in place.
        context : Context, optional
            Variables, functions and key for this file.
        strip_sequences : bool
            Delete every top-level sequence first (upstream ``parse(strip_sequences=True)``).
        remove_private : bool
            Delete every private element first, at every depth.

        Raises
        ------
        PlanError
            A ``func:`` is not defined (nothing changed).
        ApplyError
            A rule cannot run on an element (missing variable, function returned None, value
            not convertible to the VR, ...). Nothing is changed.

        Examples
        --------
        >>> from deid.engine.compile import compile_plan
        >>> from deid.recipe.ast import Recipe
        >>> from pydicom import Dataset
        >>> compile_plan(Recipe()).apply(Dataset())
        []
        """
        ctx = context if context is not None else Context()
        self.check_functions(ctx)
        for step in self.pre:
            step(ds, ctx)
        run = _Run(self, ds, ctx, strip_sequences, remove_private)
        run.collect()
        run.evaluate_groups()
        run.simulate()
        log = run.commit()
        for step in self.post:
            step(ds, ctx, log)
        return log


class _Run:
    """State of one :meth:`Plan.apply`."""

    #: Scan undecoded sequences before decoding them (tests turn it off to compare).
    scan = True

    def __init__(self, plan: Plan, ds: Dataset, ctx: Context, strip: bool, private: bool):
        self.plan = plan
        self.ds = ds
        self.ctx = ctx
        self.strip = strip
        self.private = private
        self.entries: list[_Entry] = []
        self.deletions: list[tuple[Dataset, int, str, str, tuple[list[Any], ...]]] = []
        self.sq_records: list[list[Any]] = []
        self.group_values: dict[str, Any] = {}
        self.fields_tags: dict[str, frozenset[int]] = {}
        self.values_patterns: dict[str, re.Pattern[str] | None] = {}
        self.changes: list[Change] = []
        self._item: Any = None
        name = ctx.filename or getattr(ds, "filename", None)
        self.filename = str(name) if name else "<dataset>"

    # -- phase 1 ------------------------------------------------------------------------------
    def _key(self, parent: Dataset, tag: int, raw: Any, prefix: str | None) -> ElementKey:
        creator = (
            private_creator(parent, tag) if (tag >> 16) & 1 and (tag & 0xFFFF) >= 0x1000 else None
        )
        vr = None
        if self.plan._needs_vr:
            vr = raw.VR
            if vr is None or vr == "UN":
                vr = parent[tag].VR
        return ElementKey(prefix, tag, creator, vr)

    def collect(self) -> None:
        plan, ds = self.plan, self.ds
        decide = plan.decide
        memo_get = plan._memo.get
        needs_vr = plan._needs_vr
        can_prune, remove_always, rj = plan._can_prune, plan._remove_always, plan._rj
        blank_always = plan._blank_always

        meta = getattr(ds, "file_meta", None)
        tops: list[tuple[Dataset, bool]] = [(ds, False)]
        if meta is not None:
            tops.append((meta, True))
        kept: set[int] = set()
        keep_ids = plan._keep
        if keep_ids:
            for parent, _ in tops:
                for ktag, raw in list(parent._dict.items()):
                    if ktag in plan.skip:
                        continue
                    if any(s in keep_ids for s in decide(self._key(parent, ktag, raw, None))):
                        kept.add(ktag)
        self.kept = kept
        skip = plan.skip | kept if kept else plan.skip
        needs_all = bool(plan._dynamic)
        scan_ok = not needs_all and not self.private and self.scan

        def visit(prefix: str, tag: int, vr: str, creator: str | None) -> bool | None:
            if tag in skip:
                return None
            key = (prefix, tag, creator, vr if needs_vr else None)
            sels = memo_get(key)
            if sels is None:
                sels = decide(ElementKey(*key))
            return bool(sels)

        strip, private = self.strip, self.private
        top_present: dict[int, _Entry] = {}
        queue: deque[
            tuple[Dataset, str | None, str | None, tuple[_Entry, ...], bool, tuple[list[Any], ...]]
        ] = deque((parent, None, None, (), is_meta, ()) for parent, is_meta in tops)
        entries = self.entries
        while queue:
            parent, uid_prefix, prefix, ancestors, is_meta, chain = queue.popleft()
            top = uid_prefix is None
            for btag, raw in list(parent._dict.items()):
                tag = int(btag)  # plain ints: BaseTag compares in Python, ints in C
                if private and (tag >> 16) & 1:
                    self.deletions.append(
                        (parent, tag, "PRIVATE", self._uid(uid_prefix, tag), chain)
                    )
                    continue
                if strip and top and not is_meta and is_sequence(parent, tag, raw):
                    self.deletions.append((parent, tag, "STRIP", tag_string(tag), chain))
                    continue
                if tag in skip:
                    continue
                creator = None
                if tag & 0x10000 and (tag & 0xFFFF) >= 0x1000:
                    creator = private_creator(parent, tag)
                raw_vr = raw.VR
                vr = None
                if needs_vr:
                    vr = raw_vr
                    if vr is None or vr == "UN":
                        vr = parent[tag].VR
                # a plain tuple finds the ElementKey entries (same hash and equality)
                sels = memo_get((prefix, tag, creator, vr))
                if sels is None:
                    sels = decide(ElementKey(prefix, tag, creator, vr))
                if raw_vr == "SQ":
                    sq = True
                elif raw_vr is None or raw_vr == "UN":
                    sq = is_sequence(parent, tag, raw)
                else:
                    sq = False
                if not (sels or needs_all or sq):
                    continue
                kw = keyword_of(tag)
                if top:
                    uid, name = tag_string(tag), kw
                else:
                    uid, name = f"{uid_prefix}__{tag_string(tag)}", f"{prefix}__{kw}"
                entry = None
                if sels or needs_all:
                    entry = _Entry(
                        parent, tag, uid, name, is_meta, sels, ancestors, sq, creator, raw_vr
                    )
                    entry.key = btag
                    entry.chain = chain
                    entries.append(entry)
                    if top:
                        top_present[tag] = entry
                if (
                    sq
                    and can_prune
                    and (
                        any(x in remove_always for x in sels)
                        and not any(x in rj for x in sels)
                        or any(x in blank_always for x in sels)
                    )
                ):
                    sq = False  # removed or emptied for certain: no need to look inside
                if (
                    sq
                    and scan_ok
                    and type(raw) is RawDataElement
                    and raw.value is not None
                    and raw.is_implicit_VR is False
                    and raw.is_little_endian
                    and scan_sequence(raw.value, name, visit)
                ):
                    sq = False  # nothing inside can be selected: leave it undecoded
                if sq:
                    # remember the undecoded sequence: if nothing inside changes, it goes back
                    # into the dataset as it was read (written byte for byte, and faster)
                    inner = chain
                    if type(raw) is RawDataElement and raw.value is not None:
                        record = [parent, tag, raw, False]
                        self.sq_records.append(record)
                        inner = chain + (record,)
                        if entry is not None:
                            entry.chain = inner
                    value = decode_sequence(parent, btag)  # pydicom's result, faster
                    if value is None:
                        value = parent[tag].value
                    if value:
                        below = ancestors + (entry,) if entry is not None else ancestors
                        for index, item in enumerate(value):
                            queue.append((item, f"{uid}__{index}", name, below, is_meta, inner))
        # ADD targets that are absent, or present but outside the index (KEEP / skip list).
        for act in plan._adds:
            assert act.target is not None
            tag = act.target
            if tag in top_present:
                continue
            holder = meta if tag >> 16 == 2 else ds
            present = holder is not None and tag in holder._dict
            creator = None
            key = ElementKey(None, tag, creator, _default_vr(tag) if plan._needs_vr else None)
            entry = _Entry(
                holder,
                tag,
                tag_string(tag),
                keyword_of(tag),
                tag >> 16 == 2,
                decide(key),
                (),
                False,
                None,
                None,
                present=present,
                in_index=False,
            )
            if present:
                assert holder is not None
                entry.sq = is_sequence(holder, tag, holder._dict[BaseTag(tag)])
            top_present[tag] = entry
            entries.append(entry)

    @staticmethod
    def _uid(prefix: str | None, tag: int) -> str:
        return tag_string(tag) if prefix is None else f"{prefix}__{tag_string(tag)}"

    # -- groups -------------------------------------------------------------------------------
    def evaluate_groups(self) -> None:
        plan = self.plan
        if not plan.groups:
            return
        lines = plan._group_line
        values: dict[str, list[Any]] = {g.name: [] for g in plan.groups if g.kind == "values"}
        fields: dict[str, dict[str, Any]] = {g.name: {} for g in plan.groups if g.kind == "fields"}
        # group lines written as a nested uid select one element: matched by uid here
        uid_lines = [
            (sid, self.plan.selectors[sid].text or "")
            for sid in lines
            if self.plan.selectors[sid].kind == "nested_uid"
        ]
        for entry in self.entries:
            if not entry.in_index:
                continue
            sids: tuple[int, ...] | list[int] = entry.sels
            if uid_lines:
                low = entry.uid.lower()
                extra = [sid for sid, text in uid_lines if text == low]
                if extra:
                    sids = list(entry.sels) + extra
            for sid in sids:
                spec = lines.get(sid)
                if spec is None:
                    continue
                group, kind, by, minlength = spec
                if group.kind == "fields":
                    fields[group.name][entry.uid] = self._field(entry)
                    continue
                value = self._current(entry)
                if kind == "SPLIT":
                    if value is None or value == "":
                        continue
                    pieces = str(value).split(by if by is not None else " ")
                    values[group.name].extend(p for p in pieces if len(p) >= (minlength or 1))
                    continue
                if value is None or value == "":
                    continue
                if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
                    values[group.name].extend(v for v in value if v not in (None, ""))
                else:
                    values[group.name].append(value)
        for name, found in values.items():
            unique = list(dict.fromkeys(str(v) for v in found))
            self.group_values[name] = unique
            self.values_patterns[name] = (
                re.compile("(" + "|".join(re.escape(v) for v in unique) + ")", re.IGNORECASE)
                if unique
                else None
            )
        for name, found_fields in fields.items():
            self.group_values[name] = found_fields
            self.fields_tags[name] = frozenset(int(f.element.tag) for f in found_fields.values())

    # -- helpers ------------------------------------------------------------------------------
    def _current(self, entry: _Entry) -> Any:
        if entry.value is _UNSET:
            if entry.orig_present and entry.parent is not None:
                elem = entry.parent[entry.tag]
                entry.value, entry.vr = elem.value, elem.VR
            else:
                entry.value, entry.vr = None, _default_vr(entry.tag)
        return entry.value

    def _vr(self, entry: _Entry) -> str:
        self._current(entry)
        assert entry.vr is not None
        return entry.vr

    def _known_vr(self, entry: _Entry) -> str | None:
        """The element's VR without decoding its value (None when only decoding can tell)."""
        if entry.vr is not None:
            return entry.vr
        vr = entry.raw_vr
        if vr is not None:
            return None if vr == "UN" else vr
        if not entry.orig_present or entry.tag & 0x10000:
            return None
        return _dictionary_vr(entry.tag)

    def _element(self, entry: _Entry, stand_in: bool = False) -> Any:
        if not entry.changed and entry.orig_present and entry.parent is not None:
            if entry.value is _UNSET:
                light = _light_element(entry, stand_in)
                if light is not None:
                    return light
            return entry.parent[entry.tag]
        value = self._current(entry)
        return DataElement(entry.tag, self._vr(entry), value, validation_mode=_config.IGNORE)

    def _field(self, entry: _Entry, stand_in: bool = False) -> Any:
        factory = self.ctx.field_factory
        if factory is None:
            return Field(self._element(entry, stand_in), entry.name, entry.uid, entry.is_meta)
        return factory(self._element(entry), entry.name, entry.uid, entry.is_meta)

    def _lookup(self) -> Any:
        if self._item is None:
            variables = self.ctx.variables
            if self.group_values:
                merged = dict(variables or {})
                merged.update(self.group_values)
                self._item = merged
            else:
                self._item = variables
        return self._item

    def _where(self, act: CompiledAction, entry: _Entry | None) -> str:
        text = f"{self.filename}: {act.rule.source}:{act.rule.line}: {act.rule.text!r}"
        if entry is not None:
            text += f" on {format_tag(entry.tag, keyword_of(entry.tag))}"
            if entry.uid != tag_string(entry.tag):
                text += f" at {entry.uid}"
        return text

    def _resolve(self, act: CompiledAction, entry: _Entry, for_add: bool = False) -> Any:
        value = act.value
        assert value is not None
        if value.kind == "var":
            name = value.name or ""
            if name in self.group_values:
                return self.group_values[name]
            return self.ctx.lookup_variable(name)
        if value.kind in ("func", "deid_func"):
            spec = self.plan._function(value, self.ctx)
            if spec is None:
                raise PlanError(
                    f"{self._where(act, None)}: {value.kind}:{value.name} is not defined"
                )
            field_obj = (
                act.field_text
                if for_add
                else self._field(entry, getattr(spec.func, "deid_light_element", False))
            )
            kwargs: dict[str, Any] = {
                "dicom": self.ds,
                "value": value.text,
                "field": field_obj,
                "item": self._lookup(),
            }
            if value.kind == "deid_func":
                kwargs.update(parse_extras(value.args))
            if spec.context:
                kwargs["context"] = self.ctx
            try:
                return spec.func(**kwargs)
            except (PlanError, ApplyError):
                raise
            except Exception as exc:
                raise ApplyError(
                    f"{self._where(act, entry)}: {value.kind}:{value.name} failed: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
        return value.text

    def _convert(self, act: CompiledAction, entry: _Entry, value: Any, vr: str) -> Any:
        try:
            return convert_value(value, vr)
        except ValueConversionError as exc:
            raise ApplyError(f"{self._where(act, entry)}: {exc} (VR {vr})") from None

    def _record(
        self, entry: _Entry, act: CompiledAction, old_vr: str | None, detail: str | None = None
    ) -> None:
        self.changes.append(
            Change(
                entry.uid, entry.tag, keyword_of(entry.tag), act.action, act.rule, old_vr, detail
            )
        )

    def _dyn_match(self, sid: int, entry: _Entry, action: str) -> bool:
        sel = self.plan.selectors[sid]
        if sel.kind == "nested_uid":
            return entry.uid.lower() == sel.text
        if sel.kind == "fields":
            return entry.tag in self.fields_tags.get(sel.text or "", ())
        if sel.kind == "values":
            pattern = self.values_patterns.get(sel.text or "")
            if pattern is None or not entry.present or not entry.in_index:
                return False
            if entry.sq and action != "REMOVE":
                return False
            value = self._current(entry)
            if value is None:
                return False
            if isinstance(value, (list, tuple)) and not entry.sq:
                return any(pattern.search(str(v)) for v in value)
            return bool(pattern.search(str(value)))
        return False

    # -- phase 2 ------------------------------------------------------------------------------
    def simulate(self) -> None:
        plan = self.plan
        actions = plan.actions
        n = len(actions)
        dynamic = plan._dynamic
        dyn_sorted = plan._dynamic_sorted
        rj = plan._rj
        group_sel = plan._group_selectors
        has_groups = bool(plan.groups)
        for entry in self.entries:
            ids = [s for s in entry.sels if s < n] if has_groups else entry.sels
            if dyn_sorted:
                ids = sorted(set(ids).union(dyn_sorted))
            if not ids:
                continue
            dead_at = min(a.kill for a in entry.ancestors) if entry.ancestors else _INF
            for aid in ids:
                if aid >= dead_at:
                    break
                act = actions[aid]
                kind = act.action
                if kind == "KEEP":
                    continue
                if aid in dynamic and not self._dyn_match(aid, entry, kind):
                    continue
                if kind == "ADD":
                    if (
                        entry.parent is not None
                        and entry.parent is not self.ds
                        and entry.tag >> 16 != 2
                    ):
                        continue
                    self._add(act, entry)
                elif not entry.in_index:
                    continue
                elif kind == "REPLACE":
                    self._replace(act, entry)
                elif kind == "JITTER":
                    self._jitter(act, entry)
                elif kind == "BLANK":
                    old = self._known_vr(entry) or self._vr(entry)
                    if entry.vr is None:
                        entry.vr = old
                    # upstream sets the value to None (text VRs then print as None, read
                    # back from a file as ""); a sequence becomes empty
                    entry.value = Sequence([]) if entry.sq else None
                    entry.changed = True
                    if entry.sq:
                        entry.kill = min(entry.kill, aid)
                    self._record(entry, act, old)
                elif kind == "REMOVE":
                    # as upstream: a REPLACE/JITTER selecting the element (by any expression
                    # but a values:/fields: group) cancels its removal
                    if len(ids) > 1 and any(
                        s in rj
                        and s not in group_sel
                        and (s not in dynamic or self._dyn_match(s, entry, "REPLACE"))
                        for s in ids
                    ):
                        continue
                    if act.value is not None:
                        cond = self._resolve(act, entry)
                        if cond is MISSING:
                            raise ApplyError(
                                f"{self._where(act, entry)}: variable "
                                f"{act.value.name!r} is not defined"
                            )
                        if not cond:
                            continue
                    old_vr = entry.vr or entry.raw_vr
                    entry.present = False
                    entry.in_index = False
                    entry.kill = min(entry.kill, aid)
                    self._record(entry, act, old_vr)

    def _add(self, act: CompiledAction, entry: _Entry) -> None:
        value = self._resolve(act, entry, for_add=True)
        if value is MISSING or value is None:
            if entry.present and entry.in_index:
                raise ApplyError(
                    f"{self._where(act, entry)}: "
                    f"{self._missing_text(act)}; the element is present and would "
                    "keep its original value"
                )
            return
        old_vr = None
        if entry.present:
            old_vr = self._vr(entry)
            vr = old_vr
        else:
            vr = _default_vr(entry.tag)
            entry.vr = vr
        value = self._set_value(act, entry, value, vr)
        entry.present = True
        entry.in_index = True
        entry.changed = True
        if entry.sq:
            entry.kill = min(entry.kill, act.index)
        self._record(entry, act, old_vr, check_value(value, vr))

    def _set_value(self, act: CompiledAction, entry: _Entry, value: Any, vr: str) -> Any:
        if vr == "SQ" or entry.sq:
            if not isinstance(value, (list, tuple, Sequence)) or not all(
                isinstance(v, Dataset) for v in value
            ):
                raise ApplyError(
                    f"{self._where(act, entry)}: cannot replace a sequence with "
                    f"{type(value).__name__} {value!r}"
                )
            value = Sequence(list(value))
        else:
            value = self._convert(act, entry, value, vr)
        entry.value = value
        entry.vr = vr
        return value

    def _missing_text(self, act: CompiledAction) -> str:
        assert act.value is not None
        if act.value.kind == "var":
            return f"variable {act.value.name!r} is not defined"
        return f"{act.value.kind}:{act.value.name} returned None"

    def _constant(self, act: CompiledAction, entry: _Entry) -> tuple[Any, str, Any] | None:
        """``(value, vr, detail)`` of a function whose result depends only on the VR, or None.

        A function marks the VRs for which its result depends on nothing but the VR with a
        ``deid_vr_constant`` attribute (a set of VRs); its converted result is then computed once
        per rule and VR (per process) and the element is never decoded.
        """
        value = act.value
        if value is None or value.kind not in ("func", "deid_func") or entry.sq:
            return None
        spec = self.plan._function(value, self.ctx)
        if spec is None:
            return None
        consts = getattr(spec.func, "deid_vr_constant", None)
        if not consts:
            return None
        vr = self._known_vr(entry)
        if vr is None or vr == "SQ" or vr not in consts:
            return None
        key = (act.index, vr, id(spec.func))
        hit = self.plan._constants.get(key)
        if hit is None:
            entry.vr = vr
            result = self._resolve(act, entry)
            if result is MISSING or result is None or isinstance(result, (list, tuple)):
                return None
            converted = self._convert(act, entry, result, vr)
            if isinstance(converted, (list, tuple)):
                return None
            hit = (converted, vr, check_value(converted, vr))
            self.plan._constants[key] = hit
        return hit

    def _replace(self, act: CompiledAction, entry: _Entry) -> None:
        const = self._constant(act, entry)
        if const is not None:
            entry.value, entry.vr, detail = const
            entry.changed = True
            self._record(entry, act, entry.vr, detail)
            return
        value = self._resolve(act, entry)
        if value is MISSING or value is None:
            raise ApplyError(
                f"{self._where(act, entry)}: {self._missing_text(act)}; the "
                "element would keep its original value"
            )
        old_vr = self._known_vr(entry) or self._vr(entry)
        value = self._set_value(act, entry, value, old_vr)
        entry.changed = True
        if entry.sq:
            entry.kill = min(entry.kill, act.index)
        self._record(entry, act, old_vr, check_value(value, old_vr))

    def _jitter(self, act: CompiledAction, entry: _Entry) -> None:
        current = self._current(entry)
        try:
            if not current:
                return
        except ValueError:  # arrays
            pass
        days = self._resolve(act, entry)
        if days is MISSING or days is None:
            raise ApplyError(
                f"{self._where(act, entry)}: {self._missing_text(act)}; the date "
                "would keep its original value"
            )
        try:
            days = parse_days(days)
        except ValueError as exc:
            raise ApplyError(f"{self._where(act, entry)}: {exc}") from None
        vr = self._vr(entry)
        result = shift_value(current, vr, days)
        if result.status == "shifted":
            entry.value = self._convert(act, entry, result.value, vr)
            entry.changed = True
            self._record(entry, act, vr)
        elif result.status == "unparseable":
            entry.value = None
            entry.changed = True
            self._record(entry, act, vr, f"{result.detail}; blanked (cannot shift)")
        elif result.status == "not_date":
            self._record(entry, act, vr, result.detail)

    # -- phase 3 ------------------------------------------------------------------------------
    def commit(self) -> ChangeLog:
        ds = self.ds
        log = ChangeLog()
        for owner, gone, kind, uid, chain in self.deletions:
            if gone in owner._dict:
                del owner[gone]
            for record in chain:
                record[3] = True
            log.append(Change(uid, gone, keyword_of(gone), kind, None, None, None))
        touched_private: list[Dataset] = []
        for entry in self.entries:
            if entry.present == entry.orig_present and not entry.changed:
                continue
            for record in entry.chain:
                record[3] = True
            if entry.ancestors and any(
                not a.present or a.changed and a.sq for a in entry.ancestors
            ):
                continue
            parent = entry.parent
            tag = entry.tag
            if not entry.present:
                if parent is not None:
                    store = parent._dict
                    key = entry.key
                    if key in store:
                        if tag >> 16 == 0x7FE0:
                            del parent[key]  # pixel caches
                        else:
                            del store[key]
                            if tag & 0x10000 and (tag & 0xFF00) == 0:
                                touched_private.append(parent)
                continue
            if parent is None:
                if tag >> 16 == 2:
                    ds.file_meta = FileMetaDataset()
                    parent = ds.file_meta
                else:
                    parent = ds
                entry.parent = parent
            vr = entry.vr or _default_vr(tag)
            key = entry.key
            store = parent._dict
            if vr == "SQ" or tag & 0x10000 or tag >> 16 == 0x7FE0 or key not in store:
                parent[tag] = DataElement(tag, vr, entry.value, validation_mode=_config.IGNORE)
            else:
                # same key, no look-ups; a valid ASCII text value is stored encoded, as pydicom
                # stores what it reads (written as is, decoded when read)
                store[key] = _encoded(key, vr, entry.value) or DataElement(
                    tag, vr, entry.value, validation_mode=_config.IGNORE
                )
        for parent in touched_private:  # a private creator went: forget its block
            if getattr(parent, "_private_blocks", None):
                parent._private_blocks = {}
        for parent, tag, raw, dirty in self.sq_records:
            if not dirty and isinstance(parent._dict.get(tag), DataElement):
                parent._dict[tag] = raw
        log.extend(self.changes)
        return log
