"""Tests for deid.pixels.process: the one-pass entry used by the runner."""

from __future__ import annotations

import json

import numpy as np
import pydicom
import pytest
from pydicom.uid import RLELossless

from deid.pixels.detect import detect
from deid.pixels.locations import PIILocation, PIILocationList, SquareArea
from deid.pixels.process import PixelOptions, process_pixels
from deid.recipe.ast import NO_SPAN, Coordinate, CriteriaLine, Criterion, FilterGroup, Label

from .conftest import deid_data_dir, make_image, roundtrip


def label(name, criteria, coords):
    lines = tuple(CriteriaLine(None, (Criterion(*c, span=NO_SPAN),), (), NO_SPAN) for c in criteria)
    return Label(name, lines, tuple(coords), NO_SPAN)


def box(x0, y0, x1, y1, keep=False):
    return Coordinate("coordinates", keep, "box", NO_SPAN, box=(x0, y0, x1, y1))


OT_BOX = [
    FilterGroup(
        "graylist", (label("OT box", [("equals", "Modality", "OT")], [box(0, 0, 4, 2)]),), NO_SPAN
    )
]


def test_untouched_keeps_pixel_bytes():
    ds = make_image()
    ds.Modality = "CT"
    raw = ds.PixelData
    outcome = process_pixels(ds, OT_BOX)
    assert outcome.status == "untouched" and ds.PixelData is raw
    assert not outcome.flagged


def test_cleaned_masks_and_reports():
    ds = make_image(rows=6, cols=8)
    before = ds.pixel_array.copy()
    outcome = process_pixels(ds, OT_BOX)
    assert outcome.status == "cleaned"
    after = roundtrip(ds).pixel_array
    assert not after[:2, :4].any() and np.array_equal(after[2:], before[2:])
    assert "graylist/OT box" in outcome.reason and "8 pixels" in outcome.reason
    data = outcome.to_dict()
    json.dumps(data)
    assert data["pixels_masked"] == 8 and data["method"] == "native"
    assert data["regions"] == [[0, "0,0,4,2"]]


def test_burned_in_yes_without_rule_is_rejected_and_unchanged():
    ds = make_image()
    ds.BurnedInAnnotation = "YES"
    raw = ds.PixelData
    outcome = process_pixels(ds, None)
    assert outcome.status == "rejected"
    assert "BurnedInAnnotation is YES" in outcome.reason
    assert ds.PixelData is raw and ds.BurnedInAnnotation == "YES"
    opt_out = process_pixels(ds, None, options=PixelOptions(reject_uncovered=False))
    assert opt_out.status == "untouched" and "reject_uncovered" in opt_out.reason


def test_burned_in_set_to_no_only_after_cleaning():
    ds = make_image()
    ds.BurnedInAnnotation = "YES"
    assert process_pixels(ds, OT_BOX).status == "cleaned"
    assert ds.BurnedInAnnotation == "NO"
    keep_only = [
        FilterGroup(
            "g", (label("k", [("present", "Rows", None)], [box(0, 0, 2, 2, keep=True)]),), NO_SPAN
        )
    ]
    ds2 = make_image()
    ds2.BurnedInAnnotation = "YES"
    assert process_pixels(ds2, keep_only).status == "rejected"  # keeping is not covering
    assert ds2.BurnedInAnnotation == "YES"


def test_suspect_modalities_and_callable():
    ds = make_image()
    ds.Modality = "US"
    assert process_pixels(ds, None).status == "untouched"
    assert process_pixels(ds, None, options=PixelOptions(suspect_modalities=("us",))).status == (
        "rejected"
    )
    ds.ImageType = ["DERIVED", "SECONDARY"]
    outcome = process_pixels(ds, None, options=PixelOptions(suspect_image_types=("secondary",)))
    assert outcome.status == "rejected" and "ImageType SECONDARY" in outcome.reason
    assert process_pixels(
        ds, None, options=PixelOptions(suspect_image_types=("SCREEN",))
    ).status == ("untouched")
    opts = PixelOptions(suspect=lambda d: d.Rows == 8)
    assert process_pixels(ds, None, options=opts).status == "rejected"


def test_blacklist_match_without_coordinates_rejects():
    black = [
        FilterGroup(
            "blacklist", (label("No ImageType", [("missing", "ImageType", None)], []),), NO_SPAN
        )
    ]
    ds = make_image()
    outcome = process_pixels(ds, black)
    assert outcome.status == "rejected" and "No ImageType" in outcome.reason
    assert process_pixels(ds, black, options=PixelOptions(reject_groups=())).status == "untouched"


def test_locations_feed_the_same_masking():
    ds = make_image(rows=6, cols=8)
    ds.BurnedInAnnotation = "YES"
    locations = PIILocationList(
        [PIILocation([SquareArea(1, 1, 2, 2)], criterion=lambda d: d.Columns == 8, comment="c8")]
    )
    outcome = process_pixels(ds, None, locations=locations)
    assert outcome.status == "cleaned" and outcome.flagged
    assert "PII location c8" in outcome.reason
    assert not ds.pixel_array[1:3, 1:3].any()
    # a plain list is accepted too
    ds2 = make_image(rows=6, cols=8)
    assert process_pixels(ds2, None, locations=list(locations)).status == "cleaned"


