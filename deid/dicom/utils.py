"""File helpers of the pydicom/deid drop-in API: read, find and save DICOM files.

``save_dicom`` never overwrites an input unless ``overwrite=True`` was given, and writes through
a temporary name in the target folder followed by a rename.

Examples
--------
>>> from deid.data import get_dataset
>>> len(list(get_files(get_dataset("dicom-cookies"))))
7
"""

from __future__ import annotations

import atexit
import fnmatch
import os
import shutil
import tempfile
import uuid
import zipfile
from collections.abc import Iterable, Iterator
from typing import Any

import pydicom
from pydicom.dataset import Dataset, FileDataset
from pydicom.errors import InvalidDicomError

from deid.errors import DeidError, DicomReadError
from deid.logger import bot

__all__ = [
    "OutputExistsError",
    "dcmread",
    "get_files",
    "load_dicom",
    "output_path",
    "save_dicom",
]


class OutputExistsError(DeidError, FileExistsError):
    """The output file exists and ``overwrite`` was not given (upstream printed and went on)."""


def dcmread(filename: Any, **kwargs: Any) -> FileDataset:
    """Read a DICOM file with :func:`pydicom.dcmread` (same arguments).

    Examples
    --------
    >>> from pydicom.data import get_testdata_file
    >>> dcmread(get_testdata_file("CT_small.dcm")).Modality
    'CT'
    """
    return pydicom.dcmread(filename, **kwargs)


def load_dicom(dcm_file: Any, force: bool = True) -> Dataset:
    """Return ``dcm_file`` if it is a Dataset, else read it.

    Raises :class:`deid.errors.DicomReadError` naming the file if it cannot be read.

    Examples
    --------
    >>> ds = Dataset()
    >>> load_dicom(ds) is ds
    True
    """
    if isinstance(dcm_file, Dataset):
        return dcm_file
    try:
        return pydicom.dcmread(dcm_file, force=force)
    except (OSError, InvalidDicomError, ValueError, EOFError) as exc:
        raise DicomReadError(f"{dcm_file}: cannot read as DICOM: {exc}") from exc


def _is_dicom(path: str, force: bool) -> bool:
    try:
        pydicom.dcmread(path, force=force, stop_before_pixels=True)
    except Exception as exc:  # noqa: BLE001 - any read failure: not a DICOM file we can use
        bot.warning(f"{path} cannot be read as DICOM ({type(exc).__name__}), skipping.")
        return False
    return True


#: Extraction folders that get_files created itself (not a caller's ``tempdir``); the caller
#: uses the yielded paths after the generator returns, so they are removed at interpreter exit.
_OWN_TEMPDIRS: list[str] = []


def _remove_own_tempdirs() -> None:
    while _OWN_TEMPDIRS:
        shutil.rmtree(_OWN_TEMPDIRS.pop(), ignore_errors=True)


atexit.register(_remove_own_tempdirs)


def _expand_zip(path: str, tempdir: str | None) -> list[str]:
    if tempdir is None:
        tempdir = tempfile.mkdtemp(prefix="deid-zip-")
        _OWN_TEMPDIRS.append(tempdir)
    target = os.path.join(tempdir, os.path.splitext(os.path.basename(path))[0])
    os.makedirs(target, exist_ok=True)
    with zipfile.ZipFile(path) as archive:
        members = [m for m in archive.namelist() if not m.endswith("/")]
        for member in members:
            dest = os.path.abspath(os.path.join(target, member))
            if not dest.startswith(os.path.abspath(target) + os.sep):
                raise DeidError(f"{path}: zip member {member!r} escapes the extraction folder")
            archive.extract(member, target)
    return [os.path.join(target, m) for m in sorted(members)]


