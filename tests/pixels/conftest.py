"""Fixtures for the pixel tests: datasets built in code and bundled sample files."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

PYDICOM_FILES = Path(pydicom.__file__).parent / "data" / "test_files"


def deid_data_dir() -> Path:
    import deid_data

    return Path(os.path.dirname(deid_data.__file__)) / "data"


def bundled(name: str) -> str:
    """Path of a pydicom bundled test file (never downloads)."""
    path = PYDICOM_FILES / name
    if not path.exists():
        pytest.skip(f"pydicom test file {name} not bundled")
    return str(path)


def make_image(
    rows: int = 8,
    cols: int = 10,
    frames: int = 1,
    samples: int = 1,
    bits: int = 8,
    signed: bool = False,
    planar: int = 0,
    photometric: str | None = None,
    seed: int = 0,
) -> Dataset:
    """A native Explicit VR Little Endian image with random non-zero pixels."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(f"<{'i' if signed else 'u'}{bits // 8}")
    low = 1
    high = min(np.iinfo(dtype).max, 200 if bits == 8 else 3000)
    shape = (frames, rows, cols, samples)
    arr = rng.integers(low, high, size=shape).astype(dtype)
    if samples > 1 and planar == 1:
        arr = arr.transpose(0, 3, 1, 2)
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality = "OT"
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = samples
    ds.BitsAllocated = bits
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 1 if signed else 0
    ds.PhotometricInterpretation = photometric or ("RGB" if samples == 3 else "MONOCHROME2")
    if samples > 1:
        ds.PlanarConfiguration = planar
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.PixelData = arr.tobytes()
    ds["PixelData"].VR = "OB" if bits == 8 else "OW"
    return ds


def roundtrip(ds: Dataset) -> Dataset:
    """Write ``ds`` to memory and read it back."""
    from io import BytesIO

    buf = BytesIO()
    ds.save_as(buf, enforce_file_format=False)
    buf.seek(0)
    return pydicom.dcmread(buf, force=True)


def frames_of(arr: np.ndarray, ds: Dataset) -> np.ndarray:
    """Return decoded pixels with a leading frame axis."""
    frames = int(ds.get("NumberOfFrames") or 1)
    return arr if frames > 1 else arr[np.newaxis]


@pytest.fixture
def image() -> Dataset:
    return make_image()
