"""deid.engine.walk: upstream's flattening (uid and name forms), skip list, file meta."""

from __future__ import annotations

import pydicom
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydicom.dataset import Dataset

from deid.engine.walk import (
    DEFAULT_SKIP_TAGS,
    Field,
    element_name,
    iter_fields,
    keyword_of,
    private_creator,
    skip_tags,
)

from .conftest import deid_data_file, make_dataset


def test_uid_and_name_forms(dataset) -> None:
    fields = {f.uid: f for f in iter_fields(dataset)}
    nested = fields["(0040,0275)__0__(0040,0008)__0__(0008,0104)"]
    assert nested.name == "RequestAttributesSequence__ScheduledProtocolCodeSequence__CodeMeaning"
    assert nested.element.value == "Secret meaning"
    assert fields["(0040,0275)__1__(0040,1001)"].element.value == "RP2"
    # private sequences contribute "" to names
    assert fields["(0009,1003)__0__(0008,0018)"].name == "__SOPInstanceUID"
    assert fields["(0009,1001)"].name == ""


def test_order_top_level_file_meta_then_nested(dataset) -> None:
    items = list(iter_fields(dataset))
    depth = [f.uid.count("__") // 2 for f in items]
    assert depth == sorted(depth)  # breadth-first
    meta = [i for i, f in enumerate(items) if f.is_filemeta]
    first_nested = depth.index(1)
    assert meta and max(meta) < first_nested  # file meta right after the top level
    assert all(depth[i] == 0 for i in meta)


def test_skip_list_applies_at_every_depth_with_children(dataset) -> None:
    uids = {f.uid for f in iter_fields(dataset)}
    assert "(7FE0,0010)" not in uids and "(0002,0010)" not in uids
    uids = {f.uid for f in iter_fields(dataset, skip=["RequestAttributesSequence"])}
    assert not any(u.startswith("(0040,0275)") for u in uids)
    uids = {f.uid for f in iter_fields(dataset, disable_skip=True)}
    assert "(7FE0,0010)" in uids and "(0002,0010)" in uids


def test_expand_sequences_false(dataset) -> None:
    uids = [f.uid for f in iter_fields(dataset, expand_sequences=False)]
    assert "(0040,0275)" in uids and not any("__" in u for u in uids)


def test_counts_on_ctbrain1() -> None:
    ds = pydicom.dcmread(deid_data_file("humans", "ctbrain1.dcm"))
    assert len(list(iter_fields(ds))) == 218  # deid-behaviour.md 7.1
    assert len(list(iter_fields(ds, expand_sequences=False))) == 180


def test_cookie_file_meta_fields() -> None:
    ds = pydicom.dcmread(deid_data_file("dicom-cookies", "image1.dcm"))
    meta = [f.uid for f in iter_fields(ds) if f.is_filemeta]
    assert meta == ["(0002,0002)", "(0002,0003)", "(0002,0013)"]


def test_helpers() -> None:
    assert keyword_of(0x00100010) == "PatientName" and keyword_of(0x00091001) == ""
    assert element_name(0x00100010) == "Patient's Name"
    assert element_name(0x00090010) == "Private Creator"
    assert element_name(0x00091001) == "Private tag data"
    assert element_name(0x00091001, "ACME 1.0") == "Private tag data"
    ds = make_dataset()
    assert private_creator(ds, 0x00091002) == "ACME 1.0"
    assert private_creator(ds, 0x00100010) is None
    assert private_creator(ds, 0x000B1001) is None


def test_skip_tags_forms() -> None:
    assert skip_tags() == DEFAULT_SKIP_TAGS
    assert skip_tags(["00100010", "(0010,0020)", "PatientSex"]) == {
        0x00100010,
        0x00100020,
        0x00100040,
    }
    with pytest.raises(ValueError):
        skip_tags(["not a tag"])


def test_field_object() -> None:
    ds = Dataset()
    ds.PatientID = "1"
    field = next(iter(iter_fields(ds)))
    made = Field(field.element, field.name, field.uid)
    assert (made.tag, made.stripped_tag, made.keyword) == ("(0010,0020)", "00100020", "PatientID")
    assert "PatientID" in repr(made) and str(made) == "(0010,0020) PatientID"


def test_light_element_reads_ascii_text_and_leaves_the_rest() -> None:
    import io

    from deid.engine.walk import LightElement, light_element

    ds = make_dataset()
    ds.PatientName = "Müller^Jürgen"
    ds.OtherPatientIDs = ["A1", "B2"]
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    back = pydicom.dcmread(io.BytesIO(buf.getvalue()))
    uid = light_element(back, 0x0020000D)
    assert uid.VR == "UI" and uid.value == "1.2.3.4.100" and 0x0020000D in back._dict
    assert type(back._dict[0x0020000D]).__name__ == "RawDataElement"  # not decoded
    assert light_element(back, 0x00101000).value == ["A1", "B2"]
    assert light_element(back, 0x00100010) is None  # not ASCII: pydicom decodes it
    assert light_element(back, 0x00280010) is None  # US: not a text VR
    stand_in = light_element(back, 0x00100020, stand_in=True)
    assert isinstance(stand_in, LightElement)
    assert (stand_in.keyword, stand_in.VM, stand_in.value) == ("PatientID", 1, "PID123")
    assert back.PatientID == "PID123"  # decoded now
    assert light_element(back, 0x00100020) is None


@settings(max_examples=400, deadline=None)
@given(
    vr=st.sampled_from(["AE", "AS", "CS", "DA", "DT", "LO", "PN", "SH", "TM", "UI", "LT"]),
    raw=st.lists(
        st.sampled_from(
            [b" ", b"\x00", b"\\", b"A", b"1", b".", b"^", b"=", b"\x1b", b"\xe9", b"\t", b"\n"]
        ),
        max_size=8,
    ).map(b"".join),
)
def test_light_element_value_is_pydicoms(vr: str, raw: bytes) -> None:
    """Whatever light_element reads from raw bytes is exactly pydicom's converted value."""
    import warnings

    from pydicom.dataelem import RawDataElement
    from pydicom.tag import Tag

    from deid.engine.walk import light_element

    ds = pydicom.Dataset()
    tag = Tag(0x00081030)
    ds._dict[tag] = RawDataElement(tag, vr, len(raw), raw, 0, False, True)
    light = light_element(ds, tag, stand_in=True)
    if light is None:
        return  # not read here: pydicom converts it
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = ds[tag].value
    expected = list(value) if type(value).__name__ == "MultiValue" else value
    assert light.value == expected or (light.value, expected) == ("", None)
