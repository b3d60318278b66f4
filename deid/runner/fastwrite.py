"""Writing a dataset exactly as ``Dataset.save_as`` does, without pydicom's per-element cost.

pydicom's writer spends about 10 µs on every element, even on one it writes back verbatim (a
raw element read from the file and never decoded). In a de-identified file most elements are
such: :func:`save_dataset` writes them itself, tag, VR, length and value, and hands everything
else (changed or decoded elements, Pixel Data, buffered values, values too long for their VR's
length field) to pydicom's own :func:`pydicom.filewriter.write_data_element`. The output is
byte for byte what ``ds.save_as(fh)`` writes (``tests/runner/test_fastwrite.py`` compares the two
over every readable pydicom and deid-data test file, before and after de-identification).

Only the common case takes this path: a dataset read from a file (or bytes) in Explicit VR Little
Endian, or in a compressed transfer syntax (all of which are), with its File Meta Information,
neither deflated nor converted to another encoding or character set. Anything else is written by
``ds.save_as``, so the result is always pydicom's.

Examples
--------
>>> import io
>>> from pydicom import dcmread
>>> from pydicom.data import get_testdata_file
>>> ds = dcmread(get_testdata_file("CT_small.dcm"))
>>> ours, theirs = io.BytesIO(), io.BytesIO()
>>> save_dataset(ds, ours)
>>> dcmread(get_testdata_file("CT_small.dcm")).save_as(theirs)
>>> ours.getvalue() == theirs.getvalue()
True
"""

from __future__ import annotations

import struct
from typing import Any, BinaryIO

from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset, validate_file_meta
from pydicom.filebase import DicomBytesIO, DicomIO
from pydicom.filewriter import write_data_element
from pydicom.multival import MultiValue
from pydicom.uid import UID, DeflatedExplicitVRLittleEndian
from pydicom.valuerep import EXPLICIT_VR_LENGTH_32

__all__ = ["fast_path_applies", "save_dataset"]

_DEFAULT_ENCODING = "iso8859"  # pydicom's default_encoding (the writer's parent encoding)
_LONG_VRS = frozenset(str(vr) for vr in EXPLICIT_VR_LENGTH_32)
_PIXEL_DATA = 0x7FE00010
_UNDEFINED = 0xFFFFFFFF
_DELIMITER = b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"  # (FFFE,E0DD) with length 0
_ITEM = b"\xfe\xff\x00\xe0"  # (FFFE,E000): encapsulated Pixel Data starts with an item
_ITEM_DELIMITER = b"\xfe\xff\x0d\xe0\x00\x00\x00\x00"  # (FFFE,E00D) with length 0
_BIG = 1 << 16  # values at least this long are written directly, not joined
_WINDOW_VRS = frozenset({"OB", "OW", "OD", "OF", "OL", "OV"})
#: VRs whose decoded ``str`` values pydicom writes as their ASCII bytes, joined by backslashes
_TEXT_VRS = frozenset(
    {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "SH", "ST", "TM", "UC", "UI", "UR", "UT"}
)
_LISTS = (list, MultiValue)
_INTEGERS = {
    vr: struct.Struct("<" + code)
    for vr, code in (("US", "H"), ("SS", "h"), ("UL", "L"), ("SL", "l"), ("UV", "Q"), ("SV", "q"))
}
_STRS = (str, UID)
_SHORT_HEADER = struct.Struct("<HH2sH")
_LONG_HEADER = struct.Struct("<HH2s2xI")


def _transfer_syntax(ds: Dataset) -> Any:
    meta = getattr(ds, "file_meta", None)
    if not isinstance(meta, Dataset) or not meta:
        return None
    return meta.get("TransferSyntaxUID", None)


def _fast_syntax(ds: Any) -> Any:
    """The transfer syntax of ``ds`` when :func:`save_dataset` writes it itself, else None."""
    if not isinstance(ds, Dataset):
        return None
    tsyntax = _transfer_syntax(ds)
    if (
        tsyntax is None
        or not tsyntax.is_transfer_syntax
        or tsyntax.is_private
        or tsyntax.is_implicit_VR
        or not tsyntax.is_little_endian
        or tsyntax == DeflatedExplicitVRLittleEndian
    ):
        return None
    # pydicom re-encodes every element when the encoding or character set changed
    if ds.original_encoding != (False, True):
        return None
    if ds.original_character_set != ds._character_set:
        return None
    preamble = getattr(ds, "preamble", None)
    if preamble and len(preamble) != 128:
        return None  # pydicom refuses it: let it say so
    if any(int(tag) >> 16 in (0, 2) for tag in ds._dict):
        return None
    return tsyntax


