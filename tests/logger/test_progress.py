"""Tests for deid.logger.progress."""

from __future__ import annotations

from deid.logger.progress import ProgressBar, bar


def test_bar_yields_everything_hidden():
    assert list(bar(range(5), hide=True)) == [0, 1, 2, 3, 4]


def test_progressbar_draws_on_stderr(capsys):
    with ProgressBar(label="x", width=4, hide=False, expected_size=2) as pb:
        pb.show(1)
        pb.show(2)
    err = capsys.readouterr().err
    assert "x[--  ] 1/2" in err and "x[----] 2/2" in err and err.endswith("\n")
