"""Plan.apply: every action, value form, expander, group, interaction and fail-closed rule."""

from __future__ import annotations

import copy
import gc
import io
import multiprocessing
import pickle
import random
import weakref

import pydicom
import pytest
from pydicom.dataset import Dataset

from deid.engine import ChangeLog, Context, compile_plan
from deid.engine.walk import iter_fields
from deid.errors import ApplyError, DeidError, PlanError

from .conftest import (
    build_plan,
    build_recipe,
    default_recipe_text,
    deid_data_file,
    make_dataset,
)

# --------------------------------------------------------------------------------------------
# The interaction matrix of deid-behaviour.md 5.9 (StudyDate = 20230101).
# --------------------------------------------------------------------------------------------
ORDER = ["ADD", "REPLACE", "JITTER", "BLANK", "KEEP", "REMOVE"]
MATRIX = {
    "ADD": ["20221128", "20221129", "20221203", "", "20221128", None],
    "REPLACE": ["20221128", "20221129", "20221204", "", "20230101", "20221129"],
    "JITTER": ["20221128", "20221129", "20230108", "", "20230101", "20230106"],
    "BLANK": ["20221128", "20221129", "", "", "20230101", None],
    "KEEP": ["20221128", "20230101", "20230101", "20230101", "20230101", "20230101"],
    "REMOVE": ["20221128", "20221129", "20230106", None, "20230101", None],
}


def _line(action: str, second_jitter: bool = False) -> str:
    value = {"ADD": " 20221128", "REPLACE": " 20221129", "JITTER": " 2" if second_jitter else " 5"}
    return f"{action} StudyDate{value.get(action, '')}"


@pytest.mark.parametrize("first", ORDER)
@pytest.mark.parametrize("second", ORDER)
def test_interaction_matrix(first: str, second: str) -> None:
    expected = MATRIX[first][ORDER.index(second)]
    body = _line(first) + "\n" + _line(second, second_jitter=first == "JITTER" == second)
    ds = make_dataset()
    build_plan(body).apply(ds)
    if expected is None:
        assert "StudyDate" not in ds
    elif expected == "":
        assert ds["StudyDate"].value is None  # BLANK sets None, as upstream
    else:
        assert ds.StudyDate == expected
    assert ds.SeriesDate == "20230101"  # nothing else touched


def test_matrix_on_ctbrain1(ctbrain1) -> None:
    ctbrain1.StudyDate = "20230101"
    build_plan("REMOVE StudyDate\nJITTER StudyDate 5").apply(ctbrain1)
    assert ctbrain1.StudyDate == "20230106"


# --------------------------------------------------------------------------------------------
# Actions
# --------------------------------------------------------------------------------------------
def test_exact_keyword_hits_every_depth(dataset) -> None:
    log = build_plan("REPLACE PatientName ANON").apply(dataset)
    assert str(dataset.PatientName) == "ANON"
    inner = dataset.RequestAttributesSequence[0].ScheduledProtocolCodeSequence[0]
    assert str(inner.PatientName) == "ANON"
    assert sorted(c.path for c in log) == [
        "(0010,0010)",
        "(0040,0275)__0__(0040,0008)__0__(0010,0010)",
    ]


def test_nested_uid_targets_one_element(dataset) -> None:
    build_plan("REPLACE (0040,0275)__1__(0040,1001) NEW").apply(dataset)
    seq = dataset.RequestAttributesSequence
    assert seq[0].RequestedProcedureID == "RP1"
    assert seq[1].RequestedProcedureID == "NEW"


def test_nested_name_targets_that_path_only(dataset) -> None:
    build_plan("REPLACE RequestAttributesSequence__StudyInstanceUID 9.9").apply(dataset)
    assert dataset.RequestAttributesSequence[0].StudyInstanceUID == "9.9"
    assert dataset.StudyInstanceUID == "1.2.3.4.100"


def test_remove_nested_three_levels(dataset) -> None:
    build_plan("REMOVE CodeMeaning").apply(dataset)
    inner = dataset.RequestAttributesSequence[0].ScheduledProtocolCodeSequence[0]
    assert "CodeMeaning" not in inner and inner.CodeValue == "121"


def test_blank_values_by_vr(dataset) -> None:
    build_plan("BLANK PatientName\nBLANK Rows\nBLANK ReferencedStudySequence").apply(dataset)
    assert dataset["PatientName"].value is None
    assert dataset.Rows is None
    assert len(dataset.ReferencedStudySequence) == 0


def test_remove_sequence_then_replace_child_does_not_crash(dataset) -> None:
    build_plan("REMOVE RequestAttributesSequence\nREPLACE CodeMeaning x").apply(dataset)
    assert "RequestAttributesSequence" not in dataset


def test_blank_sequence_then_child_rules_are_noops(dataset) -> None:
    log = build_plan("BLANK RequestAttributesSequence\nREPLACE CodeMeaning x").apply(dataset)
    assert len(dataset.RequestAttributesSequence) == 0
    assert log.counts() == {"BLANK": 1}


def test_remove_suppressed_by_replace_anywhere(dataset) -> None:
    build_plan("REPLACE PatientID NEWID\nREMOVE PatientID").apply(dataset)
    assert dataset.PatientID == "NEWID"
    dataset = make_dataset()
    build_plan("REMOVE PatientID\nREPLACE PatientID NEWID").apply(dataset)
    assert dataset.PatientID == "NEWID"