def fast_path_applies(ds: Any) -> bool:
    """Whether :func:`save_dataset` writes ``ds`` itself (otherwise it calls ``save_as``).

    Examples
    --------
    >>> from pydicom import Dataset
    >>> fast_path_applies(Dataset())
    False
    """
    return _fast_syntax(ds) is not None


def _element_bytes(elem: Any) -> tuple[bytes, ...] | None:
    """The encoding of an element (header, value[, delimiter]) when pydicom would write its
    value verbatim: a raw element, or a decoded OB/OW one holding bytes (Pixel Data). None
    otherwise (pydicom writes it)."""
    if type(elem) is RawDataElement:
        value, vr = elem.value, elem.VR
        if elem.is_buffered:
            return None
        undefined = elem.length == _UNDEFINED
    elif type(elem) is DataElement and elem.VR in ("OB", "OW"):
        value, vr = elem.value, elem.VR
        if elem.is_buffered or type(value) is not bytes:
            return None
        undefined = elem.is_undefined_length
        if undefined and elem.tag == _PIXEL_DATA and not value.startswith(_ITEM):
            return None  # not encapsulated: pydicom refuses it, let it say so
        if len(value) % 2:
            value += b"\0"
    elif type(elem) is DataElement and not elem.is_undefined_length:
        vr = elem.VR
        value = _plain_bytes(elem.value, vr)
        if value is None:
            return None
        undefined = False
    else:
        return None
    if type(value) is not bytes or type(vr) is not str or len(vr) != 2:
        return None
    tag = elem.tag
    if vr in _LONG_VRS:
        length = _UNDEFINED if undefined else len(value)
        head = _LONG_HEADER.pack(tag >> 16, tag & 0xFFFF, vr.encode(), length)
        return (head, value, _DELIMITER) if undefined else (head, value)
    if undefined or len(value) > 0xFFFF:
        return None  # pydicom's odd cases (undefined short-length VR; too long: becomes UN)
    return (_SHORT_HEADER.pack(tag >> 16, tag & 0xFFFF, vr.encode(), len(value)), value)


def _plain_bytes(value: Any, vr: Any) -> bytes | None:
    """The bytes pydicom writes for a decoded value when they are plain: an empty value of any
    VR but SQ, one ``int`` of an integer VR, or plain ASCII ``str`` (or UID) values without ESC
    of a text VR, joined by backslashes and padded to even length (UI with NUL). None otherwise
    (pydicom writes it)."""
    if value is None:
        return None if vr == "SQ" else b""
    if vr not in _TEXT_VRS:
        number = _INTEGERS.get(vr)
        if number is None or type(value) is not int:
            return None
        try:
            return number.pack(value)
        except struct.error:  # out of range: pydicom says so
            return None
    if type(value) in _STRS:
        text = value
    elif type(value) in _LISTS and all(type(v) in _STRS for v in value):
        text = "\\".join(value)
    else:
        return None
    if not text.isascii() or "\x1b" in text:
        return None
    data = text.encode("ascii")
    if len(data) % 2:
        data += b"\0" if vr == "UI" else b" "
    return data


def _window_of(elem: Any) -> Any:
    """The :class:`~deid.runner.job.ElementWindow` of a value left on disk that pydicom would
    write as it is (a binary VR, defined and even length), or None."""
    if type(elem) is not DataElement or not elem.is_buffered:
        return None
    from deid.runner.job import ElementWindow

    window = elem.value
    if (
        type(window) is not ElementWindow
        or elem.VR not in _WINDOW_VRS
        or elem.is_undefined_length
        or window.length % 2
    ):
        return None
    return window


def _write_elements(
    fp: DicomIO,
    store: dict[Any, Any],
    get_item: Any,
    encodings: Any,
    skip_group_length: bool,
    out: Any = None,
) -> None:
    parts: list[bytes] = []
    for tag in sorted(store, key=int):
        if skip_group_length and tag & 0xFFFF == 0 and tag >> 16 > 6:
            continue  # pydicom never writes the retired group lengths
        elem = store[tag]
        window = _window_of(elem) if out is not None else None
        if window is not None:
            if parts:
                fp.write(b"".join(parts))
                parts.clear()
            fp.write(_LONG_HEADER.pack(tag >> 16, tag & 0xFFFF, elem.VR.encode(), window.length))
            window.copy_to(out)  # file to file: the value never enters Python
            continue
        encoded = _element_bytes(elem)
        if encoded is None and type(elem) is DataElement and elem.VR == "SQ":
            encoded = _sequence_bytes(elem, encodings)
        if encoded is not None and len(encoded[1]) < _BIG:
            parts.extend(encoded)
            continue
        if parts:
            fp.write(b"".join(parts))
            parts.clear()
        if encoded is not None:  # a big value (Pixel Data): written as it is, not copied
            for piece in encoded:
                fp.write(piece)
        else:
            write_data_element(fp, get_item(tag), encodings)
    if parts:
        fp.write(b"".join(parts))


