"""One-pass pixel step for the runner: detect, decide, mask, report.

:func:`process_pixels` evaluates the recipe's ``%filter`` groups and the PII location list on one
dataset, masks the resulting regions in place and returns a :class:`PixelOutcome`. It fails
closed: an image whose header says BurnedInAnnotation YES (or that the options mark as
suspect), or that matches a ``blacklist`` LABEL, and in which no rule blanks any pixel, is
``rejected`` with a reason, unless the options opt out. When nothing applies the Pixel Data is
neither decoded nor changed.

Examples
--------
>>> from pydicom import Dataset
>>> ds = Dataset(); ds.BurnedInAnnotation = "YES"; ds.Rows = ds.Columns = 2
>>> ds.PixelData = bytes(4)
>>> process_pixels(ds, None).status
'rejected'
>>> process_pixels(ds, None, options=PixelOptions(reject_uncovered=False)).status
'untouched'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydicom.dataset import Dataset

from deid.errors import DeidError
from deid.pixels.clean import CleanResult, clean_dataset, touched_frames
from deid.pixels.detect import Detection, detect, header_state
from deid.pixels.locations import PIILocation, PIILocationList
from deid.pixels.regions import Region

__all__ = ["PixelOptions", "PixelOutcome", "process_pixels"]


@dataclass(frozen=True)
class PixelOptions:
    """Options of :func:`process_pixels`.

    Attributes
    ----------
    fill : int or tuple of int
        Stored value written into blanked pixels (default 0).
    reject_uncovered : bool
        Reject suspect images that no rule blanks (default True; False is the opt-out).
    reject_groups : tuple of str
        ``%filter`` groups whose matching LABELs without removal coordinates reject the image
        (default ``("blacklist",)``; ``()`` opts out).
    suspect_modalities : tuple of str
        Modalities treated like BurnedInAnnotation YES (e.g. ``("US", "SC")``).
    suspect_image_types : tuple of str
        ImageType values treated like BurnedInAnnotation YES (e.g. ``("SECONDARY",)``).
    suspect : callable or None
        ``suspect(ds) -> bool``, another way to mark images as suspect.
    target : str
        ``original`` (keep the transfer syntax when a lossless encoder exists) or ``native``.
    update_burned_in : bool
        Set BurnedInAnnotation YES -> NO after a clean that blanked pixels (default True).
    """

    fill: int | tuple[int, ...] = 0
    reject_uncovered: bool = True
    reject_groups: tuple[str, ...] = ("blacklist",)
    suspect_modalities: tuple[str, ...] = ()
    suspect_image_types: tuple[str, ...] = ()
    suspect: Callable[[Dataset], bool] | None = None
    target: str = "original"
    update_burned_in: bool = True


@dataclass(frozen=True)
class PixelOutcome:
    """What happened to one image's pixels.

    Attributes
    ----------
    status : str
        ``untouched`` (Pixel Data byte-identical), ``cleaned`` or ``rejected``.
    reason : str
        Human-readable explanation (names the LABELs / locations or the rejection cause).
    regions : tuple of Region
        The regions applied (recipe coordinates first, then PII locations).
    detection : Detection
        The ``%filter`` result (``.as_upstream()`` gives upstream's dict).
    locations : tuple of PIILocation
        The matching PII locations.
    clean : CleanResult or None
        Codec details when pixels were masked.
    """

    status: str
    reason: str
    regions: tuple[Region, ...] = ()
    detection: Detection = field(default_factory=Detection)
    locations: tuple[PIILocation, ...] = ()
    clean: CleanResult | None = None

    @property
    def flagged(self) -> bool:
        """True when a ``%filter`` LABEL or a PII location matched."""
        return self.detection.flagged or bool(self.locations)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready summary (for run reports).

        Examples
        --------
        >>> PixelOutcome("untouched", "no rule applies").to_dict()["status"]
        'untouched'
        """
        out: dict[str, Any] = {
            "status": self.status,
            "reason": self.reason,
            "flagged": self.flagged,
            "labels": [f"{m.group}/{m.label}" for m in self.detection.matches],
            "regions": [[0 if not r.keep else 1, r.spec()] for r in self.regions],
        }
        if self.clean is not None:
            out.update(
                method=self.clean.method,
                frames=self.clean.frames_total,
                frames_touched=len(self.clean.frames_touched),
                pixels_masked=self.clean.pixels_masked,
                transfer_syntax_in=self.clean.transfer_syntax_in,
                transfer_syntax_out=self.clean.transfer_syntax_out,
            )
        return out


def _suspect_in(state: dict[str, Any], options: PixelOptions) -> str | None:
    """Why a header state (see :func:`deid.pixels.detect.header_state`) marks the image suspect."""
    burned = str(state.get("BurnedInAnnotation") or "").strip().upper()
    if burned == "YES":
        return "(0028,0301) BurnedInAnnotation is YES"
    modality = str(state.get("Modality") or "").strip().upper()
    if modality and modality in {m.upper() for m in options.suspect_modalities}:
        return f"(0008,0060) Modality {modality} is marked suspect"
    image_type = state.get("ImageType")
    if options.suspect_image_types and image_type is not None:
        values = [image_type] if isinstance(image_type, str) else list(image_type)
        wanted = {t.strip().upper() for t in options.suspect_image_types}
        hit = next((str(v) for v in values if str(v).strip().upper() in wanted), None)
        if hit is not None:
            return f"(0008,0008) ImageType {hit} is marked suspect"
    return None


def _suspect_reason(ds: Dataset, detection: Detection, options: PixelOptions) -> str | None:
    """Why the image must be cleaned or refused: its input header (as the detection saw it,
    before the header rules ran) or its current header says so, or the caller's test does."""
    states = [header_state(ds)]
    if detection.header is not None:
        states.insert(0, detection.header)
    for state in states:
        reason = _suspect_in(dict(state), options)
        if reason is not None:
            return reason
    if options.suspect is not None and options.suspect(ds):
        return "the image is marked suspect by the caller"
    return None


def _restore_burned_in(ds: Dataset, detection: Detection) -> None:
    """Undo a BurnedInAnnotation NO that no cleaning earned: put back the input header's YES."""
    original = dict(detection.header or ())
    if str(original.get("BurnedInAnnotation") or "").strip().upper() != "YES":
        return
    if str(ds.get("BurnedInAnnotation") or "").strip().upper() != "YES":
        ds.BurnedInAnnotation = "YES"


def process_pixels(
    ds: Dataset,
    recipe_or_filters: Any = None,
    *,
    locations: PIILocationList | list[PIILocation] | None = None,
    options: PixelOptions | None = None,
) -> PixelOutcome:
    """Detect and blank burned-in annotation of one dataset, in place.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        The image (file meta included); modified in place when cleaned.
    recipe_or_filters : Recipe, sequence of FilterGroup, DeidRecipe-like, Detection or None
        The ``%filter`` rules, or a :class:`Detection` computed earlier (e.g. before the header
        engine removed the attributes the criteria read).
    locations : PIILocationList or list of PIILocation, optional
        idiscore-style PII locations; their areas are blanked on matching images.
    options : PixelOptions, optional

    Returns
    -------
    PixelOutcome
        Rejected images are left unmodified; so are untouched ones (Pixel Data byte-identical).

    Raises
    ------
    deid.errors.DeidError
        A recipe criterion or coordinate that cannot be evaluated (names the recipe line).

    Examples
    --------
    >>> from pydicom import Dataset
    >>> process_pixels(Dataset(), None).status
    'untouched'
    """
    options = options or PixelOptions()
    if isinstance(recipe_or_filters, Detection):
        detection = recipe_or_filters
    else:
        detection = detect(ds, recipe_or_filters)
    if locations is not None and not isinstance(locations, PIILocationList):
        locations = PIILocationList(locations)
    matched_locations = tuple(locations.get_locations(ds)) if locations is not None else ()
    outcome = _decide(ds, detection, matched_locations, options)
    if outcome.status != "cleaned":
        _restore_burned_in(ds, detection)
    return outcome


def _decide(
    ds: Dataset,
    detection: Detection,
    matched_locations: tuple[PIILocation, ...],
    options: PixelOptions,
) -> PixelOutcome:
    """The body of :func:`process_pixels`: reject, leave untouched, or mask in place."""
    regions = detection.regions + tuple(r for loc in matched_locations for r in loc.regions())
    base: dict[str, Any] = {
        "regions": regions,
        "detection": detection,
        "locations": matched_locations,
    }
    if "PixelData" not in ds:
        floats = [k for k in ("FloatPixelData", "DoubleFloatPixelData") if k in ds]
        if floats and (regions or _suspect_reason(ds, detection, options)):
            return PixelOutcome(
                "rejected", f"{floats[0]} cannot be cleaned (only Pixel Data is supported)", **base
            )
        return PixelOutcome("untouched", "no Pixel Data", **base)
    try:
        touched = touched_frames(ds, regions)
    except DeidError as exc:
        return PixelOutcome("rejected", str(exc), **base)
    if not touched:
        rejecting = {g.lower() for g in options.reject_groups}
        blacklisted = [m for m in detection.matches if m.group.lower() in rejecting]
        if blacklisted:
            names = ", ".join(repr(m.label) for m in blacklisted)
            return PixelOutcome(
                "rejected",
                f"matches %filter blacklist LABEL {names} and no rule blanks any pixel",
                **base,
            )
        suspect = _suspect_reason(ds, detection, options)
        if suspect and options.reject_uncovered:
            return PixelOutcome(
                "rejected",
                f"{suspect} and no %filter rule or PII location blanks any pixel of the image",
                **base,
            )
        why = "no %filter rule or PII location blanks any pixel"
        if suspect:
            why += f" ({suspect}; accepted because reject_uncovered is off)"
        return PixelOutcome("untouched", why, **base)
    try:
        result = clean_dataset(ds, regions, fill=options.fill, target=options.target)
    except DeidError as exc:
        return PixelOutcome("rejected", f"pixel cleaning failed: {exc}", **base)
    if options.update_burned_in and str(ds.get("BurnedInAnnotation") or "").upper() == "YES":
        ds.BurnedInAnnotation = "NO"
    sources = [f"{m.group}/{m.label}" for m in detection.matches if m.regions]
    sources += [f"PII location {loc.comment}".strip() for loc in matched_locations]
    reason = (
        f"blanked {result.pixels_masked} pixels in {len(result.frames_touched)} of "
        f"{result.frames_total} frame(s) ({result.method}) by {', '.join(sources)}"
    )
    return PixelOutcome("cleaned", reason, clean=result, **base)
