"""Dataset-level steps of a profile run: SR content cleaning, output markers, file meta.

These run after the header rules (as the plan's ``post`` hooks) on the whole dataset:

* :func:`clean_content_items` - Clean Structured Content (E.3.4): content items of Content
  Sequence, Acquisition Context Sequence and Specimen Preparation sequences whose concept name is
  listed in Table E.3.4-1 are removed or have their value replaced, per the selected options.
* :func:`mark_dataset` - Patient Identity Removed, De-identification Method (+ Code Sequence,
  CID 7050), Longitudinal Temporal Information Modified, Burned In Annotation / Recognizable
  Visual Features when those options are claimed.
* :func:`rebuild_file_meta` - a new File Meta Information (Media Storage SOP Instance UID equal to
  the de-identified SOP Instance UID, deid's implementation UID/version, no source/sending AE
  titles or private meta) and a cleared 128-byte preamble.

Examples
--------
>>> from pydicom import Dataset
>>> ds = Dataset(); ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"; ds.SOPInstanceUID = "2.25.1"
>>> mark_dataset(ds, ("retain-uids",))
>>> ds.PatientIdentityRemoved, ds.LongitudinalTemporalInformationModified
('YES', 'REMOVED')
>>> [i.CodeValue for i in ds.DeidentificationMethodCodeSequence]
['113100', '113110']
>>> rebuild_file_meta(ds).file_meta.MediaStorageSOPInstanceUID
'2.25.1'
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from pydicom import config as _config
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.tag import BaseTag

from deid.profiles.table import DEFAULT_EDITION, Table, load_table

__all__ = [
    "CONTENT_SEQUENCES",
    "IMPLEMENTATION_CLASS_UID",
    "IMPLEMENTATION_VERSION_NAME",
    "clean_content_items",
    "mark_dataset",
    "method_text",
    "rebuild_file_meta",
]


@lru_cache(maxsize=1)
def _version() -> str:
    try:
        from importlib.metadata import version

        return version("deid")
    except Exception:  # noqa: BLE001  # pragma: no cover - not installed
        return "0"


#: deid's Implementation Class UID (a fixed 2.25 UID derived from the project name).
IMPLEMENTATION_CLASS_UID = "2.25." + str(
    int.from_bytes(hashlib.sha256(b"deid implementation class").digest()[:16], "big")
)
#: Implementation Version Name written in the file meta (SH, at most 16 characters).
IMPLEMENTATION_VERSION_NAME = f"DEID_{_version()}"[:16]

#: Sequences holding SR-style content items (E.3.4).
CONTENT_SEQUENCES = (0x0040A730, 0x00400555, 0x00400610, 0x00400612)

_LTIM = {
    "retain-long-full-dates": "UNMODIFIED",
    "retain-long-modified-dates": "MODIFIED",
}


def method_text(options: Sequence[str], table: Table | None = None) -> list[str]:
    """The De-identification Method (0012,0063) values: deid's version, edition and options.

    Each value fits LO (64 characters).

    Examples
    --------
    >>> method_text(("retain-uids",))[0].startswith("deid ")
    True
    """
    tbl = table or load_table(DEFAULT_EDITION)
    head = f"deid {_version()} PS3.15 {tbl.edition} Basic Profile"
    out = [head[:64]]
    for opt in options:
        info = tbl.options.get(opt)
        out.append((info.title if info else opt)[:64])
    return out


def _put(ds: Dataset, tag: int, vr: str, value: Any) -> None:
    """Set an element without pydicom's per-assignment look-ups (values are known valid)."""
    elem = DataElement(tag, vr, value, validation_mode=_config.IGNORE)
    if vr == "SQ":
        ds[tag] = elem
    else:
        ds._dict[BaseTag(tag)] = elem


def _raw_text(tag: int, vr: str, value: Any, implicit: bool = False) -> RawDataElement:
    """An ASCII text element as pydicom keeps a read element (bytes, decoded when read)."""
    text = "\\".join(value) if isinstance(value, (list, tuple)) else str(value)
    data = text.encode("ascii")
    if len(data) % 2:
        data += b"\x00" if vr == "UI" else b" "
    return RawDataElement(BaseTag(tag), vr, len(data), data, 0, implicit, True)


def _raw_sequence(tag: int, items: list[Dataset], implicit: bool) -> RawDataElement:
    """A sequence encoded once (little endian, explicit or implicit VR), kept as raw bytes."""
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_sequence_item

    buf = DicomBytesIO()
    buf.is_little_endian, buf.is_implicit_VR = True, implicit
    for item in items:
        write_sequence_item(buf, item, ["iso8859"])
    data = buf.getvalue()
    return RawDataElement(BaseTag(tag), "SQ", len(data), data, 0, implicit, True)


