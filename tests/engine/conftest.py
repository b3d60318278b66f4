"""Fixtures for the engine tests: datasets built in code and a recipe builder."""

from __future__ import annotations

import os
from collections.abc import Callable

import pydicom
import pytest
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

from deid.engine import compile_plan
from deid.engine.plan import Plan
from deid.recipe import parse_recipe
from deid.recipe.ast import Recipe


def build_recipe(body: str, name: str = "test.dicom") -> Recipe:
    """Parse a recipe; ``FORMAT dicom`` and ``%header`` are added when absent."""
    text = body if body.lstrip().startswith("FORMAT") else "FORMAT dicom\n%header\n" + body
    return parse_recipe(text, name=name)


def build_plan(body: str, **kwargs) -> Plan:
    """Parse and compile a recipe body."""
    return compile_plan(build_recipe(body), **kwargs)


def make_dataset(file_dataset: bool = False) -> Dataset:
    """A CT-like header with nested sequences (3 levels, UIDs inside), privates and file meta."""
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ds.SOPInstanceUID = "1.2.3.4.5.6.7"
    ds.StudyDate = "20230101"
    ds.SeriesDate = "20230101"
    ds.StudyTime = "101010"
    ds.AcquisitionDateTime = "20230101120000"
    ds.AccessionNumber = "ACC123"
    ds.Modality = "CT"
    ds.ReferringPhysicianName = "Ref^Doc"
    ds.PatientName = "Doe^John"
    ds.PatientID = "PID123"
    ds.PatientBirthDate = "19800203"
    ds.PatientSex = "M"
    ds.PatientWeight = "70"
    ds.StudyInstanceUID = "1.2.3.4.100"
    ds.SeriesInstanceUID = "1.2.3.4.200"
    ds.Rows = 2
    ds.Columns = 2
    ref = Dataset()
    ref.ReferencedSOPClassUID = "1.2.840.10008.3.1.2.3.1"
    ref.ReferencedSOPInstanceUID = "1.2.3.4.300"
    ds.ReferencedStudySequence = Sequence([ref])
    inner = Dataset()
    inner.CodeValue = "121"
    inner.CodeMeaning = "Secret meaning"
    inner.PatientName = "Nested^Name"
    req = Dataset()
    req.RequestedProcedureID = "RP1"
    req.StudyInstanceUID = "1.2.3.4.100"
    req.ScheduledProtocolCodeSequence = Sequence([inner])
    req2 = Dataset()
    req2.RequestedProcedureID = "RP2"
    ds.RequestAttributesSequence = Sequence([req, req2])
    block = ds.private_block(0x0009, "ACME 1.0", create=True)
    block.add_new(0x01, "LO", "private value")
    block.add_new(0x02, "DA", "20230105")
    item = Dataset()
    item.add_new(0x00090010, "LO", "ACME 1.0")
    item.add_new(0x00091001, "LO", "nested private")
    item.SOPInstanceUID = "1.2.3.4.400"
    block.add_new(0x03, "SQ", Sequence([item]))
    ds.PixelData = b"\x00\x01" * 4
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.SamplesPerPixel = 1
    ds.PixelRepresentation = 0
    ds.PhotometricInterpretation = "MONOCHROME2"
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = "1.2.3.4.5"
    if file_dataset:
        fds = FileDataset("synthetic.dcm", ds, file_meta=meta, preamble=b"\x00" * 128)
        return fds
    ds.file_meta = meta
    return ds


def default_recipe_text() -> str:
    """The shipped default recipe (``recipes/deid.dicom``)."""
    from importlib.resources import files

    return (files("deid._recipes") / "deid.dicom").read_text()


def deid_data_file(folder: str, name: str) -> str:
    """Path of a file shipped by the deid-data package."""
    import deid_data

    return os.path.join(os.path.dirname(deid_data.__file__), "data", folder, name)


@pytest.fixture
def dataset() -> Dataset:
    return make_dataset()


@pytest.fixture
def plan_of() -> Callable[..., Plan]:
    return build_plan


@pytest.fixture
def ctbrain1() -> pydicom.FileDataset:
    return pydicom.dcmread(deid_data_file("humans", "ctbrain1.dcm"))
