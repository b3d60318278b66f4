"""Value-level helpers of the profiles: VR-valid dummies and contextual descriptor cleaning.

Clean Descriptors (E.3.5) keeps free text but removes identifying content. deid's method is
contextual: the identifying values of the same dataset (patient and staff names and each of
their parts, IDs, birth date in common spellings, accession number, institution) are collected
*before* any change and masked wherever they occur inside the kept text, case-insensitively.

Examples
--------
>>> from pydicom import Dataset
>>> ds = Dataset()
>>> ds.PatientName = "Doe^Jane"
>>> ds.PatientID = "MRN12345"
>>> terms = identifying_terms(ds)
>>> mask_terms("CT for JANE DOE (mrn12345) follow-up", terms)
'CT for ******** (********) follow-up'
>>> dummy_value("DA")
'19000101'
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

__all__ = [
    "DUMMY_BY_VR",
    "IDENTIFYING_KEYWORDS",
    "dummy_value",
    "identifying_terms",
    "mask_terms",
]

#: Dummy values by VR (D action): valid for the VR, identify nothing.
DUMMY_BY_VR: dict[str, Any] = {
    "AE": "ANONYMOUS",
    "AS": "000Y",
    "CS": "ANONYMIZED",
    "DA": "19000101",
    "DS": "0",
    "DT": "19000101000000",
    "IS": "0",
    "LO": "ANONYMIZED",
    "LT": "ANONYMIZED",
    "PN": "ANONYMIZED",
    "SH": "ANONYMIZED",
    "ST": "ANONYMIZED",
    "TM": "000000",
    "UC": "ANONYMIZED",
    "UR": "urn:deid:removed",
    "UT": "ANONYMIZED",
    "FL": 0.0,
    "FD": 0.0,
    "SL": 0,
    "SS": 0,
    "SV": 0,
    "UL": 0,
    "US": 0,
    "UV": 0,
    "OB": b"",
    "OD": b"",
    "OF": b"",
    "OL": b"",
    "OV": b"",
    "OW": b"",
    "UN": b"",
}


def dummy_value(vr: str) -> Any:
    """Return the dummy for ``vr`` (``US or SS`` style VRs use their first VR).

    Examples
    --------
    >>> dummy_value("US or SS")
    0
    >>> dummy_value("SH")
    'ANONYMIZED'
    """
    key = str(vr or "UN").split(" ")[0].upper()
    return DUMMY_BY_VR.get(key, "ANONYMIZED")


#: Keywords whose values identify (collected for contextual cleaning; nested items included).
IDENTIFYING_KEYWORDS: tuple[str, ...] = (
    "PatientName",
    "PatientID",
    "OtherPatientIDs",
    "OtherPatientNames",
    "PatientBirthName",
    "PatientMotherBirthName",
    "PatientBirthDate",
    "PatientAddress",
    "PatientTelephoneNumbers",
    "MilitaryRank",
    "IssuerOfPatientID",
    "AccessionNumber",
    "StudyID",
    "InstitutionName",
    "InstitutionAddress",
    "InstitutionalDepartmentName",
    "ReferringPhysicianName",
    "PerformingPhysicianName",
    "NameOfPhysiciansReadingStudy",
    "PhysiciansOfRecord",
    "RequestingPhysician",
    "OperatorsName",
    "ScheduledPerformingPhysicianName",
    "ResponsiblePerson",
    "PersonName",
    "VerifyingObserverName",
    "StationName",
    "DeviceSerialNumber",
    "RequestedProcedureID",
    "ClinicalTrialSubjectID",
    "ClinicalTrialSubjectReadingID",
)

_NAME_VRS = ("PN",)
_MIN_PART = 2


def _date_spellings(value: str) -> list[str]:
    value = value.strip()
    if len(value) != 8 or not value.isdigit():
        return [value] if value else []
    y, m, d = value[:4], value[4:6], value[6:]
    return [
        value,
        f"{y}-{m}-{d}",
        f"{y}/{m}/{d}",
        f"{y}.{m}.{d}",
        f"{d}/{m}/{y}",
        f"{m}/{d}/{y}",
        f"{d}.{m}.{y}",
        f"{d}-{m}-{y}",
    ]


_WANTED_TAGS: dict[int, str] | None = None


def _wanted() -> dict[int, str]:
    global _WANTED_TAGS
    if _WANTED_TAGS is None:
        from pydicom.datadict import tag_for_keyword

        _WANTED_TAGS = {int(tag_for_keyword(k)): k for k in IDENTIFYING_KEYWORDS}
    return _WANTED_TAGS


def _is_sq(ds: Any, tag: int, raw: Any) -> bool:
    vr = getattr(raw, "VR", None)
    if vr == "SQ":
        return True
    if vr in (None, "UN") and not (tag >> 16) & 1:
        from pydicom.datadict import dictionary_VR

        try:
            return bool(dictionary_VR(tag) == "SQ")
        except KeyError:
            return False
    return False


def _walk(ds: Any) -> Iterable[Any]:
    """Yield the identifying elements of ``ds`` at any depth, converting only those."""
    wanted = _wanted()
    for tag, raw in list(ds._dict.items()):
        if tag in wanted:
            yield ds[tag]
        elif _is_sq(ds, tag, raw):
            for item in ds[tag].value or []:
                yield from _walk(item)


def identifying_terms(ds: Any, extra: Iterable[str] = ()) -> tuple[str, ...]:
    """Collect the identifying strings of a dataset (top level and nested items).

    Person names are split into their components and words (parts shorter than two characters
    are ignored), dates get their common spellings. Longest terms come first so that masking a
    full name happens before masking its parts.

    Examples
    --------
    >>> from pydicom import Dataset
    >>> ds = Dataset(); ds.PatientName = "Doe^John^A"; ds.PatientBirthDate = "19700102"
    >>> terms = identifying_terms(ds)
    >>> "Doe" in terms and "1970-01-02" in terms and "A" not in terms
    True
    """
    found: set[str] = {t for t in extra if t and len(t) >= _MIN_PART}
    for elem in _walk(ds):
        values = elem.value if elem.VM > 1 else [elem.value]
        for value in values:
            if value is None:
                continue
            text = str(value).strip()
            if not text:
                continue
            if elem.VR == "DA":
                found.update(_date_spellings(text))
                continue
            found.add(text)
            if elem.VR in _NAME_VRS or "^" in text:
                for part in re.split(r"[\^=\s,]+", text):
                    if len(part) >= _MIN_PART:
                        found.add(part)
                family_given = [p for p in text.split("=")[0].split("^") if p]
                if len(family_given) >= 2:
                    found.add(f"{family_given[1]} {family_given[0]}")
                    found.add(f"{family_given[0]} {family_given[1]}")
                    found.add(f"{family_given[0]}, {family_given[1]}")
    return tuple(sorted(found, key=lambda t: (-len(t), t)))


def mask_terms(text: str, terms: Iterable[str], mask: str = "*") -> str:
    """Replace every occurrence of each term in ``text`` (case-insensitive) with ``mask`` runs.

    Word-character terms only match at word boundaries, so a short surname does not eat into
    other words; the mask keeps the original length so layouts survive.

    Examples
    --------
    >>> mask_terms("Dr. Smith saw Smithson", ["Smith"])
    'Dr. ***** saw Smithson'
    """
    if not text:
        return text
    out = str(text)
    for term in terms:
        if not term:
            continue
        esc = re.escape(term)
        left = r"(?<!\w)" if term[0].isalnum() else ""
        right = r"(?!\w)" if term[-1].isalnum() else ""
        pattern = re.compile(left + esc + right, re.IGNORECASE)
        out = pattern.sub(lambda m: mask * len(m.group(0)), out)
    return out
