"""Tests for deid.pixels.detect: %filter evaluation with upstream's result shapes."""

from __future__ import annotations

import pydicom
import pytest
from pydicom.dataset import Dataset
from shared import sample_files

from deid.errors import DeidError
from deid.pixels.detect import Detection, as_filter_groups, detect, detect_many, extract_coordinates
from deid.recipe.ast import (
    NO_SPAN,
    Coordinate,
    CriteriaLine,
    Criterion,
    FilterGroup,
    Label,
    Recipe,
    Span,
)

from .conftest import deid_data_dir


def crit(name, field, value=None):
    return Criterion(name, field, value, NO_SPAN)


def line(*criteria, operator=None, inner=()):
    return CriteriaLine(operator, tuple(criteria), tuple(inner), NO_SPAN)


def box(x0, y0, x1, y1, keep=False):
    kw = "keepcoordinates" if keep else "coordinates"
    return Coordinate(kw, keep, "box", NO_SPAN, box=(x0, y0, x1, y1), text=f"{x0},{y0},{x1},{y1}")


def label(name, lines=(), coords=(), span=NO_SPAN):
    return Label(name, tuple(lines), tuple(coords), span)


def group(name, *labels):
    return FilterGroup(name, tuple(labels), NO_SPAN)


def us_region(x0, y0, x1, y1):
    item = Dataset()
    item.RegionLocationMinX0, item.RegionLocationMinY0 = x0, y0
    item.RegionLocationMaxX1, item.RegionLocationMaxY1 = x1, y1
    return item


@pytest.fixture
def ds():
    ds = Dataset()
    ds.Modality = "US"
    ds.Manufacturer = "GE"
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.Rows, ds.Columns = 100, 200
    return ds


def test_single_match_shape_and_reason(ds):
    g = group(
        "graylist", label("L", [line(crit("contains", "Modality", "US"))], [box(0, 0, 10, 5)])
    )
    assert detect(ds, [g]).as_upstream() == {
        "flagged": True,
        "results": [
            {
                "reason": " Modality contains US",
                "group": "graylist",
                "coordinates": [[0, "0,0,10,5"]],
            }
        ],
    }


def test_reason_uses_last_line_with_operator_and_inner_operators(ds):
    lab = label(
        "L",
        [
            line(crit("contains", "Modality", "US")),
            line(crit("missing", "Foo"), crit("empty", "Foo"), operator="or", inner=("or",)),
        ],
    )
    result = detect(ds, [group("blacklist", lab)]).as_upstream()
    assert result["results"][0]["reason"] == "or Foo missing  or Foo empty "


def test_lines_are_anded_and_leading_operator_ignored(ds):
    lab = label(
        "L",
        [
            line(crit("contains", "Modality", "CT")),
            line(crit("contains", "Manufacturer", "GE"), operator="or"),
        ],
        [box(0, 0, 1, 1)],
    )
    assert not detect(ds, [group("g", lab)]).flagged
    ds.Modality = "CT"
    assert detect(ds, [group("g", lab)]).flagged


def test_inner_operators_fold_left_to_right(ds):
    # a || b + c  ==  (a or b) and c
    lab = label(
        "L",
        [
            line(
                crit("contains", "Modality", "US"),
                crit("contains", "Modality", "MR"),
                crit("contains", "Manufacturer", "Siemens"),
                inner=("or", "and"),
            )
        ],
    )
    assert not detect(ds, [group("g", lab)]).flagged


def test_all_groups_and_labels_evaluated_whitelist_counts(ds):
    g1 = group("whitelist", label("clean", [line(crit("contains", "Modality", "US"))]))
    g2 = group(
        "graylist",
        label("a", [line(crit("present", "Rows"))], [box(0, 0, 2, 2)]),
        label("b", [line(crit("present", "Columns"))], [box(5, 5, 6, 6)]),
    )
    det = detect(ds, Recipe(filters=(g1, g2)))
    assert det.flagged
    assert [(m.group, m.label) for m in det.matches] == [
        ("whitelist", "clean"),
        ("graylist", "a"),
        ("graylist", "b"),
    ]
    assert [r.spec() for r in det.regions] == ["0,0,2,2", "5,5,6,6"]


