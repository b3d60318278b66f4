"""A minimal terminal progress bar (upstream's ``deid.logger.progress``).

Examples
--------
>>> list(bar([1, 2], hide=True))
[1, 2]
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # typing.Self needs Python 3.11
    from typing_extensions import Self

__all__ = ["ProgressBar", "bar"]


class ProgressBar:
    """Draw ``[----   ] n/N`` on stderr; hidden when stderr is not a terminal.

    Examples
    --------
    >>> with ProgressBar(expected_size=2, hide=True) as pb:
    ...     pb.show(1)
    """

    def __init__(
        self,
        label: str = "",
        width: int = 32,
        hide: bool | None = None,
        empty_char: str = " ",
        filled_char: str = "-",
        expected_size: int | None = None,
        every: int = 1,
    ) -> None:
        self.label = label
        self.width = width
        self.hide = (not sys.stderr.isatty()) if hide is None else hide
        self.empty_char = empty_char
        self.filled_char = filled_char
        self.expected_size = expected_size
        self.every = max(1, every)
        self.last_progress = 0

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.done()

    def show(self, progress: int, count: int | None = None) -> None:
        """Show ``progress`` out of ``count`` (or ``expected_size``)."""
        if count is not None:
            self.expected_size = count
        self.last_progress = progress
        if self.hide or not self.expected_size or progress % self.every:
            return
        filled = int(self.width * progress / self.expected_size)
        bar = self.filled_char * filled + self.empty_char * (self.width - filled)
        line = f"{self.label}[{bar}] {int(progress)}/{int(self.expected_size)}"
        sys.stderr.write("\r" + line)
        sys.stderr.flush()

    def done(self) -> None:
        """Finish the bar with a newline."""
        if not self.hide:
            sys.stderr.write("\n")
            sys.stderr.flush()


def bar(
    it: Iterable[Any],
    label: str = "",
    width: int = 32,
    hide: bool | None = None,
    empty_char: str = " ",
    filled_char: str = "-",
    expected_size: int | None = None,
    every: int = 1,
) -> Iterator[Any]:
    """Iterate over ``it`` while drawing a progress bar."""
    items = list(it) if expected_size is None else it
    count = len(items) if expected_size is None else expected_size  # type: ignore[arg-type]
    with ProgressBar(label, width, hide, empty_char, filled_char, count, every) as pb:
        for i, item in enumerate(items, 1):
            yield item
            pb.show(i)
