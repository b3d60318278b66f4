"""Burned-in pixel screening compiled once per run: the runner's fast path to ``%filter`` detection.

:func:`deid.pixels.detect.detect` reads the recipe's filter groups afresh for every image (field
names, regular expressions, operators). With the shipped ``dicom`` recipe (about 120 LABELs)
that costs more than reading the file. :class:`FilterScreen` does that work once, in the parent
process, and is sent to each worker with the plan. Per file it looks each distinct field up
once and runs the pre-compiled tests; only when a LABEL matches (the image is flagged) does it
hand over to :func:`~deid.pixels.detect.detect` for the full result (reasons, coordinates,
regions), so a flagged image's :class:`~deid.pixels.detect.Detection` is exactly the one
``detect`` gives, and an unflagged one is an empty Detection with the same header state.

A criterion that could never be evaluated (unknown filter, a value filter without a value, a
bad regular expression, a malformed tag) is refused when the screen is compiled, naming the
recipe line, instead of failing every file.

Examples
--------
>>> from pydicom import Dataset
>>> from deid.recipe import parse_recipe
>>> recipe = parse_recipe('''FORMAT dicom
... %filter graylist
... LABEL Ultrasound
...   contains Modality US
...   coordinates 0,0,10,10
... ''')
>>> screen = FilterScreen.compile(recipe.filters)
>>> ds = Dataset(); ds.Modality = "CT"
>>> screen.detect(ds).flagged
False
>>> ds.Modality = "US"
>>> screen.detect(ds).matches[0].label
'Ultrasound'
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from pydicom.dataelem import RawDataElement

from deid.engine.walk import light_element
from deid.errors import DeidError
from deid.pixels.criteria import _is_empty  # the `empty` test exactly as the detector's
from deid.pixels.detect import light_get
from deid.recipe.ast import FILTERS, NOVALUE_FILTERS, FilterGroup

__all__ = ["FilterScreen", "ScreenError"]

_ABSENT = object()


class ScreenError(DeidError, ValueError):
    """A ``%filter`` criterion that cannot be evaluated (names the recipe line)."""


@dataclass(frozen=True)
class _Test:
    """One compiled criterion: ``kind`` is a filter name, ``field`` an index into the fields."""

    kind: str
    field: int
    pattern: Any = None  # compiled regex (contains/notcontains) or text (equals/notequals)


def _where(span: Any) -> str:
    file = getattr(span, "file", "<code>")
    line = getattr(span, "line", 0)
    if file == "<code>":
        return ""
    return f"{file}: " if not line else f"{file}:{line}: "


def _field_key(field: str, where: str) -> str | int:
    name = field.strip()
    if "0x" in name.lower():
        try:
            return int(name, 0)
        except ValueError:
            raise ScreenError(f"{where}filter field {field!r} is not a tag number") from None
    return name


def _compile_test(crit: Any, fields: dict[str | int, int], where: str) -> _Test:
    kind = str(crit.filter).strip().lower()
    if kind not in FILTERS:
        raise ScreenError(
            f"{where}unknown filter {crit.filter!r} (expected one of {', '.join(FILTERS)})"
        )
    key = _field_key(crit.field, where)
    index = fields.setdefault(key, len(fields))
    if kind in NOVALUE_FILTERS:
        return _Test(kind, index)
    if crit.value is None:
        raise ScreenError(f"{where}filter '{kind} {crit.field}' needs a value")
    text = str(crit.value).lower().strip()
    if kind in ("contains", "notcontains"):
        try:
            return _Test(kind, index, re.compile(text))
        except re.error as exc:
            raise ScreenError(
                f"{where}filter '{kind} {crit.field} {crit.value}': bad regular expression: {exc}"
            ) from None
    return _Test(kind, index, text)


def _tag_of(key: str | int) -> int | None:
    if isinstance(key, int):
        return key
    from pydicom.datadict import tag_for_keyword

    return tag_for_keyword(key)


def _peek(ds: Any, tag: int) -> Any:
    """The element ``tag`` of ``ds`` converted from its raw form *without* storing it back
    (the header engine then still sees the raw element it handles fastest); ``_ABSENT`` when
    the element needs pydicom's full path (deferred value, sequence, ambiguous VR)."""
    from pydicom.dataelem import convert_raw_data_element

    elem = ds._dict.get(tag)
    if elem is None or not isinstance(elem, RawDataElement):
        return elem
    if elem.value is None and elem.length != 0:
        return _ABSENT
    if elem.VR is None or elem.VR == "SQ" or " or " in str(elem.VR):
        return _ABSENT
    charset = getattr(ds, "original_character_set", None) or getattr(ds, "_character_set", None)
    try:
        converted = convert_raw_data_element(elem, encoding=charset, ds=ds)
    except Exception:  # noqa: BLE001 - let pydicom's own path decide (and raise) below
        return _ABSENT
    if converted.VR == "SQ" or " or " in str(converted.VR):
        return _ABSENT
    return converted


