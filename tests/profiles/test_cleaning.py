"""deid.profiles.cleaning: VR dummies and contextual masking (Clean Descriptors)."""

from __future__ import annotations

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from deid.profiles.cleaning import DUMMY_BY_VR, dummy_value, identifying_terms, mask_terms


def test_dummies_are_valid_for_their_vr():
    from pydicom.dataelem import DataElement

    for vr, value in DUMMY_BY_VR.items():
        elem = DataElement(0x00090010 if vr == "LO" else 0x00091001, vr, value)
        assert elem.VR == vr
    assert dummy_value("OB or OW") == b""
    assert dummy_value("XX") == "ANONYMIZED"
    assert len(dummy_value("SH")) <= 16 and len(dummy_value("AE")) <= 16


def test_terms_include_name_parts_nested_values_and_date_spellings():
    ds = Dataset()
    ds.PatientName = "Doe^Jane^Q"
    ds.PatientBirthDate = "19700214"
    ds.AccessionNumber = "ACC1"
    item = Dataset()
    item.PersonName = "Reader^Rita"
    ds.ContentSequence = Sequence([item])
    terms = identifying_terms(ds, extra=["Extra Term"])
    for t in (
        "Doe^Jane^Q",
        "Doe",
        "Jane",
        "Jane Doe",
        "Doe, Jane",
        "19700214",
        "14/02/1970",
        "1970-02-14",
        "ACC1",
        "Reader",
        "Rita",
        "Extra Term",
    ):
        assert t in terms, t
    assert "Q" not in terms
    assert list(terms) == sorted(terms, key=lambda t: (-len(t), t))


def test_mask_is_case_insensitive_word_bounded_and_length_preserving():
    text = "Seen by DOE; doeville; Jane-Doe 1970-02-14"
    out = mask_terms(text, ["Doe", "Jane", "1970-02-14"])
    assert out == "Seen by ***; doeville; ****-*** **********"
    assert len(out) == len(text)
    assert mask_terms("", ["x"]) == ""


def test_ascii_spellings_of_names_are_masked_too():
    from deid.profiles.cleaning import ascii_spellings

    assert ascii_spellings("Schröder") == {"Schroder", "Schroeder"}
    assert ascii_spellings("Doe") == set()
    ds = Dataset()
    ds.PatientName = "Schröder^Björn"
    terms = identifying_terms(ds)
    assert "Schroder" in terms and "Bjorn" in terms and "Schroeder" in terms
    assert mask_terms("Annotated for Schroder, BJOERN", terms) == "Annotated for ********, ******"


def test_mask_terms_boundaries_overlaps_and_unicode_fallback():
    assert mask_terms("Smith-Jones and Smithers", ["Smith"]) == "*****-Jones and Smithers"
    assert mask_terms("ab", []) == "ab"
    # overlapping terms: everything either covers is masked
    assert mask_terms("ABC DEF GHI", ["ABC DEF", "DEF GHI"]) == "***********"
    # a text whose lower-case form changes length goes through the regex path
    assert mask_terms("İstanbul Doe", ["Doe"]) == "İstanbul ***"
    assert mask_terms("x 1970-01-02 y", ["1970-01-02"]) == "x ********** y"
