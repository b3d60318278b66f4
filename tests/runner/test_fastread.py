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
    state = [elem.tag, elem.VR, elem.file_tell, elem.is_undefined_length]
    if elem.VR == "SQ":  # read at once: every item as pydicom built it, without decoding
        state.append(getattr(elem.value, "is_undefined_length", None))
        for item in elem.value:
            state.append(
                [
                    item.original_encoding,
                    item.original_character_set,
                    item._parent_encoding,
                    item.is_undefined_length_sequence_item,
                    getattr(item, "seq_item_tell", None),
                    getattr(item, "file_tell", None),
                    [(t, _element_state(e)) for t, e in sorted(item._dict.items())],
                ]
            )
    else:
        state.append(repr(elem.value))
    return state


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
    assert fast >= 60  # the fast path is taken, not only the fallback


def _saved(ds: Dataset, syntax: Any = ExplicitVRLittleEndian) -> bytes:
    """``ds`` written as a file (preamble, file meta) in ``syntax``."""
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = syntax
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3"
    ds.preamble = b"\0" * 128
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def _file(*elements: tuple[int, str, Any]) -> bytes:
    ds = Dataset()
    for tag, vr, value in elements:
        ds.add_new(tag, vr, value)
    return _saved(ds)


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


def _random_item(draw: Any, depth: int) -> Dataset:
    from hypothesis import strategies as st

    item = Dataset()
    for tag, vr in draw(
        st.lists(
            st.sampled_from(
                [(0x00080100, "SH"), (0x00080104, "LO"), (0x00081155, "UI"), (0x00280010, "US")]
            ),
            max_size=3,
            unique=True,
        )
    ):
        item.add_new(tag, vr, draw(st.sampled_from(["", "1.2.3", "A B"])) if vr != "US" else 7)
    if depth < 2 and draw(st.booleans()):
        item.add_new(0x00400260, "SQ", _random_sequence(draw, depth + 1))
        item[0x00400260].is_undefined_length = draw(st.booleans())
    item.is_undefined_length_sequence_item = draw(st.booleans())
    return item


def _random_sequence(draw: Any, depth: int) -> list[Dataset]:
    from hypothesis import strategies as st

    return [_random_item(draw, depth) for _ in range(draw(st.integers(0, 3)))]


def _random_file(draw: Any) -> bytes:
    from hypothesis import strategies as st
    from pydicom.encaps import encapsulate
    from pydicom.uid import JPEGBaseline8Bit

    ds = Dataset()
    if draw(st.booleans()):
        ds.SpecificCharacterSet = draw(st.sampled_from(["ISO_IR 100", "ISO_IR 192"]))
    ds.PatientName = draw(st.sampled_from(["", "Doe^J", "Dö^J"]))
    for _ in range(draw(st.integers(0, 2))):
        tag = draw(st.sampled_from([0x00081140, 0x00082112, 0x00091010]))
        ds.add_new(tag, "SQ", _random_sequence(draw, 0))
        ds[tag].is_undefined_length = draw(st.booleans())
    ds.ImageComments = "x" * draw(st.sampled_from([0, 3, 2000]))
    syntax = ExplicitVRLittleEndian
    pixels = draw(st.sampled_from(["none", "native", "encapsulated"]))
    if pixels == "native":
        ds.add_new(0x7FE00010, "OB", b"\1" * draw(st.sampled_from([2, 3000])))
    elif pixels == "encapsulated":
        syntax = JPEGBaseline8Bit
        frames = [b"\xff\xd8" + b"\2" * draw(st.sampled_from([10, 3000])) for _ in range(2)]
        ds.add_new(0x7FE00010, "OB", encapsulate(frames))
        ds[0x7FE00010].is_undefined_length = True
    data = _saved(ds, syntax)
    cut = draw(st.sampled_from([None, None, None, 1, 5, 9, 200]))
    return data if cut is None else data[: max(140, len(data) - cut)]


