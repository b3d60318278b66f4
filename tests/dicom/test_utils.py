"""Tests for deid.dicom.utils (dcmread, get_files, save_dicom, load_dicom)."""

from __future__ import annotations

import os
import shutil
import zipfile

import pydicom
import pytest
from pydicom import Dataset

from deid.data import get_dataset
from deid.dicom import get_files, utils
from deid.dicom.utils import OutputExistsError, load_dicom, output_path, save_dicom
from deid.errors import DicomReadError

from .conftest import build_nested


def test_get_files_counts():
    folder = get_dataset("dicom-cookies")
    assert len(list(get_files(folder))) == 7
    # the file system's order, as upstream (scripts take "the first file" of a folder)
    assert [os.path.basename(p) for p in get_files(folder)] == os.listdir(folder)


def test_get_files_empty_missing_pattern_and_check(tmp_path, ctbrain1):
    assert list(get_files(str(tmp_path))) == []
    assert list(get_files(str(tmp_path / "nope"))) == []
    (tmp_path / "notes.txt").write_text("not dicom")
    shutil.copy(ctbrain1, tmp_path / "ct.dcm")
    assert [os.path.basename(p) for p in get_files(str(tmp_path))] == ["ct.dcm"]
    assert len(list(get_files(str(tmp_path), check=False))) == 2
    assert list(get_files(str(tmp_path), pattern="*.txt")) == []
    assert list(get_files([str(tmp_path / "ct.dcm")])) == [str(tmp_path / "ct.dcm")]


def test_get_files_force_for_files_without_preamble(tmp_path):
    ds = build_nested()
    path = str(tmp_path / "raw.dcm")
    ds.save_as(path, enforce_file_format=False)
    assert list(get_files(path)) == []
    assert list(get_files(path, force=True)) == [path]


def test_get_files_extracts_every_zip_member(tmp_path, ctbrain1):
    archive = tmp_path / "two.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(ctbrain1, "one.dcm")
        zf.write(ctbrain1, "sub/two.dcm")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    found = list(get_files(str(archive), tempdir=str(scratch)))
    assert [os.path.basename(p) for p in found] == ["one.dcm", "two.dcm"]
    assert all(p.startswith(str(scratch)) for p in found)
    assert len(list(get_files(str(archive)))) == 2  # own temporary folder, not the CWD


def test_dcmread_and_load_dicom(ctbrain1, tmp_path):
    assert utils.dcmread(ctbrain1).Modality == "CT"
    ds = Dataset()
    assert load_dicom(ds) is ds
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(b"")
    with pytest.raises(DicomReadError, match="bad.dcm"):
        load_dicom(str(bad), force=False)


def test_save_dicom_rules(tmp_path, ctbrain1):
    ds = pydicom.dcmread(ctbrain1)
    out = save_dicom(ds, ctbrain1, output_folder=str(tmp_path))
    assert out == str(tmp_path / "ctbrain1.dcm") and pydicom.dcmread(out).Modality == "CT"
    with pytest.raises(OutputExistsError):
        save_dicom(ds, ctbrain1, output_folder=str(tmp_path))
    ds.PatientID = "changed"
    save_dicom(ds, ctbrain1, output_folder=str(tmp_path), overwrite=True)
    assert pydicom.dcmread(out).PatientID == "changed"
    temp = save_dicom(ds, ctbrain1)
    assert os.path.dirname(temp) != os.path.dirname(ctbrain1)
    shutil.rmtree(os.path.dirname(temp))
    plain = save_dicom(build_nested(), None, output_folder=str(tmp_path))
    assert os.path.basename(plain).startswith("deid-")
    assert pydicom.dcmread(plain, force=True).PatientID == "P-1"


def test_output_path():
    assert output_path("/a/b.dcm", "/out") == "/out/b.dcm"
    assert output_path("/a/b.dcm", None, overwrite=True) == "/a/b.dcm"


def test_saved_files_get_normal_permissions(tmp_path, ctbrain1):
    mask = os.umask(0o022)
    os.umask(mask)
    out = save_dicom(pydicom.dcmread(ctbrain1), ctbrain1, output_folder=str(tmp_path))
    assert os.stat(out).st_mode & 0o777 == 0o666 & ~mask
    assert [p for p in os.listdir(tmp_path) if p.endswith(".part")] == []


def test_zip_extraction_folders_of_get_files_are_removed_at_exit(tmp_path):
    import subprocess
    import sys
    import zipfile

    from deid.data import get_dataset

    cookies = sorted(get_files(get_dataset("dicom-cookies")))
    archive = tmp_path / "cookies.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(cookies[0], "a/one.dcm")
    code = (
        "import sys, os\n"
        "from deid.dicom import get_files\n"
        "paths = list(get_files(sys.argv[1]))\n"
        "assert len(paths) == 1 and os.path.isfile(paths[0]), paths\n"
        "print(paths[0])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(archive)], check=True, capture_output=True, text=True
    ).stdout.strip()
    assert out.endswith("one.dcm")
    assert not os.path.exists(out)  # the folder get_files made itself is gone after exit
