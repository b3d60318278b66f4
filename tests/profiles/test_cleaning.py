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
