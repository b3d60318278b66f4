"""The header engine: compile a recipe once into a Plan, apply it to many datasets.

Examples
--------
>>> from pydicom import Dataset
>>> from deid.recipe.ast import Action, FieldExpr, Recipe, NO_SPAN
>>> rule = Action("REMOVE", FieldExpr("endswith", "endswith:Date", NO_SPAN, arg="Date"),
...               None, NO_SPAN)
>>> plan = compile_plan(Recipe(header=(rule,)))
>>> ds = Dataset()
>>> ds.StudyDate = "20230101"
>>> ds.Modality = "CT"
>>> plan.apply(ds).counts()
{'REMOVE': 1}
>>> "StudyDate" in ds, "Modality" in ds
(False, True)
"""

from deid.engine.changelog import Change, ChangeLog, RuleRef
from deid.engine.compile import compile_plan
from deid.engine.context import MISSING, Context
from deid.engine.functions import register, unregister
from deid.engine.plan import Plan
from deid.engine.walk import DEFAULT_SKIP, Field, iter_fields

__all__ = [
    "DEFAULT_SKIP",
    "MISSING",
    "Change",
    "ChangeLog",
    "Context",
    "Field",
    "Plan",
    "RuleRef",
    "compile_plan",
    "iter_fields",
    "register",
    "unregister",
]
