"""The docstring examples of the engine's modules run and pass."""

from __future__ import annotations

import pytest
from shared import check_docstring_examples

MODULES = [
    "deid.engine",
    "deid.engine.changelog",
    "deid.engine.compile",
    "deid.engine.context",
    "deid.engine.functions",
    "deid.engine.jitter",
    "deid.engine.keys",
    "deid.engine.plan",
    "deid.engine.rawscan",
    "deid.engine.selectors",
    "deid.engine.values",
    "deid.engine.walk",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    check_docstring_examples(name)
