"""Look inside an undecoded sequence without building pydicom datasets.

pydicom decodes a sequence by building a ``Dataset`` per item, which costs far more than reading
the bytes. Before decoding a sequence the engine asks :func:`scan_sequence` whether any element
inside it (at any depth) could be selected by a rule; when none can, the sequence stays raw and
is written back byte for byte.

The scanner is deliberately conservative: it understands explicit VR little endian only, and
anything unusual (implicit or big endian encodings, ``UN`` elements, encapsulated values,
lengths that run past the end, stray delimiters) makes it give up, in which case the engine
decodes the sequence as usual. It can only ever cause *more* decoding, never less inspection.

Examples
--------
>>> from pydicom import Dataset
>>> from pydicom.filewriter import write_dataset
>>> from pydicom.filebase import DicomBytesIO
>>> item = Dataset()
>>> item.CodeValue = "121"
>>> buf = DicomBytesIO()
>>> buf.is_little_endian, buf.is_implicit_VR = True, False
>>> _ = write_dataset(buf, item)
>>> raw_items = b"\\xfe\\xff\\x00\\xe0" + len(buf.getvalue()).to_bytes(4, "little") + buf.getvalue()
>>> seen = []
>>> scan_sequence(raw_items, "Seq", lambda prefix, tag, vr, creator: seen.append(tag) or False)
True
>>> [hex(t) for t in seen]
['0x80100']
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from pydicom import config as _config
from pydicom import hooks as _hook_module
from pydicom.charset import default_encoding as _default_encoding
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag
from pydicom.values import empty_value_for_VR as _empty_raw

from deid.engine.walk import keyword_of

__all__ = [
    "NeedMore",
    "NotSimple",
    "Visitor",
    "collect_values",
    "decode_sequence",
    "read_header",
    "read_items",
    "scan_sequence",
]

_hooks = _hook_module.hooks
_default_vr_hook = _hook_module.raw_element_vr
_default_value_hook = _hook_module.raw_element_value
#: The explicit VRs pydicom's reader takes as they are (the ones it "tries first"), encoded.
KNOWN_VRS = frozenset(
    b"AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN "
    b"UR US UT UV".split()
)

#: ``visit(prefix, tag, vr, creator) -> bool``: True stops the scan (an element is selected);
#: a visitor may also return None to skip the element's children (skip list).
Visitor = Callable[[str, int, str, "str | None"], "bool | None"]

#: Explicit VRs with a 4-byte length (2 reserved bytes after the VR), encoded.
LONG_VRS = frozenset(
    {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"UC", b"UN", b"UR", b"UT", b"SV", b"UV"}
)
_ITEM = struct.Struct("<HHL").unpack_from
_HEAD = struct.Struct("<HH2s").unpack_from
_U16 = struct.Struct("<H").unpack_from
_U32 = struct.Struct("<L").unpack_from
_UNDEFINED = 0xFFFFFFFF


class _GiveUp(Exception):
    """The bytes are not in the simple form the scanner handles."""


class _Found(Exception):
    """An element is selected: the sequence must be decoded."""


def scan_sequence(value: bytes, name: str, visit: Visitor) -> bool:
    """Return True when no element inside the sequence's items is selected by ``visit``.

    Parameters
    ----------
    value : bytes
        The undecoded value of a defined-length sequence (its items), explicit VR little endian.
    name : str
        The sequence's name form (prefix of its children's names).
    visit : callable
        ``visit(prefix, tag, vr, creator)`` for every element inside, at every depth; return
        True when the element is selected, None to leave its children out, False otherwise.

    Returns
    -------
    bool
        True: nothing inside is selected (the sequence may stay undecoded). False: something
        is selected, or the bytes could not be scanned (decode as usual).
    """
    try:
        pos = _items(value, 0, len(value), name, visit)
    except (_GiveUp, _Found, struct.error, UnicodeDecodeError):
        return False
    return pos == len(value)


Sink = tuple[frozenset[int], list[tuple[int, str, bytes]]]


def collect_values(value: bytes, wanted: frozenset[int]) -> list[tuple[int, str, bytes]] | None:
    """Return ``(tag, VR, value bytes)`` of every element with a tag in ``wanted`` inside an
    undecoded sequence (any depth), or None when the bytes are not in the simple form the
    scanner reads (then decode the sequence with pydicom).

    Examples
    --------
    >>> from pydicom import Dataset
    >>> from pydicom.filewriter import write_dataset
    >>> from pydicom.filebase import DicomBytesIO
    >>> item = Dataset(); item.CodeValue = "121"; item.PatientID = "P-7"
    >>> buf = DicomBytesIO(); buf.is_little_endian, buf.is_implicit_VR = True, False
    >>> _ = write_dataset(buf, item)
    >>> raw = b"\\xfe\\xff\\x00\\xe0" + len(buf.getvalue()).to_bytes(4, "little") + buf.getvalue()
    >>> collect_values(raw, frozenset({0x00100020}))
    [(1048608, 'LO', b'P-7 ')]
    """
    out: list[tuple[int, str, bytes]] = []
    try:
        pos = _items(value, 0, len(value), "", _ignore, (wanted, out))
    except (_GiveUp, _Found, struct.error, UnicodeDecodeError):
        return None
    return out if pos == len(value) else None


def _items(
    buf: bytes, pos: int, end: int | None, prefix: str, visit: Visitor, sink: Sink | None = None
) -> int:
    """Scan sequence items from ``pos``; ``end`` None means up to a sequence delimiter."""
    size = len(buf)
    while end is None or pos < end:
        if pos + 8 > size:
            raise _GiveUp
        group, elem, length = _ITEM(buf, pos)
        pos += 8
        if group == 0xFFFE and elem == 0xE0DD and end is None:
            return pos
        if group != 0xFFFE or elem != 0xE000:
            raise _GiveUp
        if length == _UNDEFINED:
            pos = _dataset(buf, pos, None, prefix, visit, sink)
        else:
            if pos + length > size:
                raise _GiveUp
            if _dataset(buf, pos, pos + length, prefix, visit, sink) != pos + length:
                raise _GiveUp
            pos += length
    if pos != end:
        raise _GiveUp
    return pos


def _dataset(
    buf: bytes, pos: int, end: int | None, prefix: str, visit: Visitor, sink: Sink | None = None
) -> int:
    """Scan one item's elements; ``end`` None means up to an item delimiter."""
    size = len(buf)
    creators: dict[int, str] = {}
    while end is None or pos < end:
        found = read_header(buf, pos, size)
        if found is None:
            raise _GiveUp
        group, elem, vr, length, pos = found
        if group == 0xFFFE:
            if elem == 0xE00D and end is None:
                return pos
            raise _GiveUp
        if not (65 <= vr[0] <= 90 and 65 <= vr[1] <= 90) or vr == b"UN":
            raise _GiveUp
        tag = (group << 16) | elem
        text_vr = vr.decode("ascii")
        creator = None
        if group & 1 and elem >= 0x1000:
            creator = creators.get((group << 16) | (elem >> 8))
        if length == _UNDEFINED:
            if vr != b"SQ":
                raise _GiveUp  # encapsulated data inside an item: leave it to pydicom
            verdict = visit(prefix, tag, text_vr, creator)
            if verdict:
                raise _Found
            child = f"{prefix}__{keyword_of(tag)}" if sink is None else ""
            if verdict is None:  # skipped element: still find where it ends
                pos = _items(buf, pos, None, child, _ignore, sink)
            else:
                pos = _items(buf, pos, None, child, visit, sink)
            continue
        if pos + length > size:
            raise _GiveUp
        if group & 1 and 0x0010 <= elem <= 0x00FF:
            creators[tag] = buf[pos : pos + length].decode("latin-1").strip(" \x00")
        verdict = visit(prefix, tag, text_vr, creator)
        if verdict:
            raise _Found
        if sink is not None and tag in sink[0] and vr != b"SQ":
            sink[1].append((tag, text_vr, buf[pos : pos + length]))
        if vr == b"SQ" and verdict is not None and length:
            child = f"{prefix}__{keyword_of(tag)}" if sink is None else ""
            _items(buf, pos, pos + length, child, visit, sink)
        pos += length
    if pos != end:
        raise _GiveUp
    return pos


