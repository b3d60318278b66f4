"""Upstream's ``deid.dicom.pixels``: :class:`DicomCleaner`, :func:`clean_pixel_data` and
:func:`has_burned_pixels`, backed by :mod:`deid.pixels`.

Examples
--------
>>> from deid.dicom.pixels import has_burned_pixels
>>> callable(has_burned_pixels)
True
"""

from __future__ import annotations

from deid.dicom.pixels.clean import DicomCleaner, clean_pixel_data
from deid.dicom.pixels.detect import has_burned_pixels

__all__ = ["DicomCleaner", "clean_pixel_data", "has_burned_pixels"]
