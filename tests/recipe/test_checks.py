"""deid.recipe.checks: meaning of a Recipe (works on parsed and dict-built recipes alike)."""

from __future__ import annotations

import sys
import types

import pytest

from deid.recipe.ast import NO_SPAN, Action, FieldExpr, Recipe, Value
from deid.recipe.checks import (
    BUILTIN_FUNCTIONS,
    check_recipe,
    is_legacy_keyword,
    keyword_tag,
    known_functions,
)
from deid.recipe.parser import parse_field_expr, parse_value


def recipe(*actions: tuple[str, str, str | None]) -> Recipe:
    acts = tuple(
        Action(a, parse_field_expr(f), None if v is None else parse_value(v), NO_SPAN, "header", i)
        for i, (a, f, v) in enumerate(actions)
    )
    return Recipe(header=acts)


def codes(*actions: tuple[str, str, str | None]) -> list[str]:
    return [d.code for d in check_recipe(recipe(*actions))]


def test_keywords_case_insensitive_like_upstream() -> None:
    assert keyword_tag("PatientName") == 0x00100010
    assert keyword_tag("patientname") == 0x00100010
    assert keyword_tag("OverlayDescription") is not None  # repeating-group keyword
    assert keyword_tag("PatientNam") is None
    assert codes(("REMOVE", "patientname", None)) == []


def test_legacy_keywords() -> None:
    assert is_legacy_keyword("PatientsName") == "PatientName"
    assert is_legacy_keyword("PatientsBirthDate") == "PatientBirthDate"
    assert is_legacy_keyword("PatientName") is None
    assert codes(("REMOVE", "PatientsName", None)) == ["W103"]
    # only harmless for actions that would then do nothing
    assert codes(("REPLACE", "PatientsName", "x")) == ["E110"]


def test_action_word_as_field() -> None:
    assert codes(("REMOVE", "jitter", None)) == ["W103"]
    assert codes(("REPLACE", "jitter", "x")) == ["E110"]


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (("JITTER", "StudyDate", "5"), []),
        (("JITTER", "StudyDate", "-12"), []),
        (("JITTER", "StudyDate", "var:shift"), []),
        (("JITTER", "StudyDate", "func:shift"), []),
        (("JITTER", "StudyDate", "five"), ["E114"]),
        (("JITTER", "StudyDate", "deid_func:jitter"), ["E114"]),
        (("REPLACE", "StudyDate", "deid_func:jitter days=3 years=-1"), []),
        (("REPLACE", "StudyDate", "deid_func:jitter days=x"), ["E121"]),
        (("REPLACE", "SOPInstanceUID", "deid_func:pydicom_uuid prefix=1.2."), []),
        (("REPLACE", "SOPInstanceUID", "deid_func:uuid"), ["E113"]),
        (("ADD", "PatientIdentityRemoved", None), ["E108"]),
        (("ADD", "(0010,0010)", "x"), []),
        (("ADD", "00100010", "x"), []),
        (("ADD", '(0011,"ACME",10)', "x"), []),
        (("ADD", "endswith:Date", "x"), ["E118"]),
        (("REMOVE", "ALL", "func:check"), []),
        (("REMOVE", "ALL", "literal"), ["W105"]),
        (("REMOVE", "select:vr:PN", None), []),
        (("REMOVE", "select:vr:QQ", None), ["E120"]),
        (("REMOVE", "select:group:0010", None), []),
        (("REMOVE", "(60xx,3000)", None), []),
        (("REMOVE", "contains:[", None), ["E111"]),
        (("REMOVE", "except:Manufacturer", None), []),
        (("REMOVE", "ReferencedStudySequence__ReferencedSOPClassUID", None), []),
        (("REMOVE", "ReferencedStudySequence__NoSuchThing", None), ["E110"]),
        (("REMOVE", "(0008,1110)__0__(0008,1150)", None), []),
        (("REMOVE", '(0010,"ACME",10)', None), ["E122"]),
        (("REPLACE", "PatientName", "var:"), ["E124"]),
        (("REMOVE", "values:nothing", None), ["E112"]),
    ],
)
def test_action_checks(action: tuple[str, str, str | None], expected: list[str]) -> None:
    assert codes(action) == expected


def test_unknown_action_from_a_dict() -> None:
    bad = Action("LABEL", FieldExpr("keyword", "X", NO_SPAN, arg="PatientName"), None, NO_SPAN)
    assert [d.code for d in check_recipe(Recipe(header=(bad,)))] == ["E102"]


def test_strict_false_makes_name_problems_warnings() -> None:
    r = recipe(("REMOVE", "PatientNam", None), ("REPLACE", "PatientID", "deid_func:mine"))
    diags = check_recipe(r, strict=False)
    assert [(d.code, d.severity) for d in diags] == [("E110", "warning"), ("E113", "warning")]
    assert check_recipe(r, functions=["mine"])[0].code == "E110"
    assert len(check_recipe(r, functions=["mine"])) == 1


def test_known_functions_include_builtins_and_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    assert set(BUILTIN_FUNCTIONS) <= known_functions()
    fake = types.ModuleType("deid.engine.functions")
    fake.REGISTRY = {"my_registered": object()}  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "deid.engine.functions", fake)
    assert "my_registered" in known_functions()
    assert codes(("REPLACE", "PatientID", "deid_func:my_registered")) == []


def test_values_group_reference_resolves() -> None:
    from deid.recipe import parse_recipe_with_diagnostics

    text = "FORMAT dicom\n%values names\nFIELD PatientName\n%header\nREMOVE values:names\n"
    r, diags = parse_recipe_with_diagnostics(text)
    assert r is not None and diags == []
    assert Value("literal", "x", NO_SPAN) == Value("literal", "x", NO_SPAN)


def test_element_names_through_the_api() -> None:
    from deid.recipe.checks import element_name_keyword

    assert element_name_keyword("patient's name") == "PatientName"
    fe = parse_field_expr("Patient's Name")
    assert (fe.kind, fe.arg) == ("keyword", "Patient's Name")
    assert codes(("REMOVE", "Patient's Name", None)) == []


def test_keyword_suggestions_match_a_plain_difflib_search(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import random
    import string
    import sys

    import numpy  # noqa: F401 - the fast path needs numpy imported

    from deid.diagnostics import suggest
    from deid.recipe import checks

    keywords = list(checks._keywords()[0])
    rnd = random.Random(11)
    words = ["Manfacturer", "Manufacture", "PatientNam", "studydate", "X", "", "Patient's Name"]
    for _ in range(60):
        w = rnd.choice(keywords)
        i = rnd.randrange(len(w))
        words.append(w[:i] + rnd.choice(string.ascii_letters + "_' é") + w[i + rnd.randint(0, 3) :])
    expected = [suggest(w, keywords, cutoff=0.8) for w in words]
    checks.suggest_keyword.cache_clear()
    assert [checks.suggest_keyword(w) for w in words] == expected
    assert len(checks._plausible_keywords("Manfacturer", 0.8)) < len(keywords) / 10
    monkeypatch.setitem(sys.modules, "numpy", None)  # without numpy: every keyword is compared
    checks.suggest_keyword.cache_clear()
    assert checks._plausible_keywords("Manfacturer", 0.8) == keywords
    assert [checks.suggest_keyword(w) for w in words[:10]] == expected[:10]
    checks.suggest_keyword.cache_clear()
