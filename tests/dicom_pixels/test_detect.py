"""Tests for deid.dicom.pixels.detect (upstream's has_burned_pixels and helpers)."""

from __future__ import annotations

import pydicom
import pytest

from deid.dicom.pixels.detect import (
    DeidRecipe,
    _has_burned_pixels_multi,
    _has_burned_pixels_single,
    evaluate_group,
    extract_coordinates,
    has_burned_pixels,
)

from .conftest import deid_data

COOKIE_RECIPE = """FORMAT dicom

%filter dangerouscookie

LABEL Criteria for Dangerous Cookie
  contains PatientSex M
  + notequals OperatorsName bold bread
  coordinates 0,0,512,110
"""


def test_deidrecipe_reexport():
    from deid.config import DeidRecipe as Original

    assert DeidRecipe is Original


def test_single_result_shape(cat, write_recipe):
    recipe = DeidRecipe(write_recipe(COOKIE_RECIPE))
    result = has_burned_pixels(cat, deid=recipe)
    assert result == {
        "flagged": True,
        "results": [
            {
                "reason": "and OperatorsName notequals bold bread",
                "group": "dangerouscookie",
                "coordinates": [[0, "0,0,512,110"]],
            }
        ],
    }
    assert _has_burned_pixels_single(cat, True, recipe) == result


def test_recipe_path_and_dataset_inputs(cat, write_recipe):
    path = write_recipe(COOKIE_RECIPE)
    assert has_burned_pixels(cat, deid=path)["flagged"]
    ds = pydicom.dcmread(cat)
    assert has_burned_pixels(ds, deid=path)["flagged"]  # upstream: TypeError for Datasets
    ds.PatientSex = "F"
    assert has_burned_pixels(ds, deid=path) == {"flagged": False, "results": []}


def test_list_input_splits_clean_and_flagged(write_recipe):
    path = write_recipe(COOKIE_RECIPE)
    files = [deid_data("dicom-cookies", f"image{i}.dcm") for i in range(1, 8)]
    headers = {f: pydicom.dcmread(f, stop_before_pixels=True) for f in files}
    hit = {
        f: ds.PatientSex == "M" and str(ds.get("OperatorsName", "")).lower() != "bold bread"
        for f, ds in headers.items()
    }
    assert any(hit.values()) and not all(hit.values())
    result = has_burned_pixels(files, deid=path)
    assert set(result) == {"clean", "flagged"}
    assert sorted(result["flagged"]) == sorted(f for f, h in hit.items() if h)
    assert sorted(result["clean"]) == sorted(f for f, h in hit.items() if not h)
    for value in result["flagged"].values():
        assert value["flagged"] and value["results"][0]["group"] == "dangerouscookie"
    assert _has_burned_pixels_multi(files, True, DeidRecipe(path)) == result


def test_recipe_without_filter_warns_and_is_clean(cat, write_recipe):
    path = write_recipe("FORMAT dicom\n\n%header\n\nREMOVE PatientName\n")
    assert has_burned_pixels(cat, deid=path) == {"flagged": False, "results": []}
    assert has_burned_pixels([cat], deid=path) == {"clean": [cat], "flagged": {}}


def test_default_recipe_and_ultrasound_tag():
    us = deid_data("ultrasounds", "RGB_IMAGE.dcm")
    result = has_burned_pixels(us)  # default recipe
    assert result["flagged"]
    assert all(set(r) == {"reason", "group", "coordinates"} for r in result["results"])
    result = has_burned_pixels(us, deid="dicom.ultrasound")
    ds = pydicom.dcmread(us, stop_before_pixels=True)
    assert result["results"][-1]["coordinates"] == [
        [1, extract_coordinates(ds, "SequenceOfUltrasoundRegions")]
    ]


def test_from_regions_not_cached_between_images():
    recipe = DeidRecipe("dicom.ultrasound")
    first = has_burned_pixels(deid_data("ultrasounds", "GREYSCALE_IMAGE.dcm"), deid=recipe)
    second = has_burned_pixels(deid_data("ultrasounds", "RGB_IMAGE.dcm"), deid=recipe)
    assert first["results"][-1]["coordinates"] != second["results"][-1]["coordinates"]
    # the recipe dict still holds the from: spec
    graylist = recipe.get_filters("graylist")
    assert any(
        c[1] == "from:SequenceOfUltrasoundRegions" for lab in graylist for c in lab["coordinates"]
    )


def test_evaluate_group_and_extract_coordinates():
    assert evaluate_group([True, "and", True, "or", False]) is True
    assert evaluate_group([False]) is False
    ds = pydicom.dcmread(deid_data("ultrasounds", "RGB_IMAGE.dcm"), stop_before_pixels=True)
    coords = extract_coordinates(ds, "SequenceOfUltrasoundRegions")
    assert coords and all(len(c.split(",")) == 4 for c in coords)


def test_unreadable_file_names_it(tmp_path):
    from deid.errors import DeidError

    bad = tmp_path / "nope.dcm"
    bad.write_bytes(b"not dicom at all")
    with pytest.raises(DeidError, match="nope.dcm"):
        has_burned_pixels(str(bad), force=False, deid="dicom")