def read_header(buf: bytes, pos: int, limit: int) -> tuple[int, int, bytes, int, int] | None:
    """``(group, element, VR, length, position of the value)`` of the explicit VR little endian
    element header at ``pos``, or None when the header runs past ``limit`` (an item delimiter
    has no VR: its length is read as 0).

    Examples
    --------
    >>> read_header(b"\\x10\\x00\\x10\\x00PN\\x04\\x00Doe ", 0, 12)
    (16, 16, b'PN', 4, 8)
    >>> read_header(b"\\xe0\\x7f\\x10\\x00OB\\x00\\x00", 0, 8) is None
    True
    """
    if pos + 8 > limit:
        return None
    group, elem, vr = _HEAD(buf, pos)
    if group == 0xFFFE:
        return group, elem, vr, 0, pos + 8
    if vr in LONG_VRS:
        if pos + 12 > limit:
            return None
        return group, elem, vr, _U32(buf, pos + 8)[0], pos + 12
    return group, elem, vr, _U16(buf, pos + 6)[0], pos + 8


def _ignore(prefix: str, tag: int, vr: str, creator: str | None) -> bool:
    return False


def decode_sequence(parent: Any, tag: Any) -> Any:
    """Decode the undecoded sequence ``parent[tag]`` in place, exactly as ``parent[tag]`` would,
    and return its value; None (nothing changed) when it is not in the simple form read here.

    pydicom decodes a sequence through its general file reader (a generator, a file object and
    hooks per element), which costs far more than the bytes. The simple form is a defined-length
    sequence in explicit VR little endian whose items (of defined or undefined length) hold only
    defined-length elements of known VRs and no Specific Character Set of their own, read with
    pydicom's default hooks. The result is the same ``DataElement`` holding the same ``Dataset``
    items (same raw elements, encodings, positions, pixel representation) as pydicom's;
    ``tests/engine/test_rawscan.py`` compares the two on every sample file.

    Examples
    --------
    >>> from pydicom import Dataset, dcmread
    >>> from pydicom.data import get_testdata_file
    >>> ds = dcmread(get_testdata_file("CT_small.dcm"))
    >>> ds.ReferencedImageSequence = [Dataset()]
    >>> ds.ReferencedImageSequence[0].ReferencedSOPInstanceUID = "1.2.3"
    >>> import io; buf = io.BytesIO(); ds.save_as(buf)
    >>> again = dcmread(io.BytesIO(buf.getvalue()))
    >>> decode_sequence(again, 0x00081140)[0].ReferencedSOPInstanceUID
    '1.2.3'
    """
    store = parent._dict
    raw = store.get(tag)
    if (
        type(raw) is not RawDataElement
        or raw.VR != "SQ"
        or type(raw.value) is not bytes
        or not raw.value
        or raw.length == _UNDEFINED
        or raw.is_implicit_VR is not False
        or not raw.is_little_endian
        or _config.data_element_callback
        or _hooks.raw_element_kwargs
        or _hooks.raw_element_vr is not _default_vr_hook
        or _hooks.raw_element_value is not _default_value_hook
    ):
        return None
    # the encodings pydicom hands the items (Dataset.__getitem__, convert_value, convert_SQ)
    encodings = parent.original_character_set or parent._character_set
    encodings = encodings or [_default_encoding]
    if isinstance(encodings, str):
        encodings = [encodings]
    try:
        items, _ = read_items(raw.value, 0, len(raw.value), encodings, 0, raw.value_tell)
    except (NotSimple, struct.error, RecursionError):  # pydicom decides
        return None
    sequence = Sequence(items)
    sequence.is_undefined_length = False
    elem = DataElement(raw.tag, "SQ", sequence, raw.value_tell, False, already_converted=True)
    if raw.tag >> 16 & 1 or not _pixel_representation(parent, items):
        parent[raw.tag] = elem  # pydicom's own path (private creators, odd values)
    else:
        store[raw.tag] = elem
    return sequence