def test_nested_uid_replace_suppresses_only_its_element(dataset) -> None:
    build_plan("REMOVE contains:UID\nREPLACE (0008,1110)__0__(0008,1155) 9.9").apply(dataset)
    assert "StudyInstanceUID" not in dataset
    assert dataset.ReferencedStudySequence[0].ReferencedSOPInstanceUID == "9.9"
    assert "ReferencedSOPClassUID" not in dataset.ReferencedStudySequence[0]


def test_remove_suppressed_only_for_selected_elements(dataset) -> None:
    build_plan("REMOVE endswith:Date\nJITTER StudyDate 1").apply(dataset)
    assert dataset.StudyDate == "20230102"
    assert "SeriesDate" not in dataset and "PatientBirthDate" not in dataset


def test_group_replace_does_not_cancel_remove(dataset) -> None:
    # upstream expands REPLACE/JITTER expressions for the exclusion without the group lookups
    plan = compile_plan(
        build_recipe(
            "FORMAT dicom\n%values v\nFIELD PatientID\n%header\nREMOVE PatientID\n"
            "REPLACE values:v X\n"
        )
    )
    plan.apply(dataset)
    assert "PatientID" not in dataset


def test_remove_with_function_condition(dataset) -> None:
    def is_doe(dicom, value, field, item):
        return "Doe" in str(field.element.value)

    plan = build_plan("REMOVE PatientName func:is_doe\nREMOVE PatientID func:is_doe")
    plan.apply(dataset, Context({"is_doe": is_doe}))
    assert "PatientName" not in dataset and dataset.PatientID == "PID123"


def test_remove_literal_condition_is_truthy(dataset) -> None:
    build_plan("REMOVE PatientSex yes").apply(dataset)
    assert "PatientSex" not in dataset


def test_add_creates_and_overwrites(dataset) -> None:
    log = build_plan("ADD PatientIdentityRemoved YES\nADD PatientID NEW").apply(dataset)
    assert dataset.PatientIdentityRemoved == "YES" and dataset.PatientID == "NEW"
    assert dataset["PatientIdentityRemoved"].VR == "CS"
    assert sorted((c.keyword, str(c.old_vr)) for c in log) == [
        ("PatientID", "LO"),
        ("PatientIdentityRemoved", "None"),
    ]


def test_add_only_top_level(dataset) -> None:
    build_plan("ADD CodeMeaning X").apply(dataset)
    inner = dataset.RequestAttributesSequence[0].ScheduledProtocolCodeSequence[0]
    assert dataset.CodeMeaning == "X" and inner.CodeMeaning == "Secret meaning"


def test_add_after_remove_then_replace(dataset) -> None:
    build_plan("REMOVE Modality\nADD Modality MR\nREPLACE Modality OT").apply(dataset)
    assert dataset.Modality == "OT"


def test_add_file_meta_and_hex_tag(dataset) -> None:
    build_plan("ADD 00020016 MYAE\nADD 00091099 hello").apply(dataset)
    assert dataset.file_meta.SourceApplicationEntityTitle == "MYAE"
    assert 0x00020016 not in dataset._dict  # in the file meta, not the body
    assert dataset[0x00091099].VR == "ST"


def test_add_file_meta_created_when_missing() -> None:
    ds = Dataset()
    ds.PatientID = "1"
    build_plan("ADD MediaStorageSOPClassUID 1.2.3").apply(ds)
    assert ds.file_meta.MediaStorageSOPClassUID == "1.2.3"


def test_add_needs_single_tag() -> None:
    with pytest.raises(DeidError, match="ADD needs"):
        build_plan("ADD contains:Patient x")


def test_keep_protects_top_level_tag_at_all_depths(dataset) -> None:
    build_plan("KEEP PatientName\nREMOVE ALL").apply(dataset)
    assert str(dataset.PatientName) == "Doe^John"
    assert list(dataset.keys()) == [0x00100010, 0x7FE00010]
    assert dataset.file_meta.TransferSyntaxUID  # skip list


def test_keep_sequence_protects_children(dataset) -> None:
    build_plan("KEEP RequestAttributesSequence\nREMOVE contains:UID").apply(dataset)
    assert dataset.RequestAttributesSequence[0].StudyInstanceUID == "1.2.3.4.100"
    assert "StudyInstanceUID" not in dataset


def test_keep_nested_only_element_has_no_effect(dataset) -> None:
    # upstream quirk kept (deid-behaviour.md 5.7): KEEP of an element that exists only inside
    # sequences does not protect it (the safe direction: more is removed, never less)
    build_plan("KEEP CodeMeaning\nREMOVE CodeMeaning").apply(dataset)
    inner = dataset.RequestAttributesSequence[0].ScheduledProtocolCodeSequence[0]
    assert "CodeMeaning" not in inner


def test_skip_list_and_disable_skip(dataset) -> None:
    build_plan("REMOVE contains:UID").apply(dataset)
    assert "TransferSyntaxUID" in dataset.file_meta
    assert "MediaStorageSOPInstanceUID" not in dataset.file_meta
    ds2 = make_dataset()
    build_plan("REMOVE contains:UID", disable_skip=True).apply(ds2)
    assert "TransferSyntaxUID" not in ds2.file_meta


# --------------------------------------------------------------------------------------------
# Expanders
# --------------------------------------------------------------------------------------------
def _remaining(ds: Dataset) -> set[str]:
    return {f.uid for f in iter_fields(ds)}


