"""tools/generate_ps315.py: the shipped table is rebuilt byte for byte from vendored sources."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from .conftest import load_tool, run_tool

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "deid" / "profiles" / "_data" / "ps315_2026c.json"


@pytest.fixture(scope="module")
def gen():
    return load_tool("generate_ps315")


@pytest.fixture(scope="module")
def doc():
    return json.loads(DATA.read_text(encoding="utf-8"))


def test_check_mode_passes_on_the_committed_file():
    proc = run_tool("generate_ps315", "--check")
    assert proc.returncode == 0, proc.stderr


def test_check_mode_fails_on_a_changed_file(tmp_path):
    bad = tmp_path / "t.json"
    bad.write_text(DATA.read_text(encoding="utf-8").replace('"X"', '"K"', 1), encoding="utf-8")
    proc = run_tool("generate_ps315", "--check", "--output", str(bad))
    assert proc.returncode == 1
    assert "out of date" in proc.stderr


def test_build_is_deterministic(gen):
    assert gen.build() == gen.build() == DATA.read_text(encoding="utf-8")


def test_header_names_edition_and_source_checksums(doc):
    assert doc["edition"] == "2026c"
    assert doc["options_edition"] == "2024b"
    header = {k: v for k, v in doc.items() if not k.startswith("table_")}
    assert set(header) == {
        "format",
        "edition",
        "options_edition",
        "companion_edition",
        "title",
        "generator",
        "sources",
        "profile_code",
        "options",
    }
    assert len(doc["sources"]) == 3
    for src in doc["sources"]:
        path = ROOT / src["path"]
        assert path.is_file(), src["path"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == src["sha256"]


def test_vendored_sources_carry_their_licences():
    assert (
        (ROOT / "tools/vendor/innolitics/LICENSE.txt")
        .read_text()
        .startswith("Copyright (c) 2017 Innolitics")
    )
    assert "Redistribution and use" in (ROOT / "tools/vendor/dicom_anonymizer/LICENSE").read_text()
    assert (ROOT / "tools/vendor/README.md").is_file()


def test_row_counts_and_flags(doc):
    rows = doc["table_e1_1"]
    assert len(rows) == 656  # 652 tags + 3 repeating groups + the private row
    by_source = {}
    for r in rows:
        by_source.setdefault(r["options_source"], []).append(r)
    assert len(by_source["2024b"]) == 621
    assert len(by_source["none"]) + len(by_source["inferred"]) == 35
    # every row newer than 2024b comes from the 2026c source
    assert all(r["in_2026c_source"] for r in by_source["none"] + by_source["inferred"])
    assert all(r["options"] == {} for r in by_source["none"])


def test_rows_are_sorted_and_keyed_on_tag_numbers(doc):
    ids = [r["id"] for r in doc["table_e1_1"]]
    assert ids == sorted(ids)
    row = next(r for r in doc["table_e1_1"] if r["id"] == "00100010")
    assert row["tag"] == 0x00100010 and row["basic"] == "Z" and row["kind"] == "tag"
    # a 2026c row pydicom has no keyword for
    new = next(r for r in doc["table_e1_1"] if r["id"] == "00700006")
    assert new["basic"] == "D" and new["options_source"] == "none"


def test_repeating_groups_are_masks(doc):
    masks = {r["id"]: r for r in doc["table_e1_1"] if r["kind"] == "tag_mask"}
    assert set(masks) == {"50xxxxxx", "60xx3000", "60xx4000"}
    overlay = masks["60xx3000"]
    assert overlay["tag"] == 0x60003000 and overlay["mask"] == 0xFF00FFFF
    assert (0x60023000 & overlay["mask"]) == overlay["tag"]
    assert (0x60023001 & overlay["mask"]) != overlay["tag"]
    curve = masks["50xxxxxx"]
    assert (0x50101234 & curve["mask"]) == curve["tag"]


def test_hand_checked_rows(doc):
    rows = {r["id"]: r for r in doc["table_e1_1"]}
    # (0008,0020) Study Date: Z; K full dates; C modified dates
    assert rows["00080020"]["basic"] == "Z"
    assert rows["00080020"]["options"] == {
        "retain-long-full-dates": "K",
        "retain-long-modified-dates": "C",
    }
    # (0008,0018) SOP Instance UID: U, K under Retain UIDs
    assert rows["00080018"]["basic"] == "U"
    assert rows["00080018"]["options"] == {"retain-uids": "K"}
    # (0018,1000) Device Serial Number: X/Z/D, K under Retain Device Identity
    assert rows["00181000"]["basic"] == "X/Z/D"
    assert rows["00181000"]["options"]["retain-device-identity"] == "K"
    # (0010,1010) Patient's Age: X, K under Retain Patient Characteristics
    assert rows["00101010"]["options"] == {"retain-patient-characteristics": "K"}
    # (0008,1140) Referenced Image Sequence: X/Z/U*
    assert rows["00081140"]["basic"] == "X/Z/U*"
    assert rows["private"]["options"] == {"retain-safe-private": "C"}


def test_companion_tables(doc):
    safe = doc["table_e3_10_1"]
    keys = {(r["group"], r["creator"], r["offset"]) for r in safe}
    assert (0x7053, "Philips PET Private Group", 0x00) in keys
    assert (0x0019, "GEMS_ACQU_01", 0x23) in keys
    assert (0x00E1, "ELSCINT1", 0x21) in keys
    assert all(r["group"] % 2 == 1 for r in safe)
    assert len(safe) > 100
    concepts = {(r["code_value"], r["scheme"]): r for r in doc["table_e3_4_1"]}
    assert concepts[("121022", "DCM")]["basic"] == "X"  # Accession Number
    assert concepts[("126201", "DCM")]["options"] == {
        "retain-long-full-dates": "K",
        "retain-long-modified-dates": "C",
    }
    assert len(concepts) > 150


def test_cid_7050_codes(doc):
    codes = {o["id"]: o["code"] for o in doc["options"]}
    assert doc["profile_code"]["code"] == "113100"
    assert codes["retain-uids"] == "113110"
    assert codes["clean-pixel-data"] == "113101"
    assert sorted(codes.values()) == [str(c) for c in range(113101, 113113)]


def test_grid_table_parser_keeps_first_row(gen):
    lines = [
        ".. table:: T",
        "",
        "   +-----+-----+",
        "   | A   | B   |",
        "   +=====+=====+",
        "   | x1  | y   |",
        "   | x2  |     |",
        "   +-----+-----+",
        "   | z   | w   |",
        "   +-----+-----+",
    ]
    rows = gen.grid_table(lines, 0)
    assert rows == [[["x1", "x2"], ["y"]], [["z"], ["w"]]]
    assert gen.join_code(["1", "21022"]) == "121022"
    assert gen.join_words(["Acce", "ssion", "N", "umber"]) == "Accession Number"
