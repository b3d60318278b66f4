"""Tests for deid.pixels.locations (idiscore-shaped PII location lists)."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset

from deid.pixels.locations import LocationError, PIILocation, PIILocationList, SquareArea


def image(rows, cols, modality="US"):
    ds = Dataset()
    ds.Rows, ds.Columns, ds.Modality = rows, cols, modality
    return ds


@pytest.fixture
def locations():
    # the example of idiscore's documentation
    return PIILocationList(
        [
            PIILocation(
                areas=[SquareArea(5, 10, 4, 12), SquareArea(0, 0, 20, 3)],
                criterion=lambda x: x.Rows == 265 and x.Columns == 512,
                comment="small",
            ),
            PIILocation(
                areas=[SquareArea(0, 200, 4, 12)],
                criterion=lambda x: x.Rows == 265 and x.Columns == 712,
            ),
        ]
    )


def test_square_area_geometry():
    area = SquareArea(5, 10, 4, 12)
    assert (area.x, area.y, area.width, area.height) == (5, 10, 4, 12)
    assert area.get_bounds() == (5, 10, 9, 22)
    region = area.as_region("why")
    assert (region.x0, region.y0, region.x1, region.y1, region.keep) == (5, 10, 9, 22, False)
    assert SquareArea(1, 2, 3, 4) == SquareArea(1, 2, 3, 4)


@pytest.mark.parametrize("args", [(-1, 0, 1, 1), (0, 0, -2, 1), ("a", 0, 1, 1)])
def test_square_area_rejects_bad_values(args):
    with pytest.raises(LocationError):
        SquareArea(*args)


def test_matching_by_criterion(locations):
    assert [r.spec() for r in locations.regions(image(265, 512))] == ["5,10,9,22", "0,0,20,3"]
    assert [r.spec() for r in locations.regions(image(265, 712))] == ["0,200,4,212"]
    assert locations.regions(image(100, 100)) == ()
    assert len(locations) == 2 and len(list(locations)) == 2


def test_criterion_errors_do_not_match():
    loc = PIILocation([SquareArea(0, 0, 1, 1)], criterion=lambda x: x.Rows == 1)
    assert not loc.exactly_matches(Dataset())  # AttributeError -> no match


def test_no_criterion_matches_everything_and_comment_in_source():
    loc = PIILocation([SquareArea(0, 0, 1, 1)], comment="all screens")
    assert loc.exactly_matches(Dataset())
    assert loc.regions()[0].source == "PII location all screens"


def test_criterion_object_with_matches_method():
    class ModalityIs:
        def __init__(self, m):
            self.m = m

        def matches(self, ds):
            return ds.Modality == self.m

    loc = PIILocation([SquareArea(0, 0, 1, 1)], criterion=ModalityIs("US"))
    assert loc.exactly_matches(image(1, 1, "US")) and not loc.exactly_matches(image(1, 1, "CT"))


def test_type_checks():
    with pytest.raises(LocationError):
        PIILocation([(0, 0, 1, 1)])
    with pytest.raises(LocationError):
        PIILocation([], criterion="Modality == US")
    with pytest.raises(LocationError):
        PIILocationList(["x"])
