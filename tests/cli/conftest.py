"""Fixtures for the CLI tests: a small tree of DICOM files built in code."""

from __future__ import annotations

from pathlib import Path

import pytest
from runner.helpers import make_tree


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "in"
    make_tree(root, series=2, per_series=2)
    return root


@pytest.fixture()
def recipe(tmp_path: Path) -> Path:
    path = tmp_path / "site.dicom"
    path.write_text("FORMAT dicom\n%header\nREMOVE PatientID\nREPLACE PatientName ANON\n")
    return path