_set = object.__setattr__
_PIXEL_REPRESENTATION = BaseTag(0x00280103)


def _pixel_representation(parent: Any, items: list[Any]) -> bool:
    """Give ``parent`` and ``items`` the ``_pixel_rep`` pydicom's ``_set_pixel_representation``
    gives them when a sequence is stored, reading a raw Pixel Representation from its two bytes
    (pydicom decodes it); False (nothing set) when the element is not in that plain form."""
    found = parent._dict.get(_PIXEL_REPRESENTATION)
    pr: Any = None
    if found is not None:
        if type(found) is RawDataElement:
            if (
                found.VR != "US"
                or found.length != 2
                or type(found.value) is not bytes
                or not found.is_little_endian
            ):
                return False
            pr = _U16(found.value)[0]
        elif type(found) is DataElement:
            pr = found.value
        else:
            return False
    elif hasattr(parent, "_pixel_rep"):
        pr = parent._pixel_rep
    if pr is not None:
        _set(parent, "_pixel_rep", _rep(pr))
    for item in items:
        own = item._dict.get(_PIXEL_REPRESENTATION)
        value = own.value if own is not None else None
        if value is not None:
            _set(item, "_pixel_rep", _rep(value))
        elif hasattr(parent, "_pixel_rep"):
            _set(item, "_pixel_rep", parent._pixel_rep)
    return True


def _rep(value: Any) -> Any:
    """A Pixel Representation as pydicom keeps it (an undecoded value: whether it holds 1)."""
    return int(b"\x01" in value) if isinstance(value, bytes) else value


