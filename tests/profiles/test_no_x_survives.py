"""No attribute the Basic Profile marks X survives: top level, nested items, file meta.

The dataset is built from the table itself: every X row with a tag pydicom can encode is put at
the top level and inside an item of a sequence that the profile keeps (Source Image Sequence,
X/Z/U*), plus every private and repeating-group row.
"""

from __future__ import annotations

import io

import pydicom
import pytest
from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence

from deid.engine.context import Context
from deid.profiles import load_table, profile_plan

from .study import walk

SAMPLE = {
    "AE": "AE1",
    "AS": "030Y",
    "CS": "VAL",
    "DA": "20200101",
    "DS": "1.5",
    "DT": "20200101",
    "IS": "3",
    "LO": "text",
    "LT": "long text",
    "PN": "Doe^John",
    "SH": "short",
    "ST": "st",
    "TM": "101010",
    "UC": "uc",
    "UI": "1.2.3.4",
    "UR": "http://x",
    "UT": "ut",
    "FL": 1.0,
    "FD": 1.0,
    "SL": 1,
    "SS": 1,
    "UL": 1,
    "US": 1,
    "SV": 1,
    "UV": 1,
    "OB": b"\x01\x02",
    "OW": b"\x01\x02",
    "OD": b"\x00" * 8,
    "OF": b"\x00" * 4,
    "OL": b"\x00" * 4,
    "OV": b"\x00" * 8,
    "UN": b"\x01\x02",
}


def _elements(x_rows):
    out = []
    for row in x_rows:
        try:
            vr = dictionary_VR(row.tag).split(" ")[0]
        except KeyError:
            vr = "LO"
        if vr == "SQ":
            item = Dataset()
            item.CodeValue = "1"
            out.append((row.tag, vr, Sequence([item])))
        else:
            out.append((row.tag, vr, SAMPLE.get(vr, "x")))
    return out


@pytest.fixture(scope="module")
def x_rows():
    table = load_table()
    return [r for r in table.rows if r.kind == "tag" and r.basic == "X"]


def _build(x_rows):
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = "1.2.3.99"
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    meta.SourceApplicationEntityTitle = "SOURCE"
    meta.SendingApplicationEntityTitle = "SENDER"
    meta.PrivateInformationCreatorUID = "1.2.3"
    meta.PrivateInformation = b"secret"
    ds.file_meta = meta
    item = Dataset()
    item.ReferencedSOPClassUID = ds.SOPClassUID
    item.ReferencedSOPInstanceUID = "1.2.3.98"
    for tag, vr, value in _elements(x_rows):
        if tag >> 16 == 0x0002:
            meta.add_new(tag, vr, value)
            continue
        ds.add_new(tag, vr, value)
        item.add_new(tag, vr, value)
    ds.SourceImageSequence = Sequence([item])
    for group in (0x5000, 0x5002, 0x601E):
        ds.add_new((group << 16) | 0x3000, "OW", b"\x00\x01")
        ds.add_new((group << 16) | 0x4000, "LT", "overlay comment")
    ds.private_block(0x0009, "ANY CREATOR", create=True).add_new(0x01, "LO", "Doe^John")
    item.private_block(0x0011, "ANY CREATOR", create=True).add_new(0x02, "LO", "Doe^John")
    return ds


def test_no_x_attribute_survives_anywhere(x_rows):
    ds = _build(x_rows)
    before = {e.tag for e in walk(ds)} | {e.tag for e in ds.file_meta}
    assert len(before) > 300
    plan = profile_plan("basic", ())
    plan.apply(ds, Context(key="no x survives key 0123456789"))
    table = load_table()
    survivors = []
    for elem in list(walk(ds)) + list(ds.file_meta):
        row = table.row_for_tag(int(elem.tag))
        if row is not None and row.basic == "X":
            survivors.append(f"{elem.tag} {elem.keyword}")
    assert survivors == []
    assert ds.SourceImageSequence[0].ReferencedSOPInstanceUID.startswith("2.25.")
    assert not any(e.tag.is_private for e in walk(ds))
    assert not any(
        (int(e.tag) >> 16) & 0xFF00 in (0x5000, 0x6000) and e.tag.element in (0x3000, 0x4000)
        for e in walk(ds)
    )
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    back = pydicom.dcmread(io.BytesIO(buf.getvalue()))
    assert back.file_meta.MediaStorageSOPInstanceUID == back.SOPInstanceUID
    for name in (
        "SourceApplicationEntityTitle",
        "SendingApplicationEntityTitle",
        "PrivateInformation",
    ):
        assert name not in back.file_meta


def test_x_rows_are_removed_even_with_every_option(x_rows):
    """Options only retain what their column says; other X rows stay removed."""
    ds = _build(x_rows)
    opts = (
        "retain-uids",
        "retain-device-identity",
        "retain-institution-identity",
        "retain-patient-characteristics",
        "retain-long-full-dates",
        "clean-descriptors",
        "clean-graphics",
        "clean-structured-content",
        "retain-safe-private",
    )
    profile_plan("basic", opts).apply(ds, Context(key="no x survives key 0123456789"))
    table = load_table()
    for elem in walk(ds):
        row = table.row_for_tag(int(elem.tag))
        if row is not None and row.basic == "X" and row.kind == "tag":
            assert any(o in row.options for o in opts), f"{elem.tag} {row.name}"
