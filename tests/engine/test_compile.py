"""deid.engine.compile: the engine's own checks (recipes built as AST, bypassing the parser)."""

from __future__ import annotations

import pytest

from deid.engine.compile import compile_plan, rule_text
from deid.errors import PlanError
from deid.recipe.ast import NO_SPAN, Action, FieldExpr, Group, GroupLine, Recipe, Span, Value


def kw(name: str) -> FieldExpr:
    return FieldExpr("keyword", name, NO_SPAN, arg=name)


def act(action: str, field: FieldExpr, value: Value | None = None, line: int = 7) -> Action:
    return Action(action, field, value, Span("r.dicom", line, 1, line, 10))


def lit(text: str) -> Value:
    return Value("literal", text, NO_SPAN)


@pytest.mark.parametrize(
    ("action", "match"),
    [
        (act("ADD", FieldExpr("contains", "contains:x", NO_SPAN, arg="x"), lit("1")), "ADD needs"),
        (act("REPLACE", kw("PatientID")), "needs a value"),
        (act("JITTER", kw("StudyDate"), lit("1.5")), "whole number"),
        (
            act("REPLACE", kw("PatientID"), Value("deid_func", "deid_func:zz", NO_SPAN, name="zz")),
            "deid_func:zz",
        ),
        (act("REMOVE", FieldExpr("contains", "contains:(", NO_SPAN, arg="(")), "regular"),
        (act("REMOVE", FieldExpr("values", "values:g", NO_SPAN, arg="g")), "undefined %values"),
    ],
)
def test_plan_errors_name_the_line(action: Action, match: str) -> None:
    with pytest.raises(PlanError, match=match) as info:
        compile_plan(Recipe(header=(action,)))
    assert "r.dicom:7" in str(info.value)


def test_all_errors_reported_together() -> None:
    recipe = Recipe(header=(act("REPLACE", kw("A")), act("JITTER", kw("B"), lit("x"), line=9)))
    with pytest.raises(PlanError) as info:
        compile_plan(recipe)
    assert "r.dicom:7" in str(info.value) and "r.dicom:9" in str(info.value)


def test_func_resolution_deferred_to_apply() -> None:
    recipe = Recipe(
        header=(
            act("REPLACE", kw("PatientID"), Value("func", "func:later", NO_SPAN, name="later")),
        )
    )
    plan = compile_plan(recipe)
    assert [name for name, _ in plan.unresolved] == ["later"]
    with pytest.raises(PlanError, match="func:later"):
        plan.check_functions()
    plan2 = compile_plan(recipe, functions={"later": len})
    assert plan2.unresolved == () and "later" in plan2.functions


def test_labels_and_keep_values_ignored() -> None:
    recipe = Recipe(header=(act("LABEL", kw("x")), act("KEEP", kw("PatientID"), lit("junk"))))
    plan = compile_plan(recipe)
    assert [a.action for a in plan.actions] == ["KEEP"] and plan.actions[0].value is None


def test_group_lines_compiled() -> None:
    line = GroupLine("FIELD", kw("PatientID"), None, NO_SPAN)
    bad = GroupLine("SPLIT", kw("PatientID"), None, NO_SPAN)
    plan = compile_plan(Recipe(values=(Group("values", "v", (line,), NO_SPAN),)))
    assert plan.groups[0].lines[0][1] == "FIELD"
    with pytest.raises(PlanError, match="FIELD"):
        compile_plan(Recipe(fields=(Group("fields", "f", (bad,), NO_SPAN),)))


def test_rule_text() -> None:
    assert rule_text(act("ADD", kw("PatientID"), lit("X"))) == "ADD PatientID X"


def test_accepts_objects_with_to_recipe() -> None:
    class Holder:
        def to_recipe(self) -> Recipe:
            return Recipe(header=(act("REMOVE", kw("PatientID")),))

    assert [a.action for a in compile_plan(Holder()).actions] == ["REMOVE"]
