"""Fixtures for the upstream-facade pixel tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def deid_data(*parts: str) -> str:
    import deid_data

    return str(Path(os.path.dirname(deid_data.__file__)) / "data" / Path(*parts))


@pytest.fixture
def cat() -> str:
    return deid_data("animals", "cat.dcm")


@pytest.fixture
def write_recipe(tmp_path):
    def write(text: str, name: str = "deid.dicom.test") -> str:
        path = tmp_path / name
        path.write_text(text)
        return str(path)

    return write
