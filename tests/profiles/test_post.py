"""deid.profiles.post: markers, file meta, SR content-item cleaning."""

from __future__ import annotations

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence

from deid.profiles.post import (
    IMPLEMENTATION_CLASS_UID,
    clean_content_items,
    mark_dataset,
    method_text,
    rebuild_file_meta,
)


def test_markers_per_option():
    ds = Dataset()
    mark_dataset(
        ds, ("retain-long-full-dates", "clean-pixel-data", "clean-recognizable-visual-features")
    )
    assert ds.PatientIdentityRemoved == "YES"
    assert ds.LongitudinalTemporalInformationModified == "UNMODIFIED"
    assert ds.BurnedInAnnotation == "NO" and ds.RecognizableVisualFeatures == "NO"
    items = ds.DeidentificationMethodCodeSequence
    assert [(i.CodeValue, i.CodingSchemeDesignator) for i in items] == [
        ("113100", "DCM"),
        ("113106", "DCM"),
        ("113101", "DCM"),
        ("113102", "DCM"),
    ]
    assert items[1].CodeMeaning.startswith("Retain Longitudinal")


def test_method_text_names_version_edition_and_options():
    values = method_text(("retain-uids",))
    assert values[0].startswith("deid ") and "2026c" in values[0]
    assert values[1] == "Retain UIDs Option"
    assert all(len(v) <= 64 for v in values)


def test_rebuild_file_meta():
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = "2.25.7"
    meta = FileMetaDataset()
    meta.MediaStorageSOPInstanceUID = "1.2.3.9"
    meta.TransferSyntaxUID = "1.2.840.10008.1.2.1"
    meta.SourceApplicationEntityTitle = "PACS"
    meta.ImplementationVersionName = "VENDOR"
    ds.file_meta = meta
    ds.preamble = b"\x01" * 128
    rebuild_file_meta(ds)
    assert ds.file_meta.MediaStorageSOPInstanceUID == "2.25.7"
    assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"
    assert ds.file_meta.ImplementationClassUID == IMPLEMENTATION_CLASS_UID
    assert "SourceApplicationEntityTitle" not in ds.file_meta
    assert ds.preamble == b"\x00" * 128


def _item(code, scheme, **values):
    item = Dataset()
    c = Dataset()
    c.CodeValue = code
    c.CodingSchemeDesignator = scheme
    c.CodeMeaning = "m"
    item.ConceptNameCodeSequence = Sequence([c])
    for k, v in values.items():
        setattr(item, k, v)
    return item


def test_clean_content_items_by_concept():
    ds = Dataset()
    nested = _item("121022", "DCM", ValueType="TEXT", TextValue="ACC1")  # X
    container = _item("111111", "99X", ValueType="CONTAINER")
    container.ContentSequence = Sequence([nested])
    date_item = _item("126201", "DCM", ValueType="DATE", Date="20200101")  # X / K / C
    ds.ContentSequence = Sequence([container, date_item])
    seen = []

    def replace(code, element, item, root):
        seen.append((code, element.keyword))
        return "20000101"

    n = clean_content_items(ds, (), replace)
    assert n == 2  # the nested accession item and the date item removed
    assert len(ds.ContentSequence) == 1 and len(ds.ContentSequence[0].ContentSequence) == 0
    ds.ContentSequence.append(date_item)
    clean_content_items(ds, ("retain-long-modified-dates",), replace)
    assert ("C", "Date") in seen and ds.ContentSequence[1].Date == "20000101"
    seen.clear()
    clean_content_items(ds, ("retain-long-full-dates",), replace)
    assert seen == []


def _round_trip(name, options):
    import io

    import pydicom
    from pydicom.data import get_testdata_file

    from deid.engine import Context
    from deid.profiles import profile_plan

    ds = pydicom.dcmread(get_testdata_file(name))
    syntax = ds.file_meta.TransferSyntaxUID
    profile_plan("basic", options).apply(ds, Context(key="post test key 0123456789"))
    buf = io.BytesIO()
    ds.save_as(buf)
    return syntax, ds, pydicom.dcmread(io.BytesIO(buf.getvalue()))


import pytest


@pytest.mark.parametrize(
    "name", ["CT_small.dcm", "MR_small_implicit.dcm", "MR_small_bigendian.dcm"]
)
def test_markers_and_meta_survive_every_encoding(name):
    options = ("retain-uids", "clean-pixel-data")
    syntax, mem, out = _round_trip(name, options)
    for ds in (mem, out):  # in memory (as written) and read back from the file
        assert ds.PatientIdentityRemoved == "YES"
        assert list(ds.DeidentificationMethod) == method_text(options)
        assert [i.CodeValue for i in ds.DeidentificationMethodCodeSequence] == [
            "113100",
            "113110",
            "113101",
        ]
        assert ds.LongitudinalTemporalInformationModified == "REMOVED"
        assert ds.BurnedInAnnotation == "NO"
    meta = out.file_meta
    assert meta.TransferSyntaxUID == syntax
    assert meta.MediaStorageSOPInstanceUID == out.SOPInstanceUID
    assert meta.MediaStorageSOPClassUID == out.SOPClassUID
    assert meta.ImplementationClassUID == IMPLEMENTATION_CLASS_UID
    assert "SourceApplicationEntityTitle" not in meta
    assert out.preamble == b"\x00" * 128


def test_markers_on_a_dataset_built_in_code():
    ds = Dataset()
    mark_dataset(ds, ("retain-long-modified-dates",))
    assert ds.LongitudinalTemporalInformationModified == "MODIFIED"
    assert ds["DeidentificationMethodCodeSequence"].VR == "SQ"


def test_clean_pixel_data_never_turns_a_yes_into_no():
    """Only the pixel step may claim the text is gone; markers leave a YES alone."""
    ds = Dataset()
    ds.BurnedInAnnotation = "YES"
    mark_dataset(ds, ("clean-pixel-data",))
    assert ds.BurnedInAnnotation == "YES"
    assert "113101" in [i.CodeValue for i in ds.DeidentificationMethodCodeSequence]


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small_implicit.dcm"])
def test_clean_pixel_data_keeps_a_read_yes(name):
    import io

    import pydicom
    from pydicom.data import get_testdata_file

    from deid.engine import Context
    from deid.profiles import profile_plan

    src = pydicom.dcmread(get_testdata_file(name))
    src.BurnedInAnnotation = "YES"
    buf = io.BytesIO()
    src.save_as(buf)
    ds = pydicom.dcmread(io.BytesIO(buf.getvalue()))  # raw elements: the fast marker path
    profile_plan("basic", ("clean-pixel-data",)).apply(ds, Context(key="post test key 0123456789"))
    assert ds.BurnedInAnnotation == "YES"
    ds.BurnedInAnnotation = "NO"
    mark_dataset(ds, ("clean-pixel-data",))
    assert ds.BurnedInAnnotation == "NO"
