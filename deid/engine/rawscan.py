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

from deid.engine.walk import keyword_of

__all__ = ["Visitor", "collect_values", "scan_sequence"]

#: ``visit(prefix, tag, vr, creator) -> bool``: True stops the scan (an element is selected);
#: a visitor may also return None to skip the element's children (skip list).
Visitor = Callable[[str, int, str, "str | None"], "bool | None"]

_LONG = frozenset(
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
        if pos + 8 > size:
            raise _GiveUp
        group, elem, vr = _HEAD(buf, pos)
        if group == 0xFFFE:
            if elem == 0xE00D and end is None:
                return pos + 8
            raise _GiveUp
        if not (65 <= vr[0] <= 90 and 65 <= vr[1] <= 90) or vr == b"UN":
            raise _GiveUp
        if vr in _LONG:
            length = _U32(buf, pos + 8)[0]
            pos += 12
        else:
            length = _U16(buf, pos + 6)[0]
            pos += 8
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


def _ignore(prefix: str, tag: int, vr: str, creator: str | None) -> bool:
    return False
