"""deid.engine.rawscan: scanning undecoded sequences gives the same results as decoding them."""

from __future__ import annotations

import io
import os

import pydicom
import pytest
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.sequence import Sequence
from shared import sample_files

from deid.engine import compile_plan
from deid.engine import plan as plan_module
from deid.engine.rawscan import decode_sequence, scan_sequence

from .conftest import build_plan, build_recipe, default_recipe_text, deid_data_file, make_dataset


def encode_items(*items: Dataset, undefined: bool = False) -> bytes:
    out = b""
    for item in items:
        buf = DicomBytesIO()
        buf.is_little_endian, buf.is_implicit_VR = True, False
        write_dataset(buf, item)
        body = buf.getvalue()
        if undefined:
            out += b"\xfe\xff\x00\xe0\xff\xff\xff\xff" + body + b"\xfe\xff\x0d\xe0\x00\x00\x00\x00"
        else:
            out += b"\xfe\xff\x00\xe0" + len(body).to_bytes(4, "little") + body
    return out


def collect(value: bytes, name: str = "Seq"):
    seen = []

    def visit(prefix, tag, vr, creator):
        seen.append((prefix, tag, vr, creator))
        return False

    return scan_sequence(value, name, visit), seen


def test_scan_sees_nested_private_and_creators() -> None:
    inner = Dataset()
    inner.CodeMeaning = "x"
    item = Dataset()
    item.add_new(0x00090010, "LO", "ACME 1.0")
    item.add_new(0x00091001, "LO", "v")
    item.ConceptNameCodeSequence = Sequence([inner])
    for undefined in (False, True):
        ok, seen = collect(encode_items(item, item, undefined=undefined))
        assert ok
        assert ("Seq", 0x00091001, "LO", "ACME 1.0") in seen
        assert ("Seq__ConceptNameCodeSequence", 0x00080104, "LO", None) in seen
        assert len(seen) == 8


def test_scan_stops_on_selection_and_gives_up_on_odd_bytes() -> None:
    item = Dataset()
    item.PatientName = "x"
    value = encode_items(item)
    assert not scan_sequence(value, "S", lambda *a: True)
    assert not scan_sequence(value[:-1], "S", lambda *a: False)  # truncated
    assert not scan_sequence(b"\x08\x00\x10\x00" + value[4:], "S", lambda *a: False)
    un = Dataset()
    un.add_new(0x00091001, "UN", b"abcd")
    assert not scan_sequence(encode_items(un), "S", lambda *a: False)
    assert scan_sequence(b"", "S", lambda *a: True)


FILES = [
    ("humans", "ctbrain1.dcm"),
    ("humans", "ctbrain2.dcm"),
    ("dicom-cookies", "image1.dcm"),
    ("animals", "cat.dcm"),
    ("ultrasounds", "GREYSCALE_IMAGE.dcm"),
]
BODIES = [
    "REMOVE contains:UID",
    "REMOVE startswith:Referenced\nREPLACE CodeMeaning x",
    "BLANK select:vr:SQ\nJITTER select:vr:DA 2",
    "KEEP contains:Sequence\nREMOVE ALL",
    'REMOVE (0029,"SIEMENS CSA HEADER",10)\nREPLACE CodeMeaning X\nREMOVE contains:Private',
    "REMOVE CodeValue\nREMOVE (0008,0100)",
]


def _bytes(ds) -> bytes:
    out = io.BytesIO()
    ds.save_as(out)
    return out.getvalue()


@pytest.mark.parametrize("body", BODIES + ["DEFAULT"])
def test_same_output_with_and_without_scanning(body, monkeypatch) -> None:
    recipe = (
        build_recipe(default_recipe_text())
        if body == "DEFAULT"
        else build_recipe("FORMAT dicom\n%header\n" + body)
    )
    results = {}
    for scan in (True, False):
        monkeypatch.setattr(plan_module._Run, "scan", scan)
        plan = compile_plan(recipe)
        outs = []
        for folder, name in FILES:
            path = deid_data_file(folder, name)
            if not os.path.exists(path):
                continue
            ds = pydicom.dcmread(path)
            log = plan.apply(ds)
            outs.append((_bytes(ds), [(c.path, c.action) for c in log]))
        results[scan] = outs
    assert results[True] == results[False]


