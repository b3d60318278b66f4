"""deid.profiles.compose: option composition, code policy and the generated recipe rules."""

from __future__ import annotations

import pytest

from deid.errors import ProfileError
from deid.profiles.compose import (
    effective_code,
    effective_rules,
    normalize_options,
    private_mask_exprs,
    rules_to_recipe,
)
from deid.profiles.table import load_table
from deid.recipe.ast import Span


def by_tag(rules):
    return {r.row.tag: r for r in rules if r.row.kind == "tag"}


def test_normalize_options():
    assert normalize_options(None) == ()
    assert normalize_options("retain-uids, clean_descriptors") == (
        "retain-uids",
        "clean-descriptors",
    )
    assert normalize_options(["retain_modified_dates", "RETAIN-UIDS"]) == (
        "retain-uids",
        "retain-long-modified-dates",
    )
    with pytest.raises(ProfileError, match="did you mean 'retain-uids'"):
        normalize_options(["retain-uidz"])
    assert normalize_options(["retain-uid", "retain-device-id"]) == (
        "retain-uids",
        "retain-device-identity",
    )
    with pytest.raises(ProfileError, match="cannot be combined"):
        normalize_options(["retain-long-full-dates", "retain-long-modified-dates"])


def test_unknown_profile():
    with pytest.raises(ProfileError, match="unknown profile"):
        effective_rules("extended")


def test_option_overrides_basic_and_k_wins_over_c():
    t = load_table()
    allergies = t.row_for_tag(0x00102110)  # X; Clean Desc C; Pat Chars C
    assert effective_code(allergies, ()) == ("X", "basic")
    assert effective_code(allergies, ("clean-descriptors",)) == ("C", "clean-descriptors")
    age = t.row_for_tag(0x00101010)
    assert effective_code(age, ("clean-descriptors", "retain-patient-characteristics")) == (
        "K",
        "retain-patient-characteristics",
    )


@pytest.mark.parametrize(
    "tag,code,action,function",
    [
        (0x00100010, "Z", "REPLACE", "ps315_name"),  # Patient's Name: keyed name
        (0x00100020, "Z/D", "REPLACE", "ps315_pseudonym"),  # Patient ID
        (0x00080050, "Z", "REPLACE", "ps315_pseudonym"),  # Accession Number
        (0x00100030, "Z", "BLANK", None),  # Birth Date
        (0x00080022, "X/Z", "BLANK", None),  # Acquisition Date: X/Z -> Z
        (0x00080080, "X/Z/D", "REPLACE", "ps315_dummy"),  # Institution Name: -> D
        (0x00080018, "U", "REPLACE", "ps315_uid"),
        (0x00081140, "X/Z/U*", None, None),  # Referenced Image Sequence: kept
        (0x0040A730, "D", "BLANK", None),  # Content Sequence: D on SQ -> emptied
        (0x00101010, "X", "REMOVE", None),
    ],
)
def test_basic_policy(tag, code, action, function):
    rule = by_tag(effective_rules())[tag]
    assert (rule.code, rule.action, rule.function) == (code, action, function)
    assert rule.why


@pytest.mark.parametrize(
    "option,tag,action,function",
    [
        ("retain-uids", 0x00080018, None, None),
        ("retain-long-full-dates", 0x00080020, None, None),
        ("retain-long-modified-dates", 0x00080020, "REPLACE", "ps315_shift"),
        ("retain-device-identity", 0x00081010, None, None),
        ("retain-device-identity", 0x00080055, "REPLACE", "ps315_pseudonym"),  # AE title: C
        ("retain-institution-identity", 0x00080080, None, None),
        ("retain-patient-characteristics", 0x00101030, None, None),
        ("clean-descriptors", 0x00081030, "REPLACE", "ps315_clean_text"),
        ("clean-structured-content", 0x0040A730, None, None),
        ("clean-graphics", 0x00700001, None, None),
    ],
)
def test_option_policy(option, tag, action, function):
    rule = by_tag(effective_rules("basic", [option]))[tag]
    assert (rule.action, rule.function) == (action, function)
    assert rule.source == option


