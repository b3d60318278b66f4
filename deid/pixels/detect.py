"""Detection: evaluate a recipe's ``%filter`` groups against one image header.

Upstream's semantics are kept so that results match ``deid.dicom.has_burned_pixels``:

* every group and every LABEL is evaluated (no first-match stop); each matching LABEL gives one
  :class:`Match`, and ``flagged`` is true when anything matched — whatever the group is called;
* inside a criteria line the tests fold strictly left to right (``a || b + c`` is
  ``(a or b) and c``); the lines of a LABEL are AND-ed (a leading ``+``/``||`` is ignored);
* a LABEL with coordinates but no criteria always matches; one with neither never matches;
* ``from:<Keyword>`` coordinates are read from *this* image (ultrasound region sequences) and
  never stored back into the recipe.

Examples
--------
>>> from pydicom import Dataset
>>> from deid.recipe.ast import (NO_SPAN, Coordinate, CriteriaLine, Criterion, FilterGroup,
...     Label)
>>> crit = Criterion("contains", "Modality", "US", NO_SPAN)
>>> label = Label("US", (CriteriaLine(None, (crit,), (), NO_SPAN),),
...               (Coordinate("coordinates", False, "box", NO_SPAN, box=(0, 0, 10, 5)),), NO_SPAN)
>>> ds = Dataset(); ds.Modality = "US"
>>> detect(ds, [FilterGroup("graylist", (label,), NO_SPAN)]).as_upstream()
{'flagged': True, 'results': [{'reason': ' Modality contains US', 'group': 'graylist', \
'coordinates': [[0, '0,0,10,5']]}]}
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydicom.datadict import tag_for_keyword
from pydicom.dataset import Dataset

from deid.engine.walk import light_element
from deid.pixels.criteria import FilterError, apply_filter, evaluate_group
from deid.pixels.regions import Region, RegionError, regions_from_coordinates
from deid.recipe.ast import NOVALUE_FILTERS, Coordinate, FilterGroup, Label, Recipe, Span

__all__ = [
    "SUSPECT_KEYWORDS",
    "Detection",
    "Match",
    "as_filter_groups",
    "detect",
    "extract_coordinates",
    "header_state",
    "light_get",
]

_REGION_FIELDS = (
    "RegionLocationMinX0",
    "RegionLocationMinY0",
    "RegionLocationMaxX1",
    "RegionLocationMaxY1",
)


def _where(span: Span) -> str:
    if span.file == "<code>":
        return ""
    return f"{span.file}: " if span.line == 0 else f"{span}: "


def extract_coordinates(ds: Dataset, field: str) -> list[str]:
    """Return ``"x0,y0,x1,y1"`` strings from the RegionLocation* attributes under ``field``.

    Each item of a sequence (or the element's dataset itself) that has all four of
    RegionLocationMinX0/MinY0/MaxX1/MaxY1 gives one box; an absent field gives ``[]``.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        The image header.
    field : str
        A keyword such as ``SequenceOfUltrasoundRegions`` (a leading ``from:`` is ignored).

    Examples
    --------
    >>> from pydicom import Dataset
    >>> item = Dataset()
    >>> item.RegionLocationMinX0, item.RegionLocationMinY0 = 10, 20
    >>> item.RegionLocationMaxX1, item.RegionLocationMaxY1 = 100, 200
    >>> ds = Dataset(); ds.SequenceOfUltrasoundRegions = [item]
    >>> extract_coordinates(ds, "SequenceOfUltrasoundRegions")
    ['10,20,100,200']
    """
    name = field.strip()
    if name.startswith("from:"):
        name = name[len("from:") :].strip()
    value = ds.get(name)
    if value is None:
        return []
    items: Iterable[Any]
    if isinstance(value, Dataset):
        items = [value]
    elif hasattr(value, "__iter__") and not isinstance(value, (str, bytes)):
        items = value
    else:
        items = []
    found = []
    for item in items:
        if not isinstance(item, Dataset):
            continue
        if all(item.get(k) is not None for k in _REGION_FIELDS):
            found.append(",".join(str(int(item.get(k))) for k in _REGION_FIELDS))
    return found


@dataclass(frozen=True)
class Match:
    """One matching LABEL.

    Attributes
    ----------
    group : str
        The ``%filter`` group name (``whitelist``, ``graylist``, ...).
    label : str
        The LABEL name.
    reason : str
        Upstream's reason string (see :func:`detect`).
    coordinates : list
        Upstream's ``[[mask, spec], ...]``: mask 0 (remove) or 1 (keep); spec ``"all"``,
        ``"x0,y0,x1,y1"`` or, for ``from:``, a list of such strings read from this image.
    regions : tuple of Region
        The same coordinates as regions, in order.
    span : Span
        The LABEL's place in the recipe.
    """

    group: str
    label: str
    reason: str
    coordinates: list[list[Any]]
    regions: tuple[Region, ...]
    span: Span = field(compare=False)


#: Header attributes that mark an image as suspect; :func:`detect` records their values so that
#: the pixel step judges the image by its *input* header, whatever the header rules did since.
SUSPECT_KEYWORDS = ("BurnedInAnnotation", "Modality", "ImageType")


def light_get(ds: Dataset, keyword: str) -> Any:
    """``ds.get(keyword)``, read from the element's raw bytes when they are plain text (the
    element stays undecoded, see :func:`deid.engine.walk.light_element`).

    Examples
    --------
    >>> from pydicom.dataelem import RawDataElement
    >>> from pydicom.tag import Tag
    >>> ds = Dataset()
    >>> ds._dict[Tag(0x00080060)] = RawDataElement(Tag(0x00080060), "CS", 2, b"CT", 0, False, True)
    >>> light_get(ds, "Modality"), type(ds._dict[Tag(0x00080060)]).__name__
    ('CT', 'RawDataElement')
    """
    tag = tag_for_keyword(keyword)
    light = light_element(ds, tag, stand_in=True) if tag is not None else None
    return ds.get(keyword) if light is None else light.value


def header_state(
    ds: Dataset, get: Callable[[str], Any] | None = None
) -> tuple[tuple[str, Any], ...]:
    """The values of :data:`SUSPECT_KEYWORDS` in ``ds`` (absent ones left out), as text.

    ``get(keyword)``, when given, replaces ``ds.get(keyword)`` (a caller that has already
    converted the values passes them on).

    Examples
    --------
    >>> from pydicom import Dataset
    >>> ds = Dataset(); ds.BurnedInAnnotation = "YES"; ds.ImageType = ["DERIVED", "SECONDARY"]
    >>> header_state(ds)
    (('BurnedInAnnotation', 'YES'), ('ImageType', ('DERIVED', 'SECONDARY')))
    """
    out: list[tuple[str, Any]] = []
    lookup = get
    if lookup is None:
        lookup = ds.get if not isinstance(ds, Dataset) else lambda k: light_get(ds, k)
    for keyword in SUSPECT_KEYWORDS:
        value = lookup(keyword)
        if value is None:
            continue
        if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
            out.append((keyword, str(value)))
        else:
            out.append((keyword, tuple(str(v) for v in value)))
    return tuple(out)


@dataclass(frozen=True)
class Detection:
    """The result of :func:`detect` on one image.

    Attributes
    ----------
    matches : tuple of Match
        The matching LABELs, in recipe order.
    has_filters : bool
        Whether any ``%filter`` group was evaluated.
    header : tuple of (str, value) pairs or None
        :func:`header_state` of the header the filters read (None for a hand-made Detection).
    """

    matches: tuple[Match, ...] = ()
    has_filters: bool = True
    header: tuple[tuple[str, Any], ...] | None = None

    @property
    def flagged(self) -> bool:
        """True when any LABEL matched (upstream's ``flagged``)."""
        return bool(self.matches)

    @property
    def regions(self) -> tuple[Region, ...]:
        """All regions of all matches, in order (what cleaning applies)."""
        return tuple(r for m in self.matches for r in m.regions)

    def as_upstream(self) -> dict[str, Any]:
        """Return upstream's ``{"flagged": bool, "results": [...]}`` (fresh lists each call).

        Examples
        --------
        >>> Detection().as_upstream()
        {'flagged': False, 'results': []}
        """
        results = [
            {
                "reason": m.reason,
                "group": m.group,
                "coordinates": [
                    [mask, list(spec) if isinstance(spec, list) else spec]
                    for mask, spec in m.coordinates
                ],
            }
            for m in self.matches
        ]
        return {"flagged": self.flagged, "results": results}


def as_filter_groups(recipe_or_filters: Any) -> tuple[FilterGroup, ...]:
    """Return the ``%filter`` groups of a Recipe, a DeidRecipe-like object or a sequence.

    Examples
    --------
    >>> as_filter_groups(None)
    ()
    """
    if recipe_or_filters is None:
        return ()
    if isinstance(recipe_or_filters, Recipe):
        return tuple(recipe_or_filters.filters)
    if isinstance(recipe_or_filters, FilterGroup):
        return (recipe_or_filters,)
    to_recipe = getattr(recipe_or_filters, "to_recipe", None)
    if callable(to_recipe):
        return tuple(to_recipe().filters)
    groups = tuple(recipe_or_filters)
    for g in groups:
        if not isinstance(g, FilterGroup):
            raise TypeError(f"expected FilterGroup items, got {type(g).__name__}")
    return groups


def _coordinate_entry(ds: Dataset, coord: Coordinate, where: str) -> list[Any]:
    mask = 1 if coord.keep else 0
    if coord.kind == "all":
        return [mask, "all"]
    if coord.kind == "from":
        if not coord.from_field:
            raise RegionError(f"{where}{coord.keyword} from: names no field")
        return [mask, extract_coordinates(ds, coord.from_field)]
    if coord.kind == "box" and coord.box is not None and len(coord.box) == 4:
        return [mask, ",".join(str(int(v)) for v in coord.box)]
    raise RegionError(f"{where}cannot read coordinates {coord.keyword} {coord.text!r}")


def _evaluate_label(ds: Dataset, label: Label) -> tuple[bool | None, str | None]:
    """Return (matched, reason); matched None means "no criteria"."""
    if not label.lines:
        return None, None
    results = []
    reason = ""
    for line in label.lines:
        flags: list[Any] = []
        descriptions = []
        for i, crit in enumerate(line.criteria):
            value = None if crit.filter.lower() in NOVALUE_FILTERS else crit.value
            try:
                flag = apply_filter(ds, crit.field, crit.filter, value)
            except FilterError as exc:
                raise FilterError(f"{_where(crit.span)}LABEL {label.name!r}: {exc}") from exc
            flags.append(flag)
            text = f"{crit.field} {crit.filter} {crit.value if value is not None else ''}"
            if i < len(line.inner_operators):
                flags.append(line.inner_operators[i])
                text = f"{text} {line.inner_operators[i]}"
            descriptions.append(text)
        results.append(evaluate_group(flags))
        reason = f"{line.operator or ''} {' '.join(descriptions)}".replace("\n", " ")
    return all(results), reason


def detect(ds: Dataset, recipe_or_filters: Any) -> Detection:
    """Evaluate ``%filter`` groups against ``ds`` and return the matching LABELs.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        The image header (pixel data is not read).
    recipe_or_filters : Recipe, sequence of FilterGroup, DeidRecipe-like or None
        Where the filters come from. Anything with ``to_recipe()`` is converted each call.

    Returns
    -------
    Detection
        ``reason`` of a match is upstream's: the leading operator of the LABEL's last criteria
        line (or nothing), a space, then ``"<field> <filter> <value>"`` per criterion (followed
        by the inner operator), joined by spaces. A LABEL without criteria reuses the previous
        reason, as upstream does.

    Raises
    ------
    deid.errors.DeidError
        A criterion or coordinate that cannot be evaluated; the message names the recipe line.

    Examples
    --------
    >>> from pydicom import Dataset
    >>> detect(Dataset(), None).flagged
    False
    """
    groups = as_filter_groups(recipe_or_filters)
    matches = []
    last_reason = ""
    for group in groups:
        for label in group.labels:
            matched, reason = _evaluate_label(ds, label)
            if reason is not None:
                last_reason = reason
            if matched is None:
                matched = bool(label.coordinates)
                reason = last_reason
            if not matched:
                continue
            where = _where(label.span)
            entries = [_coordinate_entry(ds, c, where) for c in label.coordinates]
            source = f"{where}%filter {group.name} LABEL {label.name}".strip()
            try:
                regions = regions_from_coordinates(entries, source)
            except RegionError as exc:
                raise RegionError(f"{where}LABEL {label.name!r}: {exc}") from exc
            matches.append(
                Match(group.name, label.name, reason or "", entries, regions, label.span)
            )
    return Detection(tuple(matches), has_filters=bool(groups), header=header_state(ds))


def detect_many(datasets: Sequence[Dataset], recipe_or_filters: Any) -> list[Detection]:
    """Run :func:`detect` on each dataset (the recipe is read once).

    Examples
    --------
    >>> from pydicom import Dataset
    >>> [d.flagged for d in detect_many([Dataset(), Dataset()], None)]
    [False, False]
    """
    groups = as_filter_groups(recipe_or_filters)
    return [detect(ds, groups) for ds in datasets]
