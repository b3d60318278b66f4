"""tools/_checked_output.py: the write / ``--check`` command line the generators share."""

from __future__ import annotations

from .conftest import load_tool


def _main(argv, text="generated\n", default=None):
    module = load_tool("_checked_output")
    return module.write_or_check(argv, "demo", lambda: text, default, "tools/demo.py")


def test_writes_then_checks(tmp_path, capsys):
    out = tmp_path / "sub" / "page.md"
    assert _main(["--output", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == "generated\n"
    assert _main(["--check", "--output", str(out)]) == 0
    assert "is up to date" in capsys.readouterr().out


def test_check_fails_on_stale_or_missing_output(tmp_path, capsys):
    out = tmp_path / "page.md"
    assert _main(["--check", "--output", str(out)]) == 1  # missing
    out.write_text("old\n", encoding="utf-8")
    assert _main(["--check", "--output", str(out)]) == 1
    err = capsys.readouterr().err
    assert "out of date" in err and "tools/demo.py" in err
    assert out.read_text(encoding="utf-8") == "old\n"  # --check never writes


def test_default_output_is_used(tmp_path):
    out = tmp_path / "default.md"
    assert _main([], text="x\n", default=out) == 0
    assert out.read_text(encoding="utf-8") == "x\n"
