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
from dataclasses import dataclass
from typing import Any

from deid.errors import DeidError
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


def _lookup(ds: Any, key: str | int) -> Any:
    """What a criterion compares (as :func:`deid.pixels.criteria.field_value`): the value of a
    keyword, the whole element of a tag number, None when absent."""
    try:
        return ds.get(key)
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


def _is_empty(value: Any) -> bool:
    if value is None:
        return True
    inner = getattr(value, "value", _ABSENT)
    if inner is not _ABSENT and hasattr(value, "tag"):
        value = inner
    if value is None:
        return True
    if isinstance(value, (bytes, str)):
        return value.strip() == ("" if isinstance(value, str) else b"")
    try:
        return len(value) == 0
    except TypeError:
        return False


class FilterScreen:
    """``%filter`` groups compiled for fast per-image screening (picklable).

    Use :meth:`compile`; :meth:`detect` has the signature and result of
    :func:`deid.pixels.detect.detect` bound to the compiled groups.
    """

    def __init__(
        self,
        groups: tuple[FilterGroup, ...],
        fields: tuple[str | int, ...],
        labels: tuple[tuple[tuple[tuple[_Test, ...], tuple[str, ...]], ...] | None, ...],
    ) -> None:
        self.groups = groups
        self.fields = fields
        self._labels = labels

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
                    tests = tuple(_compile_test(c, fields, where) for c in line.criteria)
                    ops = tuple(str(o).strip().lower() for o in line.inner_operators)
                    for op in ops:
                        if op not in ("and", "or", "+", "||"):
                            raise ScreenError(f"{where}unknown operator {op!r}")
                    lines.append((tests, ops))
                labels.append(tuple(lines))
        ordered = tuple(sorted(fields, key=fields.__getitem__))
        return cls(groups, ordered, tuple(labels))

    def __len__(self) -> int:
        return len(self._labels)

    def matching(self, ds: Any) -> list[int]:
        """Indexes (in recipe order) of the LABELs that match ``ds``.

        Examples
        --------
        >>> FilterScreen.compile(()).matching(__import__("pydicom").Dataset())
        []
        """
        values: list[Any] = [_ABSENT] * len(self.fields)
        texts: list[Any] = [_ABSENT] * len(self.fields)

        def value(i: int) -> Any:
            v = values[i]
            if v is _ABSENT:
                v = values[i] = _lookup(ds, self.fields[i])
            return v

        def text(i: int) -> str | None:
            t = texts[i]
            if t is _ABSENT:
                v = value(i)
                t = texts[i] = None if v is None else str(v).lower().strip()
            return t  # type: ignore[no-any-return]

        def run(test: _Test) -> bool:
            kind = test.kind
            if kind == "missing":
                return value(test.field) is None
            if kind == "present":
                return value(test.field) is not None
            if kind == "empty":
                v = value(test.field)
                return v is not None and _is_empty(v)
            t = text(test.field)
            if kind == "contains":
                return t is not None and test.pattern.search(t) is not None
            if kind == "notcontains":
                return not (t is not None and test.pattern.search(t) is not None)
            if kind == "equals":
                return t is not None and t == test.pattern
            return not (t is not None and t == test.pattern)

        hits = []
        for index, lines in enumerate(self._labels):
            if lines is None:
                label = self._label_at(index)
                if label.coordinates:
                    hits.append(index)
                continue
            matched = True
            for tests, ops in lines:
                if not tests:
                    matched = False
                    break
                result = run(tests[0])
                for op, test in zip(ops, tests[1:]):
                    flag = run(test)
                    result = (result or flag) if op in ("or", "||") else (result and flag)
                for test in tests[len(ops) + 1 :]:  # no operator given: AND-ed
                    result = result and run(test)
                if not result:
                    matched = False
                    break
            if matched:
                hits.append(index)
        return hits

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

        if not self.matching(ds):
            return Detection((), has_filters=bool(self.groups), header=header_state(ds))
        return detect(ds, self.groups)
