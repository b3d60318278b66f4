"""Upstream's CLI module kept working: deid/main/__init__.py, identifiers.py, inspect.py."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

import deid.main
from deid.main import get_parser
from deid.main import identifiers as legacy_identifiers
from deid.main import inspect as legacy_inspect


def test_main_exits_only_on_failure(
    tree: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert deid.main.main(["version"]) is None
    assert capsys.readouterr().out.startswith("deid ")
    with pytest.raises(SystemExit) as exc:
        deid.main.main([])
    assert exc.value.code == 2
    monkeypatch.setattr("sys.argv", ["deid", "identifiers", str(tree / "s0")])
    assert deid.main.main() is None  # reads sys.argv like upstream
    assert len(json.loads(capsys.readouterr().out)) == 2


def test_get_parser_is_the_command_parser() -> None:
    args = get_parser().parse_args(["-o", "out", "identifiers", "--action", "all"])
    assert (args.outfolder, args.action, args.command) == ("out", "all", "identifiers")


def test_identifiers_main_with_upstream_namespace(tree: Path, tmp_path: Path) -> None:
    ns = argparse.Namespace(
        action="all",
        deid=None,
        ids=None,
        input=str(tree),
        outfolder=str(tmp_path / "o"),
        overwrite=False,
    )
    assert legacy_identifiers.main(ns, get_parser()) == 0
    assert len(list((tmp_path / "o").rglob("*.dcm"))) == 4


def test_inspect_main_with_upstream_namespace(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from deid.cli.main import main

    assert main(["inspect", str(tree)]) == 0
    expected = capsys.readouterr().out
    ns = argparse.Namespace(folder=[str(tree)], deid=None, pattern=None, save=False)
    assert legacy_inspect.main(ns, get_parser()) == 0
    out = capsys.readouterr().out
    assert out == expected and out.count("\n") == 5
