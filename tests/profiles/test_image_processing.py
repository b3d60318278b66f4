"""deid.profiles.image_processing: PII location names re-exported from deid.pixels.locations."""

import pytest

from deid.profiles import image_processing


def test_unknown_name():
    with pytest.raises(AttributeError):
        image_processing.NotAName  # noqa: B018


def test_reexports_pixel_locations():
    locations = pytest.importorskip("deid.pixels.locations")
    assert image_processing.PIILocation is locations.PIILocation
    assert image_processing.PIILocationList is locations.PIILocationList
    assert image_processing.SquareArea is locations.SquareArea