@pytest.mark.parametrize(
    ("expr", "gone", "kept"),
    [
        (
            "contains:UID",
            ["(0020,000D)", "(0008,1110)__0__(0008,1155)", "(0002,0003)"],
            ["(0010,0010)"],
        ),
        (
            "startswith:Patient",
            ["(0010,0010)", "(0010,1030)", "(0040,0275)__0__(0040,0008)__0__(0010,0010)"],
            ["(0008,0060)"],
        ),
        ("endswith:Date|Time", ["(0008,0020)", "(0008,0030)", "(0008,002A)"], ["(0008,0060)"]),
        ("contains:8103", [], ["(0008,0060)"]),
        ("select:vr:DA", ["(0008,0020)", "(0010,0030)", "(0009,1002)"], ["(0008,002A)"]),
        (
            "select:group:0010",
            ["(0010,0010)", "(0010,0020)", "(0040,0275)__0__(0040,0008)__0__(0010,0010)"],
            ["(0008,0060)"],
        ),
        ("(0010,0020)", ["(0010,0020)"], ["(0010,0010)"]),
        ("00100020", ["(0010,0020)"], ["(0010,0010)"]),
        ('(0009,"ACME 1.0",01)', ["(0009,1001)", "(0009,1003)__0__(0009,1001)"], ["(0009,1002)"]),
        ('0009,"acme 1.0",02', ["(0009,1002)"], ["(0009,1001)"]),
        ('(0009,"OTHER",01)', [], ["(0009,1001)"]),
        ("(00x0,0010)", ["(0010,0010)"], ["(0010,0020)"]),
        ("patientname", ["(0010,0010)"], ["(0010,0020)"]),
    ],
)
def test_expanders(dataset, expr: str, gone: list[str], kept: list[str]) -> None:
    before = _remaining(dataset)
    assert set(gone) <= before and set(kept) <= before
    build_plan(f"REMOVE {expr}").apply(dataset)
    after = _remaining(dataset)
    assert not set(gone) & after, set(gone) & after
    assert set(kept) <= after


def test_except_spares_substring_matches(dataset) -> None:
    build_plan("BLANK except:Patient").apply(dataset)
    assert str(dataset.PatientName) == "Doe^John" and dataset.PatientWeight == 70
    assert dataset["Modality"].value is None


def test_all_selects_everything_but_skip_list(dataset) -> None:
    build_plan("REMOVE ALL").apply(dataset)
    assert list(dataset.keys()) == [0x7FE00010]
    assert list(dataset.file_meta.keys()) == [0x00020010, 0x00020012]


def test_unknown_prefix_matches_nothing(dataset) -> None:
    before = copy.deepcopy(dataset)
    assert build_plan("REMOVE PatientsName").apply(dataset) == []
    assert dataset == before


def test_invalid_regex_is_plan_error() -> None:
    with pytest.raises((PlanError, DeidError)):
        build_plan("REMOVE contains:(")


def test_memo_grows_with_distinct_tags_not_files(dataset) -> None:
    plan = build_plan("REMOVE contains:UID\nREMOVE endswith:Date")
    plan.apply(dataset)
    size = plan.memo_size
    for _ in range(5):
        plan.apply(make_dataset())
    assert plan.memo_size == size


# --------------------------------------------------------------------------------------------
# Value forms and conversion
# --------------------------------------------------------------------------------------------
def test_literal_converted_by_vr(dataset) -> None:
    build_plan("REPLACE Rows 512\nREPLACE PatientWeight 80.5\nADD 00181000 SN").apply(dataset)
    assert dataset.Rows == 512 and isinstance(dataset.Rows, int)
    assert float(dataset.PatientWeight) == 80.5


def test_literal_for_binary_and_float_vrs() -> None:
    ds = Dataset()
    ds.add_new(0x00091001, "OB", b"\x01")
    ds.add_new(0x00181050, "FD", 1.0)
    build_plan("REPLACE 00091001 abc\nREPLACE 00181050 2.5").apply(ds)
    assert ds[0x00091001].value == b"abc" and ds[0x00181050].value == 2.5


@pytest.mark.parametrize("rule", ["REPLACE PatientWeight abc", "REPLACE Rows many"])
def test_unconvertible_literal_is_error_naming_tag_and_line(dataset, rule) -> None:
    before = copy.deepcopy(dataset)
    with pytest.raises(ApplyError, match=r"test.dicom:3.*\((0010,1030|0028,0010)\)"):
        build_plan(rule).apply(dataset)
    assert dataset == before


def test_value_invalid_for_vr_is_written_and_reported(dataset) -> None:
    log = build_plan("REPLACE PatientSex " + "X" * 20).apply(dataset)
    assert dataset.PatientSex == "X" * 20
    assert log[0].detail and "16" in log[0].detail


def test_var_value(dataset) -> None:
    build_plan("REPLACE PatientID var:newid").apply(dataset, Context({"newid": "ANON9"}))
    assert dataset.PatientID == "ANON9"


def test_var_string_converted_for_numeric_vr(dataset) -> None:
    build_plan("REPLACE Rows var:r").apply(dataset, Context({"r": "64"}))
    assert dataset.Rows == 64


def test_func_value_call_convention(dataset) -> None:
    seen = {}

    def upper(dicom, value, field, item):
        seen.update(dicom=dicom, value=value, uid=field.uid, name=field.name, item=item)
        return str(field.element.value).upper()

    ctx = Context({"upper": upper, "x": 1})
    build_plan("REPLACE ReferencedStudySequence__ReferencedSOPInstanceUID func:upper").apply(
        dataset, ctx
    )
    assert seen["dicom"] is dataset and seen["value"] == "func:upper"
    assert seen["uid"] == "(0008,1110)__0__(0008,1155)"
    assert seen["name"] == "ReferencedStudySequence__ReferencedSOPInstanceUID"
    assert seen["item"]["x"] == 1


