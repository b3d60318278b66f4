"""deid.profiles.core: the idiscore-shaped API on deid's engine."""

from __future__ import annotations

import pydicom
import pytest
from pydicom.data import get_testdata_file

from deid.errors import ProfileError, RejectedError
from deid.profiles.core import (
    DEFAULT_OPTIONS,
    Core,
    Profile,
    create_default_core,
    get_dicom_rule_sets,
)
from deid.recipe import parse_recipe

KEY = "core test key 0123456789"


def ct():
    return pydicom.dcmread(get_testdata_file("CT_small.dcm"))


def test_rule_sets_cover_every_option():
    sets = get_dicom_rule_sets()
    options = [rs.option for rs in sets.all[1:]]
    assert len(options) == 12 and len(set(options)) == 12
    assert sets.basic_profile.option is None and sets.basic_profile.code == "113100"
    assert sets.retain_uid is sets.retain_uids
    assert sets.retain_patient_chars.code == "113108"


def test_profile_options_and_errors():
    sets = get_dicom_rule_sets()
    assert Profile([sets.basic_profile]).options == ()
    assert Profile([sets.retain_uid, "clean_descriptors"]).options == (
        "retain-uids",
        "clean-descriptors",
    )
    with pytest.raises(ProfileError):
        Profile([sets.retain_long_full_dates, sets.retain_long_modified_dates])
    with pytest.raises(ProfileError, match="unknown PS3.15 option"):
        Profile(["retain_everything"])
    with pytest.raises(ProfileError):
        Core("basic")  # type: ignore[arg-type]


def test_core_is_consistent_across_datasets():
    core = Core(Profile([]), key=KEY)
    a, b = core.deidentify(ct()), core.deidentify(ct())
    assert a.SOPInstanceUID == b.SOPInstanceUID and a.PatientID == b.PatientID
    other = Core(Profile([]), key="a different key 0123456789").deidentify(ct())
    assert other.SOPInstanceUID != a.SOPInstanceUID


def test_random_key_is_flagged(monkeypatch):
    monkeypatch.delenv("DEID_KEY", raising=False)
    core = Core(Profile([]))
    assert core.reproducible is False
    assert core.key.source == "random"


def test_default_core_options():
    core = create_default_core(key=KEY)
    assert core.profile.options == tuple(o for o in core.profile.options)
    assert set(core.profile.options) == set(DEFAULT_OPTIONS)
    ds = core.deidentify(ct())
    assert ds.PatientIdentityRemoved == "YES"
    assert len(ds.DeidentificationMethodCodeSequence) == 1 + len(DEFAULT_OPTIONS)


def test_site_recipe_on_top():
    site = parse_recipe(
        "FORMAT dicom\n%header\nREPLACE PatientName SUBJECT^001\n"
        "KEEP Manufacturer\nKEEP PatientSex\n",
        name="site.dicom",
    )
    core = Core(Profile([]), key=KEY, recipes=[site])
    ds = core.deidentify(ct())
    assert str(ds.PatientName) == "SUBJECT^001"
    assert ds.PatientSex == ct().PatientSex


def test_lookup_table_and_crosswalk():
    orig = ct()
    core = Core(Profile([]), key=KEY, lookup={orig.PatientID: "SUBJ-042"}, record_crosswalk=True)
    ds = core.deidentify(ct())
    assert ds.PatientID == "SUBJ-042"
    kinds = {k for k, _ in core.crosswalk}
    assert "uid" in kinds and "PatientID" in kinds
    assert core.crosswalk[("uid", orig.SOPInstanceUID)] == ds.SOPInstanceUID


def test_burned_in_annotation_without_location_is_rejected():
    ds = ct()
    ds.BurnedInAnnotation = "YES"
    with pytest.raises(RejectedError, match="BurnedInAnnotation"):
        Core(Profile([]), key=KEY).deidentify(ds)
    assert ds.PatientName == ct().PatientName  # nothing changed


def test_bouncer_can_refuse():
    def no_sr(ds):
        if ds.Modality == "SR":
            raise RejectedError("SR not accepted")

    ds = ct()
    ds.Modality = "SR"
    with pytest.raises(RejectedError):
        Core(Profile([]), key=KEY, bouncers=[no_sr]).deidentify(ds)
