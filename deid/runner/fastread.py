"""Reading a DICOM file exactly as ``pydicom.dcmread`` does, without its per-element cost.

pydicom reads a dataset element by element through a generator and a file object: a few
microseconds per element, which for a de-identification run is as much as the engine's own work.
:func:`read_file` lets pydicom read the preamble, the File Meta Information and any command set,
then, for the common case, reads the dataset's elements itself from a few large reads:

* Explicit VR Little Endian encoding (the transfer syntax, or any other pydicom reads so: the
  compressed ones),
* elements of known VRs; values of defined length longer than ``defer_size`` left unread
  (``value`` None), as pydicom defers them,
* undefined-length sequences read at once into their items, as pydicom's reader does
  (:func:`deid.engine.rawscan.read_items`), and encapsulated Pixel Data found by its items.

It builds the same ``FileDataset`` pydicom builds: the same ``RawDataElement`` tuples (tag, VR,
length, value, position, encoding), file meta, preamble, encodings and file attributes
(``tests/runner/test_fastread.py`` compares the two on every sample file). Anything else (implicit
VR, big endian, deflate, a file cut short, odd bytes) is read by ``pydicom.dcmread`` from the
start, so the result is always pydicom's.

Examples
--------
>>> from pydicom import dcmread
>>> from pydicom.data import get_testdata_file
>>> path = get_testdata_file("CT_small.dcm")
>>> with open(path, "rb") as fh:
...     ours = read_file(fh)
>>> ours._dict == dcmread(path)._dict
True
"""

from __future__ import annotations

import struct
from typing import Any

import pydicom
from pydicom import filereader as _reader
from pydicom.charset import convert_encodings, default_encoding
from pydicom.dataelem import DataElement, RawDataElement, convert_raw_data_element
from pydicom.dataset import Dataset, FileDataset
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ImplicitVRLittleEndian,
)
from pydicom.values import convert_string, empty_value_for_VR

from deid.engine.rawscan import KNOWN_VRS as _KNOWN
from deid.engine.rawscan import NeedMore, NotSimple, read_header, read_items

__all__ = ["read_file"]

_CHUNK = 1 << 16
_UNDEFINED = 0xFFFFFFFF
_CHARSET = 0x00080005
_ITEM = b"\xfe\xff\x00\xe0"
_SEQUENCE_DELIMITER = b"\xfe\xff\xdd\xe0"
_U32 = struct.Struct("<L").unpack_from
#: pydicom's own steps before the dataset (internal functions: without them, dcmread reads all)
_STEPS = tuple(
    getattr(_reader, name, None)
    for name in ("read_preamble", "_read_file_meta_info", "_read_command_set_elements")
)


def read_file(
    fileobj: Any, *, force: bool = False, defer_size: int | None = None, direct: Any = None
) -> Any:
    """``pydicom.dcmread(fileobj, force=force, defer_size=defer_size)``, faster for the common case.

    Parameters
    ----------
    fileobj : binary file object
        Open for reading (seekable), positioned at the start of the file.
    direct : binary file object, optional
        The same file without a wrapper ``fileobj`` may add (the elements are read from it in
        large blocks); default ``fileobj``.
    force : bool
        As ``dcmread``: read a file without preamble and ``DICM`` prefix.
    defer_size : int, optional
        As ``dcmread``: values longer than this many bytes are not read (``value`` None).

    Returns
    -------
    pydicom.dataset.FileDataset
        The dataset ``dcmread`` returns.

    Raises
    ------
    Whatever ``dcmread`` raises for the file.
    """
    start = fileobj.tell()
    read_preamble, read_meta, read_command_set = _STEPS
    if read_preamble is None or read_meta is None or read_command_set is None:
        return pydicom.dcmread(fileobj, force=force, defer_size=defer_size)
    preamble = read_preamble(fileobj, force)
    file_meta = read_meta(fileobj)
    command_set = read_command_set(fileobj)
    syntax = file_meta.get("TransferSyntaxUID")
    elements = None
    if (
        syntax is not None
        and syntax not in _OTHER_ENCODINGS
        and syntax not in pydicom.uid.PrivateTransferSyntaxes  # registered at any time
    ):
        elements = _elements(direct or fileobj, fileobj.tell(), defer_size)
    if elements is None:  # not the common case: pydicom reads the whole file
        fileobj.seek(start)
        return pydicom.dcmread(fileobj, force=force, defer_size=defer_size)
    # the end of pydicom's read_dataset and read_partial
    dataset = Dataset(elements, parent_encoding=default_encoding)
    encoding: Any = default_encoding
    if _CHARSET in elements:
        encoding = convert_encodings(convert_raw_data_element(elements[_CHARSET]).value)
    dataset.set_original_encoding(False, True, encoding)
    if command_set:
        dataset.update(command_set)
    ds = FileDataset(fileobj, dataset, preamble, file_meta, False, True)
    ds.set_original_encoding(False, True, dataset._character_set)
    return ds