def _plain_text(ds: Any, key: str | int, tag: int | None) -> Any:
    """The comparison text (lower case, stripped) of a keyword's raw plain-ASCII value(s),
    decoded by :func:`deid.engine.walk.light_element` (several values print as pydicom prints
    them), or ``_ABSENT`` when the element must be converted by pydicom first."""
    if isinstance(key, int) or tag is None or tag == 0x00080005 or not hasattr(ds, "_dict"):
        return _ABSENT
    light = light_element(ds, tag, stand_in=True)
    if light is None:
        return _ABSENT
    value = light.value
    if isinstance(value, list):
        if light.VR == "PN":
            return _ABSENT  # pydicom's PersonName values print differently in a list
        value = str(value)  # what str() of pydicom's MultiValue of strings gives
    return value.lower().strip()


def _lookup(ds: Any, key: str | int, tag: int | None) -> Any:
    """What a criterion compares (as :func:`deid.pixels.criteria.field_value`): the value of a
    keyword, the whole element of a tag number, None when absent."""
    if tag is not None and tag != 0x00080005 and hasattr(ds, "_dict"):
        elem = _peek(ds, tag)
        if elem is None:
            return None
        if elem is not _ABSENT:
            return elem if isinstance(key, int) else elem.value
    try:
        return ds.get(key)
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


class _Image:
    """One image's field values and test results, each computed at most once."""

    __slots__ = ("ds", "results", "screen", "texts", "values")

    def __init__(self, ds: Any, screen: FilterScreen) -> None:
        self.ds = ds
        self.screen = screen
        self.values: dict[int, Any] = {}
        self.texts: dict[int, str | None] = {}
        self.results: list[bool | None] = [None] * len(screen.tests)

    def value(self, field: int) -> Any:
        try:
            return self.values[field]
        except KeyError:
            found = _lookup(self.ds, self.screen.fields[field], self.screen._tags[field])
            self.values[field] = found
            return found

    def text(self, field: int) -> str | None:
        try:
            return self.texts[field]
        except KeyError:
            pass
        text = _plain_text(self.ds, self.screen.fields[field], self.screen._tags[field])
        if text is _ABSENT:
            value = self.value(field)
            text = None if value is None else str(value).lower().strip()
        self.texts[field] = text
        return text  # type: ignore[return-value]

    def raw_text(self, field: int) -> bytes | None:
        """The field's undecoded bytes when they are a non-empty value of a text VR (pydicom
        turns them into a string or a list, never None); None otherwise."""
        if field in self.values:
            return None
        tag = self.screen._tags[field]
        store = getattr(self.ds, "_dict", None)
        raw = store.get(tag) if tag is not None and store is not None else None
        if (
            type(raw) is RawDataElement
            and raw.VR in _NEVER_NONE_VRS
            and type(raw.value) is bytes
            and raw.value
        ):
            return raw.value
        return None

    def keyword_value(self, keyword: str) -> Any:
        """``ds.get(keyword)``, from the values already converted when there is one, else read
        from the raw bytes when they are plain text (see :func:`deid.pixels.detect.light_get`)."""
        index = self.screen._index.get(keyword)
        if index is not None and index in self.values:
            return self.values[index]
        return light_get(self.ds, keyword)

    def result(self, test_id: int) -> bool:
        known = self.results[test_id]
        if known is not None:
            return known
        test = self.screen.tests[test_id]
        kind = test.kind
        if kind == "contains" or kind == "notcontains":
            text = self.text(test.field)
            hit = text is not None and test.pattern.search(text) is not None
            flag = hit if kind == "contains" else not hit
        elif kind == "equals" or kind == "notequals":
            text = self.text(test.field)
            hit = text is not None and text == test.pattern
            flag = hit if kind == "equals" else not hit
        elif kind == "missing" or kind == "present":
            there = self.raw_text(test.field) is not None or self.value(test.field) is not None
            flag = there if kind == "present" else not there
        else:  # empty
            raw = self.raw_text(test.field)
            if raw is not None and _VISIBLE.search(raw):
                flag = False  # a visible character survives pydicom's conversion
            else:
                value = self.value(test.field)
                flag = value is not None and _is_empty(value)
        self.results[test_id] = flag
        return flag


