"""Validation helper of the pydicom/deid drop-in API.

Examples
--------
>>> from pydicom.data import get_testdata_file
>>> len(validate_dicoms([get_testdata_file("CT_small.dcm"), "/nonexistent"]))
1
"""

from __future__ import annotations

from collections.abc import Iterable

import pydicom

from deid.logger import bot

__all__ = ["validate_dicoms"]


def validate_dicoms(dcm_files: str | Iterable[str], force: bool = False) -> list[str]:
    """Return the files pydicom can read (header only), warning about the others.

    Examples
    --------
    >>> validate_dicoms([])
    []
    """
    if isinstance(dcm_files, str):
        dcm_files = [dcm_files]
    valid = []
    for path in dcm_files:
        try:
            pydicom.dcmread(path, force=force, stop_before_pixels=True)
        except Exception as exc:  # noqa: BLE001 - any read failure: not usable DICOM
            bot.warning(f"{path} cannot be read as DICOM ({type(exc).__name__}), skipping.")
            continue
        valid.append(path)
    return valid
