"""A small generated study for the profile tests (built in code, nothing fetched).

One patient, two studies a known number of days apart; each study has a CT series with a frame
of reference and references between images, a PET image with radiopharmaceutical timing, and an
SR document whose content items reference the images. Private blocks (safe and unsafe), an
overlay and a file meta with identifying AE titles are included.
"""

from __future__ import annotations

import copy
from typing import Any

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

CT = "1.2.840.10008.5.1.4.1.1.2"
PET = "1.2.840.10008.5.1.4.1.1.128"
SR = "1.2.840.10008.5.1.4.1.1.88.22"

PATIENT = {
    "PatientName": "Doe^Jane^Q",
    "PatientID": "MRN-778899",
    "PatientBirthDate": "19700214",
    "PatientSex": "F",
    "PatientAge": "053Y",
    "PatientWeight": "61.5",
}


def _uid(study: int, series: int, inst: int, kind: str = "9") -> str:
    return f"1.3.6.1.4.1.99999.{kind}.{study}.{series}.{inst}"


def _meta(sop_class: str, sop_uid: str) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = "1.2.3.4.5.6"
    meta.SourceApplicationEntityTitle = "HOSPITAL_PACS"
    return meta


def _base(study: int, date: str, sop_class: str, sop_uid: str, series: int) -> Dataset:
    ds = Dataset()
    ds.file_meta = _meta(sop_class, sop_uid)
    ds.preamble = b"HOSPITAL-PREAMBLE".ljust(128, b"\x01")
    for k, v in PATIENT.items():
        setattr(ds, k, v)
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = _uid(study, 0, 0, "1")
    ds.SeriesInstanceUID = _uid(study, series, 0, "2")
    ds.FrameOfReferenceUID = _uid(study, 0, 0, "3")
    ds.StudyDate = date
    ds.SeriesDate = date
    ds.ContentDate = date
    ds.StudyTime = "233000"
    ds.AcquisitionDateTime = date + "233015.25+0100"
    ds.AccessionNumber = f"ACC{study}00{study}"
    ds.StudyID = f"S{study}"
    ds.StudyDescription = "CT chest Jane Doe MRN-778899"
    ds.InstitutionName = "Saint Example Hospital"
    ds.ReferringPhysicianName = "Smith^John"
    ds.OperatorsName = "Tech^Tom"
    ds.StationName = "CTSCAN01"
    ds.DeviceSerialNumber = "SN-12345"
    ds.Manufacturer = "ACME"
    ds.Modality = "CT"
    ds.SeriesNumber = series
    ds.ImageComments = "pt Doe moved; born 1970-02-14"
    # private: one safe (Table E.3.10-1: GEMS_ACQU_01 (0019,xx23) Table Speed) and one unsafe
    ds.private_block(0x0019, "GEMS_ACQU_01", create=True).add_new(0x23, "DS", "39.375")
    ds.private_block(0x0029, "ACME SECRET", create=True).add_new(0x10, "LO", "Doe^Jane")
    # overlay (60xx,3000) and its comments
    ds.add_new(0x60000010, "US", 4)
    ds.add_new(0x60000011, "US", 4)
    ds.add_new(0x60003000, "OW", b"\x00\x01" * 8)
    ds.add_new(0x60004000, "LT", "overlay by Dr Smith")
    return ds


def ct_image(study: int, inst: int, date: str, others: list[str]) -> Dataset:
    sop = _uid(study, 1, inst)
    ds = _base(study, date, CT, sop, 1)
    ds.InstanceNumber = inst
    refs = []
    for other in others:
        item = Dataset()
        item.ReferencedSOPClassUID = CT
        item.ReferencedSOPInstanceUID = other
        refs.append(item)
    ds.ReferencedImageSequence = Sequence(refs)
    src = Dataset()
    src.ReferencedSOPClassUID = CT
    src.ReferencedSOPInstanceUID = others[0] if others else sop
    ds.SourceImageSequence = Sequence([src])
    study_ref = Dataset()
    study_ref.ReferencedSOPClassUID = "1.2.840.10008.3.1.2.3.1"
    study_ref.ReferencedSOPInstanceUID = ds.StudyInstanceUID
    ds.ReferencedStudySequence = Sequence([study_ref])
    return ds


