"""Upstream's ``deid.dicom.pixels.detect``: burned-in annotation detection by recipe filters.

Result shapes are upstream's; the work is done by :func:`deid.pixels.detect`.

Examples
--------
>>> from deid.dicom.pixels.detect import evaluate_group
>>> evaluate_group([True, "and", False])
False
"""

from __future__ import annotations

import os
from typing import Any

from pydicom.dataset import Dataset

from deid.config import DeidRecipe
from deid.dicom.utils import load_dicom
from deid.logger import bot
from deid.pixels.criteria import evaluate_group as _evaluate_group
from deid.pixels.detect import as_filter_groups, detect
from deid.pixels.detect import extract_coordinates as _extract_coordinates
from deid.recipe.ast import Recipe

__all__ = [
    "DeidRecipe",
    "_has_burned_pixels_multi",
    "_has_burned_pixels_single",
    "evaluate_group",
    "extract_coordinates",
    "has_burned_pixels",
]


def _as_recipe(deid: Any) -> Any:
    """Return something :func:`deid.pixels.detect.as_filter_groups` understands."""
    if isinstance(deid, (DeidRecipe, Recipe)) or hasattr(deid, "to_recipe"):
        return deid
    return DeidRecipe(deid)


def _read(dicom_file: Any, force: bool) -> Dataset:
    if isinstance(dicom_file, Dataset):
        return dicom_file
    # the header is enough: large values (Pixel Data) are only read if a criterion needs them
    if isinstance(dicom_file, (str, os.PathLike)):
        from deid.dicom.utils import dcmread
        from deid.errors import DicomReadError

        try:
            return dcmread(dicom_file, force=force, defer_size="256 KB")
        except Exception as exc:
            raise DicomReadError(f"{dicom_file}: cannot read as DICOM: {exc}") from exc
    return load_dicom(dicom_file, force=force)


def evaluate_group(flags: list[Any]) -> bool:
    """Fold ``[bool, "and"|"or", bool, ...]`` left to right, without precedence.

    Parameters
    ----------
    flags : list
        Booleans and operators; not modified (upstream empties the list it is given).

    Examples
    --------
    >>> evaluate_group([False, "or", True])
    True
    """
    return _evaluate_group(flags)


def extract_coordinates(dicom: Dataset, field: str) -> list[str]:
    """Return ``"x0,y0,x1,y1"`` strings from the RegionLocation* items of ``field``.

    Examples
    --------
    >>> from pydicom import Dataset
    >>> extract_coordinates(Dataset(), "SequenceOfUltrasoundRegions")
    []
    """
    return _extract_coordinates(dicom, field)


def _has_burned_pixels_single(dicom_file: Any, force: bool = True, deid: Any = None) -> dict:
    """Return ``{"flagged": bool, "results": [{"reason", "group", "coordinates"}, ...]}``.

    Parameters
    ----------
    dicom_file : str, path or pydicom.dataset.Dataset
        The image (a plain in-memory Dataset is accepted; upstream raised TypeError).
    force : bool
        Passed to :func:`pydicom.dcmread`.
    deid : DeidRecipe or anything DeidRecipe accepts
        The recipe whose ``%filter`` section is evaluated (None: the default recipe).

    Examples
    --------
    >>> from pydicom import Dataset
    >>> ds = Dataset(); ds.Modality = "US"
    >>> _has_burned_pixels_single(ds, deid={"format": "dicom", "filter": {}})["flagged"]
    False
    """
    recipe = _as_recipe(deid)
    groups = as_filter_groups(recipe)
    if not groups:
        bot.warning("Deid provided does not have %filter, skipping pixel detection.")
        return {"flagged": False, "results": []}
    return detect(_read(dicom_file, force), groups).as_upstream()


def _key(item: Any) -> Any:
    try:
        hash(item)
        return item
    except TypeError:
        return getattr(item, "filename", None) or id(item)


def _has_burned_pixels_multi(dicom_files: list[Any], force: bool = True, deid: Any = None) -> dict:
    """Return ``{"clean": [inputs], "flagged": {input: single result}}``.

    Examples
    --------
    >>> from pydicom import Dataset
    >>> _has_burned_pixels_multi([], deid={"format": "dicom", "filter": {}})
    {'clean': [], 'flagged': {}}
    """
    recipe = _as_recipe(deid)
    groups = as_filter_groups(recipe)
    decision: dict[str, Any] = {"clean": [], "flagged": {}}
    for item in dicom_files:
        result = (
            _has_burned_pixels_single(item, force=force, deid=recipe)
            if groups
            else {
                "flagged": False,
                "results": [],
            }
        )
        if result["flagged"]:
            decision["flagged"][_key(item)] = result
        else:
            decision["clean"].append(item)
    return decision


def has_burned_pixels(dicom_files: Any, force: bool = True, deid: Any = None) -> dict:
    """Evaluate a recipe's ``%filter`` rules on one image or a list of images.

    Parameters
    ----------
    dicom_files : str, path, Dataset or list of those
        One input gives upstream's single result; a list gives ``{"clean", "flagged"}``.
    force : bool
        Passed to :func:`pydicom.dcmread`.
    deid : DeidRecipe or anything DeidRecipe accepts, optional
        None uses the default recipe (``dicom``).

    Returns
    -------
    dict
        Single: ``{"flagged": bool, "results": [{"reason", "group", "coordinates"}]}``;
        list: ``{"clean": [...], "flagged": {input: single result}}``.

    Examples
    --------
    >>> from pydicom import Dataset
    >>> ds = Dataset(); ds.Modality = "CT"; ds.ImageType = ["ORIGINAL", "PRIMARY"]
    >>> has_burned_pixels(ds, deid="dicom.ultrasound")["results"][0]["coordinates"]
    [[0, 'all']]
    """
    recipe = _as_recipe(deid)
    if isinstance(dicom_files, (list, tuple)):
        return _has_burned_pixels_multi(list(dicom_files), force=force, deid=recipe)
    return _has_burned_pixels_single(dicom_files, force=force, deid=recipe)
