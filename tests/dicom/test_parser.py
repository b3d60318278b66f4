"""Tests for deid.dicom.parser.DicomParser (upstream's per-file engine API)."""

from __future__ import annotations

import os
import random

import pydicom
import pytest
from pydicom import Dataset

from deid.config import DeidRecipe
from deid.dicom.fields import FieldsWithLookups
from deid.dicom.parser import DEFAULT_CONFIG, DicomParser, load_config
from deid.errors import ApplyError, DeidError

from .conftest import build_nested, create_recipe


@pytest.fixture(params=["engine", "rules"])
def mode(request, monkeypatch):
    """Run a test through the compiled engine and through the facade's rule executor."""
    monkeypatch.setattr(DicomParser, "use_engine", request.param == "engine")
    return request.param


def run(actions, ds=None, **define):
    parser = DicomParser(ds if ds is not None else build_nested(), recipe=create_recipe(actions))
    for name, value in define.items():
        parser.define(name, value)
    parser.parse()
    return parser.dicom


def test_attributes_for_a_path(ctbrain1):
    parser = DicomParser(ctbrain1)
    assert parser.dicom_file == os.path.abspath(ctbrain1)
    assert parser.dicom_name == "ctbrain1.dcm" and str(parser) == "[dicom-parser:ctbrain1.dcm]"
    assert parser.fields == {} and parser.lookup == {}
    assert isinstance(parser.recipe, DeidRecipe)
    assert parser.config["get"]["skip"] == DEFAULT_CONFIG["get"]["skip"]
    assert "PixelData" in parser.skip and parser.keep == []
    assert set(parser.deid_funcs) >= {"jitter", "pydicom_uuid"}


def test_default_recipe_counts_like_upstream(ctbrain1, mode):
    parser = DicomParser(ctbrain1)
    assert len(parser.dicom) == 178
    parser.parse()
    assert len(parser.dicom) == 143
    assert "StudyDate" not in parser.dicom and "SOPInstanceUID" not in parser.dicom
    assert "MediaStorageSOPInstanceUID" not in parser.dicom.file_meta
    assert parser.dicom.PatientIdentityRemoved == "YES"


def test_plain_dataset_and_twice_callable(mode):
    ds = build_nested()
    parser = DicomParser(ds, recipe=create_recipe([{"action": "REMOVE", "field": "PatientID"}]))
    assert parser.dicom is ds and parser.dicom_file is None
    assert len(parser.get_fields()) == len(parser.get_fields())
    parser.parse()
    parser.parse()
    assert "PatientID" not in ds
    assert isinstance(parser.fields, FieldsWithLookups)


def test_recipe_dict_edits_are_honoured(mode):
    recipe = create_recipe([{"action": "REMOVE", "field": "PatientID"}])
    parser = DicomParser(build_nested(), recipe=recipe)
    recipe.deid["header"].append({"action": "REPLACE", "field": "PatientName", "value": "X"})
    parser.parse()
    assert str(parser.dicom.PatientName) == "X" and "PatientID" not in parser.dicom


def test_find_by_name_and_values():
    parser = DicomParser(build_nested(), recipe=create_recipe([]))
    assert set(parser.find_by_name("patientname")) == {
        "(0010,0010)",
        "(0040,0275)__0__(0010,0010)",
    }
    found = parser.find_by_values(["1.2.3.4"])
    # literal (escaped) match; as upstream a sequence holding the value matches too
    assert "(0020,000D)" in found and "(0040,0275)" in found
    assert "(0020,000D)" not in parser.find_by_values(["1x2"])  # "." is not a wildcard
    assert "(0040,0275)__0__(0008,1110)__0__(0008,1155)" in found  # 1.2.3.4.5 contains it
    assert parser.find_by_values([]) == {} and parser.find_by_values("(zz") == {}  # no re.error


def test_replace_with_var_func_and_deid_func(mode):
    def upper_name(dicom, value, field, item):
        return str(field.element.value).upper()

    ds = run(
        [
            {"action": "REPLACE", "field": "PatientID", "value": "var:pid"},
            {"action": "REPLACE", "field": "PatientName", "value": "func:up"},
            {"action": "REPLACE", "field": "StudyInstanceUID", "value": "deid_func:pydicom_uuid"},
        ],
        pid="NEW",
        up=upper_name,
    )
    assert ds.PatientID == "NEW" and ds.PatientName == "DOE^JANE"
    assert ds.RequestAttributesSequence[0].PatientName == "NESTED^NAME"
    # the same UID maps to the same new UID at every depth (stable remapping)
    assert ds.StudyInstanceUID == ds.RequestAttributesSequence[0].StudyInstanceUID != "1.2.3.4"
    assert ds.StudyInstanceUID.startswith("2.25.")