def _code_items(codes: Any) -> list[Dataset]:
    items = []
    for code, scheme, meaning in codes:
        item = Dataset()
        _put(item, 0x00080100, "SH", code)
        _put(item, 0x00080102, "SH", scheme)
        _put(item, 0x00080104, "LO", meaning)
        items.append(item)
    return items


@lru_cache(maxsize=64)
def _markers(options: tuple[str, ...], edition: str) -> tuple[tuple[int, str, Any], ...]:
    """The (tag, VR, value) of the marker elements for an option set (computed once)."""
    tbl = load_table(edition)
    values = method_text(options, tbl)
    out: list[tuple[int, str, Any]] = [
        (0x00120062, "CS", "YES"),
        (0x00120063, "LO", tuple(values) if len(values) > 1 else values[0]),
    ]
    codes = [tbl.profile_code] + [
        (tbl.options[o].code, tbl.options[o].scheme, tbl.options[o].title)
        for o in options
        if o in tbl.options
    ]
    out.append((0x00120064, "SQ", tuple(codes)))
    ltim = "REMOVED"
    for opt, text in _LTIM.items():
        if opt in options:
            ltim = text
    out.append((0x00280303, "CS", ltim))
    if "clean-pixel-data" in options:
        out.append((0x00280301, "CS", "NO"))
    if "clean-recognizable-visual-features" in options:
        out.append((0x00280302, "CS", "NO"))
    return tuple(out)


@lru_cache(maxsize=128)
def _raw_markers(
    options: tuple[str, ...], edition: str, implicit: bool
) -> tuple[RawDataElement, ...]:
    """The marker elements encoded once per option set and encoding (immutable, shareable)."""
    out = []
    for tag, vr, value in _markers(options, edition):
        if vr == "SQ":
            out.append(_raw_sequence(tag, _code_items(value), implicit))
        else:
            out.append(_raw_text(tag, vr, value, implicit))
    return tuple(out)


def _little_endian_encoding(ds: Dataset) -> bool | None:
    """``is_implicit_VR`` of a dataset read from a little endian file, else None."""
    encoding = getattr(ds, "original_encoding", (None, None))
    implicit, little = encoding if isinstance(encoding, tuple) else (None, None)
    if implicit is None or little is not True:
        return None
    return bool(implicit)


_BURNED_IN = BaseTag(0x00280301)


def _says_burned_in(ds: Dataset) -> bool:
    """True when (0028,0301) BurnedInAnnotation is YES (read or raw element)."""
    elem = ds._dict.get(_BURNED_IN)
    if elem is None:
        return False
    value = elem.value
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return str(value or "").strip().upper() == "YES"


def mark_dataset(ds: Dataset, options: Sequence[str] = (), table: Table | None = None) -> None:
    """Write the attributes a conforming de-identifier adds (see module docstring).

    A header step cannot know that burned-in text was masked, so Clean Pixel Data never turns a
    BurnedInAnnotation YES into NO here: the pixel step (:func:`deid.pixels.process_pixels`)
    does that once its masks cover the image, and rejects the image when nothing does.
    """
    tbl = table or load_table(DEFAULT_EDITION)
    implicit = _little_endian_encoding(ds)
    keep_yes = _says_burned_in(ds)
    if implicit is not None:
        store = ds._dict
        for elem in _raw_markers(tuple(options), tbl.edition, implicit):
            if not (keep_yes and elem.tag == _BURNED_IN):
                store[elem.tag] = elem
        return
    for tag, vr, value in _markers(tuple(options), tbl.edition):
        if keep_yes and tag == _BURNED_IN:
            continue
        if vr == "SQ":
            value = DicomSequence(_code_items(value))
        elif isinstance(value, tuple):
            value = list(value)
        _put(ds, tag, vr, value)


_META_CONSTANT = (RawDataElement(BaseTag(0x00020001), "OB", 2, b"\x00\x01", 0, False, True),)


def _uid_text(ds: Dataset, tag: int) -> str | None:
    from deid.engine.walk import light_element

    elem = light_element(ds, tag) or ds[tag]
    value = elem.value
    return None if value is None else str(value)


