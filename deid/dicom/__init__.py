"""The pydicom/deid drop-in header API: ``from deid.dicom import get_identifiers, ...``.

Importing this package has no side effects (pydicom's classes, logging and plotting back-ends
are left alone). The pixel functions (``DicomCleaner``, ``clean_pixel_data``,
``has_burned_pixels``) are imported from :mod:`deid.dicom.pixels` on first use.

Examples
--------
>>> import deid.dicom
>>> callable(deid.dicom.get_identifiers), callable(deid.dicom.utils.dcmread)
(True, True)
"""

from __future__ import annotations

from typing import Any

from deid.dicom import utils
from deid.dicom.fields import extract_sequence
from deid.dicom.header import get_identifiers, remove_private_identifiers, replace_identifiers
from deid.dicom.utils import get_files

_PIXEL_NAMES = ("DicomCleaner", "clean_pixel_data", "has_burned_pixels")

__all__ = [
    "DicomCleaner",
    "clean_pixel_data",
    "extract_sequence",
    "get_files",
    "get_identifiers",
    "has_burned_pixels",
    "remove_private_identifiers",
    "replace_identifiers",
    "utils",
]


def __getattr__(name: str) -> Any:
    if name in _PIXEL_NAMES:
        from deid.dicom import pixels

        value = getattr(pixels, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'deid.dicom' has no attribute {name!r}")