@pytest.mark.parametrize("value", ["var:missing", "func:missing", "deid_func:simple_uuid"])
def test_undefined_references_fail_before_touching(value, mode):
    ds = build_nested()
    parser = DicomParser(
        ds,
        recipe=create_recipe(
            [
                {"action": "REMOVE", "field": "PatientID"},
                {"action": "REPLACE", "field": "PatientName", "value": value},
            ]
        ),
    )
    with pytest.raises(DeidError, match=value.split(":")[1]):
        parser.parse()
    assert ds.PatientID == "P-1"  # nothing was changed


def test_add_with_missing_variable_adds_nothing(mode):
    ds = run(
        [
            {"action": "REMOVE", "field": "PatientID"},
            {"action": "ADD", "field": "PatientID", "value": "var:entity_id"},
        ]
    )
    assert "PatientID" not in ds


def test_add_forms_and_file_meta(mode):
    ds = run(
        [
            {"action": "ADD", "field": "PatientIdentityRemoved", "value": "YES"},
            {"action": "ADD", "field": "11112221", "value": "SIMPSON"},
            {"action": "ADD", "field": "Rows", "value": "12"},
            {"action": "ADD", "field": "MediaStorageSOPInstanceUID", "value": "9.9"},
            {"action": "ADD", "field": "PatientName", "value": "Over^Written"},
            {"action": "ADD", "field": "(0010,0020)", "value": "NEW-ID"},
        ]
    )
    assert ds.PatientIdentityRemoved == "YES" and ds["11112221"].value == "SIMPSON"
    assert ds.Rows == 12 and ds.file_meta.MediaStorageSOPInstanceUID == "9.9"
    assert ds.PatientName == "Over^Written" and ds.PatientID == "NEW-ID"
    assert ds.RequestAttributesSequence[0].PatientName == "Nested^Name"  # ADD is top level only
    for bad in ("contains:Patient", "ALL", "NotAKeyword"):
        with pytest.raises(DeidError) as info:
            run([{"action": "ADD", "field": bad, "value": "x"}])
        assert isinstance(info.value, ValueError) and bad in str(info.value)


def test_blank_and_remove_sequences(mode):
    ds = run(
        [
            {"action": "BLANK", "field": "RequestAttributesSequence"},
            {"action": "REPLACE", "field": "CodeMeaning", "value": "x"},
            {"action": "BLANK", "field": "PatientName"},
        ]
    )
    assert len(ds.RequestAttributesSequence) == 0 and ds.PatientName is None
    ds = run(
        [
            {"action": "REMOVE", "field": "RequestAttributesSequence"},
            {"action": "REPLACE", "field": "ReferencedSOPInstanceUID", "value": "1.1"},
        ]
    )
    assert "RequestAttributesSequence" not in ds


def test_nested_targets_only_touch_that_element(mode):
    uid = "(0040,0275)__0__(0008,1110)__0__(0008,1155)"
    ds = run([{"action": "REPLACE", "field": uid, "value": "7.7"}])
    inner = ds.RequestAttributesSequence[0].ReferencedStudySequence[0]
    assert inner.ReferencedSOPInstanceUID == "7.7" and ds.StudyInstanceUID == "1.2.3.4"
    ds = run([{"action": "REMOVE", "field": "RequestAttributesSequence__PatientName"}])
    assert "PatientName" not in ds.RequestAttributesSequence[0] and "PatientName" in ds


def test_jitter_and_compounding(mode):
    ds = run(
        [
            {"action": "JITTER", "field": "StudyDate", "value": "5"},
            {"action": "JITTER", "field": "StudyDate", "value": "var:days"},
        ],
        days=2,
    )
    assert ds.StudyDate == "20230108"
    with pytest.raises(DeidError, match="1.5"):
        run([{"action": "JITTER", "field": "StudyDate", "value": "1.5"}])