def test_func_sees_value_of_earlier_rules(dataset) -> None:
    def echo(dicom, value, field, item):
        return str(field.element.value) + "!"

    build_plan("REPLACE PatientID A\nREPLACE PatientID func:echo").apply(
        dataset, Context(functions={"echo": echo})
    )
    assert dataset.PatientID == "A!"


def test_func_given_at_compile_time(dataset) -> None:
    plan = build_plan("REPLACE PatientID func:fixed", functions={"fixed": _fixed})
    plan.apply(dataset)
    assert dataset.PatientID == "FIXED"


def _fixed(**kwargs):
    return "FIXED"


def test_deid_func_with_args(dataset) -> None:
    plan = build_plan("REPLACE StudyInstanceUID deid_func:pydicom_uuid prefix=1.2.3.")
    plan.apply(dataset)
    expected = pydicom.uid.generate_uid("1.2.3.", entropy_srcs=["1.2.3.4.100"])
    assert dataset.StudyInstanceUID == expected
    assert dataset.RequestAttributesSequence[0].StudyInstanceUID == expected


def test_deid_func_jitter(dataset) -> None:
    build_plan("REPLACE StudyDate deid_func:jitter days=3 years=1").apply(dataset)
    assert dataset.StudyDate == "20240104"


def test_pydicom_uuid_keyed_with_context_key(dataset) -> None:
    from deid.engine import keys

    plan = build_plan("REPLACE StudyInstanceUID deid_func:pydicom_uuid")
    ctx = Context(key="0123456789abcdef-site")
    plan.apply(dataset, ctx)
    key = keys.Key.from_text("0123456789abcdef-site")
    assert dataset.StudyInstanceUID == keys.keyed_uid(key, "1.2.3.4.100")
    assert ctx.uid_map["1.2.3.4.100"] == dataset.StudyInstanceUID


def test_registered_function_with_context(dataset) -> None:
    from deid.engine.functions import register, unregister

    @register("test_ctx_func", context=True)
    def ctx_func(dicom, value, field, item, context, **extras):
        return context.extra["replacement"] + extras.get("suffix", "")

    try:
        plan = build_plan("REPLACE PatientID deid_func:test_ctx_func suffix=Z")
        plan.apply(dataset, Context(extra={"replacement": "R"}))
        assert dataset.PatientID == "RZ"
    finally:
        unregister("test_ctx_func")


# --------------------------------------------------------------------------------------------
# Fail closed
# --------------------------------------------------------------------------------------------
def test_unregistered_deid_func_fails_at_compile() -> None:
    with pytest.raises(DeidError, match="nope"):
        build_plan("REPLACE PatientID deid_func:nope")


def test_unregistered_func_fails_before_any_change(dataset) -> None:
    before = copy.deepcopy(dataset)
    plan = build_plan("REMOVE PatientName\nREPLACE AdmissionID func:missing")
    with pytest.raises(PlanError, match="func:missing"):
        plan.apply(dataset)
    assert dataset == before


@pytest.mark.parametrize(
    "rule",
    [
        "REPLACE PatientName var:newname",
        "JITTER endswith:Date var:shift",
        "REPLACE PatientName func:nothing",
    ],
)
def test_missing_replacement_is_error_and_nothing_changes(dataset, rule) -> None:
    before = copy.deepcopy(dataset)
    plan = build_plan("REMOVE ALL\n" + rule)
    with pytest.raises(ApplyError, match=r"test.dicom:4"):
        plan.apply(dataset, Context(functions={"nothing": lambda **kw: None}))
    assert dataset == before


def test_missing_replacement_for_absent_element_is_fine(dataset) -> None:
    assert build_plan("REPLACE AdmissionID var:missing").apply(dataset) == []


def test_add_missing_var(dataset) -> None:
    # absent target: no-op (the default recipe's ADD PatientID var:entity_id after REMOVE)
    assert build_plan("REMOVE PatientID\nADD PatientID var:entity_id").apply(dataset).counts() == {
        "REMOVE": 1
    }
    # present target: the original would survive, so refuse
    with pytest.raises(ApplyError, match="entity_id"):
        build_plan("ADD PatientID var:entity_id").apply(make_dataset())
    # present but KEEP-protected: the user keeps it on purpose
    ds = make_dataset()
    build_plan("KEEP PatientID\nADD PatientID var:entity_id").apply(ds)
    assert ds.PatientID == "PID123"


def test_remove_condition_missing_var_is_error(dataset) -> None:
    with pytest.raises(ApplyError):
        build_plan("REMOVE PatientID var:flag").apply(dataset)


def test_function_exception_is_wrapped(dataset) -> None:
    def boom(**kwargs):
        raise RuntimeError("bad")

    with pytest.raises(ApplyError, match="func:boom failed"):
        build_plan("REPLACE PatientID func:boom").apply(dataset, Context({"boom": boom}))


def test_replace_sequence_with_text_is_error(dataset) -> None:
    with pytest.raises(ApplyError, match="sequence"):
        build_plan("REPLACE ReferencedStudySequence x").apply(dataset)


