"""deid.engine.selectors: compiled field expressions and upstream's candidate strings."""

from __future__ import annotations

import pickle

import pytest

from deid.engine.selectors import ElementKey, Selector, candidates, compile_selector, static_match
from deid.errors import PlanError
from deid.recipe.ast import NO_SPAN, FieldExpr


def expr(kind: str, text: str, **kw) -> FieldExpr:
    return FieldExpr(kind, text, NO_SPAN, **kw)


TOP_NAME = ElementKey(None, 0x00100010, None, "PN")
NESTED_UID = ElementKey("ReferencedStudySequence", 0x00081155, None, "UI")
PRIVATE = ElementKey(None, 0x0033101E, "MITRA OBJECT UTF8 ATTRIBUTES 1.0", "LO")


def test_candidates() -> None:
    assert candidates(TOP_NAME) == (
        "PatientName",
        "(0010,0010)",
        "00100010",
        "Patient's Name",
        "PatientName",
    )
    assert candidates(PRIVATE)[-2:] == (
        '(0033,"MITRA OBJECT UTF8 ATTRIBUTES 1.0",1E)',
        '0033,"MITRA OBJECT UTF8 ATTRIBUTES 1.0",1E',
    )


@pytest.mark.parametrize(
    ("field", "key", "expected"),
    [
        (expr("keyword", "PatientName", arg="PatientName"), TOP_NAME, True),
        (expr("keyword", "patientname", arg="patientname"), TOP_NAME, True),
        (expr("keyword", "Patient's Name", arg="Patient's Name"), TOP_NAME, True),
        (expr("keyword", "PatientsName", arg="PatientsName"), TOP_NAME, False),
        (expr("tag", "(0010,0010)", tag=0x00100010), TOP_NAME, True),
        (expr("contains", "contains:UID", arg="UID"), NESTED_UID, True),
        (expr("contains", "contains:0010", arg="0010"), TOP_NAME, True),
        (expr("startswith", "startswith:Referenced", arg="Referenced"), NESTED_UID, True),
        (expr("startswith", "startswith:SOP", arg="SOP"), NESTED_UID, False),
        (expr("endswith", "endswith:Date|Name", arg="Date|Name"), TOP_NAME, True),
        (expr("except", "except:Patient", arg="Patient"), TOP_NAME, False),
        (expr("except", "except:Patient", arg="Patient"), NESTED_UID, True),
        (expr("select_vr", "select:vr:pn", arg="pn"), TOP_NAME, True),
        (expr("select_group", "select:group:0010", group=0x0010), TOP_NAME, True),
        (expr("tag_mask", "(00xx,0010)", tag=0x00000010, mask=0xFF00FFFF), TOP_NAME, True),
        (
            expr(
                "nested",
                "ReferencedStudySequence__ReferencedSOPInstanceUID",
                arg="ReferencedStudySequence__ReferencedSOPInstanceUID",
            ),
            NESTED_UID,
            True,
        ),
        (
            expr(
                "private",
                '(0033,"mitra object utf8 attributes 1.0",1E)',
                group=0x33,
                creator="MITRA OBJECT UTF8 ATTRIBUTES 1.0",
                offset=0x1E,
            ),
            PRIVATE,
            True,
        ),
        (
            expr("private", '(0033,"OTHER",1E)', group=0x33, creator="OTHER", offset=0x1E),
            PRIVATE,
            False,
        ),
        (expr("all", "ALL"), PRIVATE, True),
    ],
)
def test_static_match(field: FieldExpr, key: ElementKey, expected: bool) -> None:
    assert static_match(compile_selector(field), key) is expected


def test_dynamic_kinds() -> None:
    sel = compile_selector(
        expr("nested", "(0008,1110)__0__(0008,1155)", arg="(0008,1110)__0__(0008,1155)")
    )
    assert sel.kind == "nested_uid" and sel.dynamic and sel.tags == {0x00081155}
    assert compile_selector(expr("values", "values:x", arg="x")).dynamic
    assert not static_match(sel, NESTED_UID)


def test_add_targets() -> None:
    sel = compile_selector(expr("keyword", "PatientName", arg="PatientName"), for_add=True)
    assert sel.kind == "add" and static_match(sel, TOP_NAME)
    assert not static_match(sel, ElementKey("Seq", 0x00100010, None, None))
    assert compile_selector(expr("keyword", "00091001", arg="00091001"), for_add=True).tags == {
        0x00091001
    }
    with pytest.raises(PlanError):
        compile_selector(expr("contains", "contains:x", arg="x"), for_add=True)


def test_invalid_regex() -> None:
    with pytest.raises(PlanError, match="invalid regular expression"):
        compile_selector(expr("contains", "contains:(", arg="("))


def test_selectors_pickle() -> None:
    sel = compile_selector(expr("endswith", "endswith:Date", arg="Date"))
    assert pickle.loads(pickle.dumps(sel)) == sel
    assert Selector("none").kind == "none"
