"""Tests for deid.pixels.regions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deid.pixels.regions import Region, RegionError, frame_mask, parse_spec, removal_mask


def test_parse_spec_forms():
    assert parse_spec("all").is_whole
    assert parse_spec(" ALL ", keep=True).keep
    r = parse_spec("1, 2,30,40", source="x")
    assert (r.x0, r.y0, r.x1, r.y1, r.source) == (1, 2, 30, 40, "x")
    assert r.spec() == "1,2,30,40"


@pytest.mark.parametrize("bad", ["1,2,3", "a,b,c,d", "0,0,10,10 # comment", "", "from:X"])
def test_parse_spec_rejects(bad):
    with pytest.raises(RegionError):
        parse_spec(bad, source="recipe:3")


def test_mask_is_end_exclusive_x_is_column():
    m = removal_mask([Region(1, 2, 3, 4)], rows=5, columns=6)
    expected = np.zeros((5, 6), bool)
    expected[2:4, 1:3] = True
    assert np.array_equal(m, expected)


def test_later_regions_override_and_keep_protects():
    regions = [Region.whole(), Region(0, 0, 2, 2, keep=True), Region(1, 1, 2, 2)]
    m = removal_mask(regions, 3, 3)
    assert m.tolist() == [[False, False, True], [False, True, True], [True, True, True]]


def test_negative_and_out_of_range_coordinates_are_clipped():
    m = removal_mask([Region(-5, -5, 2, 100)], 4, 4)
    assert m[:, :2].all() and not m[:, 2:].any()
    assert not removal_mask([Region(10, 10, 20, 20)], 4, 4).any()
    assert not removal_mask([Region(3, 3, 1, 1)], 4, 4).any()  # inverted box is empty


def test_frame_restricted_regions():
    r = Region(0, 0, 1, 1, frames=(1,))
    assert not frame_mask([r], 2, 2, 0).any()
    assert frame_mask([r], 2, 2, 1)[0, 0]
    assert r.applies_to(1) and not r.applies_to(0)


@given(
    st.lists(
        st.tuples(
            st.integers(-3, 12),
            st.integers(-3, 12),
            st.integers(-3, 12),
            st.integers(-3, 12),
            st.booleans(),
        ),
        max_size=6,
    )
)
def test_mask_matches_upstream_rule_for_in_range_boxes(boxes):
    rows, cols = 9, 11
    ref = np.ones((rows, cols), int)
    regions = []
    for x0, y0, x1, y1, keep in boxes:
        regions.append(Region(x0, y0, x1, y1, keep=keep))
        cx0, cx1 = min(max(x0, 0), cols), min(max(x1, 0), cols)
        cy0, cy1 = min(max(y0, 0), rows), min(max(y1, 0), rows)
        ref[cy0:cy1, cx0:cx1] = int(keep)
    assert np.array_equal(removal_mask(regions, rows, cols), ref == 0)