def test_jitter_non_integer_literal_is_plan_error() -> None:
    with pytest.raises(DeidError, match="whole number"):
        build_plan("JITTER StudyDate 1.5")


def test_jitter_non_integer_var_is_error(dataset) -> None:
    with pytest.raises(ApplyError, match="whole number"):
        build_plan("JITTER StudyDate var:d").apply(dataset, Context({"d": "1.5"}))


def test_undefined_group_is_plan_error() -> None:
    with pytest.raises(DeidError, match="nothere"):
        build_plan("REMOVE values:nothere")


# --------------------------------------------------------------------------------------------
# JITTER
# --------------------------------------------------------------------------------------------
def test_jitter_date_datetime_and_private_date(dataset) -> None:
    log = build_plan(
        'JITTER StudyDate -1\nJITTER AcquisitionDateTime 1\nJITTER (0009,"ACME 1.0",02) 10'
    ).apply(dataset)
    assert dataset.StudyDate == "20221231"
    assert dataset.AcquisitionDateTime == "20230102120000.000000"
    assert dataset[0x00091002].value == "20230115"
    assert log.counts() == {"JITTER": 3}


def test_jitter_var_and_compounding(dataset) -> None:
    build_plan("JITTER StudyDate var:d\nJITTER StudyDate var:d").apply(dataset, Context({"d": 2}))
    assert dataset.StudyDate == "20230105"


def test_jitter_time_is_reported_not_fabricated(dataset) -> None:
    log = build_plan("JITTER StudyTime 1").apply(dataset)
    assert dataset.StudyTime == "101010"
    assert log[0].detail and "TM" in log[0].detail


def test_jitter_partial_date_is_blanked_and_reported(dataset) -> None:
    dataset.StudyDate = "2023"
    log = build_plan("JITTER StudyDate 1").apply(dataset)
    assert dataset["StudyDate"].value is None
    assert "blanked" in log[0].detail


def test_jitter_multivalued(dataset) -> None:
    dataset.add_new(0x00091005, "DA", ["20230101", "20230201"])
    build_plan("JITTER 00091005 1").apply(dataset)
    assert list(dataset[0x00091005].value) == ["20230102", "20230202"]


# --------------------------------------------------------------------------------------------
# Groups
# --------------------------------------------------------------------------------------------
def test_values_group_remove(dataset) -> None:
    recipe = build_recipe(
        'FORMAT dicom\n%values ids\nFIELD StudyInstanceUID\nSPLIT PatientName by="^";minlength=4\n'
        "%header\nREMOVE values:ids\n"
    )
    plan = compile_plan(recipe)
    log = plan.apply(dataset)
    assert "StudyInstanceUID" not in dataset and "PatientName" not in dataset
    assert "RequestAttributesSequence" not in dataset  # its str() holds the UID (upstream)
    assert "StudyTime" in dataset
    assert "REMOVE" in log.counts()


def test_values_group_is_regex_escaped() -> None:
    ds = Dataset()
    ds.StudyInstanceUID = "1.2.3"
    ds.SeriesInstanceUID = "1x2x3"
    plan = compile_plan(
        build_recipe("FORMAT dicom\n%values v\nFIELD StudyInstanceUID\n%header\nREMOVE values:v\n")
    )
    plan.apply(ds)
    assert "StudyInstanceUID" not in ds and ds.SeriesInstanceUID == "1x2x3"


def test_values_group_replace_skips_sequences(dataset) -> None:
    plan = compile_plan(
        build_recipe(
            "FORMAT dicom\n%values v\nFIELD StudyInstanceUID\n%header\nREPLACE values:v 9.9\n"
        )
    )
    plan.apply(dataset)
    assert dataset.StudyInstanceUID == "9.9"
    assert dataset.RequestAttributesSequence[0].StudyInstanceUID == "9.9"


def test_values_group_as_variable(dataset) -> None:
    seen = {}

    def grab(dicom, value, field, item):
        seen["ids"] = list(item["ids"])
        return "X"

    plan = compile_plan(
        build_recipe(
            "FORMAT dicom\n%values ids\nFIELD PatientID\n%header\nREPLACE PatientID func:grab\n"
        )
    )
    plan.apply(dataset, Context({"grab": grab}))
    assert seen["ids"] == ["PID123"]


def test_fields_group_widens_to_tag_at_all_depths(dataset) -> None:
    plan = compile_plan(
        build_recipe(
            "FORMAT dicom\n%fields names\nFIELD startswith:PatientNa\n"
            "%header\nREPLACE fields:names ANON\n"
        )
    )
    plan.apply(dataset)
    assert str(dataset.PatientName) == "ANON"
    inner = dataset.RequestAttributesSequence[0].ScheduledProtocolCodeSequence[0]
    assert str(inner.PatientName) == "ANON"


def test_keep_excludes_from_groups(dataset) -> None:
    plan = compile_plan(
        build_recipe(
            "FORMAT dicom\n%values v\nFIELD PatientID\n%header\nKEEP PatientID\nREMOVE values:v\n"
        )
    )
    assert plan.apply(dataset) == []


# --------------------------------------------------------------------------------------------
# Options, file meta, Dataset vs FileDataset, ChangeLog
# --------------------------------------------------------------------------------------------
def test_strip_sequences_and_remove_private(dataset) -> None:
    log = build_plan("REMOVE PatientID").apply(dataset, strip_sequences=True, remove_private=True)
    assert "ReferencedStudySequence" not in dataset and "RequestAttributesSequence" not in dataset
    assert not any(t.is_private for t in dataset._dict)
    counts = log.counts()
    assert counts["STRIP"] == 2 and counts["PRIVATE"] == 4 and counts["REMOVE"] == 1


