"""``deid.logger.bot``: pydicom/deid's message API (levels, methods) on top of :mod:`logging`.

Messages go to the ``deid`` logger when the application has configured logging (any handler on
the ``deid`` logger or its ancestors); otherwise they are printed as upstream printed them
(errors, warnings and debug output on stderr, the rest on stdout, with a prefix). Importing this
module changes no logging configuration. The history kept for :meth:`DeidMessage.get_logs` is
bounded.

Examples
--------
>>> import io
>>> m = DeidMessage(MESSAGELEVEL=INFO)
>>> m.level
1
>>> m.is_quiet()
False
"""

from __future__ import annotations

import logging
import os
import sys
from collections import deque
from typing import Any, TextIO

__all__ = [
    "ABORT",
    "CUSTOM",
    "DEBUG",
    "ERROR",
    "FLAG",
    "INFO",
    "LOG",
    "QUIET",
    "VERBOSE",
    "VERBOSE1",
    "VERBOSE2",
    "VERBOSE3",
    "WARNING",
    "DeidMessage",
    "convert2boolean",
    "get_logging_level",
    "get_user_color_preference",
]

ABORT = -5
FLAG = -4
ERROR = -3
WARNING = -2
LOG = -1
INFO = 1
CUSTOM = 1
QUIET = 0
VERBOSE = VERBOSE1 = 2
VERBOSE2 = 3
VERBOSE3 = 4
DEBUG = 5

_NAMES = {
    "CRITICAL": FLAG,
    "ABORT": ABORT,
    "FLAG": FLAG,
    "ERROR": ERROR,
    "WARNING": WARNING,
    "LOG": LOG,
    "INFO": INFO,
    "QUIET": QUIET,
    "VERBOSE": VERBOSE,
    "VERBOSE1": VERBOSE1,
    "VERBOSE2": VERBOSE2,
    "VERBOSE3": VERBOSE3,
    "DEBUG": DEBUG,
}
_PREFIX = {ABORT: "ABORT", FLAG: "FLAGGED", ERROR: "ERROR", WARNING: "WARNING", DEBUG: "DEBUG"}
_TO_LOGGING = {
    ABORT: logging.CRITICAL,
    FLAG: logging.CRITICAL,
    ERROR: logging.ERROR,
    WARNING: logging.WARNING,
    LOG: logging.INFO,
    INFO: logging.INFO,
    QUIET: logging.INFO,
    VERBOSE: logging.DEBUG,
    VERBOSE2: logging.DEBUG,
    VERBOSE3: logging.DEBUG,
    DEBUG: logging.DEBUG,
}
#: Number of messages kept in ``DeidMessage.history``.
HISTORY_SIZE = 1000


def convert2boolean(arg: Any) -> bool:
    """Interpret ``"yes"/"true"/"t"/"1"`` (any case) as True.

    Examples
    --------
    >>> convert2boolean("Yes"), convert2boolean("0")
    (True, False)
    """
    if isinstance(arg, bool):
        return arg
    return str(arg).lower() in ("yes", "true", "t", "1", "y")


def get_logging_level() -> int:
    """Read the message level from the ``MESSAGELEVEL`` environment variable (default DEBUG).

    Examples
    --------
    >>> isinstance(get_logging_level(), int)
    True
    """
    raw = os.environ.get("MESSAGELEVEL", "DEBUG").strip()
    try:
        return int(raw)
    except ValueError:
        return _NAMES.get(raw.upper(), DEBUG)


def get_user_color_preference() -> bool | None:
    """Return the ``DEID_COLORIZE`` preference (None when unset).

    Examples
    --------
    >>> get_user_color_preference() in (None, True, False)
    True
    """
    value = os.environ.get("DEID_COLORIZE")
    return None if value is None else convert2boolean(value)


