"""PII location lists in idiscore's shape: areas of burned-in text plus a test on the header.

A :class:`PIILocationList` holds :class:`PIILocation` entries; each has rectangular
:class:`SquareArea` boxes (``x``, ``y``, ``width``, ``height`` — x is the column) and an optional
``criterion``, a callable taking the dataset and returning True when the areas apply. The areas
of every matching location become removal regions and go through the same masking as the
``%filter`` coordinates (:func:`deid.pixels.process_pixels`).

Examples
--------
>>> from pydicom import Dataset
>>> locations = PIILocationList([
...     PIILocation(areas=[SquareArea(5, 10, 4, 12)],
...                 criterion=lambda ds: ds.Rows == 265 and ds.Columns == 512),
... ])
>>> ds = Dataset(); ds.Rows, ds.Columns = 265, 512
>>> [r.spec() for r in locations.regions(ds)]
['5,10,9,22']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pydicom.dataset import Dataset

from deid.errors import DeidError
from deid.pixels.regions import Region

__all__ = ["LocationError", "PIILocation", "PIILocationList", "SquareArea"]


class LocationError(DeidError, ValueError):
    """A PII location is malformed (negative size, criterion that is not callable)."""


@dataclass(frozen=True, init=False)
class SquareArea:
    """A rectangle of pixels: top-left corner ``(init_x, init_y)``, ``width`` and ``height``.

    Parameters
    ----------
    init_x, init_y : int
        Column and row of the top-left pixel (0-based).
    width, height : int
        Size in pixels (non-negative).

    Examples
    --------
    >>> area = SquareArea(0, 0, 20, 3)
    >>> area.x, area.y, area.width, area.height
    (0, 0, 20, 3)
    >>> area.as_region().spec()
    '0,0,20,3'
    """

    init_x: int
    init_y: int
    width: int
    height: int

    def __init__(self, init_x: int, init_y: int, width: int, height: int) -> None:
        values = {"init_x": init_x, "init_y": init_y, "width": width, "height": height}
        for name, value in values.items():
            try:
                as_int = int(value)
            except (TypeError, ValueError) as exc:
                raise LocationError(f"SquareArea {name}={value!r} is not an integer") from exc
            if as_int < 0:
                raise LocationError(f"SquareArea {name}={value!r} is negative")
            object.__setattr__(self, name, as_int)

    @property
    def x(self) -> int:
        """Column of the top-left pixel."""
        return self.init_x

    @property
    def y(self) -> int:
        """Row of the top-left pixel."""
        return self.init_y

    def get_bounds(self) -> tuple[int, int, int, int]:
        """Return ``(x0, y0, x1, y1)``, end-exclusive.

        Examples
        --------
        >>> SquareArea(5, 10, 4, 12).get_bounds()
        (5, 10, 9, 22)
        """
        return (self.init_x, self.init_y, self.init_x + self.width, self.init_y + self.height)

    def as_region(self, source: str = "") -> Region:
        """Return the area as a removal :class:`~deid.pixels.regions.Region`."""
        x0, y0, x1, y1 = self.get_bounds()
        return Region(x0, y0, x1, y1, keep=False, source=source)


class PIILocation:
    """Areas that hold burned-in PII on the images a criterion selects.

    Parameters
    ----------
    areas : iterable of SquareArea
        The boxes to blank.
    criterion : callable, optional
        ``criterion(dataset) -> bool``; None matches every dataset. A criterion that raises
        (e.g. ``AttributeError`` for a missing element) does not match.
    comment : str
        Free text kept in reports.

    Examples
    --------
    >>> from pydicom import Dataset
    >>> ds = Dataset(); ds.Modality = "US"
    >>> PIILocation([SquareArea(0, 0, 1, 1)], lambda d: d.Modality == "US").exactly_matches(ds)
    True
    """

    def __init__(
        self,
        areas: Iterable[SquareArea],
        criterion: Callable[[Dataset], Any] | None = None,
        comment: str = "",
    ) -> None:
        self.areas = list(areas)
        for area in self.areas:
            if not isinstance(area, SquareArea):
                raise LocationError(f"PIILocation areas must be SquareArea, got {area!r}")
        if criterion is not None and not callable(criterion):
            matches = getattr(criterion, "matches", None)
            if not callable(matches):
                raise LocationError(f"PIILocation criterion {criterion!r} is not callable")
            criterion = matches
        self.criterion = criterion
        self.comment = comment

    def exactly_matches(self, ds: Dataset) -> bool:
        """True when the criterion accepts ``ds`` (or there is no criterion)."""
        if self.criterion is None:
            return True
        try:
            return bool(self.criterion(ds))
        except (AttributeError, KeyError, TypeError, ValueError, IndexError):
            return False

    def regions(self) -> tuple[Region, ...]:
        """Return the areas as removal regions."""
        source = f"PII location {self.comment}".strip()
        return tuple(a.as_region(source) for a in self.areas)

    def __repr__(self) -> str:
        return f"PIILocation(areas={self.areas!r}, comment={self.comment!r})"


class PIILocationList:
    """An ordered list of :class:`PIILocation`.

    Examples
    --------
    >>> len(PIILocationList([]))
    0
    """

    def __init__(self, locations: Iterable[PIILocation] = ()) -> None:
        self.locations = list(locations)
        for loc in self.locations:
            if not isinstance(loc, PIILocation):
                raise LocationError(f"PIILocationList items must be PIILocation, got {loc!r}")

    def __iter__(self) -> Iterator[PIILocation]:
        return iter(self.locations)

    def __len__(self) -> int:
        return len(self.locations)

    def get_locations(self, ds: Dataset) -> list[PIILocation]:
        """Return the locations whose criterion matches ``ds``, in order."""
        return [loc for loc in self.locations if loc.exactly_matches(ds)]

    def regions(self, ds: Dataset) -> tuple[Region, ...]:
        """Return the removal regions of every location matching ``ds``."""
        return tuple(r for loc in self.get_locations(ds) for r in loc.regions())

    def __repr__(self) -> str:
        return f"PIILocationList({self.locations!r})"