def _explicit_le_buffer() -> DicomBytesIO:
    buffer = DicomBytesIO()
    buffer.is_little_endian, buffer.is_implicit_VR = True, False
    return buffer


def _sequence_bytes(elem: Any, encodings: Any) -> tuple[bytes, ...] | None:
    """The encoding of a decoded sequence as pydicom's ``write_sequence`` writes it, each item
    through :func:`_write_elements`; None (pydicom writes it) when an item is not a dataset read
    in explicit VR little endian with its character set unchanged (pydicom re-encodes those)."""
    parts: list[bytes] = []
    for item in elem.value:
        if (
            not isinstance(item, Dataset)
            or item.original_encoding != (False, True)
            or item.original_character_set != item._character_set
        ):
            return None
        buffer = _explicit_le_buffer()
        # as write_dataset: the item's own character set, else the sequence's
        item_encodings = item.get("SpecificCharacterSet", encodings)
        _write_elements(buffer, item._dict, item.get_item, item_encodings, skip_group_length=True)
        body = buffer.getvalue()
        if getattr(item, "is_undefined_length_sequence_item", False):
            parts += [_ITEM + b"\xff\xff\xff\xff", body, _ITEM_DELIMITER]
        else:
            parts += [_ITEM + struct.pack("<I", len(body)), body]
    value = b"".join(parts)
    tag = elem.tag
    if elem.is_undefined_length:
        head = _LONG_HEADER.pack(tag >> 16, tag & 0xFFFF, b"SQ", _UNDEFINED)
        return (head, value, _DELIMITER)
    return (_LONG_HEADER.pack(tag >> 16, tag & 0xFFFF, b"SQ", len(value)), value)


def _write_meta(fp: DicomIO, meta: Dataset) -> None:
    from copy import deepcopy

    from pydicom.filewriter import write_file_meta_info

    if meta.original_encoding != (False, True) or (
        meta.original_character_set != meta._character_set
    ):
        write_file_meta_info(fp, deepcopy(meta), enforce_standard=False)
        return
    validate_file_meta(meta, enforce_standard=False)
    buffer = _explicit_le_buffer()
    body = {tag: elem for tag, elem in meta._dict.items() if tag != 0x00020000}
    encodings = meta.get("SpecificCharacterSet", _DEFAULT_ENCODING)
    _write_elements(buffer, body, meta.get_item, encodings, skip_group_length=False)
    data = buffer.getvalue()
    if 0x00020000 in meta._dict:
        # the group length counts the bytes after its own 12-byte element
        fp.write(_SHORT_HEADER.pack(2, 0, b"UL", 4) + struct.pack("<I", len(data)))
    fp.write(data)


def save_dataset(ds: Any, fh: BinaryIO) -> None:
    """Write ``ds`` to the open binary file ``fh``: the same bytes as ``ds.save_as(fh)``.

    Parameters
    ----------
    ds : pydicom.Dataset
        The dataset (typically a de-identified FileDataset). As with ``save_as``, a Pixel Data
        element is marked defined or undefined length for the transfer syntax.
    fh : binary file object
        Open for writing.

    Examples
    --------
    >>> import io
    >>> from pydicom.data import get_testdata_file
    >>> from pydicom import dcmread
    >>> out = io.BytesIO()
    >>> save_dataset(dcmread(get_testdata_file("MR_small.dcm")), out)
    >>> dcmread(io.BytesIO(out.getvalue())).Modality
    'MR'
    """
    tsyntax = _fast_syntax(ds)
    if tsyntax is None:
        ds.save_as(fh)
        return
    fp = DicomIO(fh)
    fp.is_implicit_VR, fp.is_little_endian = False, True
    preamble = getattr(ds, "preamble", None)
    if preamble:
        fp.write(preamble)
        fp.write(b"DICM")
    _write_meta(fp, ds.file_meta)
    if "PixelData" in ds:  # as dcmwrite: encapsulated Pixel Data has undefined length
        ds["PixelData"].is_undefined_length = tsyntax.is_compressed
    # as write_dataset: the character set is read (and so decoded) before any element
    encodings = ds.get("SpecificCharacterSet", _DEFAULT_ENCODING)
    _write_elements(fp, ds._dict, ds.get_item, encodings, skip_group_length=True, out=fh)