def get_files(
    contenders: str | Iterable[str],
    check: bool = True,
    pattern: str | None = None,
    force: bool = False,
    tempdir: str | None = None,
) -> Iterator[str]:
    """Yield the DICOM files found in files and folders (walked recursively, in os.walk order).

    Parameters
    ----------
    contenders : str or list of str
        Files and/or directories.
    check : bool
        Yield only files pydicom can read (header only is read).
    pattern : str, optional
        fnmatch pattern on basenames (default ``*``).
    force : bool
        Passed to pydicom when checking (files without the DICM preamble need ``True``).
    tempdir : str, optional
        Where ``.zip`` inputs are extracted (a new temporary folder when None); every member of
        every zip is yielded.

    Examples
    --------
    >>> import tempfile
    >>> list(get_files(tempfile.mkdtemp()))
    []
    """
    if isinstance(contenders, (str, os.PathLike)):
        contenders = [os.fspath(contenders)]
    pattern = pattern or "*"
    for contender in contenders:
        contender = os.fspath(contender)
        if os.path.isdir(contender):
            candidates: list[str] = []
            # os.walk order, as upstream (scripts and tests take "the first file" of a folder)
            for root, _dirnames, filenames in os.walk(contender):
                candidates.extend(os.path.join(root, f) for f in fnmatch.filter(filenames, pattern))
        elif os.path.isfile(contender):
            candidates = [contender]
        else:
            bot.warning(f"{contender} does not exist, skipping.")
            continue
        for candidate in candidates:
            if candidate.lower().endswith(".zip") and zipfile.is_zipfile(candidate):
                members = _expand_zip(candidate, tempdir)
                for member in members:
                    if not check or _is_dicom(member, force):
                        yield member
                continue
            if not check or _is_dicom(candidate, force):
                yield candidate


def output_path(
    dicom_file: str | None, output_folder: str | None = None, overwrite: bool = False
) -> str:
    """Return where :func:`save_dicom` writes ``dicom_file`` (creating a temp folder if needed).

    Examples
    --------
    >>> output_path("/data/a.dcm", "/out")
    '/out/a.dcm'
    """
    if dicom_file is None:
        name = f"deid-{uuid.uuid4().hex[:12]}.dcm"
        source_dir = None
    else:
        name = os.path.basename(os.fspath(dicom_file))
        source_dir = os.path.dirname(os.path.abspath(os.fspath(dicom_file)))
    if output_folder is None:
        if overwrite and source_dir is not None:
            output_folder = source_dir
        else:
            output_folder = tempfile.mkdtemp(prefix="deid-")
    return os.path.join(output_folder, name)


def _write_dataset(dicom: Dataset, target: str) -> None:
    folder = os.path.dirname(os.path.abspath(target))
    os.makedirs(folder, exist_ok=True)
    # a fresh name (not mkstemp, whose 0600 mode would stick): pydicom creates it with the
    # usual umask-derived permissions
    tmp = os.path.join(folder, f".deid-{uuid.uuid4().hex}.part")
    from deid.runner.fastwrite import save_dataset  # save_as's bytes, written faster

    try:
        with open(tmp, "wb") as fh:
            save_dataset(dicom, fh)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def save_dicom(
    dicom: Dataset,
    dicom_file: str | None,
    output_folder: str | None = None,
    overwrite: bool = False,
) -> str:
    """Write ``dicom`` as ``output_folder/basename(dicom_file)`` and return the path.

    * ``output_folder=None`` and ``overwrite=False``: a new temporary folder is created (callers
      writing many files, like ``replace_identifiers``, pass one folder for the whole call).
    * ``output_folder=None`` and ``overwrite=True``: the input's own folder (the input is
      replaced; only when asked for explicitly).
    * An existing target with ``overwrite=False`` raises :class:`OutputExistsError` (upstream
      printed an error and returned the path anyway).

    The file is written to a temporary name and renamed into place.

    Examples
    --------
    >>> import tempfile
    >>> from pydicom.data import get_testdata_file
    >>> ds = dcmread(get_testdata_file("CT_small.dcm"))
    >>> out = save_dicom(ds, "/in/ct.dcm", output_folder=tempfile.mkdtemp())
    >>> os.path.basename(out), dcmread(out).Modality
    ('ct.dcm', 'CT')
    """
    target = output_path(dicom_file, output_folder, overwrite)
    if os.path.exists(target) and not overwrite:
        raise OutputExistsError(
            f"{target} exists; pass overwrite=True to replace it (input {dicom_file})"
        )
    _write_dataset(dicom, target)
    return target