def test_jitter_on_a_non_date_never_invents_one(mode):
    rule = [{"action": "JITTER", "field": "PatientName", "value": "1"}]
    if mode == "rules":
        with pytest.raises(ApplyError, match="PatientName"):
            run(rule)
        return
    parser = DicomParser(build_nested(), recipe=create_recipe(rule))
    parser.parse()
    assert parser.dicom.PatientName == "Doe^Jane"  # unchanged, and reported:
    assert any("not a date" in str(c) for c in parser.changelog)


# value after actions first -> second, StudyDate 20230101 (upstream's verified matrix)
ADD = {"action": "ADD", "field": "StudyDate", "value": "20221128"}
REPLACE = {"action": "REPLACE", "field": "StudyDate", "value": "20221129"}
JITTER = {"action": "JITTER", "field": "StudyDate", "value": "5"}
BLANK = {"action": "BLANK", "field": "StudyDate"}
KEEP = {"action": "KEEP", "field": "StudyDate"}
REMOVE = {"action": "REMOVE", "field": "StudyDate"}
MATRIX = {
    "ADD": (ADD, ["20221128", "20221129", "20221203", None, "20221128", "-"]),
    "REPLACE": (REPLACE, ["20221128", "20221129", "20221204", None, "20230101", "20221129"]),
    "JITTER": (JITTER, ["20221128", "20221129", "20230108", None, "20230101", "20230106"]),
    "BLANK": (BLANK, ["20221128", "20221129", None, None, "20230101", "-"]),
    "KEEP": (KEEP, ["20221128", "20230101", "20230101", "20230101", "20230101", "20230101"]),
    "REMOVE": (REMOVE, ["20221128", "20221129", "20230106", "-", "20230101", "-"]),
}


@pytest.mark.parametrize("first", list(MATRIX))
@pytest.mark.parametrize("column", range(6))
def test_interaction_matrix(first, column, mode):
    second = [ADD, REPLACE, JITTER, BLANK, KEEP, REMOVE][column]
    if first == "JITTER" and second is JITTER:
        second = {"action": "JITTER", "field": "StudyDate", "value": "2"}
    action, expected = MATRIX[first]
    ds = run([action, second])
    got = ds.StudyDate if "StudyDate" in ds else "-"  # "-": absent, None: blanked
    assert got == expected[column]


def test_replacement_that_gives_none_is_an_error(mode):
    # upstream kept the original PatientName here (REMOVE cancelled by a REPLACE that did nothing)
    ds = build_nested()
    with pytest.raises(ApplyError, match="PatientName"):
        run(
            [
                {"action": "REMOVE", "field": "PatientName"},
                {"action": "REPLACE", "field": "PatientName", "value": "func:none"},
            ],
            ds=ds,
            none=lambda dicom, value, field, item: None,
        )
    if mode == "engine":
        assert ds.PatientName == "Doe^Jane"  # the engine changes nothing when a rule fails


def test_remove_all_with_jitter_keeps_only_the_shifted_dates(mode):
    ds = run(
        [
            {"action": "REMOVE", "field": "ALL"},
            {"action": "JITTER", "field": "endswith:Date", "value": "1"},
        ]
    )
    assert list(ds.keys()) == [0x00080020] and ds.StudyDate == "20230102"


def test_remove_conditions(mode):
    def is_jane(dicom, value, field, item):
        return "Jane" in str(field.element.value)

    ds = run(
        [{"action": "REMOVE", "field": "PatientName", "value": "func:is_jane"}], is_jane=is_jane
    )
    assert "PatientName" not in ds and "PatientName" in ds.RequestAttributesSequence[0]
    literal = [{"action": "REMOVE", "field": "ALL", "value": "contains:(\\d{7})"}]
    if mode == "rules":
        with pytest.raises(DeidError, match="literal"):
            run(literal)
    else:  # upstream's reading: a literal condition is true, so everything goes
        assert len(run(literal)) == 0


def test_keep_protects_top_level_tags_everywhere(mode):
    ds = run([{"action": "KEEP", "field": "PatientName"}, {"action": "REMOVE", "field": "ALL"}])
    assert ds.PatientName == "Doe^Jane" and "PatientID" not in ds


