"""DICOM dictionary helpers of the pydicom/deid drop-in API (``deid.dicom.tags``).

Examples
--------
>>> get_tag("PatientID")["VR"]
'LO'
>>> get_tag("NotAKeyword") is None
True
"""

from __future__ import annotations

import re
from typing import Any

from pydicom.datadict import DicomDictionary, keyword_dict
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag, Tag

from deid.errors import DeidError

__all__ = [
    "add_tag",
    "find_tag",
    "get_private",
    "get_tag",
    "has_private",
    "remove_sequences",
    "update_tag",
]


def _manifest(tag: int) -> dict[str, Any]:
    VR, VM, name, _retired, keyword = DicomDictionary[tag]
    return {"tag": Tag(tag), "VR": VR, "VM": VM, "keyword": keyword, "name": name}


def get_tag(field: str) -> dict[str, Any] | None:
    """Return ``{"tag", "VR", "VM", "keyword", "name"}`` for a dictionary keyword, else None.

    Examples
    --------
    >>> m = get_tag("PatientName")
    >>> m["tag"] == 0x00100010, m["name"]
    (True, "Patient's Name")
    """
    tag = keyword_dict.get(field)
    if tag is None:
        return None
    return _manifest(tag)


def add_tag(
    identifier: str,
    VR: str = "ST",
    VM: str | None = None,
    name: str | None = None,
    keyword: str | None = None,
) -> dict[str, Any]:
    """Return a manifest like :func:`get_tag` for an 8-hex-digit tag string.

    Examples
    --------
    >>> add_tag("11112221", VR="LO")["tag"] == 0x11112221
    True
    """
    if not re.fullmatch(r"[0-9A-Fa-f]{8}", identifier or ""):
        raise DeidError(f"{identifier!r} is not an 8-hex-digit tag (e.g. 00100010)")
    return {
        "tag": Tag(int(identifier, 16)),
        "VR": VR,
        "VM": VM,
        "keyword": keyword or identifier,
        "name": name or identifier,
    }


def find_tag(
    term: str, VR: str | None = None, VM: str | None = None, retired: bool = False
) -> dict[str, dict[str, Any]]:
    """Search the dictionary: keyword -> manifest for names/keywords matching regex ``term``.

    Examples
    --------
    >>> "PatientBirthDate" in find_tag("birth date", VR="DA")
    True
    """
    regex = re.compile(term, re.IGNORECASE)
    found: dict[str, dict[str, Any]] = {}
    for tag, (vr, vm, name, is_retired, keyword) in DicomDictionary.items():
        if is_retired and not retired:
            continue
        if VR is not None and vr != VR:
            continue
        if VM is not None and vm != VM:
            continue
        if regex.search(name) or regex.search(keyword):
            found[keyword or name] = _manifest(tag)
    return found


def get_private(dicom: Dataset) -> list[DataElement]:
    """Return every private element, including those inside private sequences.

    Items of private sequences are searched (as upstream); private elements nested in public
    sequences are not listed (``Dataset.remove_private_tags`` removes those too).

    Examples
    --------
    >>> ds = Dataset(); ds.add_new(0x00090010, "LO", "ME"); ds.PatientID = "x"
    >>> [str(e.tag) for e in get_private(ds)]
    ['(0009,0010)']
    """
    found: list[DataElement] = []
    stack = [dicom]
    while stack:
        dataset = stack.pop()
        for element in dataset:
            if element.tag.is_private:
                found.append(element)
                if element.VR == "SQ" and element.value:
                    stack.extend(element.value)
    return found


def has_private(dicom: Dataset) -> bool:
    """True if the dataset has any private element (top level or in private sequences).

    The number found is reported through ``deid.logger.bot.info`` (as upstream printed it).

    Examples
    --------
    >>> has_private(Dataset())
    False
    """
    found = get_private(dicom)
    from deid.logger import bot

    bot.info(f"Found {len(found)} private elements")
    return bool(found)


def remove_sequences(dicom: Dataset) -> Dataset:
    """Delete every top-level sequence element (in place) and return the dataset.

    Examples
    --------
    >>> ds = Dataset(); ds.ProcedureCodeSequence = []; ds.PatientID = "x"
    >>> list(remove_sequences(ds).keys()) == [0x00100020]
    True
    """
    for tag in [e.tag for e in dicom if e.VR == "SQ"]:
        del dicom[tag]
    return dicom


def update_tag(dicom: Dataset, field: str | int | BaseTag, value: Any) -> Dataset:
    """Set the value of an existing element named by keyword or tag.

    Raises :class:`deid.errors.DeidError` if the element is absent.

    Examples
    --------
    >>> ds = Dataset(); ds.PatientID = "x"
    >>> update_tag(ds, "PatientID", "y").PatientID
    'y'
    """
    tag = keyword_dict.get(field) if isinstance(field, str) else field
    if tag is None and isinstance(field, str) and re.fullmatch(r"[0-9A-Fa-f]{8}", field):
        tag = int(field, 16)
    if tag is None or tag not in dicom:
        raise DeidError(f"update_tag: {field!r} is not present in the dataset")
    dicom[tag].value = value
    return dicom
