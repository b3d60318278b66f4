"""deid.engine.rawscan: scanning undecoded sequences gives the same results as decoding them."""

from __future__ import annotations

import io
import os

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.sequence import Sequence

from deid.engine import compile_plan
from deid.engine import plan as plan_module
from deid.engine.rawscan import scan_sequence

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
