"""deid/runner/screen.py: compiled %filter screening gives exactly deid.pixels.detect's result."""

from __future__ import annotations

import dataclasses
import pickle
import warnings

import pydicom
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydicom.dataset import Dataset

from deid.pixels.detect import detect
from deid.recipe import load_recipe, parse_recipe
from deid.runner.screen import FilterScreen, ScreenError

from .helpers import sample_files

SHIPPED = ("dicom", "dicom.ultrasound", "dicom.xray.chest")


def _headers() -> list[Dataset]:
    out = []
    for path in sample_files():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out.append(pydicom.dcmread(path, stop_before_pixels=True))
        except Exception:  # noqa: BLE001, S112 - pydicom's deliberately broken test files
            continue
    return out


def _same(screen: FilterScreen, groups: tuple, ds: Dataset) -> None:
    expected = detect(ds, groups)
    got = screen.detect(ds)
    assert got.as_upstream() == expected.as_upstream()
    assert got.header == expected.header
    assert got.regions == expected.regions
    assert [(m.group, m.label) for m in got.matches] == [
        (m.group, m.label) for m in expected.matches
    ]


@pytest.mark.parametrize("tag", SHIPPED)
def test_shipped_recipes_match_detect_on_sample_files(tag: str) -> None:
    groups = tuple(load_recipe(tag).filters)
    screen = FilterScreen.compile(groups)
    headers = _headers()
    assert len(headers) > 20
    flagged = 0
    for ds in headers:
        _same(screen, groups, ds)
        flagged += bool(screen.matching(ds))
    if tag != "dicom.xray.chest":  # no sample file is a chest x-ray
        assert flagged > 0  # the comparison covered matching images too


FIELDS = ("Modality", "ImageType", "Manufacturer", "BurnedInAnnotation", "SeriesDescription")
_VALUES = st.sampled_from(["CT", "US", "ORIGINAL", "SECONDARY", "Acme", "YES", "NO", "", " x "])

RECIPE = """FORMAT dicom
%filter whitelist
LABEL Clean
  contains BurnedInAnnotation No
%filter graylist
LABEL Left or right
  contains Modality CT || equals Manufacturer acme + notcontains ImageType SECOND
  coordinates 0,0,2,2
LABEL Reuses reason
  coordinates 1,1,3,3
LABEL Empty or missing
  empty SeriesDescription || missing Manufacturer
  + present Modality
  keepcoordinates 0,0,1,1
LABEL Tag form
  contains 0x00080060 US
  ctpcoordinates 0,0,4,4
LABEL Never
%filter blacklist
LABEL Not equals
  notequals Modality CT
  + notcontains ImageType ORIGINAL|PRIMARY
"""


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(FIELDS), st.lists(_VALUES, min_size=0, max_size=3)))
def test_generated_headers_match_detect(attrs: dict[str, list[str]]) -> None:
    groups = tuple(parse_recipe(RECIPE, name="gen.dicom").filters)
    screen = FilterScreen.compile(groups)
    ds = Dataset()
    for key, values in attrs.items():
        if key == "ImageType":
            setattr(ds, key, values)
        else:
            setattr(ds, key, values[0] if values else "")
    _same(screen, groups, ds)


def test_screen_pickles_and_is_reusable() -> None:
    groups = tuple(parse_recipe(RECIPE, name="gen.dicom").filters)
    screen = pickle.loads(pickle.dumps(FilterScreen.compile(groups)))
    ds = Dataset()
    ds.Modality = "CT"
    ds.Manufacturer = "Other"
    labels = [m.label for m in screen.detect(ds).matches]
    assert labels == ["Left or right", "Reuses reason"]
    ds.Modality = "MR"
    ds.ImageType = ["ORIGINAL"]
    assert [m.label for m in screen.detect(ds).matches] == ["Reuses reason"]
    ds.ImageType = ["DERIVED"]
    assert [m.label for m in screen.detect(ds).matches] == ["Reuses reason", "Not equals"]


def test_cached_screens_are_compiled_once_per_group_objects(monkeypatch) -> None:
    groups = tuple(parse_recipe(RECIPE, name="gen.dicom").filters)
    compiled = []
    original = FilterScreen.compile.__func__

    def counting(cls, found):
        compiled.append(found)
        return original(cls, found)

    monkeypatch.setattr(FilterScreen, "compile", classmethod(counting))
    first = FilterScreen.cached(groups)
    assert FilterScreen.cached(list(groups)) is first  # same objects: not compiled again
    assert len(compiled) == 1
    # equal but distinct objects are compiled anew
    again = tuple(dataclasses.replace(g) for g in groups)
    assert FilterScreen.cached(again) is not first
    assert len(compiled) == 2
    ds = Dataset()
    ds.Modality = "CT"
    ds.Manufacturer = "Other"
    assert [m.label for m in first.detect(ds).matches] == ["Left or right", "Reuses reason"]


def test_no_groups_never_flags() -> None:
    screen = FilterScreen.compile(())
    ds = Dataset()
    ds.BurnedInAnnotation = "YES"
    detection = screen.detect(ds)
    assert not detection.flagged and detection.has_filters is False
    assert dict(detection.header or ()) == {"BurnedInAnnotation": "YES"}
    assert len(screen) == 0