def test_values_and_fields_groups(mode):
    values = {"ids": [{"action": "FIELD", "field": "PatientID"}]}
    fields = {"names": [{"action": "FIELD", "field": "RequestAttributesSequence__PatientName"}]}
    recipe = create_recipe(
        [
            {"action": "REPLACE", "field": "values:ids", "value": "gone"},
            {"action": "REMOVE", "field": "fields:names"},
        ],
        values=values,
        fields=fields,
    )
    ds = build_nested()
    parser = DicomParser(ds, recipe=recipe)
    parser.parse()
    assert ds.PatientID == "gone" and parser.lookup["ids"] == ["P-1"]
    assert list(parser.lookup["names"]) == ["(0040,0275)__0__(0010,0010)"]
    # a %fields group widens to every element with the same tag
    assert "PatientName" not in ds and "PatientName" not in ds.RequestAttributesSequence[0]
    with pytest.raises(DeidError, match="nope"):
        run([{"action": "REMOVE", "field": "values:nope"}])


def test_fields_group_with_a_nested_uid(mode):
    fields = {"names": [{"action": "FIELD", "field": "(0040,0275)__0__(0010,0010)"}]}
    recipe = create_recipe([{"action": "REMOVE", "field": "fields:names"}], fields=fields)
    ds = build_nested()
    DicomParser(ds, recipe=recipe).parse()
    assert "PatientName" not in ds.RequestAttributesSequence[0]


def test_unknown_action_is_an_error(mode):
    with pytest.raises(DeidError, match="FROB"):
        run([{"action": "FROB", "field": "PatientID"}])


def test_sequence_replace_is_an_apply_error(mode):
    with pytest.raises(DeidError, match=r"\(0040,0275\)"):
        run([{"action": "REPLACE", "field": "RequestAttributesSequence", "value": "x"}])


def test_strip_sequences_remove_private_and_disable_skip(ctbrain1, mode):
    parser = DicomParser(ctbrain1, recipe=create_recipe([]))
    parser.parse(strip_sequences=True, remove_private=True)
    assert not any(e.VR == "SQ" or e.tag.is_private for e in parser.dicom)
    assert "PixelData" not in {f.element.keyword for f in parser.get_fields().values()}
    loose = DicomParser(ctbrain1, recipe=create_recipe([]), disable_skip=True)
    assert "PixelData" in {f.element.keyword for f in loose.get_fields().values()}
    gone = DicomParser(
        ctbrain1,
        recipe=create_recipe([{"action": "REMOVE", "field": "PixelData"}]),
        disable_skip=True,
    )
    gone.parse()
    assert "PixelData" not in gone.dicom


def test_config_file_and_dict(tmp_path):
    path = tmp_path / "config.json"
    path.write_text('{"get": {"skip": ["PatientID"]}, "put": {"actions": []}}')
    parser = DicomParser(build_nested(), recipe=create_recipe([]), config=str(path))
    assert "(0010,0020)" not in parser.get_fields()
    assert load_config({"get": {"skip": []}})["put"]["actions"] == []
    with pytest.raises(DeidError):
        load_config(str(tmp_path / "missing.json"))


def test_recipe_without_content_is_refused():
    class Empty:
        deid = None

    with pytest.raises(DeidError, match="no content"):
        DicomParser(build_nested(), recipe=Empty()).parse()


def test_save_never_overwrites_unless_asked(tmp_path, ctbrain1):
    parser = DicomParser(
        ctbrain1, recipe=create_recipe([{"action": "REMOVE", "field": "PatientID"}])
    )
    parser.parse()
    target = str(tmp_path / "out.dcm")
    assert parser.save(target) == target
    assert "PatientID" not in pydicom.dcmread(target)
    with pytest.raises(FileExistsError):
        parser.save(target)
    assert parser.save(target, overwrite=True) == target
    auto = parser.save()
    assert os.path.basename(auto) == "ctbrain1.dcm" and os.path.dirname(auto) != os.path.dirname(
        ctbrain1
    )


def test_nested_helpers_and_preamble(ctbrain1):
    parser = DicomParser(ctbrain1, recipe=create_recipe([]))
    fields = parser.get_fields()
    uid = "(0040,0275)__0__(0008,1110)__0__(0008,1155)"
    assert parser.get_nested_field(uid) is fields[uid].element
    parent, element = parser.get_nested_field(uid, return_parent=True)
    assert parent[element.tag] is element
    assert parser.get_nested_field("(0040,0275)__0__(0009,0001)") is None
    assert len(parser.get_child_fields("(0040,0275)")) == 13  # 7 + 2 + 4 at two depths
    parser.reset_preamble()
    assert parser.dicom.preamble == b"\x00" * 128


