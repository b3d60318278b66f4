"""Pixel cleaning: ``%filter`` detection, PII locations, masking on every transfer syntax.

The stages, each usable on its own:

* :func:`detect` — evaluate a recipe's ``%filter`` groups on a header -> :class:`Detection`
  (``.as_upstream()`` is upstream's ``{"flagged", "results"}``);
* :class:`PIILocationList` — idiscore-style areas + criterion;
* :func:`clean_dataset` — blank regions in place, frame by frame, keeping the transfer syntax
  when a lossless encoder exists and untouched Pixel Data byte-identical;
* :func:`process_pixels` — all of the above in one call for the runner -> :class:`PixelOutcome`.

Codecs come from pydicom and the ``pixels`` extra (pylibjpeg plugins, pyjpegls); they are
imported only when compressed data has to be decoded.

Examples
--------
>>> from pydicom import Dataset
>>> process_pixels(Dataset(), None).status
'untouched'
"""

from __future__ import annotations

from deid.pixels.clean import CleanError, CleanResult, clean_dataset, touched_frames
from deid.pixels.criteria import FilterError, apply_filter, evaluate_group
from deid.pixels.detect import Detection, Match, detect, extract_coordinates
from deid.pixels.locations import PIILocation, PIILocationList, SquareArea
from deid.pixels.process import PixelOptions, PixelOutcome, process_pixels
from deid.pixels.regions import Region, RegionError, parse_spec

__all__ = [
    "CleanError",
    "CleanResult",
    "Detection",
    "FilterError",
    "Match",
    "PIILocation",
    "PIILocationList",
    "PixelOptions",
    "PixelOutcome",
    "Region",
    "RegionError",
    "SquareArea",
    "apply_filter",
    "clean_dataset",
    "detect",
    "evaluate_group",
    "extract_coordinates",
    "parse_spec",
    "process_pixels",
    "touched_frames",
]
