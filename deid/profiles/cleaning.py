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
from functools import lru_cache
from typing import Any

__all__ = [
    "DUMMY_BY_VR",
    "IDENTIFYING_KEYWORDS",
    "ascii_spellings",
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

        tags = {k: tag_for_keyword(k) for k in IDENTIFYING_KEYWORDS}
        _WANTED_TAGS = {int(t): k for k, t in tags.items() if t is not None}
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


def _raw_values(raw: Any, wanted: dict[int, str]) -> list[Any] | None:
    """The identifying elements inside an undecoded sequence, read from its bytes, or None.

    None when the sequence is not raw explicit VR little endian, the scanner gives up, or a
    value is not plain ASCII (then pydicom decodes the sequence with its character set).
    """
    from pydicom.dataelem import RawDataElement

    from deid.engine.rawscan import collect_values
    from deid.engine.walk import LightElement

    if type(raw) is not RawDataElement or raw.value is None:
        return None
    if raw.is_implicit_VR is not False or not raw.is_little_endian:
        return None
    found = collect_values(raw.value, frozenset(wanted))
    if found is None:
        return None
    out = []
    for tag, vr, data in found:
        if not data.isascii() or b"\x1b" in data:
            return None
        text = data.decode("ascii").rstrip("\x00 ")
        out.append(LightElement(tag, vr, text.split("\\") if "\\" in text else text))
    return out


def _walk(ds: Any) -> Iterable[Any]:
    """Yield the identifying elements of ``ds`` at any depth, converting only those."""
    from deid.engine.walk import light_element

    wanted = _wanted()
    for tag, raw in list(ds._dict.items()):
        if tag in wanted:
            yield light_element(ds, tag) or ds[tag]
        elif _is_sq(ds, tag, raw):
            inside = _raw_values(raw, wanted)
            if inside is not None:
                yield from inside
                continue
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
    for term in [t for t in found if not t.isascii()]:
        found.update(ascii_spellings(term))
    return tuple(sorted(found, key=lambda t: (-len(t), t)))


#: Letters that Unicode decomposition does not reduce to ASCII: one-letter and usual spellings.
_SINGLE = str.maketrans(
    {
        "ß": "s",
        "ø": "o",
        "Ø": "O",
        "æ": "a",
        "Æ": "A",
        "ł": "l",
        "Ł": "L",
        "þ": "t",
        "Þ": "T",
        "đ": "d",
        "Đ": "D",
        "œ": "o",
        "Œ": "O",
    }
)
_USUAL = str.maketrans(
    {
        "ä": "ae",
        "ö": "oe",
        "ü": "ue",
        "Ä": "Ae",
        "Ö": "Oe",
        "Ü": "Ue",
        "ß": "ss",
        "ø": "oe",
        "Ø": "Oe",
        "æ": "ae",
        "Æ": "Ae",
        "þ": "th",
        "Þ": "Th",
        "œ": "oe",
        "Œ": "Oe",
        "å": "aa",
        "Å": "Aa",
    }
)


def ascii_spellings(text: str) -> set[str]:
    """ASCII spellings of a name with accents or special letters, as people type them.

    Examples
    --------
    >>> sorted(ascii_spellings("Schröder"))
    ['Schroder', 'Schroeder']
    >>> sorted(ascii_spellings("Großmann"))
    ['Grosmann', 'Grossmann']
    """
    import unicodedata

    out = set()
    for variant in (text.translate(_USUAL), text.translate(_SINGLE)):
        folded = unicodedata.normalize("NFKD", variant)
        plain = "".join(c for c in folded if not unicodedata.combining(c))
        if plain.isascii() and plain != text and len(plain) >= _MIN_PART:
            out.add(plain)
    return out


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
    low = out.lower()
    if len(low) != len(out):  # case folding changed lengths: per-term regular expressions
        return _mask_regex(out, terms, mask)
    hits = bytearray(len(out))
    for term in _lowered(tuple(terms)):
        size = len(term)
        left, right = term[0].isalnum(), term[-1].isalnum()
        at = low.find(term)
        while at >= 0:
            end = at + size
            if not (left and at > 0 and _is_word(low[at - 1])) and not (
                right and end < len(low) and _is_word(low[end])
            ):
                hits[at:end] = b"\x01" * size
            at = low.find(term, at + 1)
    if not any(hits):
        return out
    return "".join(mask if hit else ch for ch, hit in zip(out, hits))


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


@lru_cache(maxsize=64)
def _lowered(terms: tuple[str, ...]) -> tuple[str, ...]:
    """The non-empty terms, lower-cased, longest first (once per set of terms)."""
    lowered = {t.lower() for t in terms if t}
    return tuple(t for t in sorted(lowered, key=lambda t: (-len(t), t)) if t)


def _mask_regex(out: str, terms: Iterable[str], mask: str) -> str:
    for term in terms:
        if not term:
            continue
        left = r"(?<!\w)" if term[0].isalnum() else ""
        right = r"(?!\w)" if term[-1].isalnum() else ""
        pattern = re.compile(left + re.escape(term) + right, re.IGNORECASE)
        out = pattern.sub(lambda m: mask * len(m.group(0)), out)
    return out
