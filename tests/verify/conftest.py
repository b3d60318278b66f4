"""Fixtures for the verifier's tests: the planted-PHI corpus and an independent de-identifier.

``whitelist_deidentify`` is deliberately *not* deid: it keeps only an allow-list of research
attributes and remaps UIDs, the way another tool would. The verifier must find nothing in its
output (no false positives) and must find every leak planted back into it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import sys
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import UID_dictionary

ROOT = Path(__file__).resolve().parents[2]

KEEP = {
    "SpecificCharacterSet",
    "ImageType",
    "SOPClassUID",
    "SOPInstanceUID",
    "Modality",
    "Manufacturer",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "FrameOfReferenceUID",
    "SeriesNumber",
    "InstanceNumber",
    "ImagePositionPatient",
    "ImageOrientationPatient",
    "PixelSpacing",
    "SliceThickness",
    "KVP",
    "RepetitionTime",
    "EchoTime",
    "MagneticFieldStrength",
    "Rows",
    "Columns",
    "SamplesPerPixel",
    "PhotometricInterpretation",
    "PlanarConfiguration",
    "BitsAllocated",
    "BitsStored",
    "HighBit",
    "PixelRepresentation",
    "NumberOfFrames",
    "FrameTime",
    "PixelData",
    "Units",
    "DecayCorrection",
    "SeriesType",
    "CorrectedImage",
    "ActualFrameDuration",
    "RadiopharmaceuticalInformationSequence",
    "Radiopharmaceutical",
    "RadionuclideTotalDose",
    "RadionuclideHalfLife",
    "RadionuclidePositronFraction",
    "RadionuclideCodeSequence",
    "CodeValue",
    "CodingSchemeDesignator",
    "CodeMeaning",
    "SourceImageSequence",
    "ReferencedSOPClassUID",
    "ReferencedSOPInstanceUID",
    "CurrentRequestedProcedureEvidenceSequence",
    "ReferencedSeriesSequence",
    "ReferencedSOPSequence",
    "ValueType",
    "ConceptNameCodeSequence",
    "ContinuityOfContent",
    "CompletionFlag",
    "VerificationFlag",
    "ImagerPixelSpacing",
    "ConversionType",
    "BurnedInAnnotation",
    "PatientSex",
}


def load_corpus_tool():
    """Import tools/make_phi_corpus.py as a module."""
    name = "make_phi_corpus"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / "make_phi_corpus.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def new_uid(old: str) -> str:
    return "2.25." + str(int(hashlib.sha256(b"salt:" + old.encode()).hexdigest()[:30], 16))


def _clean(ds: Dataset) -> None:
    for elem in list(ds):
        if elem.keyword not in KEEP:
            del ds[elem.tag]
            continue
        if elem.VR == "SQ":
            for item in elem.value:
                _clean(item)
        elif elem.VR == "UI" and elem.value and str(elem.value) not in UID_dictionary:
            elem.value = new_uid(str(elem.value))


def whitelist_deidentify(src: str, dst: str, boxes: list | None = None) -> None:
    """Write a cleaned copy of ``src`` at ``dst`` (allow-list + UID remap + markers), blacking
    out the burned-in text ``boxes`` (answer-key records) when given."""
    ds = pydicom.dcmread(src)
    if boxes:
        arr = ds.pixel_array.copy()
        frames = int(ds.get("NumberOfFrames", 1))
        for box in boxes:
            x0, y0, x1, y1 = box["bbox"]
            target = arr[box["frame"]] if frames > 1 else arr
            target[y0:y1, x0:x1] = 0
        ds.PixelData = arr.tobytes()
        ds.BurnedInAnnotation = "NO"
    _clean(ds)
    ds.PatientName = "SUBJECT^" + new_uid(src)[-6:]
    ds.PatientID = "SUBJ" + new_uid(src)[-8:]
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = "whitelist test tool"
    ds.file_meta = pydicom.dataset.FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    ds.preamble = b"\x00" * 128
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    ds.save_as(dst, enforce_file_format=True)


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """(input dir, answer key) of the planted-PHI corpus, built once per session."""
    tool = load_corpus_tool()
    root = tmp_path_factory.mktemp("corpus")
    key = tool.build_corpus(str(root / "in"), seed=7)
    os.remove(root / "in" / tool.KEY_NAME)
    return str(root / "in"), key


@pytest.fixture(scope="session")
def clean_output(corpus, tmp_path_factory):
    """The corpus de-identified by the allow-list tool (read-only; copy before editing)."""
    src, key = corpus
    out = tmp_path_factory.mktemp("clean")
    for rec in key["files"]:
        whitelist_deidentify(
            os.path.join(src, rec["path"]), str(out / rec["path"]), rec["burned_in"]
        )
    return str(out)


@pytest.fixture()
def work_output(clean_output, tmp_path):
    """A private, editable copy of the clean output."""
    dst = tmp_path / "out"
    shutil.copytree(clean_output, dst)
    return str(dst)
