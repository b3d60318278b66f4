"""Built-in UID functions for ``deid_func:`` (pydicom_uuid, dicom_uuid, basic_uuid, suffix_uuid).

These are the engine's built-ins (:mod:`deid.engine.functions`), under upstream's import path:
a recipe's ``deid_func:pydicom_uuid`` and a direct call give the same result.

Examples
--------
>>> from pydicom.dataelem import DataElement
>>> from deid.dicom.fields import DicomField
>>> f = DicomField(DataElement(0x00080018, "UI", "1.2.3"), "SOPInstanceUID", "(0008,0018)")
>>> pydicom_uuid(field=f) == pydicom_uuid(field=f)
True
"""

from __future__ import annotations

from deid.engine.functions import basic_uuid, dicom_uuid, pydicom_uuid, suffix_uuid

__all__ = ["basic_uuid", "dicom_uuid", "pydicom_uuid", "suffix_uuid"]
