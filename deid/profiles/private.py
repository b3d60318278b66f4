"""Safe private attributes: creator-qualified tags, blocks with criteria, Table E.3.10-1.

A safe private tag is written as idiscore users know it: ``"0023[SIEMENS MED SP DXMG WH AWS 1]10"``
- group, private creator in brackets, element offset (the low byte). Blocks group tags under an
optional criterion (a callable on the dataset, evaluated once per dataset on the original
values). With the Retain Safe Private option, these elements and their private creator elements
are kept; every other private element is removed.

Examples
--------
>>> from pydicom import Dataset
>>> block = SafePrivateBlock(tags=["00b1[TestCreator]01"], criterion=lambda ds: ds.Modality == "CT")
>>> definition = SafePrivateDefinition(blocks=[block])
>>> ct = Dataset(); ct.Modality = "CT"
>>> (0x00B1, "TESTCREATOR", 0x01) in definition.safe_set(ct)
True
>>> mr = Dataset(); mr.Modality = "MR"
>>> definition.safe_set(mr)
frozenset()
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from deid.errors import ProfileError

__all__ = [
    "PrivateTag",
    "SafePrivateBlock",
    "SafePrivateDefinition",
    "default_definition",
    "parse_private_tag",
]

_TAG_RE = re.compile(r"^\s*\(?([0-9A-Fa-f]{4})\s*\[(.+)\]\s*(?:xx)?([0-9A-Fa-f]{2})\)?\s*$")


@dataclass(frozen=True, slots=True)
class PrivateTag:
    """A creator-qualified private tag (group, creator, element offset)."""

    group: int
    creator: str
    offset: int

    def __str__(self) -> str:
        return f"{self.group:04x}[{self.creator}]{self.offset:02x}"

    @property
    def key(self) -> tuple[int, str, int]:
        """``(group, creator upper-cased and stripped, offset)`` as used for matching."""
        return (self.group, self.creator.strip().upper(), self.offset)


def parse_private_tag(text: str) -> PrivateTag:
    """Parse ``gggg[creator]ee`` (also ``(gggg[creator]xxee)``).

    Raises
    ------
    ProfileError
        When the text is not a creator-qualified private tag in an odd group.

    Examples
    --------
    >>> parse_private_tag("0023[SIEMENS MED SP DXMG WH AWS 1]10")
    PrivateTag(group=35, creator='SIEMENS MED SP DXMG WH AWS 1', offset=16)
    >>> parse_private_tag("0010[X]10")
    Traceback (most recent call last):
    ...
    deid.errors.ProfileError: safe private tag '0010[X]10': group 0010 is not private (odd)
    """
    if isinstance(text, PrivateTag):
        return text
    m = _TAG_RE.match(str(text))
    if not m:
        raise ProfileError(
            f"safe private tag {text!r}: expected 'gggg[creator]ee', "
            "e.g. '0023[SIEMENS MED SP DXMG WH AWS 1]10'"
        )
    group = int(m.group(1), 16)
    if group % 2 == 0 or group <= 0x0007:
        raise ProfileError(f"safe private tag {text!r}: group {group:04x} is not private (odd)")
    return PrivateTag(group, m.group(2), int(m.group(3), 16))


@dataclass
class SafePrivateBlock:
    """Private tags considered safe, optionally only when ``criterion(ds)`` is true.

    Parameters
    ----------
    tags : iterable of str
        Creator-qualified tags (``"00b1[TestCreator]01"``).
    criterion : callable, optional
        ``criterion(ds) -> bool``; evaluated on the original dataset. An exception counts as
        False (fail closed: the tags are then removed).
    comment : str
        Free text (why these are safe).
    """

    tags: Iterable[str | PrivateTag] = ()
    criterion: Callable[[Any], bool] | None = None
    comment: str = ""
    parsed: tuple[PrivateTag, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        self.parsed = tuple(parse_private_tag(t) for t in self.tags)  # type: ignore[arg-type]

    def applies_to(self, ds: Any) -> bool:
        """Whether the block applies to ``ds`` (no criterion: always)."""
        if self.criterion is None:
            return True
        try:
            return bool(self.criterion(ds))
        except Exception:  # noqa: BLE001 - a failing criterion means "not safe" (fail closed)
            return False


@dataclass
class SafePrivateDefinition:
    """A list of :class:`SafePrivateBlock` (idiscore's shape).

    Examples
    --------
    >>> d = SafePrivateDefinition(blocks=[SafePrivateBlock(tags=["0019[GEMS_ACQU_01]23"])])
    >>> d.is_safe(0x0019, "GEMS_ACQU_01", 0x23, None)
    True
    """

    blocks: Iterable[SafePrivateBlock] = ()

    def __post_init__(self) -> None:
        self.blocks = list(self.blocks)

    def safe_set(self, ds: Any) -> frozenset[tuple[int, str, int]]:
        """The ``(group, CREATOR, offset)`` keys safe for ``ds`` (criteria evaluated)."""
        out: set[tuple[int, str, int]] = set()
        for block in self.blocks:
            if block.applies_to(ds):
                out.update(t.key for t in block.parsed)
        return frozenset(out)

    def is_safe(self, group: int, creator: str, offset: int, ds: Any) -> bool:
        """Whether ``(group, creator, offset)`` is safe for ``ds``."""
        return (group, creator.strip().upper(), offset) in self.safe_set(ds)

    def creators(self, group: int, ds: Any) -> set[str]:
        """Creators (upper-cased) with at least one safe tag in ``group`` for ``ds``."""
        return {c for g, c, _ in self.safe_set(ds) if g == group}

    def __add__(self, other: SafePrivateDefinition) -> SafePrivateDefinition:
        return SafePrivateDefinition(list(self.blocks) + list(other.blocks))


@lru_cache(maxsize=1)
def default_definition() -> SafePrivateDefinition:
    """Table E.3.10-1 of the shipped edition as a definition (no criteria).

    Examples
    --------
    >>> default_definition().is_safe(0x7053, "Philips PET Private Group", 0x00, None)
    True
    """
    from deid.profiles.table import load_table

    rows = load_table().safe_private
    block = SafePrivateBlock(
        tags=[PrivateTag(r.group, r.creator, r.offset) for r in rows],
        comment="PS3.15 Table E.3.10-1",
    )
    return SafePrivateDefinition(blocks=[block])
