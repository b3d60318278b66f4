"""Walking a dataset the way pydicom/deid flattens it.

Every element is a field; a sequence is a field too and each of its items' elements follows,
breadth-first, with upstream's two identifier forms:

* uid form: ``(0008,1110)__0__(0008,1150)`` (parent uid, item index, child tag);
* name form: ``ReferencedStudySequence__ReferencedSOPClassUID`` (keywords, no indexes; private
  and unknown elements contribute ``""``).

File meta elements come right after the top-level ones and are flagged ``is_filemeta``. Elements in the skip
list are left out at every depth, with their children.

Examples
--------
>>> from pydicom import Dataset
>>> ds = Dataset()
>>> ds.PatientName = "Doe^John"
>>> item = Dataset()
>>> item.ReferencedSOPClassUID = "1.2.3"
>>> ds.ReferencedStudySequence = [item]
>>> [(uid, name) for uid, name, *_ in iter_fields(ds)]  # doctest: +NORMALIZE_WHITESPACE
[('(0008,1110)', 'ReferencedStudySequence'), ('(0010,0010)', 'PatientName'),
 ('(0008,1110)__0__(0008,1150)', 'ReferencedStudySequence__ReferencedSOPClassUID')]
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

from pydicom import config as _config
from pydicom.datadict import (
    dictionary_description,
    dictionary_has_tag,
    dictionary_VR,
    keyword_dict,
    keyword_for_tag,
    private_dictionary_description,
    repeater_has_tag,
)
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import Tag

__all__ = [
    "DEFAULT_SKIP",
    "DEFAULT_SKIP_TAGS",
    "Field",
    "FieldItem",
    "LightElement",
    "child_name",
    "child_uid",
    "element_name",
    "is_private",
    "is_sequence",
    "iter_fields",
    "keyword_of",
    "light_element",
    "private_creator",
    "skip_tags",
    "stripped_tag",
    "tag_string",
]

#: Upstream's default skip list (``config.json["get"]["skip"]``).
DEFAULT_SKIP: tuple[str, ...] = (
    "PixelData",
    "RedPaletteColorLookupTableData",
    "GreenPaletteColorLookupTableData",
    "BluePaletteColorLookupTableData",
    "VOILUTSequence",
    "FileMetaInformationGroupLength",
    "FileMetaInformationVersion",
    "TransferSyntaxUID",
    "ImplementationClassUID",
)
#: The same list as tag numbers.
DEFAULT_SKIP_TAGS: frozenset[int] = frozenset(keyword_dict[k] for k in DEFAULT_SKIP)

_KEYWORDS: dict[int, str] = {}


#: ``dict.get`` on a dataset's element dict with a plain int (a BaseTag hashes and compares as its
#: int); called unbound so that the hot look-ups cost no extra Python frame.
_get_element: Callable[[Any, int], Any] = dict.get


def tag_string(tag: int) -> str:
    """Return upstream's (pydicom 3) tag string ``(GGGG,EEEE)``.

    Examples
    --------
    >>> tag_string(0x0008103E)
    '(0008,103E)'
    """
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def stripped_tag(tag: int) -> str:
    """Return ``GGGGEEEE`` (upper-case hex).

    Examples
    --------
    >>> stripped_tag(0x0008103E)
    '0008103E'
    """
    return f"{tag:08X}"


def child_uid(parent_uid: str, index: int, tag: int) -> str:
    """Return the uid form of an element inside item ``index`` of the sequence ``parent_uid``.

    Examples
    --------
    >>> child_uid("(0008,1110)", 0, 0x00081150)
    '(0008,1110)__0__(0008,1150)'
    """
    return f"{parent_uid}__{index}__{tag_string(tag)}"


def child_name(parent_name: str, keyword: str) -> str:
    """Return the name form of a nested element.

    Examples
    --------
    >>> child_name("ReferencedStudySequence", "ReferencedSOPClassUID")
    'ReferencedStudySequence__ReferencedSOPClassUID'
    """
    return f"{parent_name}__{keyword}"


def is_private(tag: int) -> bool:
    """True for tags in an odd group (private data elements and private creators)."""
    return bool((tag >> 16) & 1)


def keyword_of(tag: int) -> str:
    """Return the keyword pydicom's ``DataElement.keyword`` gives ``tag``.

    Private, unknown and repeating-group tags (``(60xx,3000)``) have ``""``.

    Examples
    --------
    >>> keyword_of(0x00100010), keyword_of(0x60023000), keyword_of(0x00091001)
    ('PatientName', '', '')
    """
    kw = _KEYWORDS.get(tag)
    if kw is None:
        kw = keyword_for_tag(tag) if dictionary_has_tag(tag) else ""
        _KEYWORDS[int(tag)] = kw
    return kw


def element_name(tag: int, creator: str | None = None) -> str:
    """Return the element name as pydicom's ``DataElement.name`` gives it.

    Examples
    --------
    >>> element_name(0x00100010)
    "Patient's Name"
    >>> element_name(0x00090010), element_name(0x00091001)
    ('Private Creator', 'Private tag data')
    """
    if is_private(tag):
        if creator:
            try:
                return f"[{private_dictionary_description(Tag(tag), creator)}]"
            except KeyError:
                pass
        elif (tag & 0xFFFF) >> 8 == 0:
            return "Private Creator"
        return "Private tag data"
    if dictionary_has_tag(tag) or repeater_has_tag(tag):
        return dictionary_description(tag)
    if tag & 0xFFFF == 0:
        return "Group Length"
    return ""


def private_creator(ds: Dataset, tag: int) -> str | None:
    """Return the private creator of a private data element in ``ds`` (None if it has none).

    Examples
    --------
    >>> ds = Dataset()
    >>> block = ds.private_block(0x0009, "ACME 1.0", create=True)
    >>> block.add_new(0x01, "LO", "x")
    >>> private_creator(ds, 0x00091001)
    'ACME 1.0'
    """
    if not is_private(tag):
        return None
    elem = tag & 0xFFFF
    if elem < 0x1000:
        return None
    ctag = (tag & 0xFFFF0000) | (elem >> 8)
    raw = _get_element(ds._dict, ctag)
    if raw is None:
        return None
    value = raw.value
    if isinstance(value, bytes) and raw.VR in (None, "LO", "UN"):
        # undecoded creator (LO, plain text): no need to convert the element
        return value.decode("latin-1").strip(" \x00") or None
    value = ds[ctag].value
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if value is None:
        return None
    return str(value).strip(" \x00") if not isinstance(value, list) else str(value[0])


def is_sequence(ds: Dataset, tag: int, raw: Any) -> bool:
    """True when the element ``raw`` (raw or converted) stored under ``tag`` is a sequence.

    Raw elements whose VR is unknown (implicit VR files, ``UN``) are converted to find out.
    """
    vr = raw.VR
    if vr == "SQ":
        return True
    if vr is None or vr == "UN":
        if vr is None and not is_private(tag) and raw.length != 0xFFFFFFFF:
            try:
                from pydicom.datadict import dictionary_VR

                return dictionary_VR(tag) == "SQ"
            except KeyError:
                pass
        return ds[tag].VR == "SQ"
    return False


class Field:
    """One indexed element, shaped like upstream's ``DicomField``.

    Parameters
    ----------
    element : pydicom.dataelem.DataElement
        The element (its value is the one current when the field was made).
    name : str
        Name form (``Seq__Keyword``).
    uid : str
        Uid form (``(0008,1110)__0__(0008,1150)``).
    is_filemeta : bool
        True for file meta elements.

    Examples
    --------
    >>> f = Field(DataElement(0x00100010, "PN", "Doe"), "PatientName", "(0010,0010)")
    >>> f.tag, f.stripped_tag, f.keyword
    ('(0010,0010)', '00100010', 'PatientName')
    """

    __slots__ = ("element", "is_filemeta", "name", "uid")

    def __init__(self, element: DataElement, name: str, uid: str, is_filemeta: bool = False):
        self.element = element
        self.name = name
        self.uid = uid
        self.is_filemeta = is_filemeta

    @property
    def tag(self) -> str:
        """``(GGGG,EEEE)``."""
        return tag_string(int(self.element.tag))

    @property
    def stripped_tag(self) -> str:
        """``GGGGEEEE``."""
        return stripped_tag(int(self.element.tag))

    @property
    def keyword(self) -> str:
        """The element's keyword (``""`` when private/unknown)."""
        return self.element.keyword

    def __repr__(self) -> str:
        return f"<Field {self.uid} {self.name!r}>"

    def __str__(self) -> str:
        return f"{self.uid} {self.name}"


