"""Synthetic CT corpus shared by the benchmarks.

Every file is a 512x512 16-bit CT image with a realistic header: patient/study/series
identifiers, dates and times, physicians, nested sequences two and three levels deep with UIDs
inside (ReferencedStudySequence, RequestAttributesSequence > ScheduledProtocolCodeSequence,
SourceImageSequence > PurposeOfReferenceCodeSequence, ProcedureCodeSequence), private blocks
with creators (including a private sequence holding a UID and a private date) and file meta.
Content is deterministic from ``seed`` (file ``i`` is the same in every run); pixel data is one
seeded buffer rolled per file, so generation costs little more than writing.

Usage::

    python benchmarks/corpus.py OUTPUT_FOLDER [--count 1000] [--seed 0] [--size 512]

Examples
--------
>>> import tempfile, pydicom
>>> with tempfile.TemporaryDirectory() as tmp:
...     paths = generate_corpus(tmp, count=2, seed=1, size=16)
...     ds = pydicom.dcmread(paths[0])
>>> ds.Modality, ds.Rows, len(ds.RequestAttributesSequence[0].ScheduledProtocolCodeSequence)
('CT', 16, 1)
"""

from __future__ import annotations

import argparse
import os
import random
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian

__all__ = ["generate_corpus", "make_ct_dataset"]

_ROOT = "1.2.826.0.1.3680043.10.1234."
_FIRST = ["John", "Maria", "Wei", "Aisha", "Lars", "Sofia", "Kenji", "Amara", "Pedro", "Olga"]
_LAST = ["Doe", "Garcia", "Chen", "Okafor", "Berg", "Rossi", "Tanaka", "Diallo", "Silva", "Ivanova"]
_BODY = ["HEAD", "CHEST", "ABDOMEN", "PELVIS", "SPINE"]


def _uid(rng: random.Random) -> str:
    return _ROOT + ".".join(str(rng.randrange(1, 10**9)) for _ in range(3))


def _date(rng: random.Random, start: int = 2010, span: int = 14) -> str:
    return f"{start + rng.randrange(span)}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}"


