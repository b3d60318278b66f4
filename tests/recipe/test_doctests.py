"""The runnable examples in the docstrings of deid.recipe and deid.config pass."""

from __future__ import annotations

import doctest
import importlib

import pytest

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
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