class FieldItem(NamedTuple):
    """What :func:`iter_fields` yields."""

    uid: str
    name: str
    element: DataElement
    parent: Dataset
    is_filemeta: bool


def skip_tags(skip: Iterable[Any] | None = None, disable_skip: bool = False) -> frozenset[int]:
    """Resolve a skip list (keywords, ``(gggg,eeee)``/``ggggeeee`` strings or ints) to tags.

    ``None`` means upstream's default list; ``disable_skip`` empties it.

    Examples
    --------
    >>> sorted(skip_tags(["PatientName", "(0008,0020)", 0x00100020]))
    [524320, 1048592, 1048608]
    >>> skip_tags(disable_skip=True)
    frozenset()
    """
    if disable_skip:
        return frozenset()
    if skip is None:
        return DEFAULT_SKIP_TAGS
    out: set[int] = set()
    for item in skip:
        if isinstance(item, int):
            out.add(int(item))
            continue
        text = str(item).strip()
        if text in keyword_dict:
            out.add(keyword_dict[text])
            continue
        hexpart = text.strip("()").replace(",", "")
        try:
            if len(hexpart) == 8:
                out.add(int(hexpart, 16))
                continue
        except ValueError:
            pass
        raise ValueError(f"skip list entry {item!r} is not a keyword or a tag")
    return frozenset(out)