def test_same_dataset_as_dcmread_on_generated_files() -> None:
    """Files with nested sequences of defined and undefined length, empty and undefined-length
    items, character sets, native and encapsulated Pixel Data, cut at various points."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=120, deadline=None)
    @given(st.data(), st.sampled_from([None, 1024]))
    def check(data: Any, defer_size: int | None) -> None:
        raw = _random_file(data.draw)
        try:
            theirs_error = None
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pydicom.dcmread(io.BytesIO(raw), defer_size=defer_size)
        except Exception as exc:  # noqa: BLE001 - then ours must fail alike
            theirs_error = type(exc)
        if theirs_error is not None:
            with pytest.raises(theirs_error), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                read_file(io.BytesIO(raw), defer_size=defer_size)
            return
        ours, theirs = _both(raw, defer_size)
        assert _state(ours) == _state(theirs)
        if defer_size is None:  # de-identified alike, written alike (fast writer vs save_as)
            _deidentified_bytes_agree(ours, theirs)

    check()


def _deidentified_bytes_agree(ours: Any, theirs: Any) -> None:
    from deid.engine import Context
    from deid.engine.keys import Key
    from deid.runner.api import build_plan
    from deid.runner.fastwrite import save_dataset

    plan = build_plan(profile="basic")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        errors = []
        for ds in (ours, theirs):
            try:
                plan.apply(ds, Context(key=Key.from_text("fastread-test-key")))
                errors.append(None)
            except Exception as exc:  # noqa: BLE001 - compared: the same refusal for both
                errors.append(str(exc))
        assert errors[0] == errors[1]
        if errors[0] is not None:
            return
        expected = io.BytesIO()
        try:
            theirs.save_as(expected)
        except Exception:  # noqa: BLE001 - pydicom cannot write it: nothing to compare
            return
        written = io.BytesIO()
        save_dataset(ours, written)
    assert written.getvalue() == expected.getvalue()


def test_deeply_nested_sequences_read_as_pydicom_reads_them() -> None:
    """Nested undefined-length sequences: read alike at a moderate depth; deeper than Python's
    recursion allows, the fast path steps back and the error is pydicom's."""

    def nested(depth: int) -> bytes:
        body = b""
        for _ in range(depth):
            body = (
                b"\x08\x00\x40\x11SQ\x00\x00\xff\xff\xff\xff"
                + b"\xfe\xff\x00\xe0\xff\xff\xff\xff"
                + body
                + b"\xfe\xff\x0d\xe0\x00\x00\x00\x00"
                + b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"
            )
        return _file((0x00100010, "PN", "Doe^J")) + body

    def outcome(reader: Any, data: bytes) -> Any:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return _state(reader(io.BytesIO(data)))
        except Exception as exc:  # noqa: BLE001 - compared below
            return type(exc)

    shallow, deep = nested(40), nested(1200)
    assert outcome(read_file, shallow) == outcome(pydicom.dcmread, shallow)
    assert isinstance(outcome(read_file, shallow), list)
    assert outcome(read_file, deep) == outcome(pydicom.dcmread, deep) == RecursionError


def test_private_transfer_syntaxes_registered_later_are_read_by_pydicom(monkeypatch) -> None:
    import pydicom.uid
    from pydicom.uid import UID

    private = UID("1.2.3.4.5.6.7")
    private.set_private_encoding(False, False)  # explicit VR big endian: VRs read as letters
    monkeypatch.setattr(pydicom.uid, "PrivateTransferSyntaxes", [private])
    ds = Dataset()
    ds.PatientName = ""  # zero lengths read the same in both byte orders: only tags differ
    ds.PatientID = ""
    ours, theirs = _both(_saved(ds, private), None)
    assert _state(ours) == _state(theirs)
    assert "PatientID" in ours


def test_values_across_block_boundaries_read_as_dcmread_reads_them() -> None:
    """Small values that straddle the reader's 64 KiB blocks, of every length around it."""
    ds = Dataset()
    ds.add_new(0x00090010, "LO", "ACME")
    for i in range(60):  # 60 values of 1,000 to 2,180 bytes: some cross each block boundary
        ds.add_new(0x00091000 | i, "OB", bytes([i]) * (1000 + 37 * i))
    data = _saved(ds)
    for defer_size in (None, 1500, 65536):
        ours, theirs = _both(data, defer_size)
        assert _state(ours) == _state(theirs)
