"""The flattened field index of the pydicom/deid drop-in API.

A :class:`DicomField` is one element of a dataset (nested sequence items and file meta
included) with upstream's identifiers: the *uid* ``(0008,1110)__0__(0008,1150)`` (tag path with
item indexes) and the *name* ``ReferencedStudySequence__ReferencedSOPClassUID`` (keywords without
indexes). :func:`get_fields_with_lookup` builds the index, :func:`expand_field_expression`
resolves a recipe field expression (``contains:``, ``startswith:``, ``endswith:``, ``except:``,
``select:vr:``/``select:group:``, ``all``, exact names, private-creator forms) against it.

Examples
--------
>>> from pydicom import Dataset
>>> ds = Dataset(); ds.PatientName = "A^B"; ds.StudyDate = "20200101"
>>> sorted(expand_field_expression("endswith:Date", ds))
['(0008,0020)']
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from deid.engine.walk import tag_string
from deid.errors import DeidError

__all__ = [
    "DicomField",
    "FieldsWithLookups",
    "expand_field_expression",
    "extract_item",
    "extract_sequence",
    "get_fields_with_lookup",
    "split_expander_expression",
    "tag_string",
]


def _private_forms(element: DataElement) -> tuple[str, ...]:
    creator = getattr(element, "private_creator", None)
    if not element.tag.is_private or not creator or element.tag.element < 0x1000:
        return ()
    group = f"{element.tag.group:04X}"
    offset = "%02X" % (element.tag.element & 0xFF)
    return (f'({group},"{creator}",{offset})', f'{group},"{creator}",{offset}')


class DicomField:
    """One indexed element with its flattened uid and name.

    Parameters
    ----------
    element : pydicom.dataelem.DataElement
        The element (the live object inside the dataset).
    name : str
        Keywords joined by ``__`` (no item indexes).
    uid : str
        Tag path with item indexes, e.g. ``(0008,1110)__0__(0008,1150)``.
    is_filemeta : bool
        True for group-0002 elements of ``file_meta``.

    Examples
    --------
    >>> from pydicom.dataelem import DataElement
    >>> f = DicomField(DataElement(0x00100010, "PN", "A^B"), "PatientName", "(0010,0010)")
    >>> f.tag, f.stripped_tag, bool(f.name_contains("patient"))
    ('(0010,0010)', '00100010', True)
    """

    __slots__ = ("element", "is_filemeta", "name", "parent", "uid")

    def __init__(
        self, element: DataElement, name: str, uid: str, is_filemeta: bool = False
    ) -> None:
        self.element = element
        self.name = name
        self.uid = uid
        self.is_filemeta = is_filemeta
        self.parent: Dataset | None = None

    def __str__(self) -> str:
        return f"{self.element}  [{self.name}]"

    __repr__ = __str__

    @property
    def tag(self) -> str:
        """The element's own tag as ``(GGGG,EEEE)``."""
        return tag_string(self.element.tag)

    @property
    def stripped_tag(self) -> str:
        """The element's own tag as ``GGGGEEEE``."""
        return f"{int(self.element.tag):08X}"

    @property
    def element_name(self) -> str:
        """The dictionary name (``Patient's Name``)."""
        return self.element.name

    @property
    def element_keyword(self) -> str:
        """The dictionary keyword (``PatientName``; ``""`` if unknown)."""
        return self.element.keyword

    def candidates(self) -> tuple[str, ...]:
        """Strings a pattern expander is matched against (see module docs)."""
        el = self.element
        return (
            self.name.lower(),
            self.tag,
            self.stripped_tag,
            el.name,
            el.keyword,
            *_private_forms(el),
        )

    def exact_names(self) -> tuple[str, ...]:
        """Lower-cased strings that select this field exactly."""
        el = self.element
        names = {self.name, self.tag, self.stripped_tag, el.name, el.keyword, self.uid}
        names.update(_private_forms(el))
        return tuple(sorted(n.lower() for n in names if n))

    def name_contains(self, expression: str) -> bool:
        """Case-insensitive regex ``search`` over the field's names, tag forms and creator forms.

        Examples
        --------
        >>> from pydicom.dataelem import DataElement
        >>> f = DicomField(DataElement(0x0008103E, "LO", "x"), "SeriesDescription", "(0008,103E)")
        >>> f.name_contains("8103"), f.name_contains("^series"), f.name_contains("zzz")
        (True, True, False)
        """
        regex = _compile(expression.lower())
        return any(regex.search(c) for c in self.candidates() if c)

    def value_contains(self, expression: str) -> bool:
        """Case-insensitive regex ``search`` in the value (each item for multi-values).

        Examples
        --------
        >>> from pydicom.dataelem import DataElement
        >>> f = DicomField(DataElement(0x00100010, "PN", "Doe"), "PatientName", "(0010,0010)")
        >>> f.value_contains("do")
        True
        """
        regex = _compile(expression)
        value = self.element.value
        values = value if isinstance(value, (list, tuple)) else [value]
        return any(regex.search(str(v)) for v in values)

    def select_matches(self, expression: str) -> bool:
        """Match ``vr:XX`` (element VR) or ``group:GGGG`` (hex tag group).

        Examples
        --------
        >>> from pydicom.dataelem import DataElement
        >>> f = DicomField(DataElement(0x00100010, "PN", "Doe"), "PatientName", "(0010,0010)")
        >>> f.select_matches("vr:pn"), f.select_matches("group:0010"), f.select_matches("x:y")
        (True, True, False)
        """
        kind, _, arg = expression.partition(":")
        kind = kind.lower()
        if kind == "vr":
            return arg[:2].upper() == self.element.VR
        if kind == "group":
            try:
                return self.element.tag.group == int(arg, 16)
            except ValueError:
                return False
        return False