def test_rule_order_within_a_class_does_not_matter(mode):
    removes = [
        {"action": "REMOVE", "field": f}
        for f in ("PatientID", "contains:UID", "endswith:Date", "(0011,1001)", "CodeMeaning")
    ]
    expected = sorted(run(removes).keys())
    rng = random.Random(7)
    for _ in range(5):
        shuffled = removes[:]
        rng.shuffle(shuffled)
        assert sorted(run(shuffled).keys()) == expected


def test_plain_dataset_has_no_file_meta_needed(mode):
    ds = Dataset()
    ds.PatientID = "x"
    run([{"action": "ADD", "field": "PatientName", "value": "n"}], ds=ds)
    assert ds.PatientName == "n"


def test_single_action_methods():
    parser = DicomParser(build_nested(), recipe=create_recipe([]))
    parser.perform_action(field="PatientID", value="X-1", action="REPLACE")
    parser.perform_action(field="endswith:Date", value=None, action="BLANK")
    parser.perform_action(field="Modality", value="CT", action="ADD")
    ds = parser.dicom
    assert ds.PatientID == "X-1" and ds.StudyDate is None and ds.Modality == "CT"
    field = parser.fields["(0040,0275)__0__(0010,0010)"]
    parser.replace_field(field, "Other^Name")
    assert ds.RequestAttributesSequence[0].PatientName == "Other^Name"
    parser.delete_field(field)
    assert "PatientName" not in ds.RequestAttributesSequence[0]
    assert "(0040,0275)__0__(0010,0010)" not in parser.fields
    parser.add_field("PatientSex", "O")
    parser.blank_field(parser.fields["(0010,0040)"])
    assert ds.PatientSex is None
    parser.perform_action(field="ReferencedStudySequence", value=None, action="REMOVE")
    assert "ReferencedStudySequence" not in ds.RequestAttributesSequence[0]
    assert not parser.get_child_fields("(0040,0275)__0__(0008,1110)")
    assert parser.excluded_from_deletion == []
    parser.perform_action(field="PatientName", value=None, action="KEEP")  # a no-op at run time
    assert ds.PatientName == "Doe^Jane"


def test_load_replaces_the_dataset(ctbrain1):
    parser = DicomParser(build_nested(), recipe=create_recipe([]))
    parser.load(ctbrain1)
    assert parser.dicom.Modality == "CT" and parser.dicom_name == "ctbrain1.dcm"
    parser.recipe = create_recipe([{"action": "REMOVE", "field": "Modality"}])
    parser.parse()
    assert "Modality" not in parser.dicom


def test_shipped_config_json_matches_the_default():
    import json

    import deid.dicom

    path = os.path.join(os.path.dirname(deid.dicom.__file__), "config.json")
    with open(path) as handle:
        assert json.load(handle) == DEFAULT_CONFIG
    assert load_config(path) == load_config(None)


def test_values_group_replace_reaches_inside_sequences(mode):
    values = {"uids": [{"action": "FIELD", "field": "StudyInstanceUID"}]}
    ds = build_nested()
    recipe = create_recipe(
        [{"action": "REPLACE", "field": "values:uids", "value": "9.9"}], values=values
    )
    DicomParser(ds, recipe=recipe).parse()
    assert (
        ds.StudyInstanceUID == "9.9" and ds.RequestAttributesSequence[0].StudyInstanceUID == "9.9"
    )
    ds = build_nested()
    recipe = create_recipe([{"action": "REMOVE", "field": "values:uids"}], values=values)
    DicomParser(ds, recipe=recipe).parse()
    assert "StudyInstanceUID" not in ds and "RequestAttributesSequence" not in ds


def test_functions_registered_once_serve_every_parser(mode):
    from deid.engine.functions import register, unregister

    @register("facade_test_shout")
    def shout(item=None, value=None, field=None, dicom=None, **extras):
        return str(field.element.value).upper()

    try:
        for value in ("deid_func:facade_test_shout", "func:facade_test_shout"):
            recipe = create_recipe([{"action": "REPLACE", "field": "PatientName", "value": value}])
            parser = DicomParser(build_nested(), recipe=recipe)
            parser.parse()
            assert parser.dicom.PatientName == "DOE^JANE"
    finally:
        unregister("facade_test_shout")
