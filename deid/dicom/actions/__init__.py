"""Built-in value functions of the pydicom/deid drop-in API (``deid_func:<name>``).

Examples
--------
>>> sorted(deid_funcs)
['basic_uuid', 'dicom_uuid', 'jitter', 'pydicom_uuid', 'suffix_uuid']
"""

from collections.abc import Callable
from typing import Any

from deid.dicom.actions.jitter import jitter_timestamp, jitter_timestamp_func
from deid.dicom.actions.uids import basic_uuid, dicom_uuid, pydicom_uuid, suffix_uuid

#: name -> function for ``deid_func:`` values.
deid_funcs: dict[str, Callable[..., Any]] = {
    "jitter": jitter_timestamp_func,
    "pydicom_uuid": pydicom_uuid,
    "dicom_uuid": dicom_uuid,
    "basic_uuid": basic_uuid,
    "suffix_uuid": suffix_uuid,
}

__all__ = [
    "basic_uuid",
    "deid_funcs",
    "dicom_uuid",
    "jitter_timestamp",
    "jitter_timestamp_func",
    "pydicom_uuid",
    "suffix_uuid",
]
