"""``deid version`` (deid/cli/version.py)."""

from __future__ import annotations

import json

import pydicom
import pytest

import deid
from deid.cli.main import main


def test_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["version"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"deid {deid.__version__}"
    assert f"pydicom {pydicom.__version__}" in out
    assert any(line.startswith("extra dask: ") for line in out)


def test_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["version", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["core"]["pydicom"] == pydicom.__version__
    assert data["extras"]["progress"]["available"] is True  # tqdm is in the test extras