_REGEX_CACHE: dict[str, re.Pattern[str]] = {}


def _compile(expression: str) -> re.Pattern[str]:
    regex = _REGEX_CACHE.get(expression)
    if regex is None:
        try:
            regex = re.compile(expression, re.IGNORECASE)
        except re.error as exc:
            raise DeidError(f"invalid regular expression {expression!r}: {exc}") from exc
        if len(_REGEX_CACHE) > 512:
            _REGEX_CACHE.clear()
        _REGEX_CACHE[expression] = regex
    return regex


class FieldsWithLookups:
    """An ordered mapping uid -> :class:`DicomField` with exact-name look-up tables.

    Examples
    --------
    >>> from pydicom import Dataset
    >>> ds = Dataset(); ds.PatientID = "x"
    >>> fields = get_fields_with_lookup(ds)
    >>> list(fields.get_exact_matches("patientid"))
    ['(0010,0020)']
    """

    def __init__(self, fields: dict[str, DicomField] | None = None) -> None:
        self.fields: dict[str, DicomField] = dict(fields or {})
        self._exact: dict[str, dict[str, DicomField]] | None = None

    def _tables(self) -> dict[str, dict[str, DicomField]]:
        if self._exact is None:
            exact: dict[str, dict[str, DicomField]] = {}
            for uid, field in self.fields.items():
                for name in field.exact_names():
                    exact.setdefault(name, {})[uid] = field
            self._exact = exact
        return self._exact

    def get_exact_matches(self, field: str) -> dict[str, DicomField]:
        """Fields selected by an exact (case-insensitive) name, tag, uid or creator form."""
        return dict(self._tables().get(field.lower(), {}))

    def add(self, uid: str, field: DicomField) -> None:
        """Add or replace one field."""
        self.fields[uid] = field
        self._exact = None

    def remove(self, uid: str) -> None:
        """Remove one field (no error when absent)."""
        if self.fields.pop(uid, None) is not None:
            self._exact = None

    def remove_children(self, uid: str) -> None:
        """Remove the fields nested below ``uid``."""
        prefix = uid + "__"
        for key in [k for k in self.fields if k.startswith(prefix)]:
            del self.fields[key]
        self._exact = None

    def __getitem__(self, uid: str) -> DicomField:
        return self.fields[uid]

    def __setitem__(self, uid: str, field: DicomField) -> None:
        self.add(uid, field)

    def __delitem__(self, uid: str) -> None:
        del self.fields[uid]
        self._exact = None

    def __contains__(self, uid: object) -> bool:
        return uid in self.fields

    def __iter__(self) -> Iterator[str]:
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    def get(self, uid: str, default: Any = None) -> Any:
        """``dict.get``."""
        return self.fields.get(uid, default)

    def items(self) -> Any:
        """``dict.items``."""
        return self.fields.items()

    def keys(self) -> Any:
        """``dict.keys``."""
        return self.fields.keys()

    def values(self) -> Any:
        """``dict.values``."""
        return self.fields.values()

    def __repr__(self) -> str:
        return f"FieldsWithLookups({len(self.fields)} fields)"