class DeidMessage:
    """Leveled messages with upstream's method names.

    Parameters
    ----------
    MESSAGELEVEL : int, optional
        Level; messages with a level <= this are shown. Default from the environment.

    Examples
    --------
    >>> bot = DeidMessage(MESSAGELEVEL=QUIET)
    >>> bot.info("not shown")
    >>> bot.get_logs()
    ''
    """

    def __init__(self, MESSAGELEVEL: int | None = None) -> None:
        self.level = get_logging_level() if MESSAGELEVEL is None else MESSAGELEVEL
        self.history: deque[str] = deque(maxlen=HISTORY_SIZE)
        self.errorStream: TextIO | None = None
        self.outputStream: TextIO | None = None
        self.colorize = bool(get_user_color_preference())
        self.logger = logging.getLogger("deid")

    def __str__(self) -> str:
        return f"[deid-message|level:{self.level}]"

    # core
    def emitError(self, level: int) -> bool:
        """True if ``level`` goes to stderr."""
        return level in (ABORT, FLAG, ERROR, WARNING, VERBOSE, VERBOSE2, VERBOSE3, DEBUG)

    def isEnabledFor(self, messageLevel: int) -> bool:
        """True if messages of ``messageLevel`` are shown at the current level."""
        return messageLevel <= self.level

    def emit(self, level: int, message: str, prefix: str | None = None, color: str = "") -> None:
        """Show ``message`` at ``level`` (through logging when logging is configured)."""
        if not self.isEnabledFor(level):
            return
        if prefix is None:
            prefix = _PREFIX.get(level, "")
        text = f"{prefix} {message}" if prefix else str(message)
        self.history.append(text)
        if self.logger.hasHandlers():
            self.logger.log(_TO_LOGGING.get(level, logging.INFO), str(message))
            return
        stream = (self.errorStream or sys.stderr) if self.emitError(level) else None
        if stream is None:
            stream = self.outputStream or sys.stdout
        self.write(stream, text + ("" if text.endswith("\n") else "\n"))

    def write(self, stream: TextIO, message: str) -> None:
        """Write ``message`` to ``stream``."""
        stream.write(message)

    def get_logs(self, join_newline: bool = True) -> Any:
        """Return the kept messages (joined by newlines, or as a list)."""
        return "\n".join(self.history) if join_newline else list(self.history)

    # levels
    def abort(self, message: str) -> None:
        """Message at ABORT level."""
        self.emit(ABORT, message)

    def flag(self, message: str) -> None:
        """Message at FLAG level."""
        self.emit(FLAG, message)

    def error(self, message: str) -> None:
        """Message at ERROR level."""
        self.emit(ERROR, message)

    def exit(self, message: str, return_code: int = 1) -> None:
        """Log an error and exit (kept for scripts; deid's own code raises instead)."""
        self.emit(ERROR, message)
        sys.exit(return_code)

    def warning(self, message: str) -> None:
        """Message at WARNING level."""
        self.emit(WARNING, message)

    def log(self, message: str) -> None:
        """Message at LOG level."""
        self.emit(LOG, message)

    def custom(self, prefix: str, message: str = "", color: str = "") -> None:
        """Message with a custom prefix at CUSTOM level."""
        self.emit(CUSTOM, message, prefix=prefix, color=color)

    def info(self, message: str) -> None:
        """Message at INFO level."""
        self.emit(INFO, message)

    def newline(self) -> None:
        """An empty INFO line."""
        self.info("")

    def verbose(self, message: str) -> None:
        """Message at VERBOSE level."""
        self.emit(VERBOSE, message)

    def verbose1(self, message: str) -> None:
        """Message at VERBOSE1 level."""
        self.emit(VERBOSE1, message)

    def verbose2(self, message: str) -> None:
        """Message at VERBOSE2 level."""
        self.emit(VERBOSE2, message)

    def verbose3(self, message: str) -> None:
        """Message at VERBOSE3 level."""
        self.emit(VERBOSE3, message)

    def debug(self, message: str) -> None:
        """Message at DEBUG level."""
        self.emit(DEBUG, message)

    def is_quiet(self) -> bool:
        """True when the level is QUIET or lower."""
        return self.level <= QUIET

    def table(self, rows: Any, col_width: int = 2) -> None:
        """Print a dict or list of rows as aligned columns."""
        if isinstance(rows, dict):
            rows = [[k, *(v if isinstance(v, list) else [v])] for k, v in rows.items()]
        for row in rows:
            self.custom(prefix="", message="\t".join(str(c) for c in row))

    def show_progress(
        self,
        iteration: int,
        total: int,
        length: int = 40,
        min_level: int = 0,
        prefix: str | None = None,
        carriage_return: bool = True,
        suffix: str | None = None,
        symbol: str | None = None,
    ) -> None:
        """Draw a one-line progress bar on stdout (when the level allows it)."""
        if self.level <= min_level or total <= 0:
            return
        done = round(length * iteration / float(total))
        bar = (symbol or "=") * done + " " * (length - done)
        line = f"{prefix or ''}[{bar}] {iteration}/{total} {suffix or ''}"
        stream = self.outputStream or sys.stdout
        stream.write(("\r" if carriage_return else "") + line)
        if iteration >= total:
            stream.write("\n")
