"""Each option applied to a dataset, checked against hand-checked rows of Table E.1-1."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from deid.engine.context import Context
from deid.errors import ProfileError
from deid.profiles import profile_plan

from .study import clone, make_study

KEY = "options test key 0123456789"


@pytest.fixture(scope="module")
def study():
    return make_study(1, "20230301")


def empty(ds, keyword):
    """Present with an empty value (Z)."""
    return keyword in ds and ds[keyword].value in (None, "", b"")


def apply(datasets, options):
    plan = profile_plan("basic", options)
    out = clone(datasets)
    for ds in out:
        plan.apply(ds, Context(key=KEY))
    return out


def test_basic_profile_rows(study):
    ct = apply(study, ())[0]
    assert "PatientAge" not in ct and "PatientWeight" not in ct  # X
    assert empty(ct, "PatientSex")  # Z
    assert empty(ct, "PatientBirthDate")  # Z
    assert empty(ct, "StudyDate") and empty(ct, "StudyTime")  # Z
    assert empty(ct, "ReferringPhysicianName")  # Z
    assert "StudyDescription" not in ct and "ImageComments" not in ct  # X
    assert ct.InstitutionName == "ANONYMIZED"  # X/Z/D resolved to D
    assert ct.SOPInstanceUID.startswith("2.25.")  # U
    assert ct.Manufacturer == "ACME"  # not in the table
    assert 0x60003000 not in ct and 0x60004000 not in ct  # overlay rows (60xx)
    assert not any(e.tag.is_private for e in ct)
    assert ct.LongitudinalTemporalInformationModified == "REMOVED"
    assert [i.CodeValue for i in ct.DeidentificationMethodCodeSequence] == ["113100"]


def test_retain_uids(study):
    ct = apply(study, ("retain-uids",))[0]
    assert ct.SOPInstanceUID == study[0].SOPInstanceUID
    assert ct.StudyInstanceUID == study[0].StudyInstanceUID
    assert ct.file_meta.MediaStorageSOPInstanceUID == study[0].SOPInstanceUID
    assert (
        ct.ReferencedImageSequence[0].ReferencedSOPInstanceUID
        == study[0].ReferencedImageSequence[0].ReferencedSOPInstanceUID
    )
    assert "113110" in [i.CodeValue for i in ct.DeidentificationMethodCodeSequence]


def test_retain_device_identity(study):
    ct = apply(study, ("retain-device-identity",))[0]
    assert ct.DeviceSerialNumber == "SN-12345"  # K
    assert ct.StationName == "CTSCAN01"  # K
    base = apply(study, ())[0]
    assert base.DeviceSerialNumber != "SN-12345"


def test_retain_institution_identity(study):
    ct = apply(study, ("retain-institution-identity",))[0]
    assert ct.InstitutionName == "Saint Example Hospital"
    assert empty(ct, "ReferringPhysicianName")  # not an institution attribute


def test_retain_patient_characteristics(study):
    ct = apply(study, ("retain-patient-characteristics",))[0]
    assert ct.PatientAge == "053Y" and ct.PatientSex == "F" and ct.PatientWeight == "61.5"
    assert empty(ct, "PatientBirthDate")  # still Z


def test_retain_full_dates(study):
    ct = apply(study, ("retain-long-full-dates",))[0]
    assert ct.StudyDate == "20230301" and ct.StudyTime == "233000"
    assert ct.AcquisitionDateTime == study[0].AcquisitionDateTime
    assert empty(ct, "PatientBirthDate")  # birth date is not longitudinal information
    assert ct.LongitudinalTemporalInformationModified == "UNMODIFIED"


def test_retain_modified_dates(study):
    ct = apply(study, ("retain-long-modified-dates",))[0]
    assert ct.StudyDate not in ("", "20230301") and len(ct.StudyDate) == 8
    assert ct.StudyTime == "233000"
    assert ct.SeriesDate == ct.StudyDate == ct.ContentDate


def test_date_options_conflict():
    with pytest.raises(ProfileError, match="cannot be combined"):
        profile_plan("basic", ("retain-long-full-dates", "retain-long-modified-dates"))


def test_clean_descriptors(study):
    ct = apply(study, ("clean-descriptors",))[0]
    assert ct.StudyDescription.startswith("CT chest ")
    assert "Jane" not in ct.StudyDescription and "Doe" not in ct.StudyDescription
    assert "MRN-778899" not in ct.StudyDescription
    assert "Doe" not in ct.ImageComments and "1970-02-14" not in ct.ImageComments
    assert ct.ImageComments.startswith("pt *** moved")


def test_clean_graphics(study):
    ct = apply(study, ("clean-graphics",))[0]
    assert 0x60003000 not in ct  # bitmap overlay cannot be cleaned in the header: removed
    assert ct[0x60004000].value == "overlay by Dr *****"


def test_retain_safe_private(study):
    ct = apply(study, ("retain-safe-private",))[0]
    block = ct.private_block(0x0019, "GEMS_ACQU_01")
    assert block[0x23].value == "39.375"
    assert 0x00290010 not in ct and 0x00291010 not in ct


def _sr_with_items():
    ds = make_study(1, "20230301")[4]
    return ds


def test_clean_structured_content():
    sr = _sr_with_items()
    out = apply([sr], ("clean-structured-content",))[0]
    concepts = [
        i.ConceptNameCodeSequence[0].CodeValue
        for i in out.ContentSequence
        if "ConceptNameCodeSequence" in i
    ]
    assert "121022" not in concepts  # Accession Number content item: X
    observer = [
        i
        for i in out.ContentSequence
        if "ConceptNameCodeSequence" in i and i.ConceptNameCodeSequence[0].CodeValue == "121008"
    ]
    for item in observer:
        assert str(item.PersonName) != "Reader^Rita"
    images = [i for i in out.ContentSequence if i.ValueType == "IMAGE"]
    assert len(images) == 3
    assert all(
        i.ReferencedSOPSequence[0].ReferencedSOPInstanceUID.startswith("2.25.") for i in images
    )
    # without the option the Basic Profile empties Content Sequence (D on a sequence)
    assert len(apply([sr], ())[0].ContentSequence) == 0


def test_clean_pixel_data_markers_only(study):
    ct = apply(study, ("clean-pixel-data",))[0]
    assert ct.BurnedInAnnotation == "NO"
    assert "113101" in [i.CodeValue for i in ct.DeidentificationMethodCodeSequence]


def test_all_header_options_together(study):
    opts = (
        "retain-safe-private",
        "retain-uids",
        "retain-device-identity",
        "retain-institution-identity",
        "retain-patient-characteristics",
        "retain-long-modified-dates",
        "clean-descriptors",
        "clean-structured-content",
        "clean-graphics",
    )
    ct = apply(study, opts)[0]
    codes = [i.CodeValue for i in ct.DeidentificationMethodCodeSequence]
    assert codes[0] == "113100" and len(codes) == 10
    assert ct.PatientID != study[0].PatientID  # identity still removed
    assert str(ct.PatientName) != "Doe^Jane^Q"
    assert all(len(v) <= 64 for v in ct.DeidentificationMethod)


def test_nested_rows_apply_in_items():
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = "1.2.3.4"
    item = Dataset()
    item.PatientName = "Nested^Name"
    item.PatientBirthDate = "19800101"
    item.OtherPatientIDs = "X1"
    ds.ReferencedPatientSequence = Sequence([item])  # (0008,1120) is X in the Basic Profile
    ds.RequestAttributesSequence = Sequence([Dataset()])
    ds.RequestAttributesSequence[0].RequestedProcedureID = "RP1"
    out = apply([ds], ())[0]
    assert "ReferencedPatientSequence" not in out
    for it in out.get("RequestAttributesSequence", []):
        assert it.get("RequestedProcedureID") != "RP1"