def _skipped(element: DataElement, skip: frozenset[str]) -> bool:
    if not skip:
        return False
    return element.keyword in skip or tag_string(element.tag) in skip


def get_fields_with_lookup(
    dicom: Dataset,
    skip: Iterable[str] | None = None,
    expand_sequences: bool = True,
    seen: Any = None,
) -> FieldsWithLookups:
    """Index every element of ``dicom`` (then its file meta), sequences flattened.

    Parameters
    ----------
    dicom : pydicom.Dataset
        A ``Dataset`` or ``FileDataset``.
    skip : iterable of str, optional
        Keywords or ``(GGGG,EEEE)`` tags left out at every depth, with their children.
    expand_sequences : bool
        Index the items of sequences too (the sequence element itself is always indexed).
    seen : ignored
        Kept for signature compatibility.

    Examples
    --------
    >>> from pydicom import Dataset
    >>> ds = Dataset(); item = Dataset(); item.CodeValue = "1"
    >>> ds.ProcedureCodeSequence = [item]
    >>> list(get_fields_with_lookup(ds))
    ['(0008,1032)', '(0008,1032)__0__(0008,0100)']
    """
    if not isinstance(dicom, Dataset):
        from deid.dicom.utils import load_dicom

        dicom = load_dicom(dicom)
    skipset = frozenset(skip or ())
    fields: dict[str, DicomField] = {}
    queue: deque[tuple[Dataset, str, str, bool]] = deque([(dicom, "", "", False)])
    meta = getattr(dicom, "file_meta", None)
    if meta is not None and len(meta):
        queue.append((meta, "", "", True))
    while queue:
        dataset, uid_prefix, name_prefix, is_meta = queue.popleft()
        for element in dataset:
            if _skipped(element, skipset):
                continue
            uid = uid_prefix + tag_string(element.tag)
            name = name_prefix + element.keyword
            field = DicomField(element, name, uid, is_filemeta=is_meta)
            field.parent = dataset
            fields[uid] = field
            if element.VR == "SQ" and expand_sequences and element.value is not None:
                for index, item in enumerate(element.value):
                    queue.append((item, f"{uid}__{index}__", name + "__", is_meta))
    return FieldsWithLookups(fields)


def split_expander_expression(field: str) -> tuple[str | None, str]:
    """Split ``expander:expression`` at the first colon outside double quotes.

    Examples
    --------
    >>> split_expander_expression('contains:Patient')
    ('contains', 'Patient')
    >>> split_expander_expression('(0021,"Siemens: X",15)')
    (None, '(0021,"Siemens: X",15)')
    """
    quoted = False
    for i, char in enumerate(field):
        if char == '"':
            quoted = not quoted
        elif char == ":" and not quoted:
            return field[:i], field[i + 1 :]
    return None, field