def test_dataset_and_filedataset_alike() -> None:
    plan = build_plan("REMOVE contains:UID\nJITTER endswith:Date 3\nREPLACE PatientName X")
    a, b = make_dataset(), make_dataset(file_dataset=True)
    la, lb = plan.apply(a), plan.apply(b)
    assert [(c.path, c.action) for c in la] == [(c.path, c.action) for c in lb]
    assert Dataset(a) == Dataset(b) and a.file_meta == b.file_meta
    out = io.BytesIO()
    b.save_as(out)
    again = pydicom.dcmread(io.BytesIO(out.getvalue()))
    assert again.StudyDate == "20230104"


def test_changelog_records_rule_lines(dataset) -> None:
    log = build_plan("REMOVE PatientID\nBLANK PatientName").apply(dataset)
    assert isinstance(log, ChangeLog)
    assert sorted((c.action, c.rule.line, c.rule.text) for c in log) == [
        ("BLANK", 4, "BLANK PatientName"),
        ("BLANK", 4, "BLANK PatientName"),
        ("REMOVE", 3, "REMOVE PatientID"),
    ]
    removed = next(c for c in log if c.action == "REMOVE")
    assert (
        removed.keyword == "PatientID" and removed.old_vr == "LO" and removed.path == "(0010,0020)"
    )


def test_post_steps_run_after_rules(dataset) -> None:
    calls = []
    plan = build_plan(
        "REMOVE PatientID",
        post=(lambda ds, ctx, log: calls.append(("PatientID" in ds, log.counts(), ctx.filename)),),
    )
    plan.apply(dataset, Context(filename="f.dcm"))
    assert calls == [(False, {"REMOVE": 1}, "f.dcm")]


def test_default_recipe_on_ctbrain1(ctbrain1) -> None:
    plan = compile_plan(build_recipe(default_recipe_text()))
    assert len(ctbrain1) == 178
    plan.apply(ctbrain1)
    assert len(ctbrain1) == 143  # deid-behaviour.md 10
    assert (
        "SOPInstanceUID" not in ctbrain1 and "MediaStorageSOPInstanceUID" not in ctbrain1.file_meta
    )
    assert ctbrain1.PatientIdentityRemoved == "YES"


def test_shuffle_within_precedence_class_same_result() -> None:
    body = default_recipe_text()
    header = body[body.index("%header") :].splitlines()[1:]
    removes = [line for line in header if line.startswith("REMOVE")]
    adds = [line for line in header if line.startswith("ADD")]
    rng = random.Random(7)
    results = []
    for _ in range(3):
        rng.shuffle(removes)
        plan = build_plan("\n".join(removes + adds))
        ds = pydicom.dcmread(deid_data_file("humans", "ctbrain1.dcm"))
        plan.apply(ds)
        out = io.BytesIO()
        ds.save_as(out)
        results.append(out.getvalue())
    assert results[0] == results[1] == results[2]


# --------------------------------------------------------------------------------------------
# Pickling, workers, memory
# --------------------------------------------------------------------------------------------
_BODY = "REMOVE contains:UID\nJITTER endswith:Date 3\nREPLACE PatientName deid_func:basic_uuid"


def test_plan_pickle_round_trip(dataset) -> None:
    plan = build_plan(_BODY)
    plan.apply(make_dataset())
    clone = pickle.loads(pickle.dumps(plan))
    assert clone.memo_size == 0
    a, b = make_dataset(), make_dataset()
    plan.apply(a)
    clone.apply(b)
    assert a.StudyDate == b.StudyDate == "20230104"
    assert "lark" not in pickle.dumps(plan).decode("latin-1").lower()


def _worker(blob: bytes) -> str:
    plan = pickle.loads(blob)
    ds = make_dataset()
    plan.apply(ds)
    return ds.StudyDate


def test_plan_in_worker_process() -> None:
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with multiprocessing.get_context(method).Pool(1) as pool:
        assert pool.apply(_worker, (pickle.dumps(build_plan(_BODY)),)) == "20230104"


def test_plan_is_immutable() -> None:
    plan = build_plan(_BODY)
    with pytest.raises(AttributeError):
        plan.actions = ()


def test_dataset_collectable_after_apply() -> None:
    plan = build_plan(_BODY + "\nREPLACE PatientID func:f")
    ds = make_dataset()
    ref = weakref.ref(ds)
    plan.apply(ds, Context({"f": lambda **kw: "x"}))
    del ds
    gc.collect()
    assert ref() is None


def test_rss_flat_over_many_files(tmp_path) -> None:
    psutil = pytest.importorskip("psutil")
    src = make_dataset(file_dataset=True)
    buf = io.BytesIO()
    src.save_as(buf, enforce_file_format=True)
    raw = buf.getvalue()
    plan = compile_plan(build_recipe(default_recipe_text()))
    proc = psutil.Process()

    def run(n: int) -> None:
        for _ in range(n):
            ds = pydicom.dcmread(io.BytesIO(raw))
            plan.apply(ds)
            ds.save_as(io.BytesIO())

    run(200)
    gc.collect()
    after_200 = proc.memory_info().rss
    run(1800)
    gc.collect()
    after_2000 = proc.memory_info().rss
    assert after_2000 - after_200 < 8 * 1024 * 1024


