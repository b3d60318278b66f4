"""Golden tests: every upstream recipe parses and its dict equals what upstream's loader yields.

The expected values are derived from the rules of deid-behaviour.md §2 (not from running this
parser): LABEL names keep the ``LABEL`` prefix and lose the ``# comment``; criteria lines are
packed into action/field/value lists with value-less filters contributing no value; ctp
coordinates are converted from x,y,width,height; values keep quotes and are comment-cut.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from deid.recipe.ast import Recipe
from deid.recipe.compat import recipe_to_dict
from deid.recipe.parser import parse_recipe, parse_recipe_with_diagnostics

UPSTREAM = Path(__file__).resolve().parents[1] / "data" / "reference" / "upstream-deid-recipes"
FILES = sorted(p for p in UPSTREAM.glob("deid.*")) if UPSTREAM.is_dir() else []

assert FILES, f"reference recipes missing under {UPSTREAM}"


def load(name: str) -> tuple[Recipe, dict]:
    text = (UPSTREAM / name).read_text()
    recipe = parse_recipe(text, name)
    return recipe, recipe_to_dict(recipe)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_upstream_recipe_parses_without_errors(path: Path) -> None:
    recipe, diags = parse_recipe_with_diagnostics(path.read_text(), path.name)
    assert recipe is not None, [d.header() for d in diags]
    assert all(d.severity == "warning" for d in diags)


def test_default_recipe_structure() -> None:
    recipe, d = load("deid.dicom")
    assert list(d) == ["format", "filter", "header"]
    assert d["format"] == "dicom"
    assert {k: len(v) for k, v in d["filter"].items()} == {
        "whitelist": 2,
        "graylist": 109,
        "blacklist": 7,
    }
    coords = [c for g in recipe.filters for lbl in g.labels for c in lbl.coordinates]
    assert sum(c.keyword == "ctpcoordinates" for c in coords) == 110
    assert sum(c.keyword == "coordinates" for c in coords) == 7
    actions = [a["action"] for a in d["header"]]
    # 67 REMOVE lines in the file (the last one is the stray `REMOVE jitter`) and 6 ADDs
    assert actions.count("REMOVE") == 67
    assert actions.count("ADD") == 6
    assert len(d["header"]) == 73
    assert d["header"][0] == {"action": "REMOVE", "field": "endswith:Time"}
    assert d["header"][-1] == {"action": "REMOVE", "field": "jitter"}
    assert {"action": "ADD", "field": "IssuerOfPatientID", "value": "STARR"} in d["header"]
    assert {"action": "ADD", "field": "PatientBirthDate", "value": "var:entity_timestamp"} in d[
        "header"
    ]
    assert {"action": "REMOVE", "field": "PatientsName"} in d["header"]


def test_default_recipe_label_dicts() -> None:
    _, d = load("deid.dicom")
    assert d["filter"]["whitelist"][0] == {
        "name": "LABEL CT Siemens Sensation 64 Catch-all",
        "filters": [
            {
                "action": ["contains"],
                "field": ["ManufacturerModelName"],
                "value": ["Sensation 64"],
                "operator": None,
                "InnerOperators": [],
            },
            {
                "action": ["contains"],
                "field": ["Modality"],
                "value": ["CT"],
                "operator": "and",
                "InnerOperators": [],
            },
        ],
        "coordinates": [],
    }
    gray = {lbl["name"]: lbl for lbl in d["filter"]["graylist"]}
    # value-less filters add no value: the value list is not index-aligned with the actions
    recon = gray["LABEL Stanford Med Reconstruction"]["filters"]
    assert recon[0] == {
        "action": ["missing", "empty"],
        "field": ["Manufacturer", "Manufacturer"],
        "value": [],
        "operator": None,
        "InnerOperators": ["or"],
    }
    assert recon[1]["value"] == ["RECONSTRUCTION|SECONDARY|DERIVED"]
    # an operator inside a value stays in the value
    enh = gray["LABEL Enhancement Curve"]["filters"]
    assert enh[0]["value"] == ["SOMATOM Definition AS+"]
    assert enh[2] == {
        "action": ["contains", "contains"],
        "field": ["ImageType", "SeriesDescription"],
        "value": ["OTHER", "Enhancement"],
        "operator": "and",
        "InnerOperators": ["or"],
    }
    # coordinates kept verbatim (the space after a comma too); ctp forms converted to x0,y0,x1,y1
    assert gray["LABEL 3D Lab reconstructions"]["coordinates"] == [[0, "450,0,672, 85"]]
    assert gray["LABEL Screen Captures"]["coordinates"] == [[0, "0,0,512,25"]]
    vessel = [lbl for lbl in d["filter"]["graylist"] if lbl["name"].startswith("LABEL Volume")]
    assert vessel and vessel[0]["name"] == "LABEL Volume Rendering - MRCP"


def test_ctp_conversion_from_width_height() -> None:
    _, d = load("deid.dicom")
    specs = [c for lbl in d["filter"]["graylist"] for c in lbl["coordinates"]]
    # ctpcoordinates 350,0,162,30 -> 350,0,512,30 ; 390,80,122,15 -> 390,80,512,95
    assert [0, "350,0,512,30"] in specs
    assert [0, "390,80,512,95"] in specs
    # ctpcoordinates 724,0,300,150 -> 724,0,1024,150
    assert [0, "724,0,1024,150"] in specs


def test_groups_recipe() -> None:
    _, d = load("deid.dicom-groups")
    assert d["values"] == {
        "cookie_names": [{"action": "SPLIT", "field": "PatientID", "value": 'by="^";minlength=4'}],
        "operator_names": [{"action": "FIELD", "field": "startswith:Operator"}],
    }
    assert d["fields"] == {"instance_fields": [{"action": "FIELD", "field": "contains:Instance"}]}
    assert d["header"] == [
        {"action": "ADD", "field": "PatientIdentityRemoved", "value": "YES"},
        {"action": "REPLACE", "field": "values:cookie_names", "value": "var:id"},
        {"action": "REPLACE", "field": "values:operator_names", "value": "var:source_id"},
        {"action": "REMOVE", "field": "fields:instance_fields"},
    ]


def test_groups_recipe_split_parameters_in_ast() -> None:
    recipe, _ = load("deid.dicom-groups")
    split = recipe.values_group("cookie_names").lines[0]
    assert (split.by, split.minlength) == ("^", 4)


def test_private_creator_recipe() -> None:
    recipe, d = load("deid.dicom-private-creator-syntax")
    assert d["header"] == [
        {"action": "REMOVE", "field": '(0033,"MITRA OBJECT UTF8 ATTRIBUTES 1.0",1E)'},
        {"action": "REMOVE", "field": '(0021,"Siemens: Thorax/Multix FD Post Processing",15)'},
    ]
    second = recipe.header[1].field
    assert (second.kind, second.group, second.offset) == ("private", 0x21, 0x15)
    assert second.creator == "Siemens: Thorax/Multix FD Post Processing"


def test_pusheen_recipe() -> None:
    recipe, d = load("deid.dicom-pusheen")
    assert d["header"] == [{"action": "REPLACE", "field": "all", "value": "func:pusheenize"}]
    assert recipe.header[0].value.kind == "func"
    assert recipe.header[0].value.name == "pusheenize"


def test_ultrasound_recipe() -> None:
    _, d = load("deid.dicom.ultrasound")
    assert list(d) == ["format", "filter", "header"]
    assert d["filter"]["whitelist"] == [
        {
            "name": "LABEL Marked as Clean Catch All",
            "filters": [
                {
                    "action": ["contains"],
                    "field": ["BurnedInAnnotation"],
                    "value": ["No"],
                    "operator": None,
                    "InnerOperators": [],
                }
            ],
            "coordinates": [],
        }
    ]
    assert d["filter"]["graylist"] == [
        {"name": "LABEL Blank Image", "filters": [], "coordinates": [[0, "all"]]},
        {
            "name": "LABEL Clean Ultrasound Regions",
            "filters": [
                {
                    "action": ["present"],
                    "field": ["SequenceOfUltrasoundRegions"],
                    "value": [],
                    "operator": None,
                    "InnerOperators": [],
                }
            ],
            "coordinates": [[1, "from:SequenceOfUltrasoundRegions"]],
        },
    ]
    assert len(d["header"]) == 73


def test_xray_chest_recipe() -> None:
    _, d = load("deid.dicom.xray.chest")
    assert list(d) == ["format", "filter"]  # no %header section, no header key
    first = d["filter"]["whitelist"][0]
    assert first["name"] == "LABEL Matt Lungren CHEST"
    assert [m["operator"] for m in first["filters"]] == [None, "or", "and"]
    assert first["filters"][2] == {
        "action": ["contains", "contains"],
        "field": ["StudyDescription", "BodyPartExamined"],
        "value": ["CHEST", "CHEST"],
        "operator": "and",
        "InnerOperators": ["or"],
    }
    assert [lbl["name"] for lbl in d["filter"]["blacklist"]] == [
        "LABEL Matt Lungren Only Accept X-ray",
        "LABEL Matt Lungren Filter Known notChest",
    ]
