"""Tests for deid.dicom.pixels.clean (DicomCleaner, clean_pixel_data)."""

from __future__ import annotations

import os
import zlib

import numpy as np
import pydicom
import pytest
from pydicom.uid import ExplicitVRLittleEndian, JPEGLSLossless, RLELossless

from deid.dicom import DicomCleaner as FromPackage
from deid.dicom.pixels import DicomCleaner, clean_pixel_data, has_burned_pixels
from deid.errors import DeidError
from deid.pixels.regions import RegionError

from .conftest import deid_data

REMOVE = """FORMAT dicom

%filter dangerouscookie

LABEL Criteria for Dangerous Cookie
  contains PatientSex M
  coordinates 0,0,1024,1024
"""

KEEP = """FORMAT dicom

%filter dangerouscookie

LABEL Criteria for Dangerous Cookie
  contains PatientSex M
  coordinates all
  keepcoordinates 1000,1000,2000,2000
"""


def test_package_exports():
    assert FromPackage is DicomCleaner


def test_remove_coordinates_end_to_end(cat, write_recipe, tmp_path):
    original = pydicom.dcmread(cat).pixel_array
    assert not (original[0:1024, 0:1024] == 0).all()
    client = DicomCleaner(output_folder=str(tmp_path), deid=write_recipe(REMOVE))
    out = client.detect(cat)
    assert out["flagged"]
    cleaned = client.clean()
    assert cleaned is client.cleaned and cleaned.dtype == original.dtype
    path = client.save_dicom()
    assert os.path.basename(path) == "cleaned-cat.dcm"
    pixels = pydicom.dcmread(path).pixel_array
    assert (pixels[0:1024, 0:1024] == 0).all()
    assert np.array_equal(pixels[1024:], original[1024:])
    assert np.array_equal(pixels[:, 1024:], original[:, 1024:])


def test_keep_coordinates(cat, write_recipe, tmp_path):
    original = pydicom.dcmread(cat).pixel_array
    client = DicomCleaner(output_folder=str(tmp_path), deid=write_recipe(KEEP))
    client.detect(cat)
    cleaned = client.clean()
    assert np.array_equal(cleaned[1000:2000, 1000:2000], original[1000:2000, 1000:2000])
    cleaned[1000:2000, 1000:2000] = 0
    assert not cleaned.any()


def test_clean_pixel_data_function_and_no_results(cat):
    original = pydicom.dcmread(cat).pixel_array
    same = clean_pixel_data(cat, {"flagged": False, "results": []})
    assert np.array_equal(same, original) and same is not original
    out = clean_pixel_data(cat, [{"coordinates": [[0, "0,0,10,10"], [1, "0,0,5,5"]]}])
    assert (out[:10, 5:10] == 0).all() and np.array_equal(out[:5, :5], original[:5, :5])
    with pytest.raises(RegionError):
        clean_pixel_data(cat, [{"coordinates": [[0, "0,0,10,10 # comment"]]}])


def test_ultrasound_rgb_multiframe_and_compression(tmp_path):
    path = deid_data("ultrasounds", "ultrasound-multiframe.dcm")
    ds = pydicom.dcmread(path)
    original = ds.pixel_array
    client = DicomCleaner(output_folder=str(tmp_path), deid="dicom.ultrasound")
    result = client.detect(path)
    x0, y0, x1, y1 = (int(v) for v in result["results"][-1]["coordinates"][0][1][0].split(","))
    cleaned = client.clean()
    assert cleaned.shape == original.shape
    keep = np.zeros(original.shape[1:3], bool)
    keep[y0:y1, x0:x1] = True
    assert np.array_equal(cleaned[:, keep], original[:, keep])
    assert not cleaned[:, ~keep].any()
    saved = pydicom.dcmread(client.save_dicom(compression=RLELossless))
    assert saved.file_meta.TransferSyntaxUID == RLELossless
    assert saved.NumberOfFrames == original.shape[0]
    assert np.array_equal(saved.pixel_array, cleaned)
    assert saved.SOPInstanceUID == ds.SOPInstanceUID


def test_jpeg_cookie_preserve_compression_falls_back_to_native(tmp_path):
    path = deid_data("dicom-cookies", "image1.dcm")
    client = DicomCleaner(output_folder=str(tmp_path), deid="dicom.ultrasound")
    client.detect(path)  # "Blank Image": coordinates all
    cleaned = client.clean()
    assert cleaned.ndim == 3 and not cleaned.any()
    out = pydicom.dcmread(client.save_dicom(preserve_compression=True))
    assert out.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert out.PhotometricInterpretation == "RGB"
    assert out.LossyImageCompression == "01"
    assert not out.pixel_array.any()


def test_preserve_lossless_compression(tmp_path, write_recipe):
    src = pydicom.dcmread(deid_data("animals", "cat.dcm"))
    arr = src.pixel_array[:64, :64].copy()  # keep it small: crop to 64x64
    src.set_pixel_data(arr, "MONOCHROME2", int(src.BitsStored), generate_instance_uid=False)
    src.compress(JPEGLSLossless, generate_instance_uid=False)
    infile = tmp_path / "small.dcm"
    src.save_as(infile, enforce_file_format=True)
    client = DicomCleaner(output_folder=str(tmp_path / "out"), deid=write_recipe(REMOVE))
    client.detect(str(infile))
    client.clean()
    out = pydicom.dcmread(client.save_dicom(preserve_compression=True))
    assert out.file_meta.TransferSyntaxUID == JPEGLSLossless
    assert not out.pixel_array.any()


def test_save_png_writes_a_valid_png(cat, write_recipe, tmp_path):
    client = DicomCleaner(output_folder=str(tmp_path), deid=write_recipe(REMOVE))
    client.detect(cat)
    client.clean()
    path = client.save_png()
    with open(path, "rb") as handle:
        data = handle.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    ds = pydicom.dcmread(cat, stop_before_pixels=True)
    assert (width, height) == (ds.Columns, ds.Rows)
    idat = data.index(b"IDAT")
    length = int.from_bytes(data[idat - 4 : idat], "big")
    raw = zlib.decompress(data[idat + 4 : idat + 4 + length])
    rows = np.frombuffer(raw, np.uint8).reshape(height, width + 1)[:, 1:]
    assert not rows[:1024, :1024].any() and rows.max() == 255


def test_warnings_instead_of_results(cat, tmp_path):
    client = DicomCleaner(output_folder=str(tmp_path), deid="dicom")
    assert client.clean() is None
    assert client.save_dicom() is None
    client.detect(cat)
    client.clean()
    assert client.save_dicom(image_type="original") is None
    assert client.save_png(image_type="original") is None
    with pytest.raises(DeidError):
        client.save_animation()


def test_default_output_folder_created_on_first_save(cat, write_recipe):
    client = DicomCleaner(deid=write_recipe(REMOVE))
    assert client.output_folder is None
    client.detect(cat)
    client.clean()
    path = client.save_png()
    assert os.path.isdir(client.output_folder) and path.startswith(client.output_folder)


def test_has_burned_pixels_exported():
    assert callable(has_burned_pixels)
