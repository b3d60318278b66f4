"""deid.profiles.table: loading the generated tables and looking rows up by tag number."""

from __future__ import annotations

import pytest

from deid.errors import ProfileError
from deid.profiles.table import (
    OPTION_ALIASES,
    OPTION_IDS,
    available_editions,
    format_tag,
    load_table,
)


def test_edition_and_counts():
    t = load_table()
    assert t.edition == "2026c" and t.options_edition == "2024b"
    assert len(t.rows) == 656
    assert "2026c" in available_editions()
    assert load_table() is t  # cached


def test_unknown_edition():
    with pytest.raises(ProfileError, match="no PS3.15 table for edition '1999a'"):
        load_table("1999a")


def test_row_lookup_exact_mask_private():
    t = load_table()
    assert t.row_for_tag(0x00100020).name == "Patient ID"
    assert t.row_for_tag(0x601E3000).id == "60xx3000"
    assert t.row_for_tag(0x601E3001) is None
    assert t.row_for_tag(0x50001234).id == "50xxxxxx"
    assert t.row_for_tag(0x00091001).kind == "private"
    assert t.row_for_tag(0x00280010) is None  # Rows: not in the table


def test_row_matches():
    t = load_table()
    overlay = t.row_for_tag(0x60003000)
    assert overlay.matches(0x60203000) and not overlay.matches(0x60204000)
    assert t.private_row.matches(0x00291010) and not t.private_row.matches(0x00281010)


def test_new_rows_keyed_on_numbers():
    t = load_table()
    row = t.row_for_tag(0x00100011)  # Person Names to Use, 2026c, no pydicom keyword needed
    assert row is not None and row.options_source == "none" and row.in_newest_source


def test_concepts_and_safe_private():
    t = load_table()
    assert t.concept("121022", "DCM").basic == "X"
    assert t.concept("nope", "DCM") is None
    sp = [r for r in t.safe_private if r.creator == "GEMS_ACQU_01" and r.offset == 0x23]
    assert sp and sp[0].idiscore_form == "0019[GEMS_ACQU_01]23"


def test_options_metadata():
    t = load_table()
    assert list(t.options) == list(OPTION_IDS)
    assert t.options["retain-uids"].column == "rtnUIDsOpt"
    assert t.options["clean-pixel-data"].column is None
    assert set(OPTION_ALIASES.values()) <= set(OPTION_IDS)


def test_format_tag():
    assert format_tag(0x0040A730) == "(0040,A730)"
