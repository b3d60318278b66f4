"""Shared fixtures for the drop-in deid.dicom tests: deid-data samples and built datasets."""

from __future__ import annotations

import os

import pytest
from pydicom import Dataset
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

from deid.data import get_dataset


def sample(dataset: str, name: str | None = None) -> str:
    folder = get_dataset(dataset)
    files = sorted(os.listdir(folder))
    chosen = name if name is not None else files[0]
    return os.path.join(folder, chosen)


@pytest.fixture
def ctbrain1() -> str:
    return sample("humans", "ctbrain1.dcm")


@pytest.fixture
def cookie() -> str:
    return sample("dicom-cookies", "image4.dcm")


def build_nested() -> Dataset:
    """A dataset with 3 levels of sequences, UIDs inside, a private block and file meta."""
    ds = Dataset()
    ds.PatientName = "Doe^Jane"
    ds.PatientID = "P-1"
    ds.StudyDate = "20230101"
    ds.StudyInstanceUID = "1.2.3.4"
    inner = Dataset()
    inner.ReferencedSOPInstanceUID = "1.2.3.4.5"
    inner.CodeMeaning = "deep"
    middle = Dataset()
    middle.ReferencedStudySequence = [inner]
    middle.StudyInstanceUID = "1.2.3.4"
    middle.PatientName = "Nested^Name"
    ds.RequestAttributesSequence = [middle, Dataset()]
    ds.add_new(0x00110010, "LO", "ACME 1.0")
    ds.add_new(0x00111001, "LO", "secret")
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3.4.9"
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return ds


@pytest.fixture
def nested() -> Dataset:
    return build_nested()


def create_recipe(actions, fields=None, values=None):
    """Build a recipe the way upstream's tests do: the default recipe with its header replaced."""
    from deid.config import DeidRecipe

    recipe = DeidRecipe()
    recipe.deid["header"].clear()
    recipe.deid["header"] = actions
    if fields is not None:
        recipe.deid["fields"] = fields
    if values is not None:
        recipe.deid["values"] = values
    return recipe
