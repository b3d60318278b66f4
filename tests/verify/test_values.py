"""deid.verify.values: which input values are identifying, and their byte forms."""

from __future__ import annotations

import pytest
from pydicom import Dataset
from pydicom.sequence import Sequence

from deid.verify.values import (
    RetainSet,
    collect_needles,
    element_label,
    keyword_of,
    non_identifying_values,
    retain_from_options,
)


def _texts(ds, **kw):
    return {n.text: n for n in collect_needles(ds, **kw)}


def test_person_name_split_into_parts_and_groups():
    ds = Dataset()
    ds.SpecificCharacterSet = ["", "ISO 2022 IR 87"]
    ds.PatientName = "Yamada^Tarou=山田^太郎=やまだ^たろう"
    t = _texts(ds)
    for part in ("Yamada", "Tarou", "山田", "太郎", "やまだ", "たろう", "山田太郎"):
        assert part in t, part
    # the ISO 2022 form is searched without its escape sequences
    assert b";3ed" in t["山田"].patterns


def test_multi_valued_names_and_words_inside_components():
    ds = Dataset()
    ds.OtherPatientNames = ["Smithers^Anna Maria", "Jones-Hale^Bob"]
    t = _texts(ds)
    assert {"Smithers", "Anna", "Maria", "Jones-Hale", "Anna Maria"} <= set(t)
    assert "Bob" in t  # three letters is enough for a name part
    assert t["Bob"].kind == "name"


@pytest.mark.parametrize("value", ["Li", "Dr.", "ANONYMOUS", "12", "3.5", "YES"])
def test_short_common_and_placeholder_values_are_not_searched(value):
    ds = Dataset()
    ds.OtherPatientIDs = value
    assert _texts(ds) == {}


def test_categories_ids_addresses_institution_device_free_text_dates_uids():
    ds = Dataset()
    ds.PatientID = "PID-778899"
    ds.PatientAddress = "12 Quill Lane"
    ds.InstitutionName = "Grey Hospital"
    ds.StationName = "CTSTATION9"
    ds.PatientComments = "fell off bike"
    ds.StudyDate = "20210305"
    ds.StudyInstanceUID = "1.2.826.0.1.3680043.99.1"
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"  # a class, not an instance
    ds.Modality = "CT"
    kinds = {n.text: n.kind for n in collect_needles(ds)}
    assert kinds == {
        "PID-778899": "id",
        "12 Quill Lane": "address",
        "Grey Hospital": "institution",
        "CTSTATION9": "device",
        "fell off bike": "free_text",
        "20210305": "date",
        "1.2.826.0.1.3680043.99.1": "uid",
    }


def test_date_has_several_written_forms():
    ds = Dataset()
    ds.PatientBirthDate = "19700102"
    (n,) = collect_needles(ds)
    assert {b"19700102", b"1970-01-02", b"02/01/1970", b"01/02/1970", b"02.01.1970"} <= set(
        n.patterns
    )


def test_nested_identifying_sequences_and_private_values():
    ds = Dataset()
    code = Dataset()
    code.CodeValue = "EMP-4455"
    ident = Dataset()
    ident.PersonIdentificationCodeSequence = Sequence([code])
    ds.ReferringPhysicianIdentificationSequence = Sequence([ident])
    block = ds.private_block(0x0029, "SIEMENS CSA HEADER", create=True)
    block.add_new(0x10, "OB", b"CSA\x00Quux^Zed\x00MRN-9\x00")
    t = _texts(ds)
    assert t["EMP-4455"].kind == "id"
    assert "(0008,0096)[0].(0040,1101)[0].(0008,0100) CodeValue" == t["EMP-4455"].source
    assert t["Quux^Zed"].kind == "private" and "Quux" in t and "MRN-9" in t
    assert "SIEMENS CSA HEADER" not in t  # creators are not values


def test_retain_options_drop_what_they_keep():
    ds = Dataset()
    ds.StudyDate = "20200101"
    ds.StudyInstanceUID = "1.2.3.4.5.6"
    ds.StationName = "STATIONX"
    ds.InstitutionName = "Grey Hospital"
    ds.StudyDescription = "CT head"
    retain = retain_from_options(
        [
            "Retain UIDs",
            "retain-long-full-dates",
            "retain-device-identity",
            "113112",
            "clean-descriptors",
        ]
    )
    assert retain == RetainSet(
        uids=True, full_dates=True, device=True, institution=True, descriptors=True
    )
    assert collect_needles(ds, retain) == []
    assert len(collect_needles(ds)) == 5


def test_safe_private_keeps_only_unchanged_private_elements():
    ds = Dataset()
    block = ds.private_block(0x0011, "ACME", create=True)
    block.add_new(0x01, "LO", "kept-value-1")
    block.add_new(0x02, "LO", "removed-value")
    retain = retain_from_options(["retain-safe-private"])
    removed = {"(0011,1002) private"}
    texts = {n.text for n in collect_needles(ds, retain, removed_private=removed)}
    assert texts == {"removed-value"}
    assert {n.text for n in collect_needles(ds)} == {"kept-value-1", "removed-value"}


def test_extra_keys_from_a_recipe_add_free_text():
    ds = Dataset()
    ds.ProtocolName = "Protocol of Dr Quimby"  # not a built-in category
    ds.Manufacturer = "ACME"
    assert _texts(ds).keys() == {"Protocol of Dr Quimby"}
    ds2 = Dataset()
    ds2.Manufacturer = "ACME Devices"
    assert _texts(ds2) == {}
    assert set(_texts(ds2, extra_keys={"(0008,0070) Manufacturer"})) == {"ACME Devices"}


def test_file_meta_and_preamble_values():
    ds = Dataset()
    ds.file_meta = Dataset()
    ds.file_meta.SourceApplicationEntityTitle = "HOSPITAL_AE1"
    ds.file_meta.ImplementationVersionName = "SOMETOOL_10"
    ds.preamble = b"TIFF Quimbyson 0042\x00".ljust(128, b"\x00")
    t = _texts(ds)
    assert "HOSPITAL_AE1" in t and "Quimbyson" in t
    assert "SOMETOOL_10" not in t


def test_labels_and_keywords_of_repeating_groups():
    assert keyword_of(0x60001500) == "OverlayLabel"
    assert keyword_of(0x00091001) == ""
    assert element_label(0x00091001) == "(0009,1001) private"


def test_non_identifying_values_excludes_identifying_elements():
    ds = Dataset()
    ds.BodyPartExamined = "CHEST"
    ds.PatientID = "CHEST"
    assert non_identifying_values(ds, collect_needles(ds)) == {"chest"}


def test_file_meta_private_information_is_searched():
    ds = Dataset()
    ds.file_meta = Dataset()
    ds.file_meta.PrivateInformationCreatorUID = "1.2.3.4"
    ds.file_meta.PrivateInformation = b"routed for Zebulon Quaxley\x00"
    texts = {n.text: n.kind for n in collect_needles(ds)}
    assert texts.get("routed for Zebulon Quaxley") == "private"
