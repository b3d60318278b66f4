"""Sample data of the pydicom/deid drop-in API, backed by the ``deid-data`` package.

``data_base`` is the directory holding the shipped recipes (``deid.dicom`` ...).

Examples
--------
>>> import os
>>> os.path.isdir(data_base)
True
"""

from __future__ import annotations

import os
from importlib.resources import files

__all__ = ["DATASETS", "data_base", "get_dataset"]

#: Directory with the shipped recipe files (``deid.dicom``, ``deid.dicom.ultrasound`` ...).
data_base: str = os.path.abspath(str(files("deid._recipes")))

#: Names of the deid-data sample sets.
DATASETS: tuple[str, ...] = ("dicom-cookies", "animals", "humans", "ultrasounds")


def get_dataset(dataset: str | None = None) -> str | None:
    """Return the folder of a deid-data sample set, or None for an unknown name.

    The name is case-insensitive and may carry an extension. An unknown name prints the valid
    names and returns None (as upstream); a missing ``deid-data`` package raises a ValueError
    that names the extra to install.

    Parameters
    ----------
    dataset : str, optional
        ``dicom-cookies``, ``animals``, ``humans`` or ``ultrasounds``.

    Examples
    --------
    >>> os.path.basename(get_dataset("humans"))
    'humans'
    """
    try:
        from deid_data import data as _deid_data
    except ImportError as exc:
        from deid.errors import MissingExtraError

        class _NoData(MissingExtraError, ValueError):
            pass

        raise _NoData(
            "the deid-data package is needed for sample data: pip install 'deid[data]'"
        ) from exc
    base = os.path.dirname(os.path.abspath(_deid_data.__file__))
    if dataset is not None:
        name = os.path.splitext(os.path.basename(str(dataset)))[0].lower()
        if name in DATASETS:
            return os.path.join(base, name)
    print(f"Valid datasets include: {','.join(DATASETS)}")
    return None