#: Transfer syntaxes pydicom reads other than as explicit VR little endian (and the private
#: ones registered with pydicom).
_OTHER_ENCODINGS = frozenset(
    [ImplicitVRLittleEndian, ExplicitVRBigEndian, DeflatedExplicitVRLittleEndian]
)


def _elements(fh: Any, start: int, defer_size: int | None) -> dict[Any, Any] | None:
    """The raw elements from ``start`` to the end of the file, or None when anything is outside
    the simple form (see the module docstring)."""
    fh.seek(start)
    buf = fh.read(_CHUNK)
    if not buf:
        return None  # no dataset at all: pydicom's case
    base = start  # file position of buf[0]
    pos = 0
    out: dict[Any, Any] = {}
    encoding: Any = default_encoding  # pydicom's reader's, for the sequences it reads at once
    while True:
        if len(buf) - pos < 12:  # room for the longest header
            buf = buf[pos:] + fh.read(_CHUNK)
            base += pos
            pos = 0
            if not buf:
                return out  # the end of the file, between elements
            if len(buf) < 8:
                return None  # bytes after the last element: pydicom's case
        found = read_header(buf, pos, len(buf))
        if found is None or found[0] == 0xFFFE or found[2] not in _KNOWN:
            return None  # cut short, stray delimiters, unknown VRs: pydicom's reader decides
        group, elem, vr, length, start = found  # start: where the value starts in buf
        tag = (group << 16) | elem
        text_vr = vr.decode("ascii")
        tell = base + start
        key = BaseTag(tag)
        if length == _UNDEFINED:
            if vr == b"SQ":  # read at once, as pydicom's reader does
                while True:
                    try:
                        items, after = read_items(buf, start, None, encoding, base, 0, False)
                        break
                    except NeedMore:
                        more = fh.read(max(_CHUNK, len(buf)))
                        if not more:
                            return None  # cut short: pydicom's reader says how
                        buf += more
                    except (NotSimple, struct.error, RecursionError):  # pydicom decides
                        return None
                sequence = Sequence(items)
                sequence.is_undefined_length = True
                out[key] = DataElement(key, "SQ", sequence, tell, is_undefined_length=True)
                pos = after
                continue
            if vr == b"UN":
                return None  # pydicom may read it as an implicit VR sequence
            encapsulated = _encapsulated(fh, tell, defer_size)
            if encapsulated is None:
                return None
            value, after = encapsulated
            out[key] = RawDataElement(key, text_vr, length, value, tell, False, True)
            fh.seek(after)
            buf = fh.read(_CHUNK)
            base, pos = after, 0
            continue
        end = start + length
        if defer_size is not None and length > defer_size and tag != _CHARSET:
            value = None  # deferred, as pydicom defers it: the file is not read here
            if end <= len(buf):
                pos = end
            else:
                fh.seek(base + end)
                buf = fh.read(_CHUNK)
                base += end
                pos = 0
        elif end > len(buf) and length >= _CHUNK:  # a big value: read on its own, one copy
            fh.seek(tell)
            value = fh.read(length)
            if len(value) < length:
                return None  # cut short: pydicom's reader says how
            buf = fh.read(_CHUNK)
            base, pos = tell + length, 0
        else:
            if end > len(buf):
                buf = buf[pos:] + fh.read(end - len(buf) + _CHUNK)
                base += pos
                start -= pos
                end -= pos
                pos = 0
                if end > len(buf):
                    return None  # cut short: pydicom's reader says how
            value = buf[start:end] if length else empty_value_for_VR(text_vr, raw=True)
            pos = end
        if tag == _CHARSET:  # as pydicom's reader: the encoding of the sequences after it
            encoding = convert_encodings(convert_string(value or b"", True))
        out[key] = RawDataElement(key, text_vr, length, value, tell, False, True)


def _encapsulated(fh: Any, start: int, defer_size: int | None) -> tuple[Any, int] | None:
    """``(value, end)`` of an undefined-length value at ``start`` read as encapsulated data
    (items up to a sequence delimiter) as pydicom reads it (``value`` None when deferred), or
    None when it is not such data (pydicom then scans it byte by byte)."""
    count = 0
    while True:
        fh.seek(start + count)
        head = fh.read(8)
        if len(head) < 4:
            return None
        count += 4
        if head[:4] == _SEQUENCE_DELIMITER:
            break
        if head[:4] != _ITEM or len(head) < 8:
            return None
        count += 4 + _U32(head, 4)[0]
    if defer_size is not None and defer_size <= count:
        value = None
    else:
        fh.seek(start)
        value = fh.read(count - 4)
    return value, start + count + 4