def test_worker_side_never_imports_lark(tmp_path) -> None:
    import subprocess
    import sys

    blob = tmp_path / "plan.pickle"
    blob.write_bytes(pickle.dumps(build_plan(_BODY + "\nREMOVE PatientID")))
    code = (
        "import pickle, sys\n"
        "from pydicom import Dataset\n"
        f"plan = pickle.loads(open({str(blob)!r}, 'rb').read())\n"
        "ds = Dataset(); ds.PatientID = 'x'; ds.StudyDate = '20230101'\n"
        "plan.apply(ds)\n"
        "print('PatientID' in ds, ds.StudyDate, 'lark' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert out.stdout.split() == ["False", "20230104", "False"]


def test_untouched_sequences_are_written_as_read() -> None:
    from pydicom.dataelem import RawDataElement

    buf = io.BytesIO()
    make_dataset(file_dataset=True).save_as(buf, enforce_file_format=True)
    ds = pydicom.dcmread(io.BytesIO(buf.getvalue()))
    raw_before = ds._dict[0x00081110]
    build_plan("REMOVE contains:UID\nREPLACE CodeMeaning x").apply(ds)
    # changed inside: decoded and rewritten
    assert not isinstance(ds._dict[0x00400275], RawDataElement)
    assert ds.RequestAttributesSequence[0].ScheduledProtocolCodeSequence[0].CodeMeaning == "x"
    assert "ReferencedSOPClassUID" not in ds.ReferencedStudySequence[0]
    ds = pydicom.dcmread(io.BytesIO(buf.getvalue()))
    build_plan("REMOVE PatientID\nREPLACE CodeMeaning x").apply(ds)
    # nothing changed inside ReferencedStudySequence: the element read from the file is back
    assert ds._dict[0x00081110] == raw_before
    out = io.BytesIO()
    ds.save_as(out)
    again = pydicom.dcmread(io.BytesIO(out.getvalue()))
    assert again.ReferencedStudySequence[0].ReferencedSOPInstanceUID == "1.2.3.4.300"
    assert again.RequestAttributesSequence[0].ScheduledProtocolCodeSequence[0].CodeMeaning == "x"


def test_sequence_removed_for_certain_is_not_read(dataset) -> None:
    plan = build_plan("REPLACE CodeMeaning var:missing\nREMOVE RequestAttributesSequence")
    log = plan.apply(dataset)  # the REPLACE would fail, but its element goes anyway
    assert "RequestAttributesSequence" not in dataset
    assert log.counts() == {"REMOVE": 1}
    assert not any(key.prefix and key.prefix.startswith("RequestAttributes") for key in plan._memo)
    # a REPLACE/JITTER on the sequence cancels the removal, so its items are read
    plan = build_plan(
        "REMOVE RequestAttributesSequence\nJITTER RequestAttributesSequence 1\n"
        "REPLACE CodeMeaning x"
    )
    ds = make_dataset()
    plan.apply(ds)
    assert ds.RequestAttributesSequence[0].ScheduledProtocolCodeSequence[0].CodeMeaning == "x"


@pytest.mark.parametrize("implicit", [True, False])
def test_files_read_from_disk_implicit_and_explicit_vr(tmp_path, implicit: bool) -> None:
    from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

    src = make_dataset(file_dataset=True)
    src.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian
    path = tmp_path / "f.dcm"
    src.save_as(path, implicit_vr=implicit, little_endian=True, enforce_file_format=True)
    body = "REMOVE contains:UID\nJITTER select:vr:DA 1\nREPLACE PatientName X\nBLANK CodeMeaning"
    expected = make_dataset(file_dataset=True)
    build_plan(body).apply(expected)
    ds = pydicom.dcmread(path)
    build_plan(body).apply(ds)

    def public(d: Dataset) -> dict[str, object]:
        return {
            f.uid: f.element.value
            for f in iter_fields(d, include_file_meta=False)
            if not f.uid.startswith("(0009")
        }

    assert public(ds) == public(expected)
    assert ds.StudyDate == "20230102" and str(ds.PatientName) == "X"
    if not implicit:  # private elements of unknown creators are opaque (UN) in implicit VR
        assert ds[0x00091002].value == "20230106"
        assert "SOPInstanceUID" not in ds[0x00091003].value[0]


def test_fields_group_with_a_nested_uid_widens_to_the_tag(dataset) -> None:
    # upstream: a FIELD written as a nested uid collects that element; fields: then selects
    # every element with its tag, at any depth
    plan = compile_plan(
        build_recipe(
            "FORMAT dicom\n%fields names\n"
            "FIELD (0040,0275)__0__(0040,0008)__0__(0008,0100)\n"
            "%header\nREMOVE fields:names\n"
        )
    )
    inner = dataset.RequestAttributesSequence[0].ScheduledProtocolCodeSequence[0]
    assert "CodeValue" in inner
    log = plan.apply(dataset)
    assert "CodeValue" not in inner
    assert log.counts() == {"REMOVE": 1}


def test_fields_group_nested_uid_that_matches_nothing(dataset) -> None:
    plan = compile_plan(
        build_recipe(
            "FORMAT dicom\n%fields names\nFIELD (0040,0275)__5__(0010,0010)\n"
            "%header\nREMOVE fields:names\n"
        )
    )
    assert plan.apply(dataset) == []
    assert "PatientName" in dataset


@pytest.mark.parametrize("written", ["2013-12-10", "2013/12/10", "2013.12.10", "20131210"])
def test_jitter_separated_dates(written) -> None:
    ds = Dataset()
    ds.StudyDate = written
    log = build_plan("JITTER StudyDate 3").apply(ds)
    assert ds.StudyDate == "20131213"
    assert log.counts() == {"JITTER": 1}


@pytest.mark.parametrize("prefix", ["abc", "1.2.3", "01.2.", "1..2."])
def test_pydicom_uuid_bad_prefix_is_a_plan_error(prefix) -> None:
    with pytest.raises(PlanError, match=r"test.dicom:3: deid_func:pydicom_uuid: prefix"):
        build_plan(f"REPLACE StudyInstanceUID deid_func:pydicom_uuid prefix={prefix}")


def test_pydicom_uuid_good_prefix(dataset) -> None:
    build_plan("REPLACE StudyInstanceUID deid_func:pydicom_uuid prefix=1.2.826.0.1.").apply(dataset)
    assert dataset.StudyInstanceUID.startswith("1.2.826.0.1.")


# --------------------------------------------------------------------------------------------
# pre hooks, VR-constant functions, light fields, encoded writes
# --------------------------------------------------------------------------------------------
def test_pre_hooks_run_before_anything_changes(dataset) -> None:
    seen = []

    def pre(ds, ctx):
        seen.append((str(ds.PatientName), ctx.filename))

    plan = compile_plan(build_recipe("REPLACE PatientName ANON"), pre=[pre])
    plan.apply(dataset, Context(filename="f.dcm"))
    assert seen == [("Doe^John", "f.dcm")] and str(dataset.PatientName) == "ANON"
    again = pickle.loads(pickle.dumps(compile_plan(build_recipe("REMOVE PatientID"))))
    assert again.pre == ()


def _constant_func(calls):
    def dummy(dicom=None, value=None, field=None, item=None, **kw):
        calls.append(field.element.VR)
        return {"DA": "19000101", "TM": "000000"}.get(field.element.VR, "X")

    dummy.deid_vr_constant = frozenset({"DA", "TM"})
    return dummy


def test_vr_constant_function_is_called_once_per_rule_and_vr() -> None:
    calls: list[str] = []
    plan = compile_plan(
        build_recipe(
            "REPLACE StudyDate func:d\nREPLACE SeriesDate func:d\n"
            "REPLACE StudyTime func:d\nREPLACE PatientID func:d\n"
        ),
        functions={"d": _constant_func(calls)},
    )
    for _ in range(3):
        ds = make_dataset()
        log = plan.apply(ds)
        assert (ds.StudyDate, ds.SeriesDate, ds.StudyTime, ds.PatientID) == (
            "19000101",
            "19000101",
            "000000",
            "X",
        )
        assert log.counts() == {"REPLACE": 4}
    # once per (rule, VR) for DA/TM, every time for the LO PatientID
    assert sorted(calls) == ["DA", "DA", "LO", "LO", "LO", "TM"]


def test_light_field_only_for_functions_that_ask(dataset) -> None:
    from pydicom.dataelem import DataElement

    from deid.engine.walk import LightElement

    kinds = {}

    def light(dicom=None, value=None, field=None, item=None, **kw):
        kinds["light"] = type(field.element)
        return field.element.value + "-L"

    light.deid_light_element = True

    def heavy(dicom=None, value=None, field=None, item=None, **kw):
        kinds["heavy"] = type(field.element)
        return field.element.value + "-H"

    buf = io.BytesIO()
    dataset.save_as(buf, enforce_file_format=True)
    ds = pydicom.dcmread(io.BytesIO(buf.getvalue()))
    plan = compile_plan(
        build_recipe("REPLACE PatientID func:light\nREPLACE AccessionNumber func:heavy\n"),
        functions={"light": light, "heavy": heavy},
    )
    plan.apply(ds)
    assert kinds == {"light": LightElement, "heavy": DataElement}
    assert ds.PatientID == "PID123-L" and ds.AccessionNumber == "ACC123-H"


def test_written_values_round_trip_through_a_file(dataset) -> None:
    buf = io.BytesIO()
    dataset.save_as(buf, enforce_file_format=True)
    ds = pydicom.dcmread(io.BytesIO(buf.getvalue()))
    plan = build_plan(
        "REPLACE PatientID ABC\nREPLACE StudyInstanceUID 1.2.3\n"
        "REPLACE PatientWeight 71.5\nREPLACE AccessionNumber A\\B\n"
        "REPLACE PatientName Roe^Jane\n"
    )
    plan.apply(ds)
    assert (ds.PatientID, ds.StudyInstanceUID, str(ds.PatientName)) == ("ABC", "1.2.3", "Roe^Jane")
    assert float(ds.PatientWeight) == 71.5 and list(ds.AccessionNumber) == ["A", "B"]
    out = io.BytesIO()
    ds.save_as(out)
    back = pydicom.dcmread(io.BytesIO(out.getvalue()))
    assert (back.PatientID, back.StudyInstanceUID, str(back.PatientName)) == (
        "ABC",
        "1.2.3",
        "Roe^Jane",
    )
    assert list(back.AccessionNumber) == ["A", "B"] and float(back.PatientWeight) == 71.5


def test_invalid_written_value_is_kept_as_an_element_and_reported(dataset) -> None:
    log = build_plan("REPLACE AccessionNumber " + "Z" * 20).apply(dataset)
    assert dataset.AccessionNumber == "Z" * 20
    assert "exceeds" in (log[0].detail or "")