def pet_image(study: int, date: str) -> Dataset:
    ds = _base(study, date, PET, _uid(study, 3, 1), 3)
    ds.Modality = "PT"
    ds.AcquisitionTime = "101500"
    ds.SeriesTime = "101500"
    info = Dataset()
    info.RadiopharmaceuticalStartTime = "091500"
    info.RadiopharmaceuticalStartDateTime = date + "091500"
    info.RadionuclideTotalDose = "370000000"
    info.RadionuclideHalfLife = "6586.2"
    ds.RadiopharmaceuticalInformationSequence = Sequence([info])
    return ds


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    c = Dataset()
    c.CodeValue = value
    c.CodingSchemeDesignator = scheme
    c.CodeMeaning = meaning
    return c


def sr_document(study: int, date: str, images: list[str]) -> Dataset:
    ds = _base(study, date, SR, _uid(study, 2, 1), 2)
    ds.Modality = "SR"
    items = []
    observer = Dataset()
    observer.RelationshipType = "HAS OBS CONTEXT"
    observer.ValueType = "PNAME"
    observer.ConceptNameCodeSequence = Sequence([_code("121008", "DCM", "Person Observer Name")])
    observer.PersonName = "Reader^Rita"
    items.append(observer)
    acc = Dataset()
    acc.RelationshipType = "HAS OBS CONTEXT"
    acc.ValueType = "TEXT"
    acc.ConceptNameCodeSequence = Sequence([_code("121022", "DCM", "Accession Number")])
    acc.TextValue = ds.AccessionNumber
    items.append(acc)
    for uid in images:
        img = Dataset()
        img.RelationshipType = "CONTAINS"
        img.ValueType = "IMAGE"
        ref = Dataset()
        ref.ReferencedSOPClassUID = CT
        ref.ReferencedSOPInstanceUID = uid
        img.ReferencedSOPSequence = Sequence([ref])
        items.append(img)
    ds.ContentSequence = Sequence(items)
    ev = Dataset()
    ev.StudyInstanceUID = ds.StudyInstanceUID
    series = Dataset()
    series.SeriesInstanceUID = _uid(study, 1, 0, "2")
    series.ReferencedSOPSequence = Sequence([])
    for uid in images:
        r = Dataset()
        r.ReferencedSOPClassUID = CT
        r.ReferencedSOPInstanceUID = uid
        series.ReferencedSOPSequence.append(r)
    ev.ReferencedSeriesSequence = Sequence([series])
    ds.CurrentRequestedProcedureEvidenceSequence = Sequence([ev])
    return ds


def make_study(study: int, date: str) -> list[Dataset]:
    """Three CT images referencing each other, one PET image and one SR."""
    uids = [_uid(study, 1, i) for i in (1, 2, 3)]
    cts = [ct_image(study, i, date, [u for u in uids if u != uids[i - 1]]) for i in (1, 2, 3)]
    return cts + [pet_image(study, date), sr_document(study, date, uids)]


def make_patient() -> list[Dataset]:
    """Two studies of one patient, 2023-03-01 and 2023-06-09 (100 days apart)."""
    return make_study(1, "20230301") + make_study(2, "20230609")


def clone(datasets: list[Dataset]) -> list[Dataset]:
    out = []
    for ds in datasets:
        c = copy.deepcopy(ds)
        out.append(c)
    return out


def walk(ds: Any):
    """Every element of ``ds`` at every depth."""
    for elem in ds:
        yield elem
        if elem.VR == "SQ":
            for item in elem.value or []:
                yield from walk(item)