def _time(rng: random.Random) -> str:
    return f"{rng.randrange(24):02d}{rng.randrange(60):02d}{rng.randrange(60):02d}.{rng.randrange(10**6):06d}"


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def make_ct_dataset(index: int, seed: int = 0, size: int = 512,
                    pixels: bytes | None = None) -> FileDataset:
    """Build file number ``index`` of the corpus (deterministic from ``seed`` and ``index``).

    Parameters
    ----------
    index : int
        File number.
    seed : int
        Corpus seed.
    size : int
        Rows and columns.
    pixels : bytes, optional
        Pixel data to use (``size*size*2`` bytes); default a seeded buffer.

    Examples
    --------
    >>> make_ct_dataset(3, size=8).SOPInstanceUID == make_ct_dataset(3, size=8).SOPInstanceUID
    True
    """
    rng = random.Random(f"{seed}:{index}")
    patient = index // 20  # 20 images per patient/study
    prng = random.Random(f"{seed}:patient:{patient}")
    study_uid, series_uid, frame_uid = _uid(prng), _uid(prng), _uid(prng)
    sop_uid = _uid(rng)
    study_date = _date(prng)
    name = f"{prng.choice(_LAST)}^{prng.choice(_FIRST)}"

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = _ROOT + "1"
    meta.ImplementationVersionName = "DEID_BENCH"

    ds = FileDataset(f"ct_{index:05d}.dcm", {}, file_meta=meta, preamble=b"\x00" * 128)
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.InstanceCreationDate = study_date
    ds.InstanceCreationTime = _time(rng)
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = sop_uid
    ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = study_date
    ds.StudyTime = ds.SeriesTime = _time(prng)
    ds.AcquisitionTime = ds.ContentTime = _time(rng)
    ds.AccessionNumber = f"A{prng.randrange(10**7):07d}"
    ds.Modality = "CT"
    ds.Manufacturer = "ACME Medical"
    ds.InstitutionName = "General Hospital"
    ds.InstitutionAddress = "1 Main Street, Springfield"
    ds.ReferringPhysicianName = f"{prng.choice(_LAST)}^{prng.choice(_FIRST)}^^Dr"
    ds.StationName = "CT01"
    ds.StudyDescription = f"CT {prng.choice(_BODY)}"
    ds.SeriesDescription = "AXIAL 5mm"
    ds.OperatorsName = f"{rng.choice(_LAST)}^{rng.choice(_FIRST)}"
    ds.ManufacturerModelName = "Scanner 9000"
    ref = Dataset()
    ref.ReferencedSOPClassUID = "1.2.840.10008.3.1.2.3.1"
    ref.ReferencedSOPInstanceUID = _uid(prng)
    ds.ReferencedStudySequence = Sequence([ref])
    source = Dataset()
    source.ReferencedSOPClassUID = CTImageStorage
    source.ReferencedSOPInstanceUID = _uid(rng)
    source.PurposeOfReferenceCodeSequence = Sequence([_code("121320", "DCM", "Uncompressed predecessor")])
    ds.SourceImageSequence = Sequence([source])
    ds.PatientName = name
    ds.PatientID = f"P{prng.randrange(10**8):08d}"
    ds.PatientBirthDate = _date(prng, 1930, 70)
    ds.PatientSex = prng.choice(["F", "M", "O"])
    ds.PatientAge = f"{prng.randrange(18, 95):03d}Y"
    ds.PatientWeight = str(prng.randrange(45, 120))
    ds.OtherPatientIDsSequence = Sequence([Dataset()])
    ds.OtherPatientIDsSequence[0].PatientID = f"MRN{prng.randrange(10**6):06d}"
    ds.OtherPatientIDsSequence[0].IssuerOfPatientID = "HOSP"
    ds.BodyPartExamined = prng.choice(_BODY)
    ds.SliceThickness = "5.0"
    ds.KVP = "120"
    ds.DeviceSerialNumber = f"SN{rng.randrange(10**5)}"
    ds.SoftwareVersions = "1.0"
    ds.ProtocolName = "ROUTINE"
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.StudyID = str(patient)
    ds.SeriesNumber = "1"
    ds.InstanceNumber = str(index % 20 + 1)
    ds.ImagePositionPatient = ["-250.0", "-250.0", f"{-5.0 * (index % 20):.1f}"]
    ds.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
    ds.FrameOfReferenceUID = frame_uid
    ds.SliceLocation = f"{-5.0 * (index % 20):.1f}"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = ds.Columns = size
    ds.PixelSpacing = ["0.5", "0.5"]
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.WindowCenter = "40"
    ds.WindowWidth = "400"
    ds.RescaleIntercept = "-1024"
    ds.RescaleSlope = "1"
    protocol = Dataset()
    protocol.CodeValue = "P1"
    protocol.CodingSchemeDesignator = "L"
    protocol.CodeMeaning = f"Protocol for {name}"
    request = Dataset()
    request.RequestedProcedureID = f"RP{prng.randrange(10**6)}"
    request.ScheduledProcedureStepID = f"SPS{prng.randrange(10**6)}"
    request.StudyInstanceUID = study_uid
    request.ScheduledProtocolCodeSequence = Sequence([protocol])
    ds.RequestAttributesSequence = Sequence([request])
    ds.PerformedProcedureStepStartDate = study_date
    ds.PerformedProcedureStepID = f"PPS{prng.randrange(10**6)}"
    ds.ProcedureCodeSequence = Sequence([_code("CTHEAD", "L", "CT head without contrast")])
    block = ds.private_block(0x0019, "ACME CT 1.0", create=True)
    block.add_new(0x01, "LO", f"scan {rng.randrange(10**4)}")
    block.add_new(0x02, "DS", "1.5")
    block.add_new(0x03, "DA", study_date)
    inner = Dataset()
    inner.add_new(0x00190010, "LO", "ACME CT 1.0")
    inner.add_new(0x00191001, "LO", "recon")
    inner.add_new(0x00191004, "UI", _uid(rng))
    block.add_new(0x10, "SQ", Sequence([inner]))
    block2 = ds.private_block(0x0029, "SITE PACS", create=True)
    block2.add_new(0x01, "LO", name.replace("^", " "))
    block2.add_new(0x02, "SH", ds.PatientID)
    if pixels is None:
        pixels = _pixels(seed, size)
    shift = (index * 2) % len(pixels)
    ds.PixelData = pixels[shift:] + pixels[:shift]
    ds["PixelData"].VR = "OW"
    return ds


_PIXELS: dict[tuple[int, int], bytes] = {}


def _pixels(seed: int, size: int) -> bytes:
    key = (seed, size)
    if key not in _PIXELS:
        gen = np.random.default_rng(seed)
        _PIXELS[key] = gen.integers(0, 4096, size * size, dtype=np.uint16).tobytes()
    return _PIXELS[key]


def generate_corpus(folder: str | os.PathLike[str], count: int = 1000, seed: int = 0,
                    size: int = 512) -> list[Path]:
    """Write ``count`` files into ``folder`` (created if needed); return their paths.

    Files that already exist with the expected size are reused.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     len(generate_corpus(tmp, count=3, size=8))
    3
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    pixels = _pixels(seed, size)
    paths = []
    for index in range(count):
        path = out / f"ct_{seed}_{size}_{index:05d}.dcm"
        if not (path.exists() and path.stat().st_size > size * size * 2):
            make_ct_dataset(index, seed, size, pixels).save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=512)
    args = parser.parse_args(argv)
    paths = generate_corpus(args.output, args.count, args.seed, args.size)
    print(f"{len(paths)} files in {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