class NotSimple(Exception):
    """The bytes are not in the simple form :func:`read_items` reads (pydicom reads them)."""


class NeedMore(NotSimple):
    """The bytes end before the structure does (a reader of a file may read more and retry)."""


def read_items(
    buf: bytes,
    pos: int,
    end: int | None,
    encodings: Any,
    base: int,
    offset: int,
    complete: bool = True,
) -> tuple[list[Any], int]:
    """Sequence items from ``buf[pos:end]`` (``end`` None: up to the sequence delimiter) as the
    ``Dataset`` objects pydicom's ``read_sequence`` builds; returns them and where they end.

    Explicit VR little endian only. Elements of defined length stay raw; an undefined-length
    sequence inside an item is read the same way (as pydicom's reader does). ``base`` is added
    to element positions (0 for a sequence value read on its own, the file position of ``buf``
    when reading a file), ``offset`` to the positions of these items only (the sequence value's
    position for a value read on its own). ``complete``: ``buf`` ends where the data ends (a
    sequence value); otherwise more of the file follows it.

    Raises
    ------
    NotSimple
        Anything else: implicit VR items, an item's own Specific Character Set, other
        undefined-length values, stray delimiters, unknown VRs, bytes cut short.
    NeedMore
        ``buf`` ends first and is not ``complete``.
    """
    items = []
    size = len(buf)
    short = NotSimple if complete else NeedMore
    while end is None or pos < end:
        if pos + 8 > size:
            raise short
        group, elem, length = _ITEM(buf, pos)
        if group == 0xFFFE and elem == 0xE0DD and end is None:
            return items, pos + 8
        if group != 0xFFFE or elem != 0xE000:
            raise NotSimple
        tell = pos + base + offset
        pos += 8
        item_end = None if length == _UNDEFINED else pos + length
        if item_end is not None and item_end > (size if end is None else end):
            raise short if item_end > size and end is None else NotSimple
        first = pos
        elements, pos = _item_elements(buf, pos, item_end, encodings, base, complete)
        if elements:
            implicit = False  # the first element's VR was read as explicit
        else:  # pydicom peeks at the 6 bytes where an element would start
            if first + 6 > size and not complete:
                raise NeedMore
            peek = buf[first + 4 : first + 6]
            implicit = len(peek) == 2 and not (0x40 < peek[0] < 0x5B and 0x40 < peek[1] < 0x5B)
        item = Dataset(elements, parent_encoding=encodings)
        # what set_original_encoding and read_sequence(_item) set; these lower-case names are
        # plain attributes to Dataset.__setattr__, set here without its checks
        for name, value in (
            ("_read_implicit", implicit),
            ("_read_little", True),
            ("_read_charset", encodings),
            ("is_undefined_length_sequence_item", item_end is None),
            ("seq_item_tell", tell),
            ("file_tell", tell),
        ):
            _set(item, name, value)
        items.append(item)
    if pos != end:
        raise NotSimple
    return items, pos


def _item_elements(
    buf: bytes, pos: int, end: int | None, encodings: Any, base: int, complete: bool
) -> tuple[dict[Any, Any], int]:
    """The elements of one item (``end`` None: up to its item delimiter) and where they end."""
    limit = len(buf) if end is None else end
    short = NeedMore if end is None and not complete else NotSimple
    elements: dict[Any, Any] = {}
    while end is None or pos < end:
        found = read_header(buf, pos, limit)
        if found is None:
            raise short
        group, elem, vr, length, pos = found
        if group == 0xFFFE:
            if elem == 0xE00D and end is None:
                return elements, pos
            raise NotSimple
        if vr not in KNOWN_VRS:
            raise NotSimple
        tag = (group << 16) | elem
        if tag == 0x00080005:
            raise NotSimple  # the item's own character set
        key = BaseTag(tag)
        if length == _UNDEFINED:
            if vr != b"SQ":
                raise NotSimple  # encapsulated data, UN: pydicom's reader
            items, after = read_items(buf, pos, None, encodings, base, 0, complete)
            if end is not None and after > end:
                raise NotSimple
            sequence = Sequence(items)
            sequence.is_undefined_length = True
            elements[key] = DataElement(key, "SQ", sequence, pos + base, is_undefined_length=True)
            pos = after
            continue
        if pos + length > limit:
            raise short
        text_vr = vr.decode("ascii")
        value = buf[pos : pos + length] if length else _empty_raw(text_vr, raw=True)
        elements[key] = RawDataElement(key, text_vr, length, value, pos + base, False, True)
        pos += length
    if pos != end:
        raise NotSimple
    return elements, pos
