"""Tests for deid.logger.message (DeidMessage on top of logging)."""

from __future__ import annotations

import io
import logging

import pytest

from deid.logger import bot
from deid.logger import message as m


@pytest.fixture
def quiet_logging():
    """An unconfigured logger (pytest configures the real ones), for DeidMessage.logger."""
    return logging.Logger("deid-isolated")  # noqa: LOG001 - outside the logger tree: no handlers


def test_levels_and_env(monkeypatch):
    monkeypatch.setenv("MESSAGELEVEL", "WARNING")
    assert m.get_logging_level() == m.WARNING
    monkeypatch.setenv("MESSAGELEVEL", "3")
    assert m.get_logging_level() == 3
    monkeypatch.setenv("MESSAGELEVEL", "CRITICAL")
    assert m.get_logging_level() == m.FLAG
    monkeypatch.delenv("MESSAGELEVEL")
    assert m.get_logging_level() == m.DEBUG
    assert m.convert2boolean("yes") and not m.convert2boolean("no")


def test_streams_prefixes_and_threshold(quiet_logging):
    out, err = io.StringIO(), io.StringIO()
    msg = m.DeidMessage(MESSAGELEVEL=m.INFO)
    msg.logger = quiet_logging
    msg.outputStream, msg.errorStream = out, err
    msg.info("hello")
    msg.warning("careful")
    msg.error("bad")
    msg.debug("hidden")
    msg.verbose("hidden too")
    msg.custom(prefix="PRE", message="x")
    assert out.getvalue() == "hello\nPRE x\n"
    assert err.getvalue() == "WARNING careful\nERROR bad\n"
    assert "hidden" not in msg.get_logs()
    assert msg.get_logs(join_newline=False)[0] == "hello"
    assert not msg.is_quiet()
    assert m.DeidMessage(MESSAGELEVEL=m.QUIET).is_quiet()


def test_history_is_bounded(quiet_logging):
    msg = m.DeidMessage(MESSAGELEVEL=m.DEBUG)
    msg.logger = quiet_logging
    msg.outputStream = io.StringIO()
    for i in range(m.HISTORY_SIZE + 50):
        msg.info(str(i))
    assert len(msg.history) == m.HISTORY_SIZE
    assert msg.history[-1] == str(m.HISTORY_SIZE + 49)


def test_goes_through_logging_when_configured(caplog):
    msg = m.DeidMessage(MESSAGELEVEL=m.DEBUG)
    with caplog.at_level(logging.DEBUG, logger="deid"):
        msg.warning("via logging")
        msg.debug("dbg")
    records = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "deid"]
    assert (logging.WARNING, "via logging") in records
    assert (logging.DEBUG, "dbg") in records


def test_exit_raises_systemexit(quiet_logging):
    msg = m.DeidMessage(MESSAGELEVEL=m.QUIET)
    msg.logger = quiet_logging
    with pytest.raises(SystemExit):
        msg.exit("bye")


def test_table_and_progress(quiet_logging):
    msg = m.DeidMessage(MESSAGELEVEL=m.INFO)
    msg.logger = quiet_logging
    out = io.StringIO()
    msg.outputStream = out
    msg.table({"a": 1, "b": [2, 3]})
    msg.show_progress(2, 2, length=4)
    text = out.getvalue()
    assert "a\t1" in text and "b\t2\t3" in text and "[====] 2/2" in text


def test_global_bot_exists():
    assert isinstance(bot, m.DeidMessage)
    assert str(bot).startswith("[deid-message|level:")
