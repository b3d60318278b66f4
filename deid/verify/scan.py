"""Read an output file's bytes outside Pixel Data and find needles in them.

The scan works on the file's bytes, not on what pydicom makes of them, so that nothing is
missed: the preamble, the file meta, every element (nested items and private blocks included)
and anything after the dataset. Only the values of Pixel Data, Float Pixel Data and Double
Float Pixel Data at the top level are skipped (they are found with a shallow element walk that
does not load them). Deflated files are inflated first. When the element walk fails (a file
that is not valid DICOM) the whole file is scanned.

Examples
--------
>>> import io
>>> from pydicom import Dataset
>>> ds = Dataset(); ds.PatientName = "Doe^Jane"; ds.BitsAllocated = 8
>>> ds.PixelData = b"Doe^Jane"
>>> buf = io.BytesIO(); ds.save_as(buf, implicit_vr=False, little_endian=True)
>>> blob = header_bytes(buf.getvalue())
>>> blob.data.count(b"Doe^Jane"), blob.parsed
(1, True)
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import mmap
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, cast

from pydicom.filereader import _read_file_meta_info, data_element_generator, read_preamble
from pydicom.uid import UID

from deid.verify.values import Needle

__all__ = ["PIXEL_TAGS", "HeaderBytes", "find", "header_bytes", "pixel_digest", "probe"]

#: Top-level elements whose value is not scanned.
PIXEL_TAGS = frozenset({0x7FE00010, 0x7FE00008, 0x7FE00009})
_DEFLATED = "1.2.840.10008.1.2.1.99"


@dataclass
class HeaderBytes:
    """An output file's bytes outside Pixel Data.

    Attributes
    ----------
    data : bytes
        The bytes, in file order, with the Pixel Data values cut out.
    preamble_end : int
        Offset in ``data`` where the preamble ends (0 when there is none).
    parsed : bool
        False when the file could not be walked and ``data`` is the whole file.
    pixel_ranges : list of (int, int)
        Byte ranges of the file that were skipped.
    """

    data: bytes
    preamble_end: int = 0
    parsed: bool = True
    pixel_ranges: list[tuple[int, int]] = field(default_factory=list)


def _walk_ranges(raw: Any) -> tuple[int, list[tuple[int, int]], bytes | None]:
    """Return (preamble_end, pixel ranges, inflated body or None) for a file's bytes.

    ``raw`` is ``bytes`` or a read-only :class:`mmap.mmap` (then the walk reads it in place and
    big values are never copied).
    """
    # an mmap reads like a binary file (seek, tell, read): the pydicom readers take it as one
    fp = cast(BinaryIO, raw) if isinstance(raw, mmap.mmap) else io.BytesIO(raw)
    fp.seek(0)
    preamble = read_preamble(fp, True)
    preamble_end = 132 if preamble is not None else 0
    meta = _read_file_meta_info(fp)
    if "TransferSyntaxUID" in meta:
        ts = UID(str(meta.TransferSyntaxUID))
    else:  # a bare dataset: guess the VR encoding from the first element
        head = raw[fp.tell() + 4 : fp.tell() + 6]
        explicit = len(head) == 2 and head.isalpha() and head.isupper()
        ts = UID("1.2.840.10008.1.2.1" if explicit else "1.2.840.10008.1.2")
    start = fp.tell()
    if ts == _DEFLATED:
        body = zlib.decompress(raw[start:], -zlib.MAX_WBITS)
        return preamble_end, [], raw[:start] + body
    implicit = ts.is_implicit_VR if ts.is_transfer_syntax else False
    little = ts.is_little_endian if ts.is_transfer_syntax else True
    ranges: list[tuple[int, int]] = []
    count = 0
    last = -1
    for elem in data_element_generator(fp, implicit, little, defer_size=1024):
        count += 1
        tag = int(elem.tag)
        length = getattr(elem, "length", 0xFFFFFFFF)  # parsed sequences carry no length
        tell = getattr(elem, "value_tell", 0)
        if tag <= last or (length != 0xFFFFFFFF and tell + length > len(raw)):
            raise ValueError(f"malformed element ({tag >> 16:04X},{tag & 0xFFFF:04X})")
        last = tag
        if int(elem.tag) in PIXEL_TAGS:
            ranges.append((tell, fp.tell()))
    if preamble is None and len(meta) == 0 and (count == 0 or fp.tell() < len(raw)):
        raise ValueError("not a DICOM dataset")
    return preamble_end, ranges, None


def header_bytes(source: str | bytes) -> HeaderBytes:
    """Return the bytes of a DICOM file outside its Pixel Data.

    Parameters
    ----------
    source : str or bytes
        A path or the file's bytes.

    Returns
    -------
    HeaderBytes
        ``parsed`` is False when the file could not be walked; then every byte is kept.

    Examples
    --------
    >>> header_bytes(b"not dicom at all").parsed
    False
    """
    if isinstance(source, (bytes, bytearray)):
        return _header_of(bytes(source))
    with _mapped(source) as raw:
        return _header_of(raw)


@contextlib.contextmanager
def _mapped(path: str) -> Iterator[Any]:
    """Map a file read-only (empty files give ``b""``)."""
    with open(path, "rb") as fh:
        try:
            view = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # an empty file cannot be mapped
            yield b""
            return
        try:
            yield view
        finally:
            view.close()


def _header_of(raw: Any) -> HeaderBytes:
    try:
        preamble_end, ranges, inflated = _walk_ranges(raw)
    except Exception:  # noqa: BLE001 - any parse failure: scan every byte (fail closed)
        return HeaderBytes(bytes(raw[:]), 0, False, [])
    if inflated is not None:
        return HeaderBytes(inflated, preamble_end, True, [])
    parts: list[bytes] = []
    pos = 0
    for lo, hi in ranges:
        parts.append(bytes(raw[pos:lo]))
        pos = hi
    parts.append(bytes(raw[pos:]))
    return HeaderBytes(b"".join(parts), preamble_end, True, ranges)


def _texty(byte: int) -> bool:
    return 0x20 <= byte < 0x7F or byte >= 0xC0  # ASCII text, latin letters, UTF-8 lead bytes


def _continues(hay: bytes, pos: int, step: int, chars: bytes) -> bool:
    """True when ``hay[pos]`` extends the token: one of ``chars`` and itself followed (in the
    same direction) by a text byte, so that a letter that is really a tag or length byte of the
    next element (``T`` of group 0x0054 followed by 0x00) does not count."""
    if pos < 0 or pos >= len(hay) or hay[pos] not in chars:
        return False
    beyond = pos + step
    if beyond < 0 or beyond >= len(hay):
        return True
    return _texty(hay[beyond])


_ALNUM_SET = b"abcdefghijklmnopqrstuvwxyz0123456789_"
_DIGITS = b"0123456789"


def _bounded(hay: bytes, start: int, end: int, boundary: str) -> bool:
    if boundary == "none":
        return True
    if boundary == "date":
        return not _continues(hay, start - 1, -1, _DIGITS)
    if boundary == "uid":
        chars = _DIGITS + b"."
        return not _continues(hay, start - 1, -1, chars) and not _continues(hay, end, 1, chars)
    return not _continues(hay, start - 1, -1, _ALNUM_SET) and not _continues(
        hay, end, 1, _ALNUM_SET
    )


def find(hay_lower: bytes, needle: Needle) -> list[int]:
    """Return the offsets in ``hay_lower`` (already lower-cased) where ``needle`` occurs.

    ASCII needles must stand as whole tokens (see :class:`~deid.verify.values.Needle`);
    other byte forms match anywhere.

    Examples
    --------
    >>> from deid.verify.values import collect_needles
    >>> from pydicom import Dataset
    >>> ds = Dataset(); ds.PatientName = "ANN^SMITH"
    >>> [n.text for n in collect_needles(ds) if find(b"scanner smith", n)]
    ['SMITH']
    """
    hits: list[int] = []
    for pattern in needle.patterns:
        start = hay_lower.find(pattern)
        while start != -1:
            end = start + len(pattern)
            if not needle.ascii or _bounded(hay_lower, start, end, needle.boundary):
                hits.append(start)
            start = hay_lower.find(pattern, start + 1)
    return sorted(set(hits))


def probe(path: str) -> tuple[bool, str | None]:
    """Return (walks as DICOM, SHA-256 of the Pixel Data value or None).

    Examples
    --------
    >>> probe("/nonexistent")
    (False, None)
    """
    try:
        with _mapped(path) as raw:
            _, ranges, inflated = _walk_ranges(raw)
        if inflated is not None or not ranges:
            return True, None
        h = hashlib.sha256()
        with open(path, "rb") as fh:  # plain reads: hashing a mapping would count in RSS
            for lo, hi in ranges:
                fh.seek(lo)
                left = hi - lo
                while left > 0:
                    chunk = fh.read(min(left, 1 << 22))
                    if not chunk:
                        break
                    h.update(chunk)
                    left -= len(chunk)
        return True, h.hexdigest()
    except Exception:  # noqa: BLE001 - not DICOM (or not readable)
        return False, None


def pixel_digest(path: str) -> str | None:
    """Return a SHA-256 of a file's Pixel Data value bytes, or None when it has none.

    Examples
    --------
    >>> pixel_digest("/nonexistent") is None
    True
    """
    return probe(path)[1]
