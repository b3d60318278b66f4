#!/usr/bin/env python3
"""Build a small DICOM corpus with planted, synthetic PHI and an answer key.

Seeded and deterministic: the same seed gives the same files, byte for byte (no clock, no
randomness outside :class:`random.Random`). Every person, place and number is invented.

The corpus has five patients (names in ISO_IR 100, ISO_IR 192, ISO 2022 IR 87 (Japanese),
GB18030 and ASCII with multi-valued names), several studies each, and the modalities CT, MR,
PET (with radiopharmaceutical timing), US single- and multi-frame, CR, DX, SC and a
Comprehensive SR with a content tree that references the CT images. PHI is planted in:

* standard attributes (names, IDs, dates, times, UIDs, addresses, institution, staff, device);
* free text (comments, history, descriptions);
* nested items (request attributes, other patient IDs, staff identification codes, SR content);
* private elements of realistic creators (GEMS_IDEN_01, SIEMENS MED, PHILIPS MR IMAGING DD 001,
  ELSCINT1), text and a binary blob;
* file meta (Source AE Title, Private Information) and the 128-byte preamble;
* overlays (Overlay Description / Label and a bitmap);
* burned-in text drawn into the pixels of some images (BurnedInAnnotation YES, box in the key).

``answer_key.json`` lists every planted value (file, element path, category, where), each
file's UIDs, references, Pixel Data SHA-256, burned-in boxes and the research attributes a
de-identifier must keep (geometry, acquisition parameters, and per PS3.15 option what it keeps).

Usage::

    python tools/make_phi_corpus.py OUTDIR [--seed N]
    python tools/make_phi_corpus.py OUTDIR --check   # exit 1 unless OUTDIR equals a rebuild
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import tempfile
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

__all__ = ["KEY_NAME", "OPTION_KEEPS", "build_corpus", "main"]

KEY_NAME = "answer_key.json"
#: Element paths use deid.verify's labels: ``(gggg,eeee) Keyword`` with ``(gggg,eeee)[i].``
#: prefixes for nested items.

#: Attributes each PS3.15 option keeps (by keyword) that the corpus fills in.
OPTION_KEEPS: dict[str, list[str]] = {
    "retain-uids": [
        "StudyInstanceUID",
        "SeriesInstanceUID",
        "SOPInstanceUID",
        "FrameOfReferenceUID",
    ],
    "retain-device-identity": ["StationName", "DeviceSerialNumber"],
    "retain-institution-identity": [
        "InstitutionName",
        "InstitutionAddress",
        "InstitutionalDepartmentName",
    ],
    "retain-patient-characteristics": ["PatientSex", "PatientAge", "PatientWeight", "PatientSize"],
    "retain-long-full-dates": ["StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate"],
}
#: Research attributes every profile keeps.
RESEARCH_KEEPS = [
    "Modality",
    "Rows",
    "Columns",
    "BitsAllocated",
    "PhotometricInterpretation",
    "ImagePositionPatient",
    "ImageOrientationPatient",
    "PixelSpacing",
    "SliceThickness",
    "KVP",
    "RepetitionTime",
    "EchoTime",
    "MagneticFieldStrength",
    "NumberOfFrames",
    "Units",
    "DecayCorrection",
]

# Synthetic people. Each patient has a character set and a name in it.
_PATIENTS = [
    {
        "charset": "ISO_IR 100",
        "family": ["Müller", "Schröder", "Großmann"],
        "given": ["Jürgen", "Käthe", "Björn"],
        "city": "Düsseldorf",
    },
    {
        "charset": "ISO_IR 192",
        "family": ["Þórsdóttir", "Øvergård", "Łukasiewicz"],
        "given": ["Ástríður", "Søren", "Zoë"],
        "city": "Reykjavík",
    },
    {
        "charset": "ISO 2022 IR 87",
        "family": ["Yamada", "Takahashi"],
        "given": ["Tarou", "Hanako"],
        "ideo": {"Yamada": "山田", "Takahashi": "高橋", "Tarou": "太郎", "Hanako": "花子"},
        "phon": {
            "Yamada": "やまだ",
            "Takahashi": "たかはし",
            "Tarou": "たろう",
            "Hanako": "はなこ",
        },
        "city": "Sapporo",
    },
    {
        "charset": "GB18030",
        "family": ["Wang", "Zhang"],
        "given": ["XiaoDong", "Meiling"],
        "ideo": {"Wang": "王", "Zhang": "张", "XiaoDong": "小东", "Meiling": "美玲"},
        "city": "Chengdu",
    },
    {
        "charset": "",
        "family": ["OBRIENNE", "QUIGGLEY", "FARNSWORTH"],
        "given": ["SEAMUSINA", "THADDEUS", "PERPETUA"],
        "city": "KILLARNEYVILLE",
    },
]
_STREETS = ["Quillfeather Lane", "Marrowbone Court", "Thistlewick Road", "Gorsebrook Avenue"]
_STAFF_FAMILY = ["Pemberton", "Okonkwo", "Vasquez", "Lindqvist", "Haddad", "Marchetti"]
_STAFF_GIVEN = ["Cornelius", "Adaeze", "Rosalind", "Evander", "Ingeborg", "Tobias"]
_INSTITUTIONS = ["Saint Wendeline Memorial Hospital", "Harrowgate Clinic of Imaging"]

_IMAGE_TYPES = {
    "CT": ["ORIGINAL", "PRIMARY", "AXIAL"],
    "MR": ["ORIGINAL", "PRIMARY", "M", "ND"],
    "PT": ["ORIGINAL", "PRIMARY"],
    "OT": ["DERIVED", "SECONDARY"],
}

# A 3x5 pixel font for burned-in text (rows top to bottom, '#' = on).
_FONT = {
    "A": "###,#.#,###,#.#,#.#",
    "B": "##.,#.#,##.,#.#,##.",
    "C": "###,#..,#..,#..,###",
    "D": "##.,#.#,#.#,#.#,##.",
    "E": "###,#..,##.,#..,###",
    "F": "###,#..,##.,#..,#..",
    "G": "###,#..,#.#,#.#,###",
    "H": "#.#,#.#,###,#.#,#.#",
    "I": "###,.#.,.#.,.#.,###",
    "J": "..#,..#,..#,#.#,###",
    "K": "#.#,#.#,##.,#.#,#.#",
    "L": "#..,#..,#..,#..,###",
    "M": "#.#,###,###,#.#,#.#",
    "N": "##.,#.#,#.#,#.#,#.#",
    "O": "###,#.#,#.#,#.#,###",
    "P": "###,#.#,###,#..,#..",
    "Q": "###,#.#,#.#,###,..#",
    "R": "###,#.#,##.,#.#,#.#",
    "S": "###,#..,###,..#,###",
    "T": "###,.#.,.#.,.#.,.#.",
    "U": "#.#,#.#,#.#,#.#,###",
    "V": "#.#,#.#,#.#,#.#,.#.",
    "W": "#.#,#.#,###,###,#.#",
    "X": "#.#,#.#,.#.,#.#,#.#",
    "Y": "#.#,#.#,.#.,.#.,.#.",
    "Z": "###,..#,.#.,#..,###",
    "0": "###,#.#,#.#,#.#,###",
    "1": ".#.,##.,.#.,.#.,###",
    "2": "###,..#,###,#..,###",
    "3": "###,..#,###,..#,###",
    "4": "#.#,#.#,###,..#,..#",
    "5": "###,#..,###,..#,###",
    "6": "###,#..,###,#.#,###",
    "7": "###,..#,..#,..#,..#",
    "8": "###,#.#,###,#.#,###",
    "9": "###,#.#,###,..#,###",
    "-": "...,...,###,...,...",
    " ": "...,...,...,...,...",
    "^": ".#.,#.#,...,...,...",
}


def _ascii_fold(text: str) -> str:
    table = str.maketrans("ÄÖÜäöüßÞþÁáÍíÓóÚúØøÆæÅåŁłËëÉé", "AOUaousTtAaIiOoUuOoAaAaLlEeEe")
    return text.translate(table)


def render_text(
    pixels: np.ndarray, text: str, x: int, y: int, value: int, scale: int = 1
) -> list[int]:
    """Draw ``text`` (upper-cased, unknown characters as blanks) into a 2-D array in place.

    Returns the bounding box ``[x0, y0, x1, y1]`` (exclusive end) that was drawn into.
    """
    cx = x
    for ch in _ascii_fold(text).upper():
        glyph = _FONT.get(ch, _FONT[" "]).split(",")
        for r, row in enumerate(glyph):
            for c, bit in enumerate(row):
                if bit == "#":
                    pixels[
                        y + r * scale : y + (r + 1) * scale, cx + c * scale : cx + (c + 1) * scale
                    ] = value
        cx += 4 * scale
    return [x, y, cx, y + 5 * scale]


@dataclass
class _Builder:
    rng: random.Random
    out: str
    files: list[dict[str, Any]] = field(default_factory=list)
    phi: list[dict[str, Any]] = field(default_factory=list)
    uid_counter: int = 0

    def uid(self) -> str:
        self.uid_counter += 1
        return f"2.25.{self.rng.getrandbits(96)}{self.uid_counter:03d}"

    def date(self, lo: int = 2015, hi: int = 2023) -> str:
        return f"{self.rng.randint(lo, hi):04d}{self.rng.randint(1, 12):02d}{self.rng.randint(1, 28):02d}"

    def time(self) -> str:
        return f"{self.rng.randint(7, 19):02d}{self.rng.randint(0, 59):02d}{self.rng.randint(0, 59):02d}"

    def digits(self, n: int) -> str:
        return "".join(str(self.rng.randint(0, 9)) for _ in range(n))

    def plant(self, rel: str, value: str, category: str, where: str, path: str) -> None:
        self.phi.append(
            {"file": rel, "value": value, "category": category, "where": where, "path": path}
        )


def _label(tag: int, prefix: str = "") -> str:
    from pydicom.datadict import keyword_for_tag

    kw = keyword_for_tag(tag) or ("private" if (tag >> 16) % 2 else "unknown")
    return f"{prefix}({tag >> 16:04X},{tag & 0xFFFF:04X}) {kw}"


def _person(b: _Builder, spec: dict[str, Any]) -> dict[str, Any]:
    family = b.rng.choice(spec["family"])
    given = b.rng.choice(spec["given"])
    name = f"{family}^{given}"
    if "ideo" in spec:
        name += f"={spec['ideo'][family]}^{spec['ideo'][given]}"
        if "phon" in spec:
            name += f"={spec['phon'][family]}^{spec['phon'][given]}"
        else:
            name += "="
    return {"family": family, "given": given, "name": name}


def _staff(b: _Builder) -> str:
    return f"{b.rng.choice(_STAFF_FAMILY)}^{b.rng.choice(_STAFF_GIVEN)}^^Dr."


def _patient_record(b: _Builder, index: int) -> dict[str, Any]:
    spec = _PATIENTS[index]
    person = _person(b, spec)
    mother = _person(b, spec)
    return {
        "index": index,
        "charset": spec["charset"],
        "name": person["name"],
        "family": person["family"],
        "given": person["given"],
        "alias": [
            f"{b.rng.choice(spec['family'])}^{b.rng.choice(spec['given'])}",
            f"ALIAS{b.digits(3)}^{person['given']}",
        ],
        "mother": mother["family"] + "^" + mother["given"],
        "id": f"MRN{b.digits(7)}",
        "other_id": f"EXT-{b.digits(6)}",
        "birth": b.date(1930, 1999),
        "address": f"{b.rng.randint(10, 999)} {b.rng.choice(_STREETS)}, {spec['city']}",
        "phone": f"+44 {b.digits(4)} {b.digits(6)}",
        "sex": b.rng.choice(["F", "M"]),
        "age": f"{b.rng.randint(20, 90):03d}Y",
        "weight": f"{b.rng.randint(45, 110)}.5",
        "size": f"1.{b.rng.randint(50, 95)}",
    }


def _base(
    b: _Builder,
    rel: str,
    patient: dict[str, Any],
    study: dict[str, Any],
    series: dict[str, Any],
    modality: str,
    sop_class: str,
    number: int,
) -> Dataset:
    ds = Dataset()
    if patient["charset"]:
        ds.SpecificCharacterSet = (
            ["", patient["charset"]] if "2022" in patient["charset"] else patient["charset"]
        )
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = b.uid()
    ds.StudyDate = study["date"]
    ds.SeriesDate = study["date"]
    ds.AcquisitionDate = study["date"]
    ds.ContentDate = study["date"]
    ds.StudyTime = study["time"]
    ds.AcquisitionDateTime = study["date"] + study["time"]
    ds.AccessionNumber = study["accession"]
    ds.Modality = modality
    if modality != "SR":
        ds.ImageType = _IMAGE_TYPES.get(modality, ["ORIGINAL", "PRIMARY"])
    ds.Manufacturer = "ACME Imaging"
    ds.InstitutionName = study["institution"]
    ds.InstitutionAddress = study["institution_address"]
    ds.ReferringPhysicianName = study["referring"]
    ds.StationName = series["station"]
    ds.StudyDescription = f"{modality} exam for {patient['family']}"
    ds.SeriesDescription = f"{modality} series {series['number']}"
    ds.InstitutionalDepartmentName = "Radiology West Wing"
    ds.PerformingPhysicianName = study["performing"]
    ds.NameOfPhysiciansReadingStudy = study["reader"]
    ds.OperatorsName = [study["operator"], _staff(b)]
    ds.PatientName = patient["name"]
    ds.PatientID = patient["id"]
    ds.IssuerOfPatientID = "SWMH-REGISTRY"
    ds.PatientBirthDate = patient["birth"]
    ds.PatientSex = patient["sex"]
    ds.OtherPatientIDs = patient["other_id"]
    ds.OtherPatientNames = patient["alias"]
    ds.PatientMotherBirthName = patient["mother"]
    ds.PatientAge = patient["age"]
    ds.PatientSize = patient["size"]
    ds.PatientWeight = patient["weight"]
    ds.PatientAddress = patient["address"]
    ds.PatientTelephoneNumbers = patient["phone"]
    ds.AdditionalPatientHistory = (
        f"Referred by {study['referring'].split('^')[0]}; lives at {patient['address']}"
    )
    ds.PatientComments = f"Contact {patient['phone']} re {patient['id']}"
    ds.DeviceSerialNumber = series["serial"]
    ds.StudyInstanceUID = study["uid"]
    ds.SeriesInstanceUID = series["uid"]
    ds.StudyID = study["id"]
    ds.SeriesNumber = series["number"]
    ds.InstanceNumber = number
    ds.ImageComments = f"Technologist note: {patient['given']} was anxious"

    other = Dataset()
    other.PatientID = patient["other_id"]
    other.IssuerOfPatientID = "NEIGHBOUR-TRUST"
    ds.OtherPatientIDsSequence = Sequence([other])
    req = Dataset()
    req.RequestedProcedureID = study["rp_id"]
    req.ScheduledProcedureStepID = study["sps_id"]
    req.AccessionNumber = study["accession"]
    req.RequestedProcedureDescription = f"Follow-up for {patient['family']}"
    ds.RequestAttributesSequence = Sequence([req])
    code = Dataset()
    code.CodeValue = study["staff_code"]
    code.CodingSchemeDesignator = "L"
    code.CodeMeaning = study["referring"].replace("^", " ").strip()
    ident = Dataset()
    ident.PersonIdentificationCodeSequence = Sequence([code])
    ident.InstitutionName = study["institution"]
    ds.ReferringPhysicianIdentificationSequence = Sequence([ident])

    # Private blocks of realistic creators.
    ge = ds.private_block(0x0009, "GEMS_IDEN_01", create=True)
    ge.add_new(0x02, "SH", series["station"][:16])
    ge.add_new(0x17, "LT", f"Pt {patient['family']} {patient['id']}")
    siemens = ds.private_block(0x0019, "SIEMENS MED", create=True)
    siemens.add_new(0x10, "LO", study["accession"])
    siemens.add_new(
        0x12,
        "OB",
        (
            "CSA\x00" + _ascii_fold(patient["name"].split("=")[0]) + "\x00" + patient["id"] + "\x00"
        ).encode("latin-1"),
    )
    philips = ds.private_block(0x2005, "PHILIPS MR IMAGING DD 001", create=True)
    philips.add_new(0x13, "LO", patient["other_id"])
    elscint = ds.private_block(0x00E1, "ELSCINT1", create=True)
    elscint.add_new(0x61, "LO", f"{study['institution']} / {study['referring'].split('^')[0]}")

    prefix = ""
    for tag, value, category in [
        (0x00100010, patient["name"], "name"),
        (0x00100020, patient["id"], "id"),
        (0x00100030, patient["birth"], "date"),
        (0x00101040, patient["address"], "address"),
        (0x00102154, patient["phone"], "address"),
        (0x00101000, patient["other_id"], "id"),
        (0x00101001, "\\".join(patient["alias"]), "name"),
        (0x00101060, patient["mother"], "name"),
        (0x00080050, study["accession"], "id"),
        (0x00200010, study["id"], "id"),
        (0x00080080, study["institution"], "institution"),
        (0x00080081, study["institution_address"], "institution"),
        (0x00080090, study["referring"], "name"),
        (0x00081050, study["performing"], "name"),
        (0x00081060, study["reader"], "name"),
        (0x00081070, study["operator"], "name"),
        (0x00081010, series["station"], "device"),
        (0x00181000, series["serial"], "device"),
        (0x00080020, study["date"], "date"),
        (0x0020000D, study["uid"], "uid"),
        (0x0020000E, series["uid"], "uid"),
        (0x00080018, ds.SOPInstanceUID, "uid"),
    ]:
        b.plant(rel, value, category, "standard", _label(tag, prefix))
    b.plant(rel, ds.AdditionalPatientHistory, "free_text", "free_text", _label(0x001021B0))
    b.plant(rel, ds.PatientComments, "free_text", "free_text", _label(0x00104000))
    b.plant(rel, ds.ImageComments, "free_text", "free_text", _label(0x00204000))
    b.plant(rel, ds.StudyDescription, "free_text", "free_text", _label(0x00081030))
    b.plant(rel, patient["other_id"], "id", "nested", _label(0x00100020, "(0010,1002)[0]."))
    b.plant(rel, study["rp_id"], "id", "nested", _label(0x00401001, "(0040,0275)[0]."))
    b.plant(rel, study["sps_id"], "id", "nested", _label(0x00400009, "(0040,0275)[0]."))
    b.plant(
        rel,
        study["staff_code"],
        "id",
        "nested",
        _label(0x00080100, "(0008,0096)[0].(0040,1101)[0]."),
    )
    b.plant(
        rel,
        f"Pt {patient['family']} {patient['id']}",
        "private",
        "private",
        "(0009,1017) private [GEMS_IDEN_01]",
    )
    b.plant(rel, study["accession"], "private", "private", "(0019,1010) private [SIEMENS MED]")
    b.plant(rel, patient["id"], "private", "private", "(0019,1012) private [SIEMENS MED] (OB)")
    b.plant(
        rel,
        patient["other_id"],
        "private",
        "private",
        "(2005,1013) private [PHILIPS MR IMAGING DD 001]",
    )
    return ds


def _image(
    ds: Dataset, rows: int, cols: int, frames: int, bits: int, rgb: bool, rng: random.Random
) -> np.ndarray:
    shape = (frames, rows, cols, 3) if rgb else (frames, rows, cols)
    dtype = np.uint8 if bits == 8 else np.uint16
    seed = rng.getrandbits(32)
    arr = np.random.default_rng(seed).integers(
        0, 200 if bits == 8 else 1000, size=shape, dtype=dtype
    )
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = 3 if rgb else 1
    ds.PhotometricInterpretation = "RGB" if rgb else "MONOCHROME2"
    if rgb:
        ds.PlanarConfiguration = 0
    ds.BitsAllocated = bits
    ds.BitsStored = bits if bits == 8 else 12
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 0
    if frames > 1:
        ds.NumberOfFrames = frames
    return arr


def _finish(
    b: _Builder,
    ds: Dataset,
    rel: str,
    arr: np.ndarray | None,
    patient: dict[str, Any],
    study: dict[str, Any],
    ts: str = ExplicitVRLittleEndian,
    burn: bool = False,
    overlay: bool = False,
) -> dict[str, Any]:
    burned: list[dict[str, Any]] = []
    if arr is not None:
        if burn:
            text = f"{_ascii_fold(patient['family'])} {patient['id']}"
            frames = arr if arr.ndim >= 3 and int(ds.get("NumberOfFrames", 1)) > 1 else arr[None]
            value = 255 if arr.dtype == np.uint8 else 4000
            for i in range(frames.shape[0]):
                plane = frames[i]
                target = plane[..., 0] if plane.ndim == 3 else plane
                box = render_text(
                    target, text, 2, 2, min(value, 255 if arr.dtype == np.uint8 else 4095)
                )
                if plane.ndim == 3:
                    plane[..., 1] = np.where(target == 255, 255, plane[..., 1])
                    plane[..., 2] = np.where(target == 255, 255, plane[..., 2])
                burned.append({"text": text, "frame": i, "bbox": box})
            ds.BurnedInAnnotation = "YES"
            b.plant(rel, text, "name", "burned_in", "(7FE0,0010) PixelData")
        else:
            ds.BurnedInAnnotation = "NO"
        ds.PixelData = arr.tobytes()
    if overlay and arr is not None:
        rows, cols = int(ds.Rows), int(ds.Columns)
        bitmap = np.zeros((rows, cols), dtype=np.uint8)
        render_text(bitmap, patient["id"], 2, rows - 8, 1)
        ds.add_new(0x60000010, "US", rows)
        ds.add_new(0x60000011, "US", cols)
        ds.add_new(0x60000040, "CS", "G")
        ds.add_new(0x60000050, "SS", [1, 1])
        ds.add_new(0x60000100, "US", 1)
        ds.add_new(0x60000102, "US", 0)
        ds.add_new(0x60000022, "LO", f"Annotated for {_ascii_fold(patient['family'])}")
        ds.add_new(0x60001500, "LO", patient["id"])
        ds.add_new(0x60003000, "OW", np.packbits(bitmap.ravel(), bitorder="little").tobytes())
        b.plant(
            rel,
            f"Annotated for {_ascii_fold(patient['family'])}",
            "free_text",
            "overlay",
            "(6000,0022) OverlayDescription",
        )
        b.plant(rel, patient["id"], "id", "overlay", "(6000,1500) OverlayLabel")

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ts
    meta.ImplementationClassUID = "1.2.826.0.1.3680043.10.1049.1"
    meta.ImplementationVersionName = "PHICORPUS_1"
    meta.SourceApplicationEntityTitle = study["ae"]
    meta.PrivateInformationCreatorUID = "1.2.826.0.1.3680043.10.1049.7"
    meta.PrivateInformation = f"routed-for {patient['id']}".encode("ascii")
    ds.file_meta = meta
    b.plant(rel, study["ae"], "device", "file_meta", "(0002,0016) SourceApplicationEntityTitle")
    b.plant(rel, patient["id"], "id", "file_meta", "(0002,0102) PrivateInformation")
    pre = f"PHI {_ascii_fold(patient['family'])} {patient['id']} {patient['birth']}".encode("ascii")
    ds.preamble = pre.ljust(128, b"\x00")
    b.plant(rel, patient["id"], "id", "preamble", "preamble")

    path = os.path.join(b.out, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    ds.save_as(path, enforce_file_format=True)

    keep: dict[str, Any] = {}
    for kw in RESEARCH_KEEPS:
        if kw in ds:
            v = ds.data_element(kw).value
            keep[kw] = (
                [str(x) for x in v]
                if isinstance(v, (list, tuple))
                or hasattr(v, "__iter__")
                and not isinstance(v, (str, bytes))
                else str(v)
            )
    option_keeps = {
        opt: {kw: str(ds.data_element(kw).value) for kw in kws if kw in ds}
        for opt, kws in OPTION_KEEPS.items()
    }
    record = {
        "path": rel,
        "patient": patient["index"],
        "modality": str(ds.Modality),
        "charset": patient["charset"] or "ISO_IR 6",
        "transfer_syntax": str(ts),
        "sop_class_uid": str(ds.SOPClassUID),
        "sop_instance_uid": str(ds.SOPInstanceUID),
        "study_instance_uid": str(ds.StudyInstanceUID),
        "series_instance_uid": str(ds.SeriesInstanceUID),
        "pixel_sha256": hashlib.sha256(ds.PixelData).hexdigest() if "PixelData" in ds else None,
        "burned_in": burned,
        "keep": keep,
        "option_keeps": option_keeps,
        "references": [],
    }
    b.files.append(record)
    return record


def build_corpus(out: str, seed: int = 0) -> dict[str, Any]:
    """Write the corpus into ``out`` (created) and return the answer key (also written).

    Examples
    --------
    >>> import tempfile
    >>> key = build_corpus(tempfile.mkdtemp(), seed=1)
    >>> len(key["files"]) >= 14 and len(key["phi"]) > 100
    True
    """
    rng = random.Random(seed)
    b = _Builder(rng, out)
    patients = [_patient_record(b, i) for i in range(len(_PATIENTS))]
    ct_refs: list[dict[str, Any]] = []

    def study_for(p: dict[str, Any], k: int) -> dict[str, Any]:
        return {
            "uid": b.uid(),
            "date": b.date(),
            "time": b.time(),
            "accession": f"ACC{b.digits(8)}",
            "id": f"ST{b.digits(5)}",
            "rp_id": f"RP{b.digits(6)}",
            "sps_id": f"SPS{b.digits(6)}",
            "staff_code": f"STAFF{b.digits(5)}",
            "institution": _INSTITUTIONS[(p["index"] + k) % len(_INSTITUTIONS)],
            "institution_address": f"{rng.randint(1, 99)} Infirmary Row, Wendeline Cross",
            "referring": _staff(b),
            "performing": _staff(b),
            "reader": _staff(b),
            "operator": _staff(b),
            "ae": f"SWMH_{b.digits(4)}",
            "key": f"P{p['index'] + 1:02d}/S{k + 1}",
        }

    def series_for(n: int) -> dict[str, Any]:
        return {
            "uid": b.uid(),
            "number": n,
            "station": f"SWMH-SCANNER-{b.digits(3)}",
            "serial": f"SN{b.digits(8)}",
        }

    ct_class, mr_class = "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.4"
    pet_class, us_class = "1.2.840.10008.5.1.4.1.1.128", "1.2.840.10008.5.1.4.1.1.6.1"
    usmf_class, cr_class = "1.2.840.10008.5.1.4.1.1.3.1", "1.2.840.10008.5.1.4.1.1.1"
    dx_class, sc_class = "1.2.840.10008.5.1.4.1.1.1.1", "1.2.840.10008.5.1.4.1.1.7"
    sr_class = "1.2.840.10008.5.1.4.1.1.88.33"

    # Patient 1 (ISO_IR 100): CT series of 3 + SR on it; second study CR (implicit VR, burned).
    p = patients[0]
    st = study_for(p, 0)
    se = series_for(1)
    frame_uid = b.uid()
    for i in range(3):
        rel = f"{st['key']}/CT/{i + 1}.dcm"
        ds = _base(b, rel, p, st, se, "CT", ct_class, i + 1)
        arr = _image(ds, 32, 32, 1, 16, False, rng)[0]
        ds.ImagePositionPatient = [-100.0, -100.0, float(i * 2.5)]
        ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        ds.PixelSpacing = [0.7, 0.7]
        ds.SliceThickness = 2.5
        ds.KVP = 120
        ds.FrameOfReferenceUID = frame_uid
        b.plant(rel, frame_uid, "uid", "standard", _label(0x00200052))
        if ct_refs:
            src = Dataset()
            src.ReferencedSOPClassUID = ct_class
            src.ReferencedSOPInstanceUID = ct_refs[-1]["sop_instance_uid"]
            ds.SourceImageSequence = Sequence([src])
        rec = _finish(b, ds, rel, arr, p, st, overlay=(i == 0))
        if ct_refs:
            rec["references"].append(
                {
                    "path": "(0008,2112)[0].(0008,1155) ReferencedSOPInstanceUID",
                    "target": ct_refs[-1]["path"],
                }
            )
        ct_refs.append(rec)
    _sr(b, p, st, ct_refs, sr_class)
    st2 = study_for(p, 1)
    se = series_for(1)
    rel = f"{st2['key']}/CR/1.dcm"
    ds = _base(b, rel, p, st2, se, "CR", cr_class, 1)
    arr = _image(ds, 48, 64, 1, 16, False, rng)[0]
    ds.KVP = 85
    _finish(b, ds, rel, arr, p, st2, ts=ImplicitVRLittleEndian, burn=True)

    # Patient 2 (UTF-8): MR x2, PET x2 with radiopharmaceutical timing.
    p = patients[1]
    st = study_for(p, 0)
    se = series_for(1)
    for i in range(2):
        rel = f"{st['key']}/MR/{i + 1}.dcm"
        ds = _base(b, rel, p, st, se, "MR", mr_class, i + 1)
        arr = _image(ds, 32, 32, 1, 16, False, rng)[0]
        ds.ImagePositionPatient = [0.0, 0.0, float(i * 5)]
        ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 0.0, -1.0]
        ds.PixelSpacing = [1.0, 1.0]
        ds.SliceThickness = 5.0
        ds.RepetitionTime = 500.0
        ds.EchoTime = 15.0
        ds.MagneticFieldStrength = 1.5
        _finish(b, ds, rel, arr, p, st)
    se = series_for(2)
    inj = b.time()
    for i in range(2):
        rel = f"{st['key']}/PT/{i + 1}.dcm"
        ds = _base(b, rel, p, st, se, "PT", pet_class, i + 1)
        arr = _image(ds, 16, 16, 1, 16, False, rng)[0]
        ds.Units = "BQML"
        ds.DecayCorrection = "START"
        ds.SeriesType = ["STATIC", "IMAGE"]
        ds.CorrectedImage = ["DECY", "ATTN"]
        ds.ImagePositionPatient = [0.0, 0.0, float(i * 3)]
        ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        ds.PixelSpacing = [4.0, 4.0]
        ds.SliceThickness = 3.0
        ds.ActualFrameDuration = 180000
        rad = Dataset()
        rad.Radiopharmaceutical = "Fluorodeoxyglucose"
        rad.RadiopharmaceuticalStartTime = inj
        rad.RadiopharmaceuticalStartDateTime = st["date"] + inj
        rad.RadionuclideTotalDose = 370000000.0
        rad.RadionuclideHalfLife = 6586.2
        rad.RadionuclidePositronFraction = 0.97
        nuc = Dataset()
        nuc.CodeValue = "C-111A1"
        nuc.CodingSchemeDesignator = "SRT"
        nuc.CodeMeaning = "^18^Fluorine"
        rad.RadionuclideCodeSequence = Sequence([nuc])
        ds.RadiopharmaceuticalInformationSequence = Sequence([rad])
        b.plant(rel, st["date"] + inj, "date", "nested", _label(0x00181078, "(0054,0016)[0]."))
        rec = _finish(b, ds, rel, arr, p, st)
        rec["keep"]["RadionuclideHalfLife"] = "6586.2"
        rec["keep"]["RadionuclideTotalDose"] = "370000000.0"

    # Patient 3 (Japanese): US single-frame RGB (burned) and multi-frame (burned), SC.
    p = patients[2]
    st = study_for(p, 0)
    se = series_for(1)
    rel = f"{st['key']}/US/1.dcm"
    ds = _base(b, rel, p, st, se, "US", us_class, 1)
    arr = _image(ds, 48, 64, 1, 8, True, rng)[0]
    _finish(b, ds, rel, arr, p, st, burn=True)
    rel = f"{st['key']}/US/2.dcm"
    ds = _base(b, rel, p, st, se, "US", usmf_class, 2)
    arr = _image(ds, 40, 64, 3, 8, False, rng)
    ds.FrameTime = 33.3
    _finish(b, ds, rel, arr, p, st, burn=True)
    se = series_for(3)
    rel = f"{st['key']}/SC/1.dcm"
    ds = _base(b, rel, p, st, se, "OT", sc_class, 1)
    ds.ConversionType = "WSD"
    arr = _image(ds, 24, 24, 1, 8, False, rng)[0]
    _finish(b, ds, rel, arr, p, st, ts=DeflatedExplicitVRLittleEndian)

    # Patient 4 (GB18030): DX (burned) and MR.
    p = patients[3]
    st = study_for(p, 0)
    se = series_for(1)
    rel = f"{st['key']}/DX/1.dcm"
    ds = _base(b, rel, p, st, se, "DX", dx_class, 1)
    arr = _image(ds, 64, 64, 1, 16, False, rng)[0]
    ds.KVP = 70
    ds.ImagerPixelSpacing = [0.15, 0.15]
    _finish(b, ds, rel, arr, p, st, burn=True)
    se = series_for(2)
    rel = f"{st['key']}/MR/1.dcm"
    ds = _base(b, rel, p, st, se, "MR", mr_class, 1)
    arr = _image(ds, 16, 16, 1, 16, False, rng)[0]
    ds.RepetitionTime = 2000.0
    ds.EchoTime = 90.0
    ds.MagneticFieldStrength = 3.0
    _finish(b, ds, rel, arr, p, st)

    # Patient 5 (ASCII): two studies, CT and SC.
    p = patients[4]
    for k in range(2):
        st = study_for(p, k)
        se = series_for(1)
        rel = f"{st['key']}/CT/1.dcm"
        ds = _base(b, rel, p, st, se, "CT", ct_class, 1)
        arr = _image(ds, 16, 16, 1, 16, False, rng)[0]
        ds.KVP = 100
        ds.ImagePositionPatient = [0.0, 0.0, 0.0]
        ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        ds.PixelSpacing = [0.5, 0.5]
        ds.SliceThickness = 1.0
        _finish(b, ds, rel, arr, p, st)
    rel = f"{st['key']}/SC/1.dcm"
    ds = _base(b, rel, p, st, series_for(2), "OT", sc_class, 1)
    ds.ConversionType = "DV"
    arr = _image(ds, 24, 32, 1, 8, False, rng)[0]
    _finish(b, ds, rel, arr, p, st, burn=True)

    key = {
        "generator": "tools/make_phi_corpus.py",
        "seed": seed,
        "patients": patients,
        "option_keeps": OPTION_KEEPS,
        "research_keeps": RESEARCH_KEEPS,
        "files": b.files,
        "phi": b.phi,
    }
    with open(os.path.join(out, KEY_NAME), "w", encoding="utf-8") as fh:
        json.dump(key, fh, indent=1, ensure_ascii=False, sort_keys=True)
        fh.write("\n")
    return key


def _sr(
    b: _Builder, p: dict[str, Any], st: dict[str, Any], refs: list[dict[str, Any]], sr_class: str
) -> None:
    se = {
        "uid": b.uid(),
        "number": 90,
        "station": f"SWMH-RPT-{b.digits(3)}",
        "serial": f"SN{b.digits(8)}",
    }
    rel = f"{st['key']}/SR/1.dcm"
    ds = _base(b, rel, p, st, se, "SR", sr_class, 1)
    ds.ValueType = "CONTAINER"
    ds.ContinuityOfContent = "SEPARATE"
    ds.CompletionFlag = "COMPLETE"
    ds.VerificationFlag = "VERIFIED"

    def concept(value: str, meaning: str) -> Sequence:
        c = Dataset()
        c.CodeValue, c.CodingSchemeDesignator, c.CodeMeaning = value, "DCM", meaning
        return Sequence([c])

    ds.ConceptNameCodeSequence = concept("126000", "Imaging Measurement Report")
    observer = _staff(b)
    vo = Dataset()
    vo.VerifyingObserverName = observer
    vo.VerifyingOrganization = st["institution"]
    vo.VerificationDateTime = st["date"] + "170000"
    ds.VerifyingObserverSequence = Sequence([vo])
    items = []
    t = Dataset()
    t.RelationshipType, t.ValueType = "CONTAINS", "TEXT"
    t.ConceptNameCodeSequence = concept("121071", "Finding")
    t.TextValue = f"Compared with prior of {p['family']} (MRN {p['id']}); stable nodule."
    items.append(t)
    pn = Dataset()
    pn.RelationshipType, pn.ValueType = "HAS OBS CONTEXT", "PNAME"
    pn.ConceptNameCodeSequence = concept("121008", "Person Observer Name")
    pn.PersonName = observer
    items.append(pn)
    dt = Dataset()
    dt.RelationshipType, dt.ValueType = "CONTAINS", "DATE"
    dt.ConceptNameCodeSequence = concept("111060", "Study Date")
    dt.Date = st["date"]
    items.append(dt)
    sub = Dataset()
    sub.RelationshipType, sub.ValueType = "CONTAINS", "CONTAINER"
    sub.ContinuityOfContent = "SEPARATE"
    sub.ConceptNameCodeSequence = concept("111028", "Image Library")
    img = Dataset()
    img.RelationshipType, img.ValueType = "CONTAINS", "IMAGE"
    ref = Dataset()
    ref.ReferencedSOPClassUID = refs[0]["sop_class_uid"]
    ref.ReferencedSOPInstanceUID = refs[0]["sop_instance_uid"]
    img.ReferencedSOPSequence = Sequence([ref])
    inner_text = Dataset()
    inner_text.RelationshipType, inner_text.ValueType = "CONTAINS", "TEXT"
    inner_text.ConceptNameCodeSequence = concept("121106", "Comment")
    inner_text.TextValue = f"Dictated by {observer.split('^')[0]} for {p['given']}"
    sub.ContentSequence = Sequence([img, inner_text])
    items.append(sub)
    ds.ContentSequence = Sequence(items)
    evidence = Dataset()
    evidence.StudyInstanceUID = st["uid"]
    series = Dataset()
    series.SeriesInstanceUID = refs[0]["series_instance_uid"]
    sops = []
    for r in refs:
        s = Dataset()
        s.ReferencedSOPClassUID = r["sop_class_uid"]
        s.ReferencedSOPInstanceUID = r["sop_instance_uid"]
        sops.append(s)
    series.ReferencedSOPSequence = Sequence(sops)
    evidence.ReferencedSeriesSequence = Sequence([series])
    ds.CurrentRequestedProcedureEvidenceSequence = Sequence([evidence])
    b.plant(rel, observer, "name", "sr", "(0040,A073)[0].(0040,A075) VerifyingObserverName")
    b.plant(rel, t.TextValue, "free_text", "sr", "(0040,A730)[0].(0040,A160) TextValue")
    b.plant(
        rel,
        inner_text.TextValue,
        "free_text",
        "sr",
        "(0040,A730)[3].(0040,A730)[1].(0040,A160) TextValue",
    )
    b.plant(rel, observer, "name", "sr", "(0040,A730)[1].(0040,A123) PersonName")
    rec = _finish(b, ds, rel, None, p, st)
    rec["references"].append(
        {
            "path": "(0040,A730)[3].(0040,A730)[0].(0008,1199)[0].(0008,1155) ReferencedSOPInstanceUID",
            "target": refs[0]["path"],
        }
    )
    for i, r in enumerate(refs):
        rec["references"].append(
            {
                "path": f"(0040,A375)[0].(0008,1115)[0].(0008,1199)[{i}].(0008,1155) "
                "ReferencedSOPInstanceUID",
                "target": r["path"],
            }
        )


def _tree_digest(root: str) -> dict[str, str]:
    out = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as fh:
                out[os.path.relpath(path, root)] = hashlib.sha256(fh.read()).hexdigest()
    return out


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: build the corpus, or ``--check`` an existing one against a rebuild."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="output directory")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--check",
        action="store_true",
        help="rebuild in a temporary directory and compare byte for byte",
    )
    args = parser.parse_args(argv)
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            seed = args.seed
            key_path = os.path.join(args.out, KEY_NAME)
            if os.path.isfile(key_path):
                with open(key_path, encoding="utf-8") as fh:
                    seed = int(json.load(fh).get("seed", seed))
            build_corpus(tmp, seed)
            want, have = _tree_digest(tmp), _tree_digest(args.out)
            if want != have:
                diff = sorted(set(want.items()) ^ set(have.items()))
                print(f"{args.out}: differs from a rebuild ({len(diff)} file(s))", file=sys.stderr)
                return 1
            print(f"{args.out}: identical to a rebuild with seed {seed}")
            return 0
    key = build_corpus(args.out, args.seed)
    print(f"wrote {len(key['files'])} files and {len(key['phi'])} planted values to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