def iter_fields(
    ds: Dataset,
    skip: Iterable[Any] | None = None,
    expand_sequences: bool = True,
    disable_skip: bool = False,
    include_file_meta: bool = True,
) -> Iterator[FieldItem]:
    """Yield every non-skipped element as ``(uid, name, element, parent, is_filemeta)``.

    Order (upstream's): the top-level elements in tag order, the file meta elements, then the
    items of each sequence in turn, breadth-first. With ``expand_sequences=False`` only top-level elements
    (sequences included) are yielded.

    Parameters
    ----------
    ds : pydicom.Dataset
        A Dataset or FileDataset.
    skip : iterable, optional
        Keywords or tags to leave out (default: upstream's list, see :data:`DEFAULT_SKIP`).
    expand_sequences : bool
        Descend into sequence items.
    disable_skip : bool
        Leave nothing out.
    include_file_meta : bool
        Also yield ``ds.file_meta`` elements.

    Examples
    --------
    >>> ds = Dataset()
    >>> ds.PatientID = "123"
    >>> [(f.uid, f.name, f.is_filemeta) for f in iter_fields(ds)]
    [('(0010,0020)', 'PatientID', False)]
    """
    tags = skip_tags(skip, disable_skip)
    queue: deque[tuple[Dataset, str | None, str | None, bool]] = deque([(ds, None, None, False)])
    meta = getattr(ds, "file_meta", None)
    if include_file_meta and meta is not None:
        queue.append((meta, None, None, True))
    while queue:
        parent, uid_prefix, name_prefix, is_meta = queue.popleft()
        for tag in sorted(parent._dict):
            if tag in tags:
                continue
            elem = parent[tag]
            kw = keyword_of(tag)
            if uid_prefix is None:
                uid, name = tag_string(tag), kw
            else:
                uid, name = f"{uid_prefix}__{tag_string(tag)}", f"{name_prefix}__{kw}"
            yield FieldItem(uid, name, elem, parent, is_meta and uid_prefix is None)
            if expand_sequences and elem.VR == "SQ" and elem.value is not None:
                for index, item in enumerate(elem.value):
                    queue.append((item, f"{uid}__{index}", name, False))