def test_private_row():
    rules = effective_rules()
    private = next(r for r in rules if r.row.kind == "private")
    assert (private.action, private.function) == ("REMOVE", None)
    safe = next(
        r for r in effective_rules("basic", ["retain-safe-private"]) if r.row.kind == "private"
    )
    assert (safe.action, safe.function) == ("REMOVE", "ps315_private_unsafe")


def test_private_masks_cover_exactly_odd_groups():
    exprs = private_mask_exprs(Span("t", 1, 1, 1, 1))
    for group in range(0x0000, 0x10000, 0x0F3):
        hit = any((((group << 16) | 0x1010) & e.mask) == e.tag for e in exprs)
        assert hit == bool(group & 1), hex(group)


def test_recipe_spans_point_at_table_rows():
    t = load_table()
    recipe = rules_to_recipe(effective_rules(table=t), t)
    first = recipe.header[0]
    assert first.span.file == "PS3.15 2026c Table E.1-1"
    row = t.rows[first.span.line - 1]
    assert first.field.tag == row.tag
    assert [a.index for a in recipe.header] == list(range(len(recipe.header)))
    masks = [a for a in recipe.header if a.field.kind == "tag_mask"]
    assert {a.field.text for a in masks} >= {"(60xx,3000)", "(xxx1,xxxx)"}


def test_recipe_round_trips_through_the_formatter():
    from deid.recipe import format_recipe, parse_recipe

    recipe = rules_to_recipe(effective_rules(), load_table())
    again = parse_recipe(format_recipe(recipe))
    assert [(a.action, a.field.kind, a.field.tag, a.field.mask) for a in again.header] == [
        (a.action, a.field.kind, a.field.tag, a.field.mask) for a in recipe.header
    ]


# ------------------------------------------------------------------ attributes not in the table
def _overlay_dataset():
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    ds = Dataset()
    ds.PatientName = "Doe^Jane"
    ds.PatientID = "MRN-4242"
    ds.add_new(0x60000010, "US", 4)
    ds.add_new(0x60000022, "LO", "drawn by Jane Doe")
    ds.add_new(0x60001500, "LO", "MRN-4242")
    ds.add_new(0x60020045, "LO", "Doe")
    ds.add_new(0x60003000, "OW", b"\x00\x01" * 4)
    ds.add_new(0x60004000, "LT", "for Jane Doe")
    ds.add_new(0x01100020, "LO", "MRN-4242")  # a public tag no dictionary defines
    ds.add_new(0x00080000, "UL", 12)  # group length: known, harmless
    item = Dataset()
    item.add_new(0x01100020, "LO", "MRN-4242")
    item.ReferencedSOPInstanceUID = "1.2.3.4"
    ds.SourceImageSequence = Sequence([item])
    return ds


def test_policy_rules_cover_overlay_text_and_unknown_public():
    from deid.profiles.compose import POLICY_SOURCE, policy_rules

    rules = policy_rules()
    texts = {r.row.tag_text: r for r in rules}
    assert texts["(60xx,0022)"].action == "REMOVE" and texts["(60xx,1500)"].action == "REMOVE"
    assert "not in Table E.1-1" in texts["(60xx,0022)"].why
    unknown = [r for r in rules if r.row.kind == "unknown_public"]
    assert len(unknown) == 1 and unknown[0].action == "REMOVE"
    graphics = {r.row.tag_text: r for r in policy_rules(["clean-graphics"])}
    assert graphics["(60xx,0022)"].function == "ps315_clean_text"
    recipe = rules_to_recipe(effective_rules("basic"), load_table())
    policy = [a for a in recipe.header if a.span.file == POLICY_SOURCE]
    assert [a.field.kind for a in policy][-1] == "except"
    assert len(
        rules_to_recipe(effective_rules("basic"), load_table(), include_policy=False).header
    ) == len(recipe.header) - len(policy)