def test_label_without_criteria_always_matches_and_reuses_reason(ds):
    first = label("Blank", [], [Coordinate("coordinates", False, "all", NO_SPAN, text="all")])
    det = detect(ds, [group("graylist", first)])  # upstream crashed here; deid does not
    assert det.as_upstream()["results"] == [
        {"reason": "", "group": "graylist", "coordinates": [[0, "all"]]}
    ]
    before = label("x", [line(crit("present", "Rows"))])
    det = detect(ds, [group("g", before, first)])
    assert det.as_upstream()["results"][1]["reason"] == " Rows present "


def test_label_without_criteria_or_coordinates_never_matches(ds):
    assert not detect(ds, [group("g", label("nothing"))]).flagged


def test_from_coordinates_are_per_image_and_recipe_untouched(ds):
    from_coord = Coordinate(
        "keepcoordinates",
        True,
        "from",
        NO_SPAN,
        from_field="SequenceOfUltrasoundRegions",
        text="from:SequenceOfUltrasoundRegions",
    )
    lab = label("US", [line(crit("present", "SequenceOfUltrasoundRegions"))], [from_coord])
    groups = [group("graylist", lab)]
    a, b = Dataset(), Dataset()
    a.SequenceOfUltrasoundRegions = [us_region(1, 2, 3, 4), us_region(5, 6, 7, 8)]
    b.SequenceOfUltrasoundRegions = [us_region(10, 20, 30, 40)]
    ra = detect(a, groups).as_upstream()["results"][0]["coordinates"]
    rb = detect(b, groups).as_upstream()["results"][0]["coordinates"]
    assert ra == [[1, ["1,2,3,4", "5,6,7,8"]]]
    assert rb == [[1, ["10,20,30,40"]]]
    assert lab.coordinates == (from_coord,)  # the recipe was not rewritten
    # as_upstream returns fresh lists: mutating them does not leak into the next call
    det = detect(a, groups)
    det.as_upstream()["results"][0]["coordinates"][0][1].append("9,9,9,9")
    assert det.as_upstream()["results"][0]["coordinates"] == ra


def test_extract_coordinates_forms():
    ds = Dataset()
    assert extract_coordinates(ds, "SequenceOfUltrasoundRegions") == []
    partial = Dataset()
    partial.RegionLocationMinX0 = 1
    ds.SequenceOfUltrasoundRegions = [partial, us_region(1, 1, 2, 2)]
    assert extract_coordinates(ds, "from:SequenceOfUltrasoundRegions") == ["1,1,2,2"]


def test_bad_criterion_names_recipe_line(ds):
    span = Span("site.dicom", 12, 3, 12, 30)
    bad = Criterion("contains", "Modality", "(", span)
    lab = Label("L", (CriteriaLine(None, (bad,), (), span),), (), span)
    with pytest.raises(DeidError, match=r"site\.dicom:12:3"):
        detect(ds, [group("g", lab)])


def test_bad_coordinate_names_label(ds):
    span = Span("site.dicom", 7, 1, 7, 10)
    weird = Coordinate("coordinates", False, "box", span, box=None, text="0,0,1 # c")
    lab = Label("Weird", (line(crit("present", "Rows")),), (weird,), span)
    with pytest.raises(DeidError, match="site.dicom:7:1.*Weird|Weird.*site.dicom:7:1|site.dicom:7"):
        detect(ds, [group("g", lab)])


def test_as_filter_groups_accepts_several_shapes(ds):
    g = group("g", label("L", [line(crit("present", "Rows"))]))
    assert as_filter_groups(None) == ()
    assert as_filter_groups(g) == (g,)
    assert as_filter_groups([g]) == (g,)
    assert as_filter_groups(Recipe(filters=(g,))) == (g,)

    class Like:
        def to_recipe(self):
            return Recipe(filters=(g,))

    assert as_filter_groups(Like()) == (g,)
    with pytest.raises(TypeError):
        as_filter_groups(["nope"])
    assert [d.flagged for d in detect_many([ds, Dataset()], [g])] == [True, False]
    assert Detection().as_upstream() == {"flagged": False, "results": []}


