"""tools/make_phi_corpus.py: deterministic corpus, complete answer key, every modality."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import pydicom
import pytest

from .conftest import load_tool


@pytest.fixture(scope="module")
def tool():
    return load_tool("make_phi_corpus")


@pytest.fixture(scope="module")
def built(tool, tmp_path_factory):
    out = tmp_path_factory.mktemp("phi")
    return str(out), tool.build_corpus(str(out), seed=3)


def _digests(root):
    out = {}
    for dirpath, _, names in os.walk(root):
        for n in names:
            p = os.path.join(dirpath, n)
            out[os.path.relpath(p, root)] = hashlib.sha256(Path(p).read_bytes()).hexdigest()
    return out


def test_deterministic_and_seeded(tool, built, tmp_path):
    out, _ = built
    tool.build_corpus(str(tmp_path / "again"), seed=3)
    assert _digests(out) == _digests(tmp_path / "again")
    tool.build_corpus(str(tmp_path / "other"), seed=4)
    assert _digests(out) != _digests(tmp_path / "other")
    assert tool.main([out, "--check"]) == 0
    with open(os.path.join(out, "P01/S1/CT/1.dcm"), "ab") as fh:
        fh.write(b"\x00")
    assert tool.main([out, "--check"]) == 1


def test_modalities_patients_studies(built):
    out, key = built
    mods = {r["modality"] for r in key["files"]}
    assert {"CT", "MR", "US", "CR", "DX", "SR", "OT", "PT"} <= mods
    us = [
        pydicom.dcmread(os.path.join(out, r["path"])) for r in key["files"] if r["modality"] == "US"
    ]
    assert sorted(int(ds.get("NumberOfFrames", 1)) for ds in us) == [1, 3]
    assert len({r["patient"] for r in key["files"]}) == 5
    assert len({r["study_instance_uid"] for r in key["files"]}) >= 6
    charsets = {r["charset"] for r in key["files"]}
    assert {"ISO_IR 100", "ISO_IR 192", "ISO 2022 IR 87", "GB18030"} <= charsets
    assert {r["transfer_syntax"] for r in key["files"]} >= {
        "1.2.840.10008.1.2",
        "1.2.840.10008.1.2.1",
        "1.2.840.10008.1.2.1.99",
    }


def test_answer_key_values_are_really_in_the_files(built):
    out, key = built
    places = {e["where"] for e in key["phi"]}
    assert {
        "standard",
        "free_text",
        "nested",
        "private",
        "file_meta",
        "preamble",
        "overlay",
        "burned_in",
        "sr",
    } <= places
    texts: dict[str, tuple[pydicom.Dataset, str]] = {}
    for entry in key["phi"]:
        if entry["where"] == "burned_in":
            continue
        if entry["file"] not in texts:
            ds = pydicom.dcmread(os.path.join(out, entry["file"]))
            values = []
            for elem in ds.iterall():
                if elem.VR == "SQ":
                    continue
                v = elem.value
                values.append(v.decode("latin-1") if isinstance(v, bytes) else str(v))
            texts[entry["file"]] = (ds, "\n".join(values))
        ds, text = texts[entry["file"]]
        if entry["where"] == "preamble":
            assert entry["value"].encode() in ds.preamble
            continue
        if entry["where"] == "file_meta":
            tag = int(entry["path"][1:10].replace(",", ""), 16)
            value = ds.file_meta[tag].value
            value = value.decode() if isinstance(value, bytes) else str(value)
            assert entry["value"] in value, entry
            continue
        for part in re.split(r"[\\^=]", entry["value"]):
            assert part in text, (entry, part)


def test_burned_in_boxes_and_pixel_hashes(built):
    out, key = built
    burned = [r for r in key["files"] if r["burned_in"]]
    assert len(burned) >= 4
    for rec in key["files"]:
        ds = pydicom.dcmread(os.path.join(out, rec["path"]))
        if rec["pixel_sha256"]:
            assert hashlib.sha256(ds.PixelData).hexdigest() == rec["pixel_sha256"]
        assert ds.get("BurnedInAnnotation", "NO") == ("YES" if rec["burned_in"] else "NO") or (
            rec["modality"] == "SR"
        )
    rec = burned[0]
    arr = pydicom.dcmread(os.path.join(out, rec["path"])).pixel_array
    x0, y0, x1, y1 = rec["burned_in"][0]["bbox"]
    plane = arr[0] if arr.ndim == 3 and arr.shape[-1] != 3 else arr
    region = plane[y0:y1, x0:x1]
    assert region.max() >= 255


def test_references_resolve_and_key_is_json(built):
    out, key = built
    by_path = {r["path"]: r for r in key["files"]}
    refs = [(r, ref) for r in key["files"] for ref in r["references"]]
    assert len(refs) >= 5
    for rec, ref in refs:
        assert ref["target"] in by_path
    with open(os.path.join(out, "answer_key.json"), encoding="utf-8") as fh:
        assert json.load(fh)["seed"] == 3


def test_research_and_option_keeps_recorded(built):
    _, key = built
    pet = next(r for r in key["files"] if r["modality"] == "PT")
    assert pet["keep"]["RadionuclideHalfLife"] == "6586.2"
    ct = next(r for r in key["files"] if r["modality"] == "CT")
    assert "ImagePositionPatient" in ct["keep"] and "KVP" in ct["keep"]
    assert set(ct["option_keeps"]) == set(key["option_keeps"])
    assert ct["option_keeps"]["retain-device-identity"]["StationName"].startswith("SWMH")
