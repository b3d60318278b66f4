"""The recipe language: text → checked :class:`~deid.recipe.ast.Recipe`.

The public functions are loaded on first use (``deid.recipe.ast`` stays importable on its own,
and the Lark parser is only built when a recipe is first parsed, once per process).

Examples
--------
>>> from deid.recipe import parse_recipe, format_recipe
>>> r = parse_recipe("FORMAT dicom\\n%header\\nBLANK PatientName\\n")
>>> r.header[0].action
'BLANK'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from deid.recipe.format import format_recipe
    from deid.recipe.parser import (
        load_recipe,
        parse_field_expr,
        parse_recipe,
        parse_recipe_with_diagnostics,
        parse_value,
        stack,
    )

__all__ = [
    "format_recipe",
    "load_recipe",
    "parse_field_expr",
    "parse_recipe",
    "parse_recipe_with_diagnostics",
    "parse_value",
    "stack",
]

_HOME = {name: "deid.recipe.parser" for name in __all__}
_HOME["format_recipe"] = "deid.recipe.format"


def __getattr__(name: str) -> Any:
    if name in _HOME:
        value = getattr(importlib.import_module(_HOME[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'deid.recipe' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