def test_parsed_recipe_ctp_coordinates(ds):
    from deid.recipe import parse_recipe

    recipe = parse_recipe(
        "FORMAT dicom\n\n%filter graylist\n\nLABEL Test\n  contains Modality US\n"
        "  ctpcoordinates 10,20,30,40\n  coordinates 0,0,5,5\n",
        name="t.dicom",
    )
    result = detect(ds, recipe).as_upstream()
    assert result["results"][0]["coordinates"] == [[0, "10,20,40,60"], [0, "0,0,5,5"]]


def test_shipped_ultrasound_recipe_on_deid_data():
    from deid.config import DeidRecipe

    recipe = DeidRecipe("dicom.ultrasound").to_recipe()
    folder = deid_data_dir() / "ultrasounds"
    grey = pydicom.dcmread(folder / "GREYSCALE_IMAGE.dcm", stop_before_pixels=True)
    rgb = pydicom.dcmread(folder / "RGB_IMAGE.dcm", stop_before_pixels=True)
    rg = detect(grey, recipe).as_upstream()
    rr = detect(rgb, recipe).as_upstream()
    expected_grey = extract_coordinates(grey, "SequenceOfUltrasoundRegions")
    expected_rgb = extract_coordinates(rgb, "SequenceOfUltrasoundRegions")
    assert expected_grey != expected_rgb
    assert rg["results"][-1]["coordinates"] == [[1, expected_grey]]
    assert rr["results"][-1]["coordinates"] == [[1, expected_rgb]]
    assert [r["coordinates"] for r in rg["results"][:1]] == [[[0, "all"]]]


def test_default_recipe_flags_dicom_cookies_by_missing_image_type():
    from deid.config import DeidRecipe

    recipe = DeidRecipe().to_recipe()
    ds = pydicom.dcmread(deid_data_dir() / "dicom-cookies" / "image1.dcm", stop_before_pixels=True)
    assert "ImageType" not in ds
    result = detect(ds, recipe).as_upstream()
    assert result["flagged"]
    assert {r["group"] for r in result["results"]} == {"blacklist"}


def test_detection_records_the_header_it_read():
    from deid.pixels.detect import header_state

    ds = Dataset()
    ds.BurnedInAnnotation = "YES"
    ds.Modality = "US"
    ds.ImageType = ["DERIVED", "SECONDARY"]
    state = detect(ds, None).header
    assert state == header_state(ds)
    assert dict(state) == {
        "BurnedInAnnotation": "YES",
        "Modality": "US",
        "ImageType": ("DERIVED", "SECONDARY"),
    }
    ds.BurnedInAnnotation = "NO"  # later changes do not reach the recorded state
    assert dict(state)["BurnedInAnnotation"] == "YES"
    assert detect(Dataset(), None).header == ()
    assert Detection().header is None


def test_header_state_reads_raw_values_as_pydicom_converts_them():
    """The header state read from raw bytes equals pydicom's conversion, on every sample file
    (and on raw values written here: multi-valued, padded, empty, non-ASCII), and leaves the
    plain-text elements undecoded."""
    import warnings

    from pydicom.dataelem import RawDataElement
    from pydicom.tag import Tag

    from deid.pixels.detect import header_state

    files = sample_files()

    def state_by_pydicom(ds):
        return header_state(ds, ds.get)

    checked = 0
    for path in files:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                ds = pydicom.dcmread(path, stop_before_pixels=True)
                expected = state_by_pydicom(pydicom.dcmread(path, stop_before_pixels=True))
            except Exception:  # noqa: BLE001, S112 - unreadable sample files are not the point
                continue
            assert header_state(ds) == expected, path
        checked += 1
    assert checked > 50
    cases = [b"DERIVED\\SECONDARY ", b" ORIGINAL", b"", b"YES ", b"OUI\xe9", b"A\\\\B "]
    for raw in cases:
        ds = Dataset()
        ds.SpecificCharacterSet = "ISO_IR 100"
        for tag, vr in ((0x00080008, "CS"), (0x00280301, "CS"), (0x00080060, "CS")):
            ds._dict[Tag(tag)] = RawDataElement(Tag(tag), vr, len(raw), raw, 0, False, True)
        assert header_state(ds) == state_by_pydicom(ds), raw
    ds = Dataset()
    ds._dict[Tag(0x00080060)] = RawDataElement(Tag(0x00080060), "CS", 2, b"CT", 0, False, True)
    header_state(ds)
    assert type(ds._dict[Tag(0x00080060)]) is RawDataElement  # still undecoded
