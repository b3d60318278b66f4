"""Tests for deid.dicom.fields: the flattened index and field expressions."""

from __future__ import annotations

import pydicom
import pytest
from pydicom import Dataset

from deid.dicom.fields import (
    DicomField,
    FieldsWithLookups,
    expand_field_expression,
    extract_sequence,
    get_fields_with_lookup,
    split_expander_expression,
)
from deid.dicom.parser import DEFAULT_CONFIG
from deid.errors import DeidError

SKIP = DEFAULT_CONFIG["get"]["skip"]


def test_ctbrain_counts_match_upstream(ctbrain1):
    ds = pydicom.dcmread(ctbrain1)
    assert len(get_fields_with_lookup(ds, skip=SKIP)) == 218
    assert len(get_fields_with_lookup(ds, skip=SKIP, expand_sequences=False)) == 180


def test_uids_names_and_file_meta(nested):
    fields = get_fields_with_lookup(nested)
    uid = "(0040,0275)__0__(0008,1110)__0__(0008,1155)"
    assert uid in fields
    assert fields[uid].name == (
        "RequestAttributesSequence__ReferencedStudySequence__ReferencedSOPInstanceUID"
    )
    assert fields[uid].element.value == "1.2.3.4.5"
    meta = fields["(0002,0003)"]
    assert meta.is_filemeta and not fields["(0010,0010)"].is_filemeta
    # breadth-first: top-level elements, then file meta, then sequence items level by level
    order = list(fields)
    assert order.index("(0002,0003)") > order.index("(0040,0275)")
    assert order.index("(0040,0275)__0__(0010,0010)") > order.index("(0002,0003)")
    deepest = order.index("(0040,0275)__0__(0008,1110)__0__(0008,0104)")
    assert deepest > order.index("(0040,0275)__0__(0010,0010)")


def test_skip_applies_at_every_depth(nested):
    fields = get_fields_with_lookup(nested, skip=["PatientName", "(0008,1110)"])
    assert not any(f.element.keyword == "PatientName" for f in fields.values())
    assert not any("(0008,1110)" in u for u in fields)


def test_dicomfield_properties_and_str(nested):
    field = DicomField(nested["PatientName"], "PatientName", "(0010,0010)")
    assert field.tag == "(0010,0010)" and field.stripped_tag == "00100010"
    assert str(field).endswith("  [PatientName]") and "Doe^Jane" in repr(field)
    assert field.element_keyword == "PatientName" and field.element_name == "Patient's Name"
    assert field.value_contains("jane") and not field.value_contains("john")


def test_exact_matches_hit_every_depth(nested):
    found = expand_field_expression("PatientName", nested)
    assert sorted(found) == ["(0010,0010)", "(0040,0275)__0__(0010,0010)"]
    for form in ("(0010,0010)", "00100010", "patientname", "Patient's Name"):
        assert sorted(expand_field_expression(form, nested)) == sorted(found)
    nested_uid = "(0040,0275)__0__(0010,0010)"
    assert list(expand_field_expression(nested_uid, nested)) == [nested_uid]
    by_name = expand_field_expression("RequestAttributesSequence__PatientName", nested)
    assert list(by_name) == [nested_uid]
    assert expand_field_expression("0x00100010", nested) == {}
    assert expand_field_expression("(0010, 0010)", nested) == {}


def test_private_creator_forms(nested):
    for form in ('(0011,"ACME 1.0",01)', '0011,"ACME 1.0",01', '(0011,"acme 1.0",01)'):
        assert list(expand_field_expression(form, nested)) == ["(0011,1001)"]
    assert expand_field_expression('(0011,"OTHER",01)', nested) == {}
    assert list(expand_field_expression('contains:"ACME 1.0"', nested)) == ["(0011,1001)"]


def test_expanders(nested):
    ends = expand_field_expression("endswith:Date", nested)
    assert [f.name for f in ends.values()] == ["StudyDate"]
    starts = expand_field_expression("startswith:Patient", nested)
    assert {f.element.keyword for f in starts.values()} == {"PatientName", "PatientID"}
    # anchors apply per candidate string, so a nested PatientName matches via its keyword
    assert "(0040,0275)__0__(0010,0010)" in starts
    both = expand_field_expression("endswith:Date|ID", nested)
    # case-insensitive, so "ID" also ends "...UID"
    assert {f.element.keyword for f in both.values()} == {
        "StudyDate",
        "PatientID",
        "StudyInstanceUID",
        "ReferencedSOPInstanceUID",
        "MediaStorageSOPInstanceUID",
        "TransferSyntaxUID",
    }
    contains = expand_field_expression("contains:0011", nested)
    assert set(contains) == {"(0011,0010)", "(0011,1001)"}
    uid_fields = expand_field_expression("contains:UID", nested)
    assert "(0002,0003)" in uid_fields and "(0020,000D)" in uid_fields
    every = expand_field_expression("ALL", nested)
    excepted = expand_field_expression("except:Patient", nested)
    assert set(excepted) == set(every) - set(starts)
    assert expand_field_expression("allfields", nested) == {}
    assert expand_field_expression("foo:bar", nested) == {}


def test_select_expanders(nested):
    pn = expand_field_expression("select:vr:PN", nested)
    assert {f.element.keyword for f in pn.values()} == {"PatientName"} and len(pn) == 2
    assert set(expand_field_expression("select:VR:pn", nested)) == set(pn)
    group = expand_field_expression("select:group:0011", nested)
    assert set(group) == {"(0011,0010)", "(0011,1001)"}
    assert expand_field_expression("select:other:1", nested) == {}


def test_bad_regex_is_a_deid_error(nested):
    with pytest.raises(DeidError, match="regular expression"):
        expand_field_expression("contains:(", nested)


def test_contenders_forms(nested):
    lookups = get_fields_with_lookup(nested)
    as_dict = dict(lookups.items())
    as_list = list(lookups.values())
    for contenders in (lookups, as_dict, as_list):
        assert len(expand_field_expression("endswith:UID", contenders=contenders)) == 5
    with pytest.raises(DeidError):
        expand_field_expression("all")


def test_fieldswithlookups_mapping_behaviour(nested):
    lookups = get_fields_with_lookup(nested)
    assert isinstance(lookups, FieldsWithLookups) and "(0010,0010)" in lookups
    n = len(lookups)
    lookups.remove("(0010,0010)")
    assert "(0010,0010)" not in lookups.get_exact_matches("patientname")
    lookups.remove_children("(0040,0275)")
    assert len(lookups) == n - 1 - 5  # 3 elements in item 0, 2 in its nested item
    del lookups["(0010,0020)"]
    assert lookups.get("(0010,0020)") is None and "(0010,0020)" not in list(lookups.keys())


def test_split_expander():
    assert split_expander_expression("select:vr:PN") == ("select", "vr:PN")
    assert split_expander_expression("PatientName") == (None, "PatientName")


def test_extract_sequence(nested):
    flat = extract_sequence(nested.RequestAttributesSequence, prefix="RAS")
    assert flat["RAS__ReferencedStudySequence__ReferencedSOPInstanceUID"] == "1.2.3.4.5"
    assert flat["RAS__PatientName"] == "Nested^Name"
    assert extract_sequence([]) == {}
    assert extract_sequence([Dataset()]) == {}