def test_basic_profile_removes_overlay_text_and_unknown_public_elements():
    from deid.engine import Context
    from deid.profiles import profile_plan

    ds = _overlay_dataset()
    profile_plan("basic").apply(ds, Context(key="compose test key 0123456789"))
    for tag in (0x60000022, 0x60001500, 0x60020045, 0x60003000, 0x60004000, 0x01100020):
        assert tag not in ds, hex(tag)
    assert 0x01100020 not in ds.SourceImageSequence[0]
    assert ds.SourceImageSequence[0].ReferencedSOPInstanceUID.startswith("2.25.")
    assert ds[0x60000010].value == 4 and 0x00080000 in ds


def test_clean_graphics_cleans_overlay_text_but_removes_bitmaps():
    from deid.engine import Context
    from deid.profiles import profile_plan

    ds = _overlay_dataset()
    profile_plan("basic", ["clean-graphics"]).apply(ds, Context(key="compose test key 0123456789"))
    assert ds[0x60000022].value == "drawn by ********"
    assert ds[0x60004000].value == "for ********"
    assert ds[0x60001500].value == "********"
    assert 0x60003000 not in ds and 0x01100020 not in ds


def test_site_keep_wins_over_unknown_public_rule():
    from deid.engine import Context
    from deid.profiles import profile_plan
    from deid.recipe import parse_recipe

    site = parse_recipe("FORMAT dicom\n%header\nKEEP 01100020\n", name="site.dicom")
    ds = _overlay_dataset()
    profile_plan("basic", recipes=[site]).apply(ds, Context(key="compose test key 0123456789"))
    assert ds[0x01100020].value == "MRN-4242"


def test_unknown_public_pattern_spares_every_named_element():
    from pydicom.datadict import DicomDictionary, RepeatersDictionary

    from deid.engine.selectors import ElementKey, compile_selector, static_match
    from deid.profiles.compose import UNKNOWN_PUBLIC_PATTERN
    from deid.recipe.ast import NO_SPAN, FieldExpr

    sel = compile_selector(FieldExpr("except", "x", NO_SPAN, arg=UNKNOWN_PUBLIC_PATTERN))
    named = [t for t, e in DicomDictionary.items() if e[2]]
    named += [int(k.replace("x", "0"), 16) for k in RepeatersDictionary]
    for tag in named:
        for prefix in (None, "ReferencedStudySequence"):
            assert not static_match(sel, ElementKey(prefix, tag, None, None)), hex(tag)
    for tag in (0x00091001, 0x00090010, 0x00080000):
        assert not static_match(sel, ElementKey(None, tag, None, None))
        assert not static_match(sel, ElementKey(None, tag, "GEMS_ACQU_01", None))
    for tag in (0x01100020, 0xA0000010, 0x00080002 | 0x7F000000):
        assert static_match(sel, ElementKey(None, tag, None, None)), hex(tag)
        assert static_match(sel, ElementKey("ReferencedStudySequence", tag, None, None))


def test_table_rows_unknown_to_the_dictionary_are_kept_when_the_code_keeps_them():
    from pydicom.dataset import Dataset

    from deid.engine import Context
    from deid.profiles import profile_plan

    ds = Dataset()
    ds.add_new(0x0040A034, "DT", "20200101120000")  # Effective Start DateTime (2026c row)
    ds.add_new(0x00100016, "LT", "she/her")  # Pronoun Comment (2026c row, X)
    profile_plan("basic", ["retain-long-full-dates"]).apply(ds, Context(key="k" * 20))
    assert ds[0x0040A034].value == "20200101120000" and 0x00100016 not in ds
    ds = Dataset()
    ds.add_new(0x0040A034, "DT", "20200101120000")
    profile_plan("basic").apply(ds, Context(key="k" * 20))
    assert 0x0040A034 not in ds
