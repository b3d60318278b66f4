"""deid.runner.fastread: the same FileDataset as pydicom.dcmread, read faster."""

from __future__ import annotations

import io
import warnings
from typing import Any

import pydicom
import pytest
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.tag import Tag
from pydicom.uid import ExplicitVRLittleEndian

from deid.runner import fastread
from deid.runner.fastread import read_file

from .helpers import sample_files


def _element_state(elem: Any) -> Any:
    if type(elem) is RawDataElement:
        return tuple(elem)
    return (elem.tag, elem.VR, elem.file_tell, elem.is_undefined_length, repr(elem.value))


def _state(ds: Any) -> list[Any]:
    """What dcmread leaves on a FileDataset (elements as read, meta, encodings, file)."""
    return [
        [(tag, _element_state(ds._dict[tag])) for tag in sorted(ds._dict)],
        [(tag, _element_state(e)) for tag, e in sorted(ds.file_meta._dict.items())],
        ds.preamble,
        ds.original_encoding,
        ds.original_character_set,
        getattr(ds, "_parent_encoding", None),
        getattr(ds, "_is_implicit_VR", None),
        getattr(ds, "_is_little_endian", None),
        ds.filename,
        ds.fileobj_type,
        ds.timestamp,
        type(ds.buffer),
        type(ds).__name__,
    ]


def _both(path_or_bytes: Any, defer_size: int | None, force: bool = False) -> tuple[Any, Any]:
    def source() -> Any:
        if isinstance(path_or_bytes, bytes):
            return io.BytesIO(path_or_bytes)
        return open(path_or_bytes, "rb")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with source() as fh:
            theirs = pydicom.dcmread(fh, force=force, defer_size=defer_size)
        with source() as fh:
            ours = read_file(fh, force=force, defer_size=defer_size)
    return ours, theirs


@pytest.mark.parametrize("defer_size", [None, 1024, 65536])
def test_same_dataset_as_dcmread_on_every_sample_file(defer_size, monkeypatch) -> None:
    fallbacks = []
    original = pydicom.dcmread

    def counting(*args: Any, **kwargs: Any) -> Any:
        fallbacks.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(fastread.pydicom, "dcmread", counting)
    fast = 0
    for path in sample_files():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                original(path, defer_size=defer_size)
        except Exception:  # noqa: BLE001, S112 - files pydicom cannot read are not the point
            continue
        before = len(fallbacks)
        ours, theirs = _both(path, defer_size)
        assert _state(ours) == _state(theirs), path
        fast += len(fallbacks) == before + 1  # one call is _both's own dcmread
    assert fast >= 10  # the fast path is taken, not only the fallback


def _file(*elements: tuple[int, str, Any], meta: bool = True) -> bytes:
    ds = Dataset()
    for tag, vr, value in elements:
        ds.add_new(tag, vr, value)
    if meta:
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
        ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3"
        ds.preamble = b"\0" * 128
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=meta)
    return buf.getvalue()


@pytest.mark.parametrize(
    "case",
    [
        "plain",
        "charset",
        "empty_values",
        "long_values",
        "trailing",
        "cut",
        "cut_header",
        "deferred_past_end",
        "undefined_sequence",
        "no_dataset",
    ],
)
def test_same_dataset_as_dcmread_on_edge_files(case: str) -> None:
    base = [(0x00100010, "PN", "Doe^J"), (0x00080060, "CS", "OT")]
    if case == "charset":
        data = _file((0x00080005, "CS", "ISO_IR 100"), (0x00100010, "PN", "Dö^J"))
    elif case == "empty_values":
        data = _file((0x00100010, "PN", ""), (0x00280010, "US", None), (0x00091010, "OB", b""))
    elif case == "long_values":
        data = _file(*base, (0x00204000, "LT", "x" * 70000), (0x7FE00010, "OB", b"\1" * 200000))
    elif case == "trailing":
        data = _file(*base) + b"\0\0\0"
    elif case == "cut":
        data = _file(*base, (0x00204000, "LT", "x" * 300))[:-5]
    elif case == "cut_header":
        data = _file(*base) + b"\xe0\x7f\x10\x00OB\0\0"
    elif case == "deferred_past_end":
        data = _file(*base, (0x7FE00010, "OB", b"\1" * 200000))[:-1000]
    elif case == "undefined_sequence":
        item = Dataset()
        item.CodeValue = "1"
        data = _file(*base)
        ds = pydicom.dcmread(io.BytesIO(data))
        ds.ProcedureCodeSequence = [item]
        ds.ProcedureCodeSequence.is_undefined_length = True
        ds[0x00081032].is_undefined_length = True
        buf = io.BytesIO()
        ds.save_as(buf)
        data = buf.getvalue()
    elif case == "no_dataset":
        data = _file()
    else:
        data = _file(*base)
    for defer_size in (None, 1024):
        try:
            ours, theirs = _both(data, defer_size)
        except Exception as exc:  # noqa: BLE001 - then both must fail alike
            with pytest.raises(type(exc)), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pydicom.dcmread(io.BytesIO(data), defer_size=defer_size)
            continue
        assert _state(ours) == _state(theirs), case


def test_other_encodings_are_read_by_pydicom(monkeypatch) -> None:
    from pydicom.data import get_testdata_file

    calls = []
    original = pydicom.dcmread
    monkeypatch.setattr(
        fastread.pydicom, "dcmread", lambda *a, **k: calls.append(a) or original(*a, **k)
    )
    for name in ("rtplan.dcm", "MR_small_bigendian.dcm", "image_dfl.dcm"):  # implicit, BE, deflate
        path = get_testdata_file(name)
        with open(path, "rb") as fh:
            ours = read_file(fh)
        assert ours._dict == original(path)._dict
    assert len(calls) == 3


def test_runner_reads_through_the_fast_path(tmp_path) -> None:
    from deid.runner.job import read_dataset

    path = tmp_path / "f.dcm"
    path.write_bytes(_file((0x00100010, "PN", "Doe^J"), (0x7FE00010, "OB", b"\1" * 200000)))
    ds = read_dataset(str(path), window_tags=frozenset({0x7FE00010}))
    assert type(ds._dict[Tag(0x00100010)]) is RawDataElement
    assert ds.PatientName == "Doe^J"
    assert ds[0x7FE00010].is_buffered  # left on disk, as before