def _as_lookups(contenders: Any, dicom: Dataset | None) -> FieldsWithLookups:
    if contenders is None:
        if dicom is None:
            raise DeidError("expand_field_expression needs a dataset or contenders")
        return get_fields_with_lookup(dicom)
    if isinstance(contenders, FieldsWithLookups):
        return contenders
    if isinstance(contenders, dict):
        return FieldsWithLookups(contenders)
    # a list of DicomFields (older upstream docs)
    return FieldsWithLookups({f.uid: f for f in contenders})


def expand_field_expression(
    field: str, dicom: Dataset | None = None, contenders: Any = None
) -> dict[str, DicomField]:
    """Resolve a recipe field expression to ``{uid: DicomField}``.

    Parameters
    ----------
    field : str
        ``all``, an exact name/tag/uid/creator form, or ``expander:expression`` with expander
        ``contains``, ``startswith``, ``endswith``, ``except`` or ``select`` (``vr:XX`` /
        ``group:GGGG``). Any other prefix matches nothing.
    dicom : pydicom.Dataset, optional
        Indexed when ``contenders`` is not given.
    contenders : FieldsWithLookups or dict, optional
        A prebuilt index (from :func:`get_fields_with_lookup`).

    Raises
    ------
    deid.errors.DeidError
        For an invalid regular expression (upstream raised ``re.error``).

    Examples
    --------
    >>> from pydicom import Dataset
    >>> ds = Dataset(); ds.PatientName = "x"; ds.PatientID = "y"; ds.Modality = "CT"
    >>> sorted(f.name for f in expand_field_expression("startswith:Patient", ds).values())
    ['PatientID', 'PatientName']
    >>> sorted(f.name for f in expand_field_expression("except:Patient", ds).values())
    ['Modality']
    """
    lookups = _as_lookups(contenders, dicom)
    if field.lower() == "all":
        return dict(lookups.items())
    expander, expression = split_expander_expression(field)
    if expander is None:
        return lookups.get_exact_matches(field)
    expander = expander.lower()
    if expander == "select":
        return {u: f for u, f in lookups.items() if f.select_matches(expression)}
    if expander == "endswith":
        pattern = f"({expression})$"
    elif expander == "startswith":
        pattern = f"^({expression})"
    elif expander in ("contains", "except"):
        pattern = expression
    else:
        return {}
    if expander == "except":
        return {u: f for u, f in lookups.items() if not f.name_contains(pattern)}
    return {u: f for u, f in lookups.items() if f.name_contains(pattern)}


def extract_item(item: Dataset, prefix: str | None = None, entry: Any = None) -> dict[str, Any]:
    """Flatten one sequence item into ``{Prefix__Keyword: value}`` (legacy helper).

    Examples
    --------
    >>> from pydicom import Dataset
    >>> it = Dataset(); it.CodeValue = "1"
    >>> extract_item(it, prefix="Seq")
    {'Seq__CodeValue': '1'}
    """
    result: dict[str, Any] = dict(entry or {})
    for element in item:
        key = element.keyword or tag_string(element.tag)
        if prefix:
            key = f"{prefix}__{key}"
        if element.VR == "SQ":
            result.update(extract_sequence(element.value, prefix=key))
        else:
            value = element.value
            result[key] = value if isinstance(value, (str, int, float, bytes)) else str(value)
    return result


def extract_sequence(sequence: Sequence | Iterable[Dataset], prefix: str | None = None) -> dict:
    """Flatten every item of ``sequence`` into ``{Parent__Child: value}`` (legacy helper).

    Examples
    --------
    >>> from pydicom import Dataset
    >>> it = Dataset(); it.CodeMeaning = "m"
    >>> extract_sequence([it], prefix="ProcedureCodeSequence")
    {'ProcedureCodeSequence__CodeMeaning': 'm'}
    """
    result: dict[str, Any] = {}
    for item in sequence or ():
        result.update(extract_item(item, prefix=prefix))
    return result