def test_precomputed_detection_is_used():
    ds = make_image(rows=6, cols=8)
    detection = detect(ds, OT_BOX)
    ds.Modality = "CT"  # e.g. the header engine changed it after detection
    assert process_pixels(ds, detection).status == "cleaned"


def test_no_pixel_data_and_bad_pixel_data():
    ds = make_image()
    del ds.PixelData
    assert process_pixels(ds, OT_BOX).status == "untouched"
    ds = make_image()
    ds.PixelData = b"\x00\x01"
    outcome = process_pixels(ds, OT_BOX)
    assert outcome.status == "rejected" and "pixel cleaning failed" in outcome.reason


def test_multiframe_rle_one_pass():
    ds = make_image(rows=16, cols=16, frames=3, bits=16)
    ds.compress(RLELossless, generate_instance_uid=False)
    outcome = process_pixels(ds, OT_BOX)
    assert outcome.clean.method == "reencoded" and len(outcome.clean.frames_touched) == 3
    assert ds.file_meta.TransferSyntaxUID == RLELossless
    assert not roundtrip(ds).pixel_array[:, :2, :4].any()


def test_ultrasound_recipe_on_deid_data_blanks_outside_regions():
    from deid.config import DeidRecipe

    recipe = DeidRecipe("dicom.ultrasound")
    ds = pydicom.dcmread(deid_data_dir() / "ultrasounds" / "GREYSCALE_IMAGE.dcm")
    before = ds.pixel_array.copy()
    outcome = process_pixels(ds, recipe)
    assert outcome.status == "cleaned"
    assert ds.BurnedInAnnotation == "NO"
    x0, y0, x1, y1 = (
        int(v)
        for v in outcome.detection.as_upstream()["results"][-1]["coordinates"][0][1][0].split(",")
    )
    after = roundtrip(ds).pixel_array
    keep = np.zeros(before.shape, bool)
    keep[y0:y1, x0:x1] = True
    assert np.array_equal(after[keep], before[keep])
    assert not after[~keep].any()


@pytest.mark.parametrize("name", ["image1.dcm", "image4.dcm"])
def test_default_recipe_rejects_cookies_blacklisted(name):
    from deid.config import DeidRecipe

    ds = pydicom.dcmread(deid_data_dir() / "dicom-cookies" / name)
    raw = ds.PixelData
    outcome = process_pixels(ds, DeidRecipe())
    assert outcome.status == "rejected" and "blacklist" in outcome.reason
    assert ds.PixelData is raw


def test_float_pixel_data_is_rejected_when_rules_apply():
    ds = make_image()
    del ds.PixelData
    ds.FloatPixelData = b"\x00" * 4 * 80
    assert process_pixels(ds, OT_BOX).status == "rejected"
    ds.Modality = "CT"
    assert process_pixels(ds, OT_BOX).status == "untouched"


def _header_said_yes_then_plan_said_no():
    """An image whose input header says YES; the header rules then wrote NO (or removed it)."""
    ds = make_image()
    ds.BurnedInAnnotation = "YES"
    return ds


@pytest.mark.parametrize("after_plan", ["NO", None])
def test_input_header_yes_is_judged_even_after_the_header_rules_changed_it(after_plan):
    ds = _header_said_yes_then_plan_said_no()
    detection = detect(ds, OT_BOX[:0])  # recorded before the header rules, as the runner does
    assert dict(detection.header)["BurnedInAnnotation"] == "YES"
    if after_plan is None:
        del ds.BurnedInAnnotation
    else:
        ds.BurnedInAnnotation = after_plan
    raw = ds.PixelData
    outcome = process_pixels(ds, detection)
    assert outcome.status == "rejected" and "BurnedInAnnotation is YES" in outcome.reason
    assert ds.PixelData is raw and ds.BurnedInAnnotation == "YES"


def test_opt_out_keeps_pixels_and_restores_the_yes():
    ds = _header_said_yes_then_plan_said_no()
    detection = detect(ds, None)
    ds.BurnedInAnnotation = "NO"
    outcome = process_pixels(ds, detection, options=PixelOptions(reject_uncovered=False))
    assert outcome.status == "untouched" and "reject_uncovered is off" in outcome.reason
    assert ds.BurnedInAnnotation == "YES"  # nothing was cleaned: the header must not claim it


def test_covering_rule_earns_the_no():
    ds = _header_said_yes_then_plan_said_no()
    detection = detect(ds, OT_BOX)
    outcome = process_pixels(ds, detection)
    assert outcome.status == "cleaned" and ds.BurnedInAnnotation == "NO"
    assert not roundtrip(ds).pixel_array[:2, :4].any()


def test_hand_made_detection_falls_back_to_the_current_header():
    from deid.pixels.detect import Detection

    ds = _header_said_yes_then_plan_said_no()
    assert process_pixels(ds, Detection()).status == "rejected"
    ds.BurnedInAnnotation = "NO"
    assert process_pixels(ds, Detection()).status == "untouched"
    assert ds.BurnedInAnnotation == "NO"


def test_input_modality_marks_suspect_after_the_header_rules():
    ds = make_image()
    ds.Modality = "US"
    detection = detect(ds, None)
    ds.Modality = "OT"
    opts = PixelOptions(suspect_modalities=("US",))
    outcome = process_pixels(ds, detection, options=opts)
    assert outcome.status == "rejected" and "Modality US" in outcome.reason
