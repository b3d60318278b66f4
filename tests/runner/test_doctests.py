"""The runnable examples in the docstrings of deid.runner's modules."""

from __future__ import annotations

import pytest
from shared import check_docstring_examples

MODULES = [
    "deid.runner",
    "deid.runner.api",
    "deid.runner.conditions",
    "deid.runner.executors",
    "deid.runner.fastread",
    "deid.runner.fastwrite",
    "deid.runner.job",
    "deid.runner.report",
    "deid.runner.screen",
    "deid.runner.sources",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    check_docstring_examples(name)
