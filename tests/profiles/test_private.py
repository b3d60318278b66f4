"""deid.profiles.private: creator-qualified safe private tags and blocks."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset

from deid.errors import ProfileError
from deid.profiles.private import (
    PrivateTag,
    SafePrivateBlock,
    SafePrivateDefinition,
    default_definition,
    parse_private_tag,
)


def test_parse_forms():
    assert parse_private_tag("00b1[TestCreator]01") == PrivateTag(0xB1, "TestCreator", 1)
    assert parse_private_tag("(0019[GEMS_ACQU_01]xx23)").offset == 0x23
    assert str(PrivateTag(0x23, "X Y", 0x10)) == "0023[X Y]10"
    for bad in ("0010[X]10", "0023[X]", "zz23[X]10", "0023X10"):
        with pytest.raises(ProfileError):
            parse_private_tag(bad)


def test_block_criteria_fail_closed():
    def broken(ds):
        raise AttributeError("no Modality")

    block = SafePrivateBlock(tags=["0023[A]10"], criterion=broken)
    assert block.applies_to(Dataset()) is False
    d = SafePrivateDefinition(blocks=[block, SafePrivateBlock(tags=["0025[b]11"])])
    assert d.safe_set(Dataset()) == frozenset({(0x25, "B", 0x11)})
    assert d.is_safe(0x25, "b", 0x11, None) and d.creators(0x25, None) == {"B"}
    combined = d + SafePrivateDefinition(blocks=[SafePrivateBlock(tags=["0027[c]01"])])
    assert len(combined.blocks) == 3


def test_default_definition_is_table_e3_10_1():
    d = default_definition()
    assert d.is_safe(0x7053, "Philips PET Private Group", 0x00, None)
    assert d.is_safe(0x0019, "SIEMENS MR HEADER", 0x0C, None)
    assert not d.is_safe(0x0019, "SIEMENS MR HEADER", 0x10, None)