@pytest.mark.parametrize(
    ("criterion", "message"),
    [
        ("contains Modality (x", "bad regular expression"),
        ("contains 0xZZ US", "not a tag number"),
    ],
)
def test_compile_errors_name_the_recipe_line(criterion: str, message: str) -> None:
    text = f"FORMAT dicom\n%filter graylist\nLABEL L\n  {criterion}\n  coordinates 0,0,1,1\n"
    groups = parse_recipe(text, name="site.dicom").filters
    with pytest.raises(ScreenError, match=message) as exc:
        FilterScreen.compile(groups)
    assert "site.dicom:4" in str(exc.value) and "LABEL 'L'" in str(exc.value)


def test_compile_refuses_unknown_filter_and_missing_value() -> None:
    from deid.recipe.ast import NO_SPAN, CriteriaLine, Criterion, FilterGroup, Label

    def group(crit: Criterion) -> FilterGroup:
        line = CriteriaLine(None, (crit,), (), NO_SPAN)
        return FilterGroup("graylist", (Label("L", (line,), (), NO_SPAN),), NO_SPAN)

    with pytest.raises(ScreenError, match="unknown filter"):
        FilterScreen.compile([group(Criterion("resembles", "Modality", "CT", NO_SPAN))])
    with pytest.raises(ScreenError, match="needs a value"):
        FilterScreen.compile([group(Criterion("contains", "Modality", None, NO_SPAN))])


def test_distinct_tests_run_once_and_fields_read_only_when_needed(monkeypatch) -> None:
    from deid.runner import screen as screen_module

    recipe = load_recipe("dicom")
    criteria = sum(
        len(line.criteria) for g in recipe.filters for lab in g.labels for line in lab.lines
    )
    compiled = FilterScreen.compile(recipe.filters)
    assert len(compiled.tests) < criteria  # repeated tests share one slot
    looked_up: list = []
    real = screen_module._lookup

    def spy(ds, key, tag):  # type: ignore[no-untyped-def]
        looked_up.append(key)
        return real(ds, key, tag)

    monkeypatch.setattr(screen_module, "_lookup", spy)
    ds = Dataset()
    ds.Modality = "NM"  # no LABEL of the shipped recipe matches this NM header
    ds.Manufacturer = "Nobody"
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    assert compiled.matching(ds) == []
    assert len(looked_up) == len(set(looked_up))  # each field converted at most once
    assert len(looked_up) < len(compiled.fields)  # and only those a test needed
    _same(compiled, tuple(recipe.filters), ds)


@settings(max_examples=300, deadline=None)
@given(
    vr=st.sampled_from(
        ["CS", "LO", "SH", "LT", "ST", "UT", "UC", "PN", "DA", "TM", "DT", "AS", "AE", "UI"]
    ),
    raw=st.one_of(
        st.binary(max_size=24),
        st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=127), max_size=24).map(
            lambda t: t.encode("ascii")
        ),
    ),
    charset=st.sampled_from([None, "ISO_IR 100", "ISO_IR 192"]),
)
def test_plain_text_shortcut_equals_pydicom_conversion(vr: str, raw: bytes, charset) -> None:
    """Comparison text read straight from the bytes is what pydicom's conversion gives."""
    from pydicom.dataelem import RawDataElement
    from pydicom.tag import Tag

    from deid.runner import screen as screen_module

    if len(raw) % 2:
        raw += b" "
    ds = Dataset()
    if charset:
        ds.SpecificCharacterSet = charset
    tag = Tag(0x00081030)  # StudyDescription: a keyword the screen looks up by name
    ds._dict[tag] = RawDataElement(tag, vr, len(raw), raw, 0, False, True)
    got = screen_module._plain_text(ds, "StudyDescription", int(tag))
    if got is screen_module._ABSENT:
        return  # not plain: the screen converts it with pydicom
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = ds.StudyDescription
    assert got == str(value).lower().strip()


_RAW_BYTES = st.lists(
    st.sampled_from([b" ", b"\x00", b"\\", b"A", b"ct", b"x", b"\xe9", b"ORIGINAL", b"acme"]),
    max_size=5,
).map(b"".join)
_RAW_FIELDS = {  # keyword: (tag, VR as read from an explicit VR file)
    "Modality": (0x00080060, "CS"),
    "ImageType": (0x00080008, "CS"),
    "Manufacturer": (0x00080070, "LO"),
    "BurnedInAnnotation": (0x00280301, "CS"),
    "SeriesDescription": (0x0008103E, "LO"),
}


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(st.sampled_from(sorted(_RAW_FIELDS)), _RAW_BYTES),
    st.sampled_from([None, "ISO_IR 100", "ISO_IR 192"]),
)
def test_raw_headers_match_detect(raw: dict[str, bytes], charset: str | None) -> None:
    """Undecoded elements (spaces, NULs, backslashes, non-ASCII, empty): the screen's shortcuts
    on raw bytes (present, missing, empty, text) agree with the detector's conversion."""
    from pydicom.dataelem import RawDataElement
    from pydicom.tag import Tag

    groups = tuple(parse_recipe(RECIPE, name="gen.dicom").filters)
    screen = FilterScreen.compile(groups)

    def build() -> Dataset:
        ds = Dataset()
        if charset:
            ds.SpecificCharacterSet = charset
        for key, value in raw.items():
            tag, vr = _RAW_FIELDS[key]
            if len(value) % 2:
                value += b" "
            ds._dict[Tag(tag)] = RawDataElement(Tag(tag), vr, len(value), value, 0, False, True)
        return ds

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = detect(build(), groups)
        got = screen.detect(build())
    assert got.as_upstream() == expected.as_upstream()
    assert got.header == expected.header
