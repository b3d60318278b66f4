"""Save conditions: parsing and evaluation (deid/runner/conditions.py)."""

from __future__ import annotations

import pytest
from pydicom import Dataset

from deid.runner.conditions import (
    ConditionError,
    evaluate_conditions,
    parse_condition,
    parse_conditions,
)


def _ds(**kw: object) -> Dataset:
    ds = Dataset()
    for k, v in kw.items():
        setattr(ds, k, v)
    return ds


@pytest.mark.parametrize(
    "text, ctype, value",
    [
        ("Modality in [CT, MR]", "IN", ("CT", "MR")),
        ("Modality not in [SR,PR]", "NOT_IN", ("SR", "PR")),
        ("ImageType does not contain PRIMARY", "NOT_SUBSTR", "PRIMARY"),
        ("ImageType contains derived", "SUBSTR", "derived"),
        ("BurnedInAnnotation equals NO", "EQUALS", "NO"),
        ("BurnedInAnnotation != YES", "NOT_EQUALS", "YES"),
        ("(0008,0060) is present", "PRESENT", None),
        ("00100010 is missing", "MISSING", None),
    ],
)
def test_parse(text: str, ctype: str, value: object) -> None:
    cond = parse_condition(text)
    assert cond.condition_type == ctype
    assert cond.value == value


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("Modality", "expected"),
        ("Modalty in [CT]", "unknown DICOM keyword 'Modalty'"),
        ("Modality in []", "empty value list"),
        ("Modality in [CT", "unclosed"),
        ("Modality contains", "needs a value"),
        ("Modality is present now", "takes no value"),
        ("", "empty"),
    ],
)
def test_parse_errors_name_the_condition(text: str, fragment: str) -> None:
    with pytest.raises(ConditionError, match=fragment.replace("[", r"\[")):
        parse_condition(text)


def test_encord_style_example() -> None:
    conds = parse_conditions(
        ["ImageType does not contain PRIMARY", "Modality in [ct, pt, nm, mr, mg]"]
    )
    ds = _ds(ImageType=["DERIVED", "SECONDARY", "DEMOGRAPHICDATA"], Modality="MR")
    res = evaluate_conditions(conds, ds)
    assert [r.passed for r in res] == [True, True]
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    res = evaluate_conditions(conds, ds)
    assert [r.passed for r in res] == [False, True]
    d = res[0].as_dict()
    assert d["condition"]["condition_type"] == "NOT_SUBSTR"
    assert d["condition"]["dicom_tag"] == "ImageType"
    assert d["tag_value"] == ["ORIGINAL", "PRIMARY"]
    assert d["evaluated_value"] is False


def test_case_insensitive_and_multivalue() -> None:
    conds = parse_conditions(["Modality in [ct]", "ImageType contains axial"])
    res = evaluate_conditions(conds, _ds(Modality="CT", ImageType=["ORIGINAL", "AXIAL"]))
    assert all(r.passed for r in res)


def test_missing_attribute_fails_closed() -> None:
    conds = parse_conditions(
        [
            "Modality in [CT]",
            "ImageType does not contain PRIMARY",
            "Modality not in [SR]",
            "Modality is missing",
        ]
    )
    res = evaluate_conditions(conds, _ds())
    assert [r.passed for r in res] == [False, False, False, True]
    assert res[0].tag_value is None


def test_tag_form_and_equals() -> None:
    cond = parse_condition("(0018,0015) equals chest")
    assert evaluate_conditions([cond], _ds(BodyPartExamined="CHEST"))[0].passed
    assert not evaluate_conditions([cond], _ds(BodyPartExamined="HEAD"))[0].passed