def test_unselected_sequence_stays_undecoded() -> None:
    from pydicom.dataelem import RawDataElement

    buf = io.BytesIO()
    make_dataset(file_dataset=True).save_as(buf, enforce_file_format=True)
    ds = pydicom.dcmread(io.BytesIO(buf.getvalue()))
    plan = build_plan("REMOVE PatientID")
    plan.apply(ds)
    assert all(isinstance(ds._dict[t], RawDataElement) for t in (0x00081110, 0x00400275))
    assert any(key.prefix for key in plan._memo)  # the nested elements were looked at


def test_collect_values_finds_nested_elements_and_gives_up_when_unsure() -> None:
    from deid.engine.rawscan import collect_values

    inner = Dataset()
    inner.PatientID = "INNER"
    item = Dataset()
    item.PatientID = "P-1"
    item.CodeValue = "7"
    item.ScheduledProtocolCodeSequence = Sequence([inner])
    buf = DicomBytesIO()
    buf.is_little_endian, buf.is_implicit_VR = True, False
    write_dataset(buf, item)
    body = buf.getvalue()
    raw = b"\xfe\xff\x00\xe0" + len(body).to_bytes(4, "little") + body
    found = collect_values(raw, frozenset({0x00100020}))
    assert sorted(v.strip() for _, _, v in found) == [b"INNER", b"P-1"]
    assert collect_values(raw[:-3], frozenset({0x00100020})) is None
    assert collect_values(b"junk", frozenset({0x00100020})) is None


# -- decode_sequence ----------------------------------------------------------------------------


def _state(ds: Dataset, depth: int = 0) -> list:
    """Everything pydicom's decoding leaves on a dataset and its decoded sequences."""
    out: list = [
        ds.original_encoding,
        ds.original_character_set,
        getattr(ds, "_parent_encoding", None),
        getattr(ds, "_pixel_rep", None),
        getattr(ds, "is_undefined_length_sequence_item", None),
        getattr(ds, "seq_item_tell", None),
        getattr(ds, "file_tell", None),
    ]
    for tag in sorted(ds._dict):
        elem = ds._dict[tag]
        if tag == 0x00280103:  # pydicom decodes it to spread it into items; we may not
            out.append(("PixelRepresentation", ds[tag].value))
            continue
        if type(elem) is RawDataElement:
            out.append(tuple(elem))
            continue
        out.append(
            (
                elem.tag,
                elem.VR,
                elem.file_tell,
                elem.is_undefined_length,
                elem.private_creator,
                elem.validation_mode,
            )
        )
        if elem.VR == "SQ" and depth < 8:
            seq = elem.value
            undefined = getattr(seq, "is_undefined_length", None)
            out.append(("seq", type(seq).__name__, undefined, len(seq)))
            out.extend(_state(item, depth + 1) for item in seq)
        else:
            out.append(repr(elem.value))
    return out


def _decode_all(ds: Dataset, ours: bool, depth: int = 0) -> int:
    """Decode every sequence (any depth), by decode_sequence or by pydicom; count ours."""
    done = 0
    for tag in sorted(ds._dict):
        raw = ds._dict[tag]
        if getattr(raw, "VR", None) != "SQ":
            continue
        value = decode_sequence(ds, tag) if ours and depth < 8 else None
        if value is None:
            value = ds[tag].value
        else:
            done += 1
        for item in value:
            done += _decode_all(item, ours, depth + 1)
    return done


def test_decode_sequence_equals_pydicom_on_every_sample_file() -> None:
    import warnings

    decoded = files = 0
    for path in sample_files():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                a = pydicom.dcmread(path, stop_before_pixels=True)
                b = pydicom.dcmread(path, stop_before_pixels=True)
            except Exception:  # noqa: BLE001, S112 - unreadable samples are not the point
                continue
            found = _decode_all(a, ours=True)
            _decode_all(b, ours=False)
            assert _state(a) == _state(b), path
        decoded += found
        files += bool(found)
    assert decoded > 100 and files >= 15  # the fast path is exercised, not just the fallback


def _item_bytes(item: Dataset, undefined: bool = False) -> bytes:
    buf = DicomBytesIO()
    buf.is_little_endian, buf.is_implicit_VR = True, False
    write_dataset(buf, item)
    body = buf.getvalue()
    if undefined:
        return b"\xfe\xff\x00\xe0\xff\xff\xff\xff" + body + b"\xfe\xff\x0d\xe0\x00\x00\x00\x00"
    return b"\xfe\xff\x00\xe0" + len(body).to_bytes(4, "little") + body


