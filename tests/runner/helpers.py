"""Test helpers for the runner: small DICOM files built in code, and picklable plans.

The stand-in plans only exist to test the runner's mechanics in isolation (they have the
``apply(ds, context) -> changes`` shape of :class:`deid.engine.Plan`); the end-to-end tests use
the real engine through :func:`real_plan`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
from shared import sample_files  # noqa: F401 - re-exported for the runner tests

CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"


def make_dataset(
    index: int,
    series: str,
    study: str = "1.2.826.0.1.3680043.8.498.1",
    modality: str = "CT",
    patient: str = "Doe^Jane",
    patient_id: str = "PID001",
    image_type: tuple[str, ...] = ("ORIGINAL", "PRIMARY", "AXIAL"),
    size: int = 8,
) -> Dataset:
    """A small, valid CT-like dataset with file meta and native pixel data."""
    sop = f"{series}.{index + 1}"
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CT_IMAGE
    meta.MediaStorageSOPInstanceUID = sop
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = CT_IMAGE
    ds.SOPInstanceUID = sop
    ds.StudyInstanceUID = study
    ds.SeriesInstanceUID = series
    ds.Modality = modality
    ds.ImageType = list(image_type)
    ds.PatientName = patient
    ds.PatientID = patient_id
    ds.PatientBirthDate = "19700101"
    ds.StudyDate = "20240102"
    ds.InstitutionName = "General Hospital"
    ds.InstanceNumber = index + 1
    ref = Dataset()
    ref.ReferencedSOPClassUID = CT_IMAGE
    ref.ReferencedSOPInstanceUID = f"{series}.99"
    ds.ReferencedImageSequence = [ref]
    ds.Rows = size
    ds.Columns = size
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.PixelData = (np.arange(size * size, dtype=np.uint16) + index).tobytes()
    return ds


def write(ds: Dataset, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def make_tree(root: Path, series: int = 2, per_series: int = 3, **kw: object) -> list[Path]:
    """Write ``series`` x ``per_series`` files under ``root/<series n>/<i>.dcm``."""
    paths = []
    for s in range(series):
        uid = f"1.2.826.0.1.3680043.8.498.{100 + s}"
        for i in range(per_series):
            ds = make_dataset(i, uid, patient=f"Doe^Pat{s}", patient_id=f"PID{s}", **kw)  # type: ignore[arg-type]
            paths.append(write(ds, root / f"s{s}" / f"{i}.dcm"))
    return paths


def read_tree(root: Path) -> dict[str, bytes]:
    """Map relative path -> bytes of every file under ``root``."""
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            p = Path(dirpath) / name
            out[p.relative_to(root).as_posix()] = p.read_bytes()
    return out


@dataclass
class _Change:
    action: str
    rule: object
    tag: int = 0
    keyword: str = ""


@dataclass
class _Rule:
    source: str
    line: int
    text: str


class StandInPlan:
    """Blank the patient name, drop the patient id (mechanics tests only)."""

    def apply(self, ds: Dataset, context: object = None) -> list[_Change]:
        changes = []
        if "PatientName" in ds:
            ds.PatientName = "ANON"
            changes.append(_Change("REPLACE", _Rule("standin", 1, "REPLACE PatientName ANON")))
        if "PatientID" in ds:
            del ds.PatientID
            changes.append(_Change("REMOVE", _Rule("standin", 2, "REMOVE PatientID")))
        if ds.get("PatientID") == "boom":  # pragma: no cover - never: removed above
            raise RuntimeError("unreachable")
        return changes


class ExplodingPlan(StandInPlan):
    """Raise for patient ``Doe^Boom`` (a user function that raises)."""

    def apply(self, ds: Dataset, context: object = None) -> list[_Change]:
        if str(ds.get("PatientName", "")) == "Doe^Boom":
            raise ValueError("user function failed on purpose")
        return super().apply(ds, context)


def explode(item: object = None, value: object = None, field: object = None, **kw: object) -> str:
    """A user ``func:`` that raises for one patient and pseudonymises the others."""
    dicom = kw.get("dicom")
    name = str(getattr(dicom, "PatientName", "")) if dicom is not None else ""
    if name == "Doe^Boom" or "Boom" in str(getattr(field, "element", "")):
        raise ValueError("user function failed on purpose")
    return "ANON"


HEADER_RECIPE = """FORMAT dicom

%header

REPLACE PatientName func:explode
REMOVE PatientID
BLANK InstitutionName
REPLACE StudyDate 20000101
"""


def real_plan(tmp_path: Path, with_function: bool = True) -> object:
    """Compile a small recipe with the real engine (skips the test when it is missing)."""
    import pytest

    engine = pytest.importorskip("deid.engine")
    if not hasattr(engine, "compile_plan"):
        pytest.skip("deid.engine.compile_plan not available yet")
    from deid.recipe import parse_recipe

    text = HEADER_RECIPE if with_function else HEADER_RECIPE.replace("func:explode", "ANON")
    recipe = parse_recipe(text, name="runner-test.dicom")
    return engine.compile_plan(recipe, functions={"explode": explode} if with_function else None)


def truncated_copy(src: Path, dst: Path, cut: int = 40) -> Path:
    data = src.read_bytes()
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(data[: len(data) - cut])
    return dst


def dcm(path: str | Path) -> Dataset:
    return pydicom.dcmread(path)


def uid() -> str:
    return str(generate_uid())
