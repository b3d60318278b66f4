"""The runnable examples in the docstrings of deid.runner's modules."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "deid.runner",
    "deid.runner.api",
    "deid.runner.conditions",
    "deid.runner.executors",
    "deid.runner.job",
    "deid.runner.report",
    "deid.runner.screen",
    "deid.runner.sources",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