#: VRs whose non-empty raw value pydicom never converts to None.
_NEVER_NONE_VRS = frozenset(
    {"AE", "AS", "CS", "DA", "DT", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UI", "UR", "UT"}
)
#: A character no conversion of a text value strips (printable ASCII but space and backslash).
_VISIBLE = re.compile(rb"[\x21-\x5b\x5d-\x7e]")
#: Tests whose result depends on a field's text alone.
_TEXT_KINDS = frozenset({"contains", "notcontains", "equals", "notequals"})
#: Texts remembered per field for the gates (cleared when full).
_GATE_MEMO_SIZE = 1024

#: Screens compiled by :meth:`FilterScreen.cached`: ids of the groups -> (groups, screen).
_COMPILED: dict[tuple[int, ...], tuple[tuple[Any, ...], FilterScreen]] = {}


class FilterScreen:
    """``%filter`` groups compiled for fast per-image screening (picklable).

    Use :meth:`compile`; :meth:`detect` has the signature and result of
    :func:`deid.pixels.detect.detect` bound to the compiled groups.

    Compiling numbers the distinct fields and the distinct tests (the shipped recipe's 463
    criteria are about 150 different tests, ``contains Modality CT`` alone appears dozens of
    times). Per image a field is converted only when a test needs it, and a test runs at most
    once, so an image that no LABEL matches costs a few look-ups.
    """

    def __init__(
        self,
        groups: tuple[FilterGroup, ...],
        fields: tuple[str | int, ...],
        labels: tuple[tuple[tuple[tuple[int, ...], tuple[bool, ...]], ...] | None, ...],
        tests: tuple[_Test, ...] = (),
    ) -> None:
        self.groups = groups
        self.fields = fields
        self.tests = tests
        self._tags = tuple(_tag_of(f) for f in fields)
        self._index = {f: i for i, f in enumerate(fields) if isinstance(f, str)}
        self._labels = labels
        # a LABEL whose first criteria line is one test cannot match when that test fails:
        # per image only the distinct first tests run, then the LABELs behind the true ones
        gates: dict[int, list[int]] = {}
        ungated: list[int] = []
        for index, lines in enumerate(labels):
            if lines and len(lines[0][0]) == 1:
                gates.setdefault(lines[0][0][0], []).append(index)
            else:
                ungated.append(index)
        # gates that compare a field's text: which of them hold depends on that text alone, so
        # it is remembered per field and text (the images of a series share their values)
        by_field: dict[int, list[tuple[int, tuple[int, ...]]]] = {}
        other: list[tuple[int, tuple[int, ...]]] = []
        for test, found in gates.items():
            if tests and tests[test].kind in _TEXT_KINDS:
                by_field.setdefault(tests[test].field, []).append((test, tuple(found)))
            else:
                other.append((test, tuple(found)))
        self._gates = tuple(other)
        self._text_gates = tuple((field, tuple(found)) for field, found in by_field.items())
        self._gate_memo: dict[int, dict[str | None, tuple[int, ...]]] = {f: {} for f in by_field}
        self._ungated = tuple(ungated)

    @classmethod
    def compile(cls, groups: Iterable[FilterGroup]) -> FilterScreen:
        """Compile ``%filter`` groups (recipe AST) once.

        Raises
        ------
        ScreenError
            A criterion that cannot be evaluated; the message names the recipe line.

        Examples
        --------
        >>> FilterScreen.compile(()).detect(__import__("pydicom").Dataset()).flagged
        False
        """
        groups = tuple(groups)
        fields: dict[str | int, int] = {}
        tests: dict[_Test, int] = {}
        labels: list[Any] = []
        for group in groups:
            for label in group.labels:
                if not label.lines:
                    labels.append(None)
                    continue
                lines = []
                for line in label.lines:
                    where = _where(getattr(line, "span", None) or label.span)
                    where += f"LABEL {label.name!r}: "
                    ids = tuple(
                        tests.setdefault(_compile_test(c, fields, where), len(tests))
                        for c in line.criteria
                    )
                    ops = tuple(str(o).strip().lower() for o in line.inner_operators)
                    for op in ops:
                        if op not in ("and", "or", "+", "||"):
                            raise ScreenError(f"{where}unknown operator {op!r}")
                    # the operator before each test after the first ("and" when not written)
                    is_or = tuple(
                        (ops[i - 1] if i - 1 < len(ops) else "and") in ("or", "||")
                        for i in range(1, len(ids))
                    )
                    lines.append((ids, is_or))
                labels.append(tuple(lines))
        ordered = tuple(sorted(fields, key=fields.__getitem__))
        return cls(groups, ordered, tuple(labels), tuple(sorted(tests, key=tests.__getitem__)))

    @classmethod
    def cached(cls, groups: Iterable[FilterGroup]) -> FilterScreen:
        """:meth:`compile`, remembered for the same group objects (a screen never changes once
        compiled): repeated runs with one recipe compile its ``%filter`` rules once per process.

        Examples
        --------
        >>> groups = ()
        >>> FilterScreen.cached(groups) is FilterScreen.cached(groups)
        True
        """
        groups = tuple(groups)
        key = tuple(map(id, groups))
        hit = _COMPILED.get(key)
        if hit is not None and all(a is b for a, b in zip(hit[0], groups)):
            return hit[1]
        screen = cls.compile(groups)
        if len(_COMPILED) >= 8:
            _COMPILED.clear()
        _COMPILED[key] = (groups, screen)  # the groups are held: their ids stay theirs
        return screen

    def __len__(self) -> int:
        return len(self._labels)

    def matching(self, ds: Any) -> list[int]:
        """Indexes (in recipe order) of the LABELs that match ``ds``.

        The tests of a criteria line fold left to right as upstream's do, skipping a test whose
        result cannot change the fold (a test never has side effects: everything that could
        fail was checked by :meth:`compile`).

        Examples
        --------
        >>> FilterScreen.compile(()).matching(__import__("pydicom").Dataset())
        []
        """
        return self._matching(_Image(ds, self))

    def _matching(self, state: _Image) -> list[int]:
        result_of = state.result
        hits = [i for i in self._ungated if self._matches(i, result_of)]
        for gate, found in self._gates:
            if result_of(gate):
                hits.extend(i for i in found if self._matches(i, result_of))
        for field, gates in self._text_gates:
            text = state.text(field)
            memo = self._gate_memo[field]
            open_gates = memo.get(text)
            if open_gates is None:
                open_gates = tuple(k for k, (gate, _) in enumerate(gates) if result_of(gate))
                if len(memo) >= _GATE_MEMO_SIZE:
                    memo.clear()
                memo[text] = open_gates
            for k in open_gates:
                hits.extend(i for i in gates[k][1] if self._matches(i, result_of))
        hits.sort()
        return hits

    def _matches(self, index: int, result_of: Any) -> bool:
        lines = self._labels[index]
        if lines is None:  # no criteria: matches when it has coordinates
            return bool(self._label_at(index).coordinates)
        for ids, is_or in lines:
            result = result_of(ids[0])
            for position in range(1, len(ids)):
                if result is is_or[position - 1]:  # True or x / False and x: x cannot matter
                    continue
                result = result_of(ids[position])
            if not result:
                return False
        return True

    def _label_at(self, index: int) -> Any:
        for group in self.groups:
            if index < len(group.labels):
                return group.labels[index]
            index -= len(group.labels)
        raise IndexError(index)

    def detect(self, ds: Any) -> Any:
        """The :class:`~deid.pixels.detect.Detection` of ``ds`` (header only, never decodes).

        Examples
        --------
        >>> from pydicom import Dataset
        >>> FilterScreen.compile(()).detect(Dataset()).matches
        ()
        """
        from deid.pixels.detect import Detection, detect, header_state

        state = _Image(ds, self)
        hits = self._matching(state)
        if not hits:
            header = header_state(ds, state.keyword_value if hasattr(ds, "_dict") else None)
            return Detection((), has_filters=bool(self.groups), header=header)
        if any(self._labels[i] is None for i in hits):
            # a LABEL without criteria reports the previous LABEL's reason: needs every LABEL
            return detect(ds, self.groups)
        # a LABEL with criteria is reported from its own lines: evaluating only the matching
        # ones gives the same Detection as evaluating all of them
        wanted = set(hits)
        reduced = []
        index = 0
        for group in self.groups:
            keep = []
            for label in group.labels:
                if index in wanted:
                    keep.append(label)
                index += 1
            if keep:
                reduced.append(replace(group, labels=tuple(keep)))
        return detect(ds, reduced)
