"""deid/runner/fastwrite.py: save_dataset writes exactly the bytes of Dataset.save_as."""

from __future__ import annotations

import io
import warnings
from typing import Any

import pydicom
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from deid.engine import Context
from deid.profiles import profile_plan
from deid.recipe import load_recipe
from deid.runner.api import build_plan
from deid.runner.fastwrite import fast_path_applies, save_dataset

from .helpers import sample_files


def _read(path: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(path)


def _pydicom_bytes(ds: Any) -> bytes | None:
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ds.save_as(out)
        except Exception:  # noqa: BLE001 - pydicom cannot write some of its own test files
            return None
    return out.getvalue()


def _ours(ds: Any) -> bytes:
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        save_dataset(ds, out)
    return out.getvalue()


def _readable() -> list[str]:
    found = []
    for path in sample_files():
        try:
            _read(path)
        except Exception:  # noqa: BLE001, S112 - deliberately broken test files
            continue
        found.append(path)
    return found


FILES = _readable()


def test_same_bytes_as_save_as_on_every_sample_file() -> None:
    fast = compared = 0
    for path in FILES:
        expected = _pydicom_bytes(_read(path))
        if expected is None:
            continue
        ds = _read(path)
        fast += fast_path_applies(ds)
        assert _ours(ds) == expected, path
        compared += 1
    assert compared > 50
    assert fast > 30  # the comparison really exercised the fast path


@pytest.mark.parametrize("how", ["basic", "recipe"])
def test_same_bytes_after_de_identification(how: str) -> None:
    plan = profile_plan("basic") if how == "basic" else build_plan(load_recipe("dicom"))
    fast = 0
    for path in FILES:
        a, b = _read(path), _read(path)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                plan.apply(a, Context(key="k" * 20, filename=path))
                plan.apply(b, Context(key="k" * 20, filename=path))
        except Exception:  # noqa: BLE001, S112 - files the engine refuses are not written
            continue
        expected = _pydicom_bytes(a)
        if expected is None:
            continue
        fast += fast_path_applies(b)
        assert _ours(b) == expected, path
    assert fast > 30


def _dataset(**kwargs: Any) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = kwargs.pop("syntax", ExplicitVRLittleEndian)
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3"
    ds.preamble = b"\0" * 128
    ds.PatientName = "Doe^John"
    ds.Modality = "CT"
    for key, value in kwargs.items():
        setattr(ds, key, value)
    return ds


def _round_trip(ds: Dataset) -> Any:
    """``ds`` written by pydicom and read back: its elements are raw, as in a real file."""
    buf = io.BytesIO()
    ds.save_as(buf)
    return pydicom.dcmread(io.BytesIO(buf.getvalue()))


def test_edge_elements_written_as_pydicom_does() -> None:
    item = Dataset()
    item.CodeValue = "123"
    item.CodeMeaning = "odd"  # odd length: padded
    ds = _dataset(
        ProcedureCodeSequence=Sequence([item, Dataset()]),
        ImageComments="x" * 3,
    )
    ds.add_new(0x7FE00010, "OB", b"\0" * 64)
    ds.add_new(0x00091010, "LO", "private value")
    ds.add_new(0x00090010, "LO", "ACME")
    ds.add_new(0x00200000, "UL", 12)  # a retired group length: never written
    raw = _round_trip(ds)
    assert fast_path_applies(raw)
    raw2 = _round_trip(ds)
    assert _ours(raw) == _pydicom_bytes(raw2)
    assert 0x00200000 not in pydicom.dcmread(io.BytesIO(_ours(_round_trip(ds))))


def test_undefined_length_sequence_and_long_short_vr_value() -> None:
    # pydicom decodes undefined-length sequences when reading; one left raw (as the engine's
    # scan may leave it) is written with its delimiter
    item = b"\xfe\xff\x00\xe0\xff\xff\xff\xff\xfe\xff\x0d\xe0\x00\x00\x00\x00"
    a, b = _round_trip(_dataset()), _round_trip(_dataset())
    for target in (a, b):
        target._dict[pydicom.tag.Tag(0x00081032)] = RawDataElement(
            pydicom.tag.Tag(0x00081032), "SQ", 0xFFFFFFFF, item, 0, False, True
        )
    assert _ours(a) == _pydicom_bytes(b)
    assert len(pydicom.dcmread(io.BytesIO(_ours(a))).ProcedureCodeSequence) == 1
    # a short-length VR holding more than 64 KiB: pydicom writes it as UN, and so do we
    big = _round_trip(_dataset())
    big2 = _round_trip(_dataset())
    for target in (big, big2):
        target._dict[pydicom.tag.Tag(0x00204000)] = RawDataElement(
            pydicom.tag.Tag(0x00204000), "LT", 70000, b"a" * 70000, 0, False, True
        )
    assert _ours(big) == _pydicom_bytes(big2)


def test_changed_elements_and_meta_go_through_pydicom() -> None:
    a, b = _round_trip(_dataset()), _round_trip(_dataset())
    for target in (a, b):
        target.PatientName = "ANON^X"
        target.file_meta.MediaStorageSOPInstanceUID = "2.25.1"
    assert _ours(a) == _pydicom_bytes(b)
    assert pydicom.dcmread(io.BytesIO(_ours(a))).file_meta.MediaStorageSOPInstanceUID == "2.25.1"


@pytest.mark.parametrize("case", ["implicit", "built_in_code", "no_meta", "bad_preamble"])
def test_other_datasets_are_left_to_pydicom(case: str) -> None:
    if case == "implicit":
        ds = _round_trip(_dataset(syntax=ImplicitVRLittleEndian))
    elif case == "built_in_code":
        ds = _dataset()
    elif case == "no_meta":
        ds = _round_trip(_dataset())
        del ds.file_meta
    else:
        ds = _round_trip(_dataset())
        ds.preamble = b"short"
    assert not fast_path_applies(ds)
    if case == "bad_preamble":
        with pytest.raises(ValueError, match="preamble"):
            save_dataset(ds, io.BytesIO())
        return
    expected = _pydicom_bytes(ds)
    assert _ours(ds) == expected


def test_values_left_on_disk_are_copied_file_to_file(tmp_path) -> None:
    """Pixel Data read as a window (never loaded) is written with the same bytes, to a real
    file (kernel copy) and to an in-memory one (chunks)."""
    from deid.runner.job import PIXEL_TAGS, WINDOW_SIZE, ElementWindow, read_dataset

    windowed = 0
    for path in FILES:
        expected = _pydicom_bytes(_read(path))
        if expected is None:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                ds = read_dataset(path, window_tags=PIXEL_TAGS)
            except Exception:  # noqa: BLE001, S112 - files deid refuses (truncated ...)
                continue
        elem = ds._dict.get(pydicom.tag.Tag(0x7FE00010))
        if elem is None or not isinstance(getattr(elem, "value", None), ElementWindow):
            continue
        assert elem.value.length >= WINDOW_SIZE
        windowed += 1
        target = tmp_path / "out.dcm"
        with open(target, "wb") as fh:
            save_dataset(ds, fh)
        assert target.read_bytes() == expected, path
        assert _ours(ds) == expected, path  # BytesIO: copied in chunks
    assert windowed >= 3


def test_window_copy_refuses_a_shrunken_source(tmp_path) -> None:
    from deid.runner.job import ElementWindow, TruncatedFileError

    src = tmp_path / "src.bin"
    src.write_bytes(b"x" * 100)
    window = ElementWindow(str(src), 10, 80)
    src.write_bytes(b"x" * 20)  # the input changed after it was read
    with open(tmp_path / "out.bin", "wb") as out, pytest.raises(TruncatedFileError):
        window.copy_to(out)


_DECODED_TAGS = {  # one element per VR the writer may encode itself (and a few it must not)
    "AE": 0x00080054, "AS": 0x00101010, "CS": 0x00080060, "DA": 0x00080020, "DS": 0x00180050,
    "DT": 0x0008002A, "IS": 0x00200013, "LO": 0x00081030, "LT": 0x00204000, "PN": 0x00081050,
    "SH": 0x00080050, "ST": 0x00081040, "TM": 0x00080030, "UC": 0x00081048, "UI": 0x00081155,
    "UR": 0x00080120, "UT": 0x00189374, "US": 0x00280103, "OB": 0x00091011, "UN": 0x00091012,
    "SS": 0x00189219, "UL": 0x00081161, "SL": 0x00186020, "UV": 0x0008040C, "SV": 0x00720082,
}
_TEXT = st.text(alphabet=st.sampled_from("AZaz09 .^-\\\\=\x1b\u00e9\u4e2d"), max_size=9)


@settings(max_examples=150, deadline=None)
@given(
    values=st.dictionaries(
        st.sampled_from(sorted(_DECODED_TAGS)),
        st.one_of(
            st.none(),
            _TEXT,
            st.lists(_TEXT, max_size=3),
            st.integers(0, 9).map(str),
            st.integers(-(2**65), 2**65),
            st.lists(st.integers(0, 9), max_size=3),
        ),
        max_size=8,
    ),
    charset=st.sampled_from([None, "ISO_IR 100", "ISO_IR 192", "ISO 2022 IR 87"]),
)
def test_decoded_values_written_as_pydicom_does(values: dict[str, Any], charset: Any) -> None:
    """Decoded elements (empty, text, lists, odd lengths, non-ASCII, ESC, every text VR, integers
    in and out of range, a few other VRs): the fast writer's bytes are pydicom's, or it leaves
    the element to pydicom."""
    pair = []
    for _ in range(2):
        ds = _round_trip(_dataset())
        if charset is not None:
            ds._dict[pydicom.tag.Tag(0x00080005)] = RawDataElement(
                pydicom.tag.Tag(0x00080005), "CS", len(charset) + len(charset) % 2,
                (charset + " " * (len(charset) % 2)).encode(), 0, False, True,
            )
            ds._read_charset = ds._character_set  # as read from a file with that charset
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for vr, value in values.items():
                if vr in ("OB", "UN") and value is not None:
                    continue  # only their empty value concerns the plain path
                try:
                    elem = DataElement(
                        _DECODED_TAGS[vr], vr, value, validation_mode=pydicom.config.IGNORE
                    )
                except (ValueError, TypeError, AttributeError):  # e.g. DS "=", PN 0: pydicom
                    # cannot hold it at all
                    continue
                ds._dict[pydicom.tag.Tag(_DECODED_TAGS[vr])] = elem
        pair.append(ds)
    theirs = _pydicom_bytes(pair[1])
    if theirs is None:
        return  # pydicom cannot write it either
    assert _ours(pair[0]) == theirs


@pytest.mark.parametrize("undefined", [False, True])
def test_decoded_sequences_written_as_pydicom_does(undefined: bool) -> None:
    """Sequences decoded after reading (and changed): nested, empty and undefined-length items,
    a private sequence, an item with its own character set, an item added in code."""

    def build() -> Dataset:
        inner = Dataset()
        inner.CodeValue = "121"
        empty = Dataset()
        item = Dataset()
        item.ReferencedSOPInstanceUID = "1.2.3"
        item.PurposeOfReferenceCodeSequence = Sequence([inner, empty])
        own = Dataset()
        own.SpecificCharacterSet = "ISO_IR 192"  # UTF-8 in an ISO_IR 100 dataset
        own.PatientName = "D\u00f6^J"
        ds = _dataset(SourceImageSequence=Sequence([item, Dataset()]))
        ds.SpecificCharacterSet = "ISO_IR 100"
        ds.ReferencedStudySequence = Sequence([own])
        ds.add_new(0x00090010, "LO", "ACME")
        ds.add_new(0x00091001, "SQ", Sequence([Dataset()]))
        for tag in (0x00082112, 0x00081110, 0x00091001):
            ds[tag].is_undefined_length = undefined
        item.is_undefined_length_sequence_item = undefined
        return ds

    pair = []
    for _ in range(2):
        ds = _round_trip(build())
        src = ds.SourceImageSequence  # decoded, as the engine decodes what it changes
        src[0].ReferencedSOPInstanceUID = "2.25.7"
        src[0].PurposeOfReferenceCodeSequence[0].CodeValue = "122"
        _ = ds.ReferencedStudySequence[0].PatientName
        added = Dataset()  # made in code: no original encoding, its sequence left to pydicom
        added.CodeValue = "9"
        ds[0x00091001].value.append(added)
        # an item read from an implicit VR file: pydicom re-encodes it, and its sequence
        implicit = Dataset()
        implicit.CodeValue = "8"
        buf = io.BytesIO()
        implicit.save_as(buf, implicit_vr=True, little_endian=True)
        read = pydicom.dcmread(io.BytesIO(buf.getvalue()), force=True)
        assert read.original_encoding == (True, True)
        ds.OtherPatientIDsSequence = Sequence([Dataset(read)])
        ds.OtherPatientIDsSequence[0].set_original_encoding(True, True, "iso8859")
        pair.append(ds)
    assert _ours(pair[0]) == _pydicom_bytes(pair[1])
    back = pydicom.dcmread(io.BytesIO(_ours(pair[0])))
    assert back.SourceImageSequence[0].ReferencedSOPInstanceUID == "2.25.7"
    assert back.ReferencedStudySequence[0].PatientName == "D\u00f6^J"
