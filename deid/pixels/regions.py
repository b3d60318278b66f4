"""Rectangular regions and the per-image removal mask built from them.

A :class:`Region` is a box in pixel coordinates (``x`` = column, ``y`` = row, end-exclusive, the
layout of upstream's ``coordinates x0,y0,x1,y1``) or the whole frame, marked ``keep`` (mask value
1) or remove (mask value 0). Regions are applied in order, later ones overriding earlier ones,
exactly like upstream's ``clean_pixel_data``.

Examples
--------
>>> regions = [Region.whole(keep=False), Region(2, 1, 4, 3, keep=True)]
>>> removal_mask(regions, rows=4, columns=5).astype(int)
array([[1, 1, 1, 1, 1],
       [1, 1, 0, 0, 1],
       [1, 1, 0, 0, 1],
       [1, 1, 1, 1, 1]])
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from deid.errors import DeidError

__all__ = [
    "Region",
    "RegionError",
    "frame_mask",
    "parse_spec",
    "regions_from_coordinates",
    "removal_mask",
]


class RegionError(DeidError, ValueError):
    """A coordinate specification cannot be read (names the recipe line or location)."""


@dataclass(frozen=True, slots=True)
class Region:
    """A box to blank (``keep=False``) or to protect (``keep=True``).

    Attributes
    ----------
    x0, y0, x1, y1 : int or None
        Column/row bounds, end-exclusive; all None for the whole frame.
    keep : bool
        True protects the box from earlier removals (upstream mask value 1).
    source : str
        Where the region came from (recipe line and LABEL, or a PII location comment).
    frames : tuple of int or None
        0-based frames the region applies to; None means every frame.
    """

    x0: int | None
    y0: int | None
    x1: int | None
    y1: int | None
    keep: bool = False
    source: str = ""
    frames: tuple[int, ...] | None = None

    @classmethod
    def whole(
        cls, keep: bool = False, source: str = "", frames: tuple[int, ...] | None = None
    ) -> Region:
        """Return the whole-frame region (upstream's ``coordinates all``).

        Examples
        --------
        >>> Region.whole().is_whole
        True
        """
        return cls(None, None, None, None, keep=keep, source=source, frames=frames)

    @property
    def is_whole(self) -> bool:
        """True for the whole-frame region."""
        return self.x0 is None

    def spec(self) -> str:
        """Return upstream's string form: ``all`` or ``x0,y0,x1,y1``.

        Examples
        --------
        >>> Region(1, 2, 3, 4).spec()
        '1,2,3,4'
        """
        if self.is_whole:
            return "all"
        return f"{self.x0},{self.y0},{self.x1},{self.y1}"

    def applies_to(self, frame: int) -> bool:
        """True when the region applies to 0-based ``frame``."""
        return self.frames is None or frame in self.frames


def parse_spec(spec: str, *, keep: bool = False, source: str = "") -> Region:
    """Read ``all`` or ``x0,y0,x1,y1`` into a :class:`Region`.

    Parameters
    ----------
    spec : str
        The coordinate text (whitespace around numbers allowed).
    keep : bool
        Mask value 1 (keep) instead of 0 (remove).
    source : str
        Used in error messages and kept on the region.

    Raises
    ------
    RegionError
        Anything else, e.g. a coordinate line with a trailing comment.

    Examples
    --------
    >>> parse_spec("0, 0, 10, 20")
    Region(x0=0, y0=0, x1=10, y1=20, keep=False, source='', frames=None)
    """
    text = str(spec).strip()
    if text.lower() == "all":
        return Region.whole(keep=keep, source=source)
    parts = [p.strip() for p in text.split(",")]
    where = f" ({source})" if source else ""
    if len(parts) != 4:
        raise RegionError(f"coordinates {text!r}{where}: expected x0,y0,x1,y1 or 'all'")
    try:
        x0, y0, x1, y1 = (int(float(p)) for p in parts)
    except ValueError as exc:
        raise RegionError(f"coordinates {text!r}{where}: not four integers") from exc
    return Region(x0, y0, x1, y1, keep=keep, source=source)


def regions_from_coordinates(
    entries: Iterable[Sequence[Any]], source: str = ""
) -> tuple[Region, ...]:
    """Read upstream's ``[[mask, spec], ...]`` coordinate list into regions, in order.

    ``mask`` is 0 (remove) or 1 (keep); ``spec`` is ``all``, ``x0,y0,x1,y1`` or a list of those
    (a ``from:`` coordinate read from the image).

    Examples
    --------
    >>> [r.spec() for r in regions_from_coordinates([[0, "all"], [1, ["0,0,2,2", "4,4,6,6"]]])]
    ['all', '0,0,2,2', '4,4,6,6']
    """
    regions = []
    for mask, spec in entries:
        specs = spec if isinstance(spec, (list, tuple)) else [spec]
        for one in specs:
            regions.append(parse_spec(one, keep=bool(int(mask)), source=source))
    return tuple(regions)


def _clip(v: int | None, size: int, default: int) -> int:
    if v is None:
        return default
    return min(max(int(v), 0), size)


def frame_mask(
    regions: Iterable[Region], rows: int, columns: int, frame: int | None = None
) -> np.ndarray:
    """Return the boolean removal mask (True = blank) of one frame.

    Negative coordinates are clipped to the image (upstream's numpy slicing would wrap them).

    Parameters
    ----------
    regions : iterable of Region
        Applied in order; later regions override earlier ones.
    rows, columns : int
        Frame size.
    frame : int or None
        0-based frame; None applies every region regardless of its ``frames``.

    Examples
    --------
    >>> frame_mask([Region(0, 0, 2, 1)], rows=2, columns=3).sum()
    np.int64(2)
    """
    keep = np.ones((rows, columns), dtype=bool)
    for region in regions:
        if frame is not None and not region.applies_to(frame):
            continue
        x0 = _clip(region.x0, columns, 0)
        x1 = _clip(region.x1, columns, columns)
        y0 = _clip(region.y0, rows, 0)
        y1 = _clip(region.y1, rows, rows)
        if x1 > x0 and y1 > y0:
            keep[y0:y1, x0:x1] = region.keep
    return ~keep


def removal_mask(regions: Sequence[Region], rows: int, columns: int) -> np.ndarray:
    """Return the removal mask ignoring per-frame restrictions (see :func:`frame_mask`).

    Examples
    --------
    >>> removal_mask([Region.whole()], 2, 2).all()
    np.True_
    """
    return frame_mask(regions, rows, columns, None)
