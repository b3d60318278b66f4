"""Header functions of the pydicom/deid drop-in API.

``get_identifiers`` lists every element (flattened, upstream's uids as keys);
``replace_identifiers`` applies a recipe to many files or datasets;
``remove_private_identifiers`` strips private tags.

Examples
--------
>>> from pydicom import Dataset
>>> ds = Dataset(); ds.PatientName = "Doe"
>>> ids = get_identifiers(ds)
>>> list(ids[None])
['(0010,0010)']
"""

from __future__ import annotations

import copy
import os
import tempfile
from typing import Any

from pydicom.dataset import Dataset

from deid.dicom.fields import DicomField
from deid.dicom.parser import DicomParser
from deid.dicom.utils import OutputExistsError, load_dicom, output_path, save_dicom
from deid.errors import DeidError

__all__ = ["get_identifiers", "remove_private_identifiers", "replace_identifiers"]

_EMPTY_RECIPE = type("_NoRecipe", (), {"deid": {"format": "dicom", "header": []}})()


def _as_list(dicom_files: Any) -> list[Any]:
    if isinstance(dicom_files, (str, os.PathLike, Dataset)):
        return [dicom_files]
    return list(dicom_files)


def get_identifiers(
    dicom_files: Any,
    force: bool = True,
    config: Any = None,
    strip_sequences: bool = False,
    remove_private: bool = False,
    disable_skip: bool = False,
    expand_sequences: bool = True,
) -> dict[str | None, dict[str, DicomField]]:
    """Return ``{absolute path: {uid: DicomField}}`` for every non-skipped element.

    Parameters
    ----------
    dicom_files : str, Dataset or list
        Paths, ``FileDataset``\\ s or plain ``Dataset``\\ s (keyed by their ``filename`` made
        absolute, or None).
    force : bool
        Read files without the DICM preamble.
    config : dict or str, optional
        Alternative get/put configuration (skip list).
    strip_sequences, remove_private : bool
        List the fields as they would be after removing sequences / private tags (the input
        datasets are not modified: a copy is used).
    disable_skip : bool
        Include the skip-listed elements (PixelData, TransferSyntaxUID, ...).
    expand_sequences : bool
        Include the elements inside sequence items (``(0008,1110)__0__(0008,1150)``).

    Examples
    --------
    >>> from deid.data import get_dataset
    >>> from deid.dicom import get_files
    >>> path = sorted(get_files(get_dataset("humans")))[0]
    >>> len(get_identifiers(path)[os.path.abspath(path)])
    218
    """
    result: dict[str | None, dict[str, DicomField]] = {}
    for item in _as_list(dicom_files):
        dicom = load_dicom(item, force=force)
        if isinstance(item, Dataset) and (strip_sequences or remove_private):
            dicom = copy.deepcopy(dicom)
        parser = DicomParser(
            dicom, recipe=_EMPTY_RECIPE, config=config, force=force, disable_skip=disable_skip
        )
        if not isinstance(item, Dataset):
            parser.dicom_file = os.path.abspath(os.fspath(item))
            parser.dicom_name = os.path.basename(parser.dicom_file)
        if strip_sequences:
            from deid.dicom.tags import remove_sequences

            remove_sequences(parser.dicom)
        if remove_private:
            parser.remove_private()
        fields = parser.get_fields(expand_sequences=expand_sequences)
        result[parser.dicom_file] = dict(fields.items())
    return result


def _lookup_for(ids: dict[Any, Any], item: Any, parser: DicomParser) -> dict[str, Any] | None:
    keys: list[Any] = [parser.dicom_file]
    if isinstance(item, (str, os.PathLike)):
        keys.append(os.fspath(item))
    for key in keys:
        if key in ids:
            return ids[key]
    if parser.dicom_file is None and None in ids:
        return ids[None]
    return None


