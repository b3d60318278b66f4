"""The runnable examples in the docstrings of deid.recipe and deid.config pass."""

from __future__ import annotations

import pytest
from shared import check_docstring_examples

MODULES = [
    "deid.recipe",
    "deid.recipe.parser",
    "deid.recipe.transformer",
    "deid.recipe.checks",
    "deid.recipe.compat",
    "deid.recipe.format",
    "deid.recipe.tables",
    "deid.config",
    "deid.config.utils",
    "deid.config.standards",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    check_docstring_examples(name)