#: VRs whose undecoded ASCII values :func:`light_element` reads itself (not AE: pydicom strips
#: its spaces on both sides and keeps NULs).
_LIGHT_VRS = frozenset({"AS", "CS", "DA", "DT", "LO", "PN", "SH", "TM", "UI"})
_LIGHT_DICT_VR: dict[int, str | None] = {}


def _light_dictionary_vr(tag: int) -> str | None:
    vr = _LIGHT_DICT_VR.get(tag, "")
    if vr == "":
        try:
            found: str | None = str(dictionary_VR(tag))
        except KeyError:
            found = None
        vr = found if found in _LIGHT_VRS else None
        _LIGHT_DICT_VR[tag] = vr
    return vr


class LightElement:
    """A read-only stand-in for a DataElement: ``tag``, ``VR``, ``value``, ``keyword``, ``VM``.

    Given to functions that declare (``func.deid_light_element = True``) that they only read
    those attributes, so that no pydicom DataElement has to be built to call them.
    """

    __slots__ = ("VR", "tag", "value")

    def __init__(self, tag: int, vr: str, value: Any) -> None:
        self.tag = Tag(tag)
        self.VR = vr
        self.value = value

    @property
    def keyword(self) -> str:
        """The element's keyword (``""`` for private and unknown tags)."""
        return keyword_of(int(self.tag))

    @property
    def VM(self) -> int:
        """Value multiplicity."""
        if self.value is None or self.value == "":
            return 0
        return len(self.value) if isinstance(self.value, list) else 1

    def __repr__(self) -> str:
        return f"LightElement({tag_string(int(self.tag))}, {self.VR}, {self.value!r})"


def light_element(parent: Dataset, tag: int, *, stand_in: bool = False) -> Any:
    """A detached copy of an undecoded element, read straight from its raw bytes, or None.

    pydicom's conversion (hooks, character sets, validation) dominates the cost of reading one
    short value. For the short string VRs whose bytes are plain ASCII without ESC (identical in
    every character set DICOM allows) the value is decoded here instead; anything else (already
    decoded, other VRs, other bytes) gives None and the caller asks pydicom. The dataset is not
    changed. With ``stand_in=True`` a :class:`LightElement` is returned instead of a DataElement.

    Examples
    --------
    >>> from pydicom.dataelem import RawDataElement
    >>> ds = Dataset()
    >>> ds._dict[0x00100020] = RawDataElement(0x00100020, "LO", 4, b"P-1 ", 0, False, True)
    >>> light_element(ds, 0x00100020).value
    'P-1'
    >>> light_element(ds, 0x00100010) is None
    True
    """
    raw = _get_element(parent._dict, tag)
    if type(raw) is not RawDataElement or raw.value is None:
        return None
    vr = raw.VR
    if vr is None and not tag & 0x10000:
        vr = _light_dictionary_vr(tag)
    if vr not in _LIGHT_VRS:
        return None
    data = raw.value
    if not data.isascii() or b"\x1b" in data or vr == "PN" and b"=" in data:
        return None  # (pydicom prints a name without its empty component groups)
    text = data.decode("ascii")
    # as pydicom's converters: text VRs strip each value's end, UIDs each value's both ends,
    # the other string VRs only the end of the whole value
    if vr == "LO" or vr == "SH":
        parts = [part.rstrip("\x00 ") for part in text.split("\\")]
    elif vr == "UI":
        parts = [part.strip() for part in text.rstrip("\x00 ").split("\\")]
    else:
        parts = text.rstrip("\x00 ").split("\\")
    value: Any = parts if len(parts) > 1 else parts[0]
    if stand_in:
        return LightElement(tag, vr, value)
    return DataElement(tag, vr, value, validation_mode=_config.IGNORE)
