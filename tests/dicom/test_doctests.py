"""The runnable examples in the drop-in modules' docstrings stay correct."""

from __future__ import annotations

import pytest
from shared import check_docstring_examples

MODULES = [
    "deid.dicom",
    "deid.dicom.fields",
    "deid.dicom.groups",
    "deid.dicom.header",
    "deid.dicom.parser",
    "deid.dicom.tags",
    "deid.dicom.utils",
    "deid.dicom.validate",
    "deid.dicom.actions",
    "deid.dicom.actions.jitter",
    "deid.dicom.actions.uids",
    "deid.utils",
    "deid.utils.fileio",
    "deid.utils.actions",
    "deid.logger",
    "deid.logger.message",
    "deid.logger.progress",
    "deid.data",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    check_docstring_examples(name, require=False)