def replace_identifiers(
    dicom_files: Any,
    ids: dict[Any, dict[str, Any]] | None = None,
    deid: Any = None,
    save: bool = False,
    overwrite: bool = False,
    output_folder: str | None = None,
    force: bool = True,
    config: Any = None,
    strip_sequences: bool = False,
    remove_private: bool = False,
    disable_skip: bool = False,
) -> list[Any]:
    """Apply a recipe to files or datasets; return the datasets, or the written paths.

    Parameters
    ----------
    dicom_files : str, Dataset or list
        Inputs (datasets are modified in place).
    ids : dict, optional
        ``{path: {name: value or function}}`` — the variables and functions of ``var:`` and
        ``func:`` (usually ``get_identifiers`` output with keys added). Keys may be absolute or
        as given.
    deid : DeidRecipe, str or list, optional
        The recipe (default: the shipped ``dicom`` recipe). Loaded once per call; its ``deid``
        dict is re-read for every file.
    save : bool
        Write the results and return their paths instead of the datasets.
    overwrite : bool
        Allow replacing existing outputs; with no ``output_folder`` it writes over the inputs.
    output_folder : str, optional
        Where to write. With ``save=True`` and neither this nor ``overwrite``, ONE new temporary
        folder is created for the whole call.
    force, config, disable_skip : see :class:`deid.dicom.parser.DicomParser`.
    strip_sequences, remove_private : bool
        Delete all sequences / private elements before the recipe runs.

    Raises
    ------
    deid.errors.DeidError
        For a recipe that cannot run (undefined function...), or two inputs that would be
        written to the same output path.

    Examples
    --------
    >>> from pydicom import Dataset
    >>> ds = Dataset(); ds.PatientID = "123"; ds.Modality = "CT"
    >>> from deid.config import DeidRecipe
    >>> out = replace_identifiers(ds, deid=DeidRecipe())
    >>> "PatientID" in out[0], out[0].Modality
    (False, 'CT')
    """
    items = _as_list(dicom_files)
    ids = ids or {}
    if deid is None or not hasattr(deid, "deid"):
        from deid.config import DeidRecipe

        deid = DeidRecipe(deid)
    if save:
        if output_folder is None and not overwrite:
            output_folder = tempfile.mkdtemp(prefix="deid-")
        seen: dict[str, Any] = {}
        for item in items:
            name = item if not isinstance(item, Dataset) else getattr(item, "filename", None)
            if not isinstance(name, (str, os.PathLike)):
                continue
            target = output_path(os.fspath(name), output_folder, overwrite)
            if target in seen:
                raise DeidError(
                    f"{seen[target]} and {name} would both be written to {target}; "
                    "use different output folders"
                )
            seen[target] = name
            if os.path.exists(target) and not overwrite:
                raise OutputExistsError(f"{target} exists; pass overwrite=True to replace it")
    results: list[Any] = []
    # one call, one recipe: the plan is looked up once (the recipe dict is still re-read on
    # every call, so edits made between calls are honoured)
    plan_memo: dict[Any, Any] = {}
    for item in items:
        parser = DicomParser(
            item, recipe=deid, config=config, force=force, disable_skip=disable_skip
        )
        parser._plan_memo = plan_memo
        lookup = _lookup_for(ids, item, parser)
        if lookup:
            parser.lookup.update(lookup)
        parser.parse(strip_sequences=strip_sequences, remove_private=remove_private)
        if save:
            results.append(save_dicom(parser.dicom, parser.dicom_file, output_folder, overwrite))
        else:
            results.append(parser.dicom)
    return results


def remove_private_identifiers(
    dicom_files: Any,
    save: bool = True,
    overwrite: bool = False,
    output_folder: str | None = None,
    force: bool = True,
) -> list[Any]:
    """Delete every private element; return written paths (``save=True``) or datasets.

    Examples
    --------
    >>> from pydicom import Dataset
    >>> ds = Dataset(); ds.add_new(0x00090010, "LO", "ME"); ds.PatientID = "x"
    >>> [len(d) for d in remove_private_identifiers(ds, save=False)]
    [1]
    """
    items = _as_list(dicom_files)
    if save and output_folder is None and not overwrite:
        output_folder = tempfile.mkdtemp(prefix="deid-")
    results: list[Any] = []
    for item in items:
        parser = DicomParser(item, recipe=_EMPTY_RECIPE, force=force)
        parser.remove_private()
        if save:
            results.append(save_dicom(parser.dicom, parser.dicom_file, output_folder, overwrite))
        else:
            results.append(parser.dicom)
    return results