def _holder(value: bytes, charset: str | None = None, pixel_rep: int | None = None) -> Dataset:
    from pydicom.tag import Tag

    ds = Dataset()
    if charset is not None:
        ds.SpecificCharacterSet = charset
    if pixel_rep is not None:
        ds.PixelRepresentation = pixel_rep
    ds._dict[Tag(0x00081140)] = RawDataElement(
        Tag(0x00081140), "SQ", len(value), value, 1234, False, True
    )
    ds.set_original_encoding(False, True, charset or "iso8859")
    return ds


def test_decode_sequence_built_items_equal_pydicom() -> None:
    first = Dataset()
    first.ReferencedSOPInstanceUID = "1.2.3"
    first.add_new(0x00091010, "LO", "ACME")  # a private creator and its element
    first.add_new(0x00091001, "LO", "x")
    first.CodeMeaning = ""  # empty value
    first.LUTDescriptor = [1, 2, 3]  # an ambiguous VR ("US or SS"), written as US
    inner = Dataset()
    inner.CodeValue = "121"
    first.PurposeOfReferenceCodeSequence = Sequence([inner])  # nested, defined length
    second = Dataset()
    second.PatientName = "Doe^J\u00e9"
    # an undefined-length sequence inside an item (pydicom reads it at once), with an empty
    # undefined-length item and an empty item in the middle (pydicom peeks past empty items)
    nested_sq = (
        b"\x08\x00\x40\x11SQ\x00\x00\xff\xff\xff\xff"
        + _item_bytes(Dataset(), undefined=True)
        + _item_bytes(inner, undefined=True)
        + b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"
    )
    third = b"\xfe\xff\x00\xe0" + len(nested_sq).to_bytes(4, "little") + nested_sq
    value = (
        _item_bytes(first)
        + _item_bytes(Dataset())
        + _item_bytes(second, undefined=True)
        + third
        + _item_bytes(Dataset(), undefined=True)
        + _item_bytes(Dataset())
    )
    for charset, pixel_rep in ((None, None), ("ISO_IR 100", 1), (["", "ISO 2022 IR 87"], 0)):
        a, b = _holder(value, charset, pixel_rep), _holder(value, charset, pixel_rep)
        assert decode_sequence(a, 0x00081140) is not None
        _ = b[0x00081140]
        assert _decode_all(a, ours=True) >= 1
        _decode_all(b, ours=False)
        assert _state(a) == _state(b)


@pytest.mark.parametrize(
    "case",
    [
        "implicit_item",
        "own_charset",
        "inner_encapsulated",
        "inner_unended",
        "delimiter",
        "cut",
        "cut_header",
        "bad_vr",
    ],
)
def test_decode_sequence_leaves_unusual_sequences_to_pydicom(case: str) -> None:
    item = Dataset()
    item.CodeValue = "121"
    good = _item_bytes(item)
    if case == "implicit_item":
        value = b"\xfe\xff\x00\xe0\x0c\x00\x00\x00" + b"\x08\x00\x00\x01\x04\x00\x00\x00121 "
    elif case == "own_charset":
        item.SpecificCharacterSet = "ISO_IR 100"
        value = _item_bytes(item)
    elif case == "inner_encapsulated":  # undefined-length binary value inside an item
        body = b"\x09\x00\x10\x10OB\x00\x00\xff\xff\xff\xff" + b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"
        value = b"\xfe\xff\x00\xe0" + len(body).to_bytes(4, "little") + body
    elif case == "inner_unended":  # an undefined-length sequence that runs past its item
        body = b"\x08\x00\x40\x11SQ\x00\x00\xff\xff\xff\xff" + _item_bytes(item)
        value = b"\xfe\xff\x00\xe0" + len(body).to_bytes(4, "little") + body + good
    elif case == "delimiter":
        value = good + b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"
    elif case == "cut":
        value = good[:-2]
    elif case == "cut_header":  # a long-VR header that ends after its VR
        value = b"\xfe\xff\x00\xe0\x08\x00\x00\x00" + b"\x08\x00\x40\x11SQ\x00\x00"
    else:
        value = good.replace(b"SH", b"ZZ")
    ds = _holder(value)
    before = ds._dict[0x00081140]
    assert decode_sequence(ds, 0x00081140) is None
    assert ds._dict[0x00081140] is before  # nothing changed: pydicom decodes it as usual
