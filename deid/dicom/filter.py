"""Upstream's ``deid.dicom.filter``: evaluate one ``%filter`` criterion on a dataset.

Upstream adds methods (``equals``, ``contains``, ...) to :class:`pydicom.dataset.Dataset` when
this module is imported; deid does not touch pydicom's classes. The same tests are available
as :func:`apply_filter` and as plain functions taking the dataset first.

Examples
--------
>>> from pydicom import Dataset
>>> ds = Dataset(); ds.Modality = "CT"
>>> apply_filter(ds, "Modality", "contains", "ct|mr")
True
>>> hasattr(Dataset, "contains")
False
"""

from __future__ import annotations

from typing import Any

from pydicom.dataset import Dataset

from deid.pixels.criteria import apply_filter as _apply

__all__ = [
    "apply_filter",
    "contains",
    "empty",
    "equals",
    "missing",
    "notcontains",
    "notequals",
    "present",
]


def apply_filter(dicom: Dataset, field: str, filter_name: str, value: Any = None) -> bool:
    """Return whether ``dicom`` passes ``<filter_name> <field> [<value>]``.

    Parameters
    ----------
    dicom : pydicom.dataset.Dataset
        The header to test.
    field : str
        A keyword, or a ``0xGGGGEEEE`` tag number.
    filter_name : str
        ``contains``, ``notcontains``, ``equals``, ``notequals``, ``missing``, ``present`` or
        ``empty`` (case-insensitive).
    value : str, optional
        Regular expression (``contains``) or text (``equals``); ignored by the value-less
        filters.

    Raises
    ------
    deid.pixels.criteria.FilterError
        Unknown filter name, or a value filter called without a value.

    Examples
    --------
    >>> from pydicom import Dataset
    >>> apply_filter(Dataset(), "PatientName", "missing")
    True
    """
    name = filter_name.strip().lower()
    if name in ("missing", "present", "empty"):
        value = None
    elif value is not None:
        value = str(value)
    return _apply(dicom, field, name, value)


def contains(dicom: Dataset, field: str, term: str) -> bool:
    """``contains`` (case-insensitive regular-expression search).

    Examples
    --------
    >>> from pydicom import Dataset
    >>> ds = Dataset(); ds.ImageType = ["ORIGINAL", "PRIMARY"]
    >>> contains(ds, "ImageType", "primary")
    True
    """
    return apply_filter(dicom, field, "contains", term)


def notcontains(dicom: Dataset, field: str, term: str) -> bool:
    """Negation of :func:`contains` (true when the field is absent)."""
    return apply_filter(dicom, field, "notcontains", term)


def equals(dicom: Dataset, field: str, term: str) -> bool:
    """``equals`` (case-insensitive, stripped string equality; no regular expression).

    Examples
    --------
    >>> from pydicom import Dataset
    >>> ds = Dataset(); ds.Modality = "CT"
    >>> equals(ds, "Modality", "ct"), equals(ds, "Modality", "CT|MR")
    (True, False)
    """
    return apply_filter(dicom, field, "equals", term)


def notequals(dicom: Dataset, field: str, term: str) -> bool:
    """Negation of :func:`equals` (true when the field is absent)."""
    return apply_filter(dicom, field, "notequals", term)


def missing(dicom: Dataset, field: str) -> bool:
    """True when the field is absent or has no value."""
    return apply_filter(dicom, field, "missing")


def present(dicom: Dataset, field: str) -> bool:
    """Negation of :func:`missing`."""
    return apply_filter(dicom, field, "present")


def empty(dicom: Dataset, field: str) -> bool:
    """True when the field is present with an empty value."""
    return apply_filter(dicom, field, "empty")
