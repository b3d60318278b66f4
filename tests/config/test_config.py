"""deid.config: the DeidRecipe drop-in."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import pytest

from deid import config
from deid.config import DeidRecipe
from deid.errors import RecipeError

UPSTREAM = Path(__file__).resolve().parents[1] / "data" / "reference" / "upstream-deid-recipes"


def write(tmp_path: Path, name: str, body: str) -> Path:
    p = tmp_path / name
    p.write_text("FORMAT dicom\n" + body)
    return p


def test_default_recipe() -> None:
    r = DeidRecipe()
    assert str(r) == repr(r) == "[deid]"
    assert r.get_format() == "dicom"
    assert isinstance(r.deid, OrderedDict)
    assert r.ls_filters() == ["whitelist", "graylist", "blacklist"]
    assert r.has_actions() and not r.has_values_lists() and not r.has_fields_lists()
    assert r.get_values_lists() is None and r.get_fields_lists() is None
    assert len(r.get_filters("graylist")) == 109
    assert r.get_filters("nope") == []
    assert r._files == ["dicom"]


def test_get_actions_filters() -> None:
    r = DeidRecipe()
    adds = r.get_actions(action="add")
    assert len(adds) == 6 and all(a["action"] == "ADD" for a in adds)
    assert r.get_actions(field="patientid") == [
        {"action": "REMOVE", "field": "PatientID"},
        {"action": "ADD", "field": "PatientID", "value": "var:entity_id"},
    ]
    assert r.get_actions(action="ADD", field="PatientID") == [
        {"action": "ADD", "field": "PatientID", "value": "var:entity_id"}
    ]
    assert r._get_actions(section="nope") is None


def test_user_recipe_then_base(tmp_path: Path) -> None:
    p = write(tmp_path, "deid.site", "%values v\nFIELD PatientID\n%header\nBLANK PatientName\n")
    alone = DeidRecipe(str(p))
    assert alone.get_actions() == [{"action": "BLANK", "field": "PatientName"}]
    assert alone.ls_valuelists() == ["v"] and alone.has_values_lists()
    with_base = DeidRecipe(str(p), base=True)
    assert with_base.get_actions()[0] == {"action": "BLANK", "field": "PatientName"}
    assert len(with_base.get_actions()) == 1 + len(DeidRecipe().get_actions())
    assert with_base.ls_valuelists() == ["v"]
    assert with_base._files == [str(p), "dicom"]


def test_list_of_recipes_keeps_later_groups(tmp_path: Path) -> None:
    a = write(tmp_path, "deid.a", "%values v\nFIELD PatientID\n%header\nREMOVE PatientName\n")
    b = write(tmp_path, "deid.b", "%fields f\nFIELD contains:ID\n%header\nREMOVE fields:f\n")
    r = DeidRecipe([str(a), str(b)])
    assert [x["field"] for x in r.get_actions()] == ["PatientName", "fields:f"]
    assert r.ls_valuelists() == ["v"] and r.ls_fieldlists() == ["f"]
    assert r.get_fields_lists("f") == [{"action": "FIELD", "field": "contains:ID"}]


def test_folder_and_tags(tmp_path: Path) -> None:
    write(tmp_path, "deid.mine", "%header\nKEEP Modality\n")
    assert DeidRecipe(str(tmp_path)).get_actions() == [{"action": "KEEP", "field": "Modality"}]
    assert DeidRecipe("dicom.ultrasound").ls_filters() == ["whitelist", "graylist"]
    assert "header" not in DeidRecipe("dicom.xray.chest").deid


@pytest.mark.parametrize("bad", ["dicom.nope", "/no/such/recipe"])
def test_unloadable_recipe_raises(bad: str) -> None:
    with pytest.raises(RecipeError):
        DeidRecipe(bad)


def test_empty_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RecipeError):
        DeidRecipe(str(tmp_path))


def test_broken_recipe_raises(tmp_path: Path) -> None:
    p = write(tmp_path, "deid.bad", "%header\nREPLCE PatientName x\n")
    with pytest.raises(RecipeError, match="REPLACE"):
        DeidRecipe(str(p))


def test_editing_the_dict_is_seen_by_to_recipe() -> None:
    r = DeidRecipe()
    r.deid["header"].clear()
    r.deid["header"] += [
        {"action": "REPLACE", "field": "PatientName", "value": "var:name"},
        {"action": "JITTER", "field": "StudyDate", "value": "3"},
    ]
    r.deid["values"] = {"v": [{"action": "FIELD", "field": "PatientID"}]}
    rec = r.to_recipe()
    assert [(a.action, a.field.text) for a in rec.header] == [
        ("REPLACE", "PatientName"),
        ("JITTER", "StudyDate"),
    ]
    assert rec.values_group("v") is not None
    r.deid["header"].append({"action": "JITTER", "field": "StudyDate", "value": "soon"})
    with pytest.raises(RecipeError) as info:
        r.to_recipe()
    assert info.value.diagnostics[0].code == "E114"
    assert "recipe.deid['header'][2]" in str(info.value)


def test_unchanged_actions_keep_file_spans() -> None:
    r = DeidRecipe()
    first = r.to_recipe().header[0]
    assert first.span.file.endswith("deid.dicom") and first.span.line > 0


def test_dict_input_and_load() -> None:
    d = {"format": "dicom", "header": [{"action": "REMOVE", "field": "PatientName"}]}
    r = DeidRecipe(d)
    assert r.get_actions() == d["header"]
    r.load("dicom.xray.chest")
    assert r.ls_filters() == ["whitelist", "blacklist"] and len(r.get_actions()) == 1


def test_none_deid_is_refused_by_to_recipe() -> None:
    r = DeidRecipe("dicom.xray.chest")
    r.deid = None
    with pytest.raises(RecipeError):
        r.to_recipe()
    assert r.get_format() is None and r._get_section("header") is None


def test_module_surface() -> None:
    assert config.actions == ("ADD", "BLANK", "JITTER", "KEEP", "REPLACE", "REMOVE", "LABEL")
    assert config.sections == ["header", "labels", "filter", "values", "fields"]
    assert config.formats == ["dicom"]
    assert hasattr(config.bot, "warning")
    for name in ("load_deid", "get_deid", "load_combined_deid"):
        assert callable(getattr(config, name))


def test_upstream_recipe_files_load() -> None:
    for p in sorted(UPSTREAM.glob("deid.*")):
        assert DeidRecipe(str(p)).get_format() == "dicom"


def test_empty_list_without_base_is_refused() -> None:
    with pytest.raises(RecipeError, match="no recipe given"):
        DeidRecipe([])
    assert DeidRecipe([], base=True).ls_filters() == ["whitelist", "graylist", "blacklist"]


def test_folder_with_several_recipes_warns(tmp_path: Path) -> None:
    write(tmp_path, "deid.b", "%header\nKEEP Modality\n")
    write(tmp_path, "deid.a", "%header\nREMOVE PatientName\n")
    with pytest.warns(UserWarning):
        r = DeidRecipe(str(tmp_path))
    assert r.get_actions() == [{"action": "REMOVE", "field": "PatientName"}]