def rebuild_file_meta(ds: Dataset) -> Dataset:
    """Replace the File Meta Information and clear the preamble; returns ``ds``.

    Keeps only the Transfer Syntax UID of the old meta; Media Storage SOP Class/Instance UIDs
    are taken from the (de-identified) dataset.
    """
    old = getattr(ds, "file_meta", None)
    top = ds._dict
    sop_class = _uid_text(ds, 0x00080016) if 0x00080016 in top else None
    if sop_class is None and old is not None and 0x00020002 in old._dict:
        sop_class = _uid_text(old, 0x00020002)
    sop_instance = _uid_text(ds, 0x00080018) if 0x00080018 in top else None
    syntax = old._dict.get(BaseTag(0x00020010)) if old is not None else None
    if isinstance(old, FileMetaDataset):
        meta = old
        meta._dict.clear()
        if getattr(meta, "_private_blocks", None):
            meta._private_blocks = {}
    else:
        meta = FileMetaDataset()
    store = meta._dict
    for elem in _META_CONSTANT:
        store[elem.tag] = elem
    for tag, value in ((0x00020002, sop_class), (0x00020003, sop_instance)):
        if value is not None:
            if value.isascii():
                store[BaseTag(tag)] = _raw_text(tag, "UI", value)
            else:
                _put(meta, tag, "UI", value)
    if syntax is not None:
        store[BaseTag(0x00020010)] = syntax
    store[BaseTag(0x00020012)] = _raw_text(0x00020012, "UI", IMPLEMENTATION_CLASS_UID)
    store[BaseTag(0x00020013)] = _raw_text(0x00020013, "SH", IMPLEMENTATION_VERSION_NAME)
    if meta is not old:
        ds.file_meta = meta
    if hasattr(ds, "preamble") or old is not None:
        ds.preamble = b"\x00" * 128
    return ds


ValueFunc = Callable[[str, Any, Dataset], Any]


def _concept(item: Dataset) -> tuple[str, str] | None:
    seq = item.get("ConceptNameCodeSequence")
    if not seq:
        return None
    code = seq[0]
    value = str(code.get("CodeValue", "") or code.get("LongCodeValue", "") or "").strip()
    scheme = str(code.get("CodingSchemeDesignator", "") or "").strip()
    return (value, scheme) if value else None


#: Value elements of a content item, by value type (the elements a concept's action applies to).
_VALUE_ELEMENTS = (
    0x0040A160,  # TextValue
    0x0040A123,  # PersonName
    0x0040A120,  # DateTime
    0x0040A121,  # Date
    0x0040A122,  # Time
    0x0040A124,  # UID
    0x0040A30A,  # NumericValue (via MeasuredValueSequence handled as item)
    0x0040A168,  # ConceptCodeSequence
    0x0040A300,  # MeasuredValueSequence
)


def clean_content_items(
    ds: Dataset,
    options: Sequence[str],
    replace: Callable[[str, Any, Any, Dataset], Any],
    table: Table | None = None,
) -> int:
    """Apply Table E.3.4-1 to content items; returns the number of items removed or changed.

    Parameters
    ----------
    ds : Dataset
        The (root) dataset; every content-item sequence at any depth is visited.
    options : sequence of str
        Canonical option ids in force.
    replace : callable
        ``replace(code, element, item, root) -> value`` giving the new value for the element
        of a content item whose concept's effective code is ``code`` (``D``, ``Z``, ``U``, ``C``);
        returning None removes the element.
    table : Table, optional
    """
    tbl = table or load_table(DEFAULT_EDITION)
    index = {(c.code_value, c.scheme): c for c in tbl.concepts}
    changed = 0

    def effective(concept: Any) -> str:
        for opt in options:
            code = concept.options.get(opt)
            if code == "K":
                return "K"
        for opt in options:
            if opt in concept.options:
                return str(concept.options[opt])
        return str(concept.basic)

    def visit(dataset: Dataset) -> None:
        nonlocal changed
        for elem in list(dataset):
            if elem.VR != "SQ":
                continue
            items = list(elem.value or [])
            if elem.tag in CONTENT_SEQUENCES:
                kept = []
                for item in items:
                    key = _concept(item)
                    concept = index.get(key) if key else None
                    if concept is None:
                        kept.append(item)
                        continue
                    code = effective(concept)
                    if code == "X":
                        changed += 1
                        continue
                    if code != "K":
                        for tag in _VALUE_ELEMENTS:
                            if tag in item:
                                target = item[tag]
                                new = replace(code, target, item, ds)
                                changed += 1
                                if new is None:
                                    del item[tag]
                                else:
                                    target.value = new
                    kept.append(item)
                if len(kept) != len(items):
                    elem.value = DicomSequence(kept)
                    items = kept
            for item in items:
                visit(item)

    visit(ds)
    return changed
