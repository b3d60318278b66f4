"""Compiling a recipe into a :class:`~deid.engine.plan.Plan`.

``compile_plan`` checks everything that can be checked without a dataset -- regular
expressions, ADD targets, JITTER amounts, ``deid_func:`` names, group references -- and raises
:class:`~deid.errors.PlanError` naming the recipe line; ``func:`` names that are neither given
nor registered are checked again, against the per-file context, before :meth:`Plan.apply` touches
anything.

Examples
--------
>>> from deid.recipe.ast import Action, FieldExpr, Recipe, Value, NO_SPAN
>>> bad = Action("REPLACE", FieldExpr("keyword", "PatientID", NO_SPAN, arg="PatientID"),
...              Value("deid_func", "deid_func:nope", NO_SPAN, name="nope"), NO_SPAN)
>>> compile_plan(Recipe(header=(bad,)))  # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
...
deid.errors.PlanError: <code>:0: deid_func:nope is not a registered function
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from deid.engine.changelog import RuleRef
from deid.engine.functions import (
    FunctionArgumentError,
    FunctionSpec,
    check_arguments,
    get_function,
    parse_extras,
)
from deid.engine.plan import CompiledAction, GroupSpec, Plan
from deid.engine.selectors import Selector, compile_selector
from deid.engine.walk import skip_tags
from deid.errors import PlanError
from deid.options import EngineOptions
from deid.recipe.ast import HEADER_ACTIONS, Action, Recipe

__all__ = ["compile_plan", "rule_text"]

_NEEDS_VALUE = ("ADD", "REPLACE", "JITTER")


def rule_text(action: Action) -> str:
    """Return the rule as written: ``ACTION field [value]``.

    Examples
    --------
    >>> from deid.recipe.ast import FieldExpr, NO_SPAN
    >>> rule_text(Action("BLANK", FieldExpr("keyword", "PatientName", NO_SPAN), None, NO_SPAN))
    'BLANK PatientName'
    """
    text = f"{action.action} {action.field.text}"
    if action.value is not None:
        text += f" {action.value.text}"
    return text


def compile_plan(
    recipe: Recipe,
    *,
    functions: Mapping[str, Callable[..., Any]] | None = None,
    skip: Iterable[Any] | None = None,
    disable_skip: bool = False,
    post: Iterable[Callable[..., Any]] = (),
    options: EngineOptions | None = None,
    pre: Iterable[Callable[..., Any]] = (),
) -> Plan:
    """Compile ``recipe`` into an immutable, picklable Plan.

    Parameters
    ----------
    recipe : deid.recipe.ast.Recipe
        The (checked) recipe: its ``%header`` actions and ``%values``/``%fields`` groups are used.
        An object with a ``to_recipe()`` method (``deid.config.DeidRecipe``) is accepted too.
    functions : mapping, optional
        Extra named callables for ``func:``/``deid_func:`` (module-level functions if the plan is
        to be pickled).
    skip : iterable, optional
        Keywords/tags left out of the walk; default upstream's list (PixelData, ...).
    disable_skip : bool
        Leave nothing out (upstream ``disable_skip=True``).
    post : iterable of callables
        ``f(ds, context, changelog)`` run after the rules, in order.
    pre : iterable of callables
        ``f(ds, context)`` run before the rules read anything, in order (picklable callables if
        the plan is to be pickled).
    options : EngineOptions, optional
        The same switches as one object (``disable_skip``).

    Returns
    -------
    Plan

    Raises
    ------
    PlanError
        Invalid regex, bad ADD target, non-integer JITTER literal, unknown ``deid_func:``,
        missing value, unknown ``values:``/``fields:`` group.

    Examples
    --------
    >>> from deid.recipe.ast import Action, FieldExpr, Recipe, NO_SPAN
    >>> rule = Action("REMOVE", FieldExpr("contains", "contains:UID", NO_SPAN, arg="UID"),
    ...               None, NO_SPAN)
    >>> compile_plan(Recipe(header=(rule,)))
    <Plan 1 rules, 0 groups>
    """
    if not isinstance(recipe, Recipe) and hasattr(recipe, "to_recipe"):
        recipe = recipe.to_recipe()  # e.g. deid.config.DeidRecipe
    if options is not None:
        disable_skip = disable_skip or options.disable_skip
    extra = {name: FunctionSpec(name, func, False) for name, func in (functions or {}).items()}
    group_names = {("values", g.name) for g in recipe.values}
    group_names |= {("fields", g.name) for g in recipe.fields}
    errors: list[str] = []
    actions: list[CompiledAction] = []
    selectors: list[Selector] = []
    resolved: dict[str, FunctionSpec] = {}
    unresolved: list[tuple[str, RuleRef]] = []
    for action in recipe.header:
        if action.action not in HEADER_ACTIONS:
            continue
        span = action.span
        rule = RuleRef(span.file, span.line, rule_text(action))
        where = f"{span.file}:{span.line}"
        index = len(actions)
        try:
            sel = compile_selector(action.field, for_add=action.action == "ADD", where=where)
        except PlanError as exc:
            errors.append(str(exc))
            sel = Selector("none")
        if sel.kind in ("values", "fields") and (sel.kind, sel.text) not in group_names:
            errors.append(
                f"{where}: {rule.text!r} refers to an undefined %{sel.kind} group {sel.text!r}"
            )
        value = action.value
        if action.action in _NEEDS_VALUE and value is None:
            errors.append(f"{where}: {action.action} needs a value ({rule.text!r})")
        if value is not None and action.action in ("KEEP", "BLANK"):
            value = None
        if value is not None and value.kind in ("func", "deid_func"):
            name = value.name or ""
            spec = extra.get(name) or get_function(name)
            if spec is not None:
                resolved[name] = spec
            elif value.kind == "deid_func":
                errors.append(
                    f"{where}: deid_func:{name} is not a registered function ({rule.text!r})"
                )
            else:
                unresolved.append((name, rule))
            if value.kind == "deid_func" and name not in extra:
                try:
                    check_arguments(name, parse_extras(value.args))
                except FunctionArgumentError as exc:
                    errors.append(f"{where}: deid_func:{name}: {exc} ({rule.text!r})")
        if (
            action.action == "JITTER"
            and value is not None
            and value.kind == "literal"
            and not re.fullmatch(r"\s*[+-]?\d+\s*", value.text)
        ):
            errors.append(
                f"{where}: JITTER needs a whole number of days, got {value.text!r} ({rule.text!r})"
            )
        target = next(iter(sel.tags)) if sel.kind == "add" else None
        actions.append(CompiledAction(index, action.action, value, rule, target, action.field.text))
        selectors.append(sel)
    groups: list[GroupSpec] = []
    for group in tuple(recipe.values) + tuple(recipe.fields):
        lines = []
        for line in group.lines:
            try:
                sel = compile_selector(line.field, where=f"{line.span.file}:{line.span.line}")
            except PlanError as exc:
                errors.append(str(exc))
                continue
            if group.kind == "fields" and line.action.upper() != "FIELD":
                errors.append(
                    f"{line.span.file}:{line.span.line}: %fields groups only take "
                    f"FIELD lines, got {line.action!r}"
                )
                continue
            if line.action.upper() not in ("FIELD", "SPLIT"):
                continue
            lines.append((len(selectors), line.action.upper(), line.by, line.minlength))
            selectors.append(sel)
        groups.append(GroupSpec(group.kind, group.name, tuple(lines)))
    if errors:
        raise PlanError("; ".join(errors))
    return Plan(
        tuple(actions),
        tuple(selectors),
        skip_tags(skip, disable_skip),
        tuple(groups),
        resolved,
        tuple(unresolved),
        tuple(post),
        tuple(recipe.sources),
        tuple(pre),
    )
