"""deid.profiles.api: listing, recipes, plans with post steps, explain (with site recipes)."""

from __future__ import annotations

import pickle

import pytest
from pydicom.dataset import Dataset

from deid.engine.context import Context
from deid.errors import ProfileError
from deid.profiles import (
    available_options,
    available_profiles,
    explain,
    explain_rules,
    profile_plan,
    profile_post,
    profile_recipe,
)
from deid.recipe import parse_recipe

SITE = "FORMAT dicom\n%header\nKEEP PatientSex\nREPLACE InstitutionName Site-A\n"


def _ds():
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = "1.2.3"
    ds.PatientName = "Doe^Jane"
    ds.PatientSex = "F"
    ds.InstitutionName = "Hospital"
    return ds


def test_listing():
    assert available_profiles() == ["basic"]
    opts = available_options()
    assert len(opts) == 12 and opts[0] == "retain-safe-private"
    detailed = {o.id: o for o in available_options(detailed=True)}
    assert detailed["retain-long-modified-dates"].rows >= 165
    assert detailed["clean-pixel-data"].header is False


def test_profile_recipe_errors():
    with pytest.raises(ProfileError):
        profile_recipe("basic", ["nonsense"])
    with pytest.raises(ProfileError):
        profile_recipe("nonsense")


def test_plan_with_site_recipe_on_top():
    site = parse_recipe(SITE, name="site.dicom")
    plan = profile_plan("basic", (), recipes=[site])
    ds = _ds()
    log = plan.apply(ds, Context(key="api test key 0123456789"))
    assert ds.PatientSex == "F" and ds.InstitutionName == "Site-A"
    assert str(ds.PatientName).startswith("ANON^")
    rules = {c.keyword: c.rule for c in log if c.rule is not None}
    assert rules["PatientName"].source == "PS3.15 2026c Table E.1-1"
    assert rules["InstitutionName"].source == "site.dicom"
    assert "ADD" in log.counts()


def test_plan_is_picklable_and_the_post_step_survives():
    plan = pickle.loads(pickle.dumps(profile_plan("basic", ("retain-uids",))))
    ds = _ds()
    plan.apply(ds, Context(key="api test key 0123456789"))
    assert ds.SOPInstanceUID == "1.2.3" and ds.PatientIdentityRemoved == "YES"


def test_post_hooks_can_be_turned_off():
    plan = profile_plan("basic", (), mark=False, rebuild_meta=False)
    ds = _ds()
    plan.apply(ds, Context(key="api test key 0123456789"))
    assert "PatientIdentityRemoved" not in ds and not hasattr(ds, "file_meta")
    assert [type(p).__name__ for p in profile_post()] == ["ProfileSteps"]


def test_explain_rows_and_site_override():
    rows = explain_rules("basic", ["retain-device-identity"])
    by_tag = {r.tag: r for r in rows}
    assert by_tag["(0018,1000)"].action == "keep"
    assert "retain-device-identity" in by_tag["(0018,1000)"].why
    assert by_tag["(0010,1010)"].action == "REMOVE"
    assert by_tag["(0010,1010)"].source.startswith("PS3.15 2026c Table E.1-1:")
    site = parse_recipe(SITE, name="site.dicom")
    rows = explain_rules("basic", (), recipes=site)
    by_tag = {r.tag: r for r in rows}
    assert by_tag["(0008,0080)"].action == "REPLACE"
    assert by_tag["(0008,0080)"].source == "site.dicom:4"
    assert "overrides" in by_tag["(0008,0080)"].why
    assert by_tag["(0010,0040)"].action == "keep"
    text = explain("basic")
    line = next(ln for ln in text.splitlines() if ln.startswith("(0010,0010)"))
    assert line.split()[:3] == ["(0010,0010)", "PatientName", "REPLACE"]


def test_profile_plan_captures_only_what_its_functions_need():
    from deid.profiles.api import ProfilePrepare

    plain = profile_plan("basic")
    assert [type(p).__name__ for p in plain.pre] == ["ProfilePrepare"]
    assert plain.pre[0].needs == ()
    dates = profile_plan("basic", ["retain-long-modified-dates", "clean-descriptors"])
    assert dates.pre[0].needs == ("patient", "terms")
    private = profile_plan("basic", ["retain-safe-private"])
    assert private.pre[0].needs == ("safe_private",)
    assert pickle.loads(pickle.dumps(dates)).pre == dates.pre
    ctx = Context(key="api test key 0123456789")
    ds = Dataset()
    ds.PatientName = "Roe^Rita"
    ds.StudyDescription = "for Rita Roe"
    ProfilePrepare(("terms",))(ds, ctx)
    state = ctx.extra["ps315_state"]
    assert "Roe" in state.terms


def test_descriptor_terms_come_from_the_dataset_as_read():
    ds = Dataset()
    ds.PatientName = "Roe^Rita"
    ds.StudyDescription = "CT for Rita Roe"
    ds.SOPInstanceUID = "1.2.3"
    profile_plan("basic", ["clean-descriptors"]).apply(ds, Context(key="k" * 20))
    assert ds.StudyDescription == "CT for ********"
