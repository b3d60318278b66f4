"""The audit trail of one :meth:`Plan.apply`: which element changed, how, and by which rule.

Examples
--------
>>> rule = RuleRef("site.dicom", 3, "REMOVE PatientName")
>>> log = ChangeLog([Change("(0010,0010)", 0x00100010, "PatientName", "REMOVE", rule, "PN")])
>>> log.counts()
{'REMOVE': 1}
>>> str(log[0])
'(0010,0010) PatientName: REMOVE by site.dicom:3 (REMOVE PatientName)'
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from deid.engine.walk import tag_string

__all__ = ["Change", "ChangeLog", "RuleRef", "format_tag"]


def format_tag(tag: int, keyword: str = "") -> str:
    """Return ``(GGGG,EEEE) Keyword`` for messages.

    Examples
    --------
    >>> format_tag(0x00100010, "PatientName")
    '(0010,0010) PatientName'
    """
    text = tag_string(tag)
    return f"{text} {keyword}" if keyword else text


@dataclass(frozen=True, slots=True)
class RuleRef:
    """Where a rule came from.

    Attributes
    ----------
    source : str
        Recipe display name (file path, ``<string>``, ``<dict>``, a profile table).
    line : int
        1-based line number (0 when the rule was built in code).
    text : str
        The rule as written (``REPLACE PatientName var:name``).
    """

    source: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line} ({self.text})"


class Change(NamedTuple):
    """One change made to one element (an immutable named tuple: cheap to make by the thousand).

    Attributes
    ----------
    path : str
        Upstream's flattened uid of the element (``(0008,1110)__0__(0008,1150)``).
    tag : int
        Tag number.
    keyword : str
        DICOM keyword (``""`` for private or unknown tags).
    action : str
        ``ADD``, ``REPLACE``, ``JITTER``, ``BLANK``, ``REMOVE``, or ``STRIP``/``PRIVATE`` for the
        apply options, or whatever a post step records.
    rule : RuleRef or None
        The rule that decided it.
    old_vr : str or None
        VR of the element before the change (None when the element did not exist).
    detail : str or None
        Extra information (a value that is not valid for its VR, a JITTER that could not shift).
    """

    path: str
    tag: int
    keyword: str
    action: str
    rule: RuleRef | None
    old_vr: str | None = None
    detail: str | None = None

    def __str__(self) -> str:
        text = f"{format_tag(self.tag, self.keyword)}: {self.action}"
        if self.rule is not None:
            text += f" by {self.rule}"
        if self.detail:
            text += f" [{self.detail}]"
        return text


class ChangeLog(list):  # type: ignore[type-arg]
    """A list of :class:`Change` with summaries.

    Examples
    --------
    >>> log = ChangeLog()
    >>> log.counts()
    {}
    """

    def __init__(self, changes: Iterable[Change] = ()) -> None:
        super().__init__(changes)

    def counts(self) -> dict[str, int]:
        """Return ``{action: number of changes}``."""
        return dict(Counter(c.action for c in self))

    def for_tag(self, tag: int) -> list[Change]:
        """Return the changes made to elements with tag number ``tag`` (any depth)."""
        return [c for c in self if c.tag == tag]

    def details(self) -> list[Change]:
        """Return the changes that carry a detail (reported problems)."""
        return [c for c in self if c.detail]
