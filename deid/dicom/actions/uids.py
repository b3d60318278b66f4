"""Built-in UID functions for ``deid_func:`` (pydicom_uuid, dicom_uuid, basic_uuid, suffix_uuid).

Examples
--------
>>> from pydicom.dataelem import DataElement
>>> from deid.dicom.fields import DicomField
>>> f = DicomField(DataElement(0x00080018, "UI", "1.2.3"), "SOPInstanceUID", "(0008,0018)")
>>> pydicom_uuid(field=f) == pydicom_uuid(field=f)
True
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from pydicom.uid import generate_uid

from deid.errors import ApplyError

__all__ = ["pydicom_uuid", "dicom_uuid", "basic_uuid", "suffix_uuid"]

_ROOT_RE = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$")


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in ("false", "0", "no", "")
    return bool(value)


def pydicom_uuid(
    item: Any = None, value: Any = None, field: Any = None, dicom: Any = None, **kwargs: Any
) -> str:
    """``deid_func:pydicom_uuid [prefix=ROOT.] [stable_remapping=true|false]``.

    With stable remapping (the default) the new UID is ``pydicom.uid.generate_uid`` seeded with
    the original value, so the same input UID always maps to the same output UID (across files
    and runs). ``stable_remapping=false`` gives a random UID. Under ADD there is no original
    value, so a random UID is generated (upstream crashed).

    Examples
    --------
    >>> pydicom_uuid(stable_remapping="false", prefix="1.2.3.").startswith("1.2.3.")
    True
    """
    prefix = kwargs.get("prefix") or "2.25."
    if not prefix.endswith("."):
        prefix += "."
    if not _ROOT_RE.match(prefix[:-1]):
        raise ApplyError(f"deid_func:pydicom_uuid: prefix {prefix!r} is not a UID root")
    element = getattr(field, "element", None)
    stable = _truthy(kwargs.get("stable_remapping", True))
    if stable and element is not None and element.value not in (None, ""):
        return str(generate_uid(prefix=prefix, entropy_srcs=[str(element.value)]))
    return str(generate_uid(prefix=prefix))


def dicom_uuid(
    item: Any = None, value: Any = None, field: Any = None, dicom: Any = None, **kwargs: Any
) -> str:
    """``deid_func:dicom_uuid [org_root=ROOT]``: ``ROOT.<random uuid4 as integer>`` (<= 64 chars).

    The default root is ``2.25`` (upstream's ``anonymous-organization`` is not a valid UID);
    an ``org_root`` that is not a dotted number raises ApplyError.

    Examples
    --------
    >>> dicom_uuid(org_root="1.2.3").startswith("1.2.3.")
    True
    """
    root = str(kwargs.get("org_root") or "2.25").rstrip(".")
    if not _ROOT_RE.match(root):
        raise ApplyError(f"deid_func:dicom_uuid: org_root {root!r} is not a UID root")
    return ("%s.%d" % (root, uuid.uuid4().int))[:64].rstrip(".")


def basic_uuid(
    item: Any = None, value: Any = None, field: Any = None, dicom: Any = None, **kwargs: Any
) -> str:
    """``deid_func:basic_uuid``: a random uuid4 string (not a UID; for text fields).

    Examples
    --------
    >>> len(basic_uuid())
    36
    """
    return str(uuid.uuid4())


def suffix_uuid(
    item: Any = None, value: Any = None, field: Any = None, dicom: Any = None, **kwargs: Any
) -> str:
    """``deid_func:suffix_uuid``: ``<lower-cased field name>-<uuid4>``.

    Examples
    --------
    >>> from pydicom.dataelem import DataElement
    >>> from deid.dicom.fields import DicomField
    >>> f = DicomField(DataElement(0x00100020, "LO", "x"), "PatientID", "(0010,0020)")
    >>> suffix_uuid(field=f).startswith("patientid-")
    True
    """
    name = getattr(field, "name", None) or str(field or "field")
    return "%s-%s" % (name.lower(), uuid.uuid4())
