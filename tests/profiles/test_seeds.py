"""The idiscore usage examples of seed documents 000 and 001, with only the imports changed.

Import mapping (idiscore -> deid):
``idiscore.defaults`` -> ``deid.profiles.defaults``; ``idiscore.core`` -> ``deid.profiles.core``;
``idiscore.private_processing`` -> ``deid.profiles.private_processing``;
``idiscore.image_processing`` -> ``deid.profiles.image_processing`` (re-exports
``deid.pixels.locations``).
"""

from __future__ import annotations

import copy
import os
import shutil

import pydicom
import pytest
from pydicom.data import get_testdata_file

from deid.errors import RejectedError


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    shutil.copy(get_testdata_file("CT_small.dcm"), tmp_path / "my_file.dcm")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DEID_KEY", "seed example key 0123456789")
    return tmp_path


def test_seed_minimal_example(workdir):
    # --- seed 000/001 "How to run idiscore" (imports changed) ---
    import pydicom

    from deid.profiles.defaults import create_default_core

    core = create_default_core()  # create an idiscore instance

    ds = pydicom.dcmread("my_file.dcm")  # load a DICOM dataset
    ds = core.deidentify(ds)  # remove patient information
    ds.save_as("deidentified.dcm")  # save to disk
    # --- end of example ---
    out = pydicom.dcmread(os.path.join(workdir, "deidentified.dcm"))
    orig = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    assert out.PatientIdentityRemoved == "YES"
    assert out.PatientID != orig.PatientID and out.PatientName != orig.PatientName
    assert out.SOPInstanceUID != orig.SOPInstanceUID
    assert out.SOPInstanceUID == out.file_meta.MediaStorageSOPInstanceUID
    assert core.reproducible


def test_seed_choosing_a_profile(workdir):
    # --- seed 000/001 "Choosing a deidentification profile" (imports changed) ---
    import pydicom

    from deid.profiles.core import Core, Profile
    from deid.profiles.defaults import get_dicom_rule_sets

    sets = get_dicom_rule_sets()  # Contains official DICOM deidentification rules
    profile = Profile(  # Choose which rule sets to use
        rule_sets=[sets.basic_profile, sets.retain_modified_dates, sets.retain_device_id]
    )
    core = Core(profile)  # Create an deidentification core
    # --- end of example ---
    ds = core.deidentify(pydicom.dcmread("my_file.dcm"))
    orig = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    codes = [i.CodeValue for i in ds.DeidentificationMethodCodeSequence]
    assert codes[0] == "113100" and sorted(codes[1:]) == ["113107", "113109"]
    assert ds.StudyDate != orig.StudyDate and ds.StudyDate != ""
    assert ds.LongitudinalTemporalInformationModified == "MODIFIED"


def test_seed_safe_private_definition(workdir):
    # --- seed 000 "Safe Private" block (imports changed; location list in the next test) ---
    from deid.profiles.private_processing import SafePrivateBlock, SafePrivateDefinition

    safe_private = SafePrivateDefinition(
        blocks=[
            SafePrivateBlock(
                tags=[
                    "0023[SIEMENS MED SP DXMG WH AWS 1]10",
                    "0023[SIEMENS MED SP DXMG WH AWS 1]11",
                    "00b1[TestCreator]01",
                    "00b1[TestCreator]02",
                ],
                criterion=lambda x: x.Modality == "CT",
                comment="Some test tags, only valid for CT datasets",
            ),
            SafePrivateBlock(
                tags=["00b1[othercreator]11", "00b1[othercreator]12"],
                comment="Some more test tags, without a criterion",
            ),
        ]
    )
    # --- end of example ---
    from deid.profiles.defaults import create_default_core

    core = create_default_core(safe_private_definition=safe_private)
    ds = pydicom.dcmread("my_file.dcm")
    ds.private_block(0x00B1, "TestCreator", create=True).add_new(0x01, "LO", "keep me")
    ds.private_block(0x00B1, "TestCreator").add_new(0x03, "LO", "drop me")
    ds.private_block(0x00B3, "othercreator", create=True).add_new(0x11, "LO", "wrong group")
    mr = copy.deepcopy(ds)
    mr.Modality = "MR"
    out = core.deidentify(ds)
    assert out.private_block(0x00B1, "TestCreator")[0x01].value == "keep me"
    assert 0x00B11003 not in out and 0x00B31011 not in out and 0x00B30010 not in out
    out_mr = core.deidentify(mr)
    assert not any(e.tag.is_private for e in out_mr)  # criterion false: nothing kept


def test_seed_location_list(workdir):
    pytest.importorskip("deid.pixels.locations")
    # --- seed 000 "PII location list" (imports changed) ---
    from deid.profiles.defaults import create_default_core
    from deid.profiles.image_processing import PIILocation, PIILocationList, SquareArea

    location_list = PIILocationList(
        [
            PIILocation(
                areas=[SquareArea(5, 10, 4, 12), SquareArea(0, 0, 20, 3)],
                criterion=lambda x: x.Rows == 265 and x.Columns == 512,
            ),
            PIILocation(
                areas=[SquareArea(0, 200, 4, 12)],
                criterion=lambda x: x.Rows == 265 and x.Columns == 712,
            ),
        ]
    )

    core = create_default_core(location_list=location_list)
    # --- end of example ---
    assert core.location_list is location_list
    assert "clean-pixel-data" in core.profile.options
    image = _us_image(265, 512)
    out = core.deidentify(image)
    pixels = out.pixel_array
    assert (pixels[10:22, 5:9] == 0).all() and (pixels[0:3, 0:20] == 0).all()
    assert (pixels[100:200, 100:200] == 200).all()
    assert out.BurnedInAnnotation == "NO"
    assert "113101" in [i.CodeValue for i in out.DeidentificationMethodCodeSequence]
    with pytest.raises(RejectedError):
        core.deidentify(_us_image(300, 300))  # burned in, no location covers it


def _us_image(rows, cols):
    import numpy as np
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.6.1"
    ds.SOPInstanceUID = "1.2.3.4.5"
    ds.Modality = "US"
    ds.PatientName = "Doe^Jane"
    ds.BurnedInAnnotation = "YES"
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.PixelData = np.full((rows, cols), 200, dtype=np.uint8).tobytes()
    return ds
