"""``deid profiles`` (deid/cli/profiles.py)."""

from __future__ import annotations

import json

import pytest

from deid.cli.main import main
from deid.cli.profiles import describe_profiles


def test_lists_profiles_options_and_edition(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profiles"]) == 0
    out = capsys.readouterr().out
    assert "table edition:" in out and "basic" in out and "retain-uids" in out


def test_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profiles", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    info = describe_profiles()
    assert data["edition"] == info["edition"] and data["edition"] in data["editions"]
    assert "basic" in data["profiles"]
