"""deid.recipe.compat: upstream's dict layout to and from the AST."""

from __future__ import annotations

from collections import OrderedDict

from deid.recipe import parse_recipe
from deid.recipe.checks import check_recipe
from deid.recipe.compat import label_dict_name, recipe_from_dict, recipe_to_dict

TEXT = """FORMAT dicom
%filter graylist
LABEL Dose # (CTP)
  contains Modality CT
  + present PatientName || contains Manufacturer GE
  ctpcoordinates 10,20,30,40
  keepcoordinates from:SequenceOfUltrasoundRegions
%values names
SPLIT PatientName by="^";minlength=4
%fields ids
FIELD contains:ID
%header
REPLACE PatientName "Doe  John"   # note
REMOVE ALL func:is_phi
BLANK PatientID
%labels
ADD MAINTAINER me
"""


def test_to_dict_matches_upstream_layout() -> None:
    d = recipe_to_dict(parse_recipe(TEXT))
    assert isinstance(d, OrderedDict)
    assert list(d) == ["format", "filter", "values", "fields", "header", "labels"]
    assert d["header"] == [
        {"action": "REPLACE", "field": "PatientName", "value": '"Doe  John" '},
        {"action": "REMOVE", "field": "ALL", "value": "func:is_phi"},
        {"action": "BLANK", "field": "PatientID"},
    ]
    assert d["labels"] == [{"action": "ADD", "field": "MAINTAINER", "value": "me"}]
    assert d["values"] == {
        "names": [{"action": "SPLIT", "field": "PatientName", "value": 'by="^";minlength=4'}]
    }
    assert d["fields"] == {"ids": [{"action": "FIELD", "field": "contains:ID"}]}
    label = d["filter"]["graylist"][0]
    assert label["name"] == "LABEL Dose"
    assert label["filters"][1] == {
        "action": ["present", "contains"],
        "field": ["PatientName", "Manufacturer"],
        "value": ["GE"],
        "operator": "and",
        "InnerOperators": ["or"],
    }
    assert label["coordinates"] == [[0, "10,20,40,60"], [1, "from:SequenceOfUltrasoundRegions"]]


def test_from_dict_inverts_to_dict() -> None:
    r = parse_recipe(TEXT)
    back = recipe_from_dict(recipe_to_dict(r))
    assert back.header == r.header
    assert back.values == r.values and back.fields == r.fields
    assert recipe_to_dict(back) == recipe_to_dict(r)
    # value/action misalignment is undone: `present` gets no value, `contains` gets GE
    crits = back.filters[0].labels[0].lines[1].criteria
    assert [(c.filter, c.value) for c in crits] == [("present", None), ("contains", "GE")]


def test_from_dict_keeps_spans_of_unchanged_actions() -> None:
    r = parse_recipe(TEXT, "x.dicom")
    d = recipe_to_dict(r)
    d["header"].append({"action": "KEEP", "field": "Modality"})
    back = recipe_from_dict(d, original=r)
    assert back.header[0].span.line == 13
    assert back.header[3].span.file == "recipe.deid['header'][3]"


def test_hand_made_dict_is_checked() -> None:
    r = recipe_from_dict(
        {
            "format": "dicom",
            "header": [
                {"action": "REPLCE", "field": "PatientName", "value": "x"},
                {"action": "REMOVE", "field": "PatientNam"},
            ],
            "filter": {
                "g": [
                    {
                        "name": "LABEL x",
                        "filters": [
                            {
                                "action": ["contain"],
                                "field": ["Modality"],
                                "value": ["CT"],
                                "operator": None,
                                "InnerOperators": [],
                            }
                        ],
                        "coordinates": [[0, "1,2"]],
                    }
                ]
            },
        }
    )
    assert {d.code for d in check_recipe(r)} == {"E102", "E110", "E117", "E116"}


def test_label_name_like_upstream() -> None:
    assert label_dict_name("CT Dose") == "LABEL CT Dose"
    assert label_dict_name("") == "LABEL"
    # upstream removes the first lower-case "label" from the line
    assert label_dict_name("my label x") == "LABEL my  x"


def test_code_built_recipe_sections_are_derived() -> None:
    from deid.recipe import stack
    from deid.recipe.ast import NO_SPAN, Action, Recipe
    from deid.recipe.parser import parse_field_expr

    built = Recipe(header=(Action("BLANK", parse_field_expr("PatientID"), None, NO_SPAN),))
    assert recipe_to_dict(built) == {
        "format": "dicom",
        "header": [{"action": "BLANK", "field": "PatientID"}],
    }
    mixed = stack([parse_recipe("FORMAT dicom\n%filter f\nLABEL x\n  coordinates all\n"), built])
    assert list(recipe_to_dict(mixed)) == ["format", "filter", "header"]
