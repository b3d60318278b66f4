"""Collect the identifying values of an input dataset: the needles ``deid verify`` looks for.

A :class:`Needle` is one identifying value (a name part, an ID, a date, a UID, an address, a
free-text value, a private element's value ...) with the place it came from and the byte
patterns it may take in an output file (one per character set the value may be written in).

The rules that keep the check useful (no flood of false positives) and still fail closed are
documented in ``docs/pages/verify.md``:

* ASCII values shorter than :data:`MIN_ASCII` characters (name parts: :data:`MIN_NAME_PART`)
  and non-ASCII values shorter than :data:`MIN_WIDE` characters are not searched;
* a few placeholder words that de-identifiers write themselves (``ANONYMOUS``, ``REMOVED`` ...)
  and honorifics are not searched;
* purely numeric values are searched only when they have at least :data:`MIN_NUMERIC` digits
  (an ID), never as measurements;
* ASCII needles match case-insensitively and only as whole tokens (dates may be followed by a
  time, as in a DT value).

Examples
--------
>>> from pydicom import Dataset
>>> ds = Dataset()
>>> ds.PatientName = "Doe^Jane"
>>> ds.PatientID = "MRN-0042"
>>> sorted(n.text for n in collect_needles(ds))
['Doe', 'Doe^Jane', 'Jane', 'MRN-0042']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from pydicom import Dataset
from pydicom.charset import convert_encodings
from pydicom.datadict import dictionary_keyword
from pydicom.dataelem import DataElement
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.uid import UID_dictionary

__all__ = [
    "MIN_ASCII",
    "MIN_NAME_PART",
    "MIN_NUMERIC",
    "MIN_WIDE",
    "PLACEHOLDERS",
    "Needle",
    "RetainSet",
    "collect_needles",
    "element_label",
    "iter_elements",
    "keyword_of",
    "non_identifying_values",
    "retain_from_options",
]

#: Shortest ASCII value searched (IDs, addresses, free text ...).
MIN_ASCII = 4
#: Shortest ASCII name part searched (``Li`` and ``Wu`` are too common to search alone; the
#: whole name still is).
MIN_NAME_PART = 3
#: Shortest non-ASCII value searched, in characters (``山田`` is two).
MIN_WIDE = 2
#: Shortest purely numeric value searched, in digits.
MIN_NUMERIC = 6

#: Words de-identifiers write themselves, and honorifics; never searched on their own.
PLACEHOLDERS = frozenset(
    {
        "ANON",
        "ANONYMOUS",
        "ANONYMIZED",
        "ANONYMISED",
        "DEIDENTIFIED",
        "DE-IDENTIFIED",
        "REMOVED",
        "REDACTED",
        "UNKNOWN",
        "NONE",
        "NULL",
        "YES",
        "TRUE",
        "FALSE",
        "PATIENT",
        "DOCTOR",
        "MISS",
        "MRS",
        "PHD",
        "III",
        "ESQ",
        "PROF",
    }
)

# Categories. Identification of the patient and of the encounter.
_IDS = {
    "PatientID",
    "OtherPatientIDs",
    "IssuerOfPatientID",
    "AccessionNumber",
    "StudyID",
    "RequestedProcedureID",
    "ScheduledProcedureStepID",
    "PerformedProcedureStepID",
    "AdmissionID",
    "IssuerOfAdmissionID",
    "ServiceEpisodeID",
    "PlacerOrderNumberImagingServiceRequest",
    "FillerOrderNumberImagingServiceRequest",
    "MedicalRecordLocator",
    "InsurancePlanIdentification",
    "ResultsID",
    "InterpretationID",
    "PatientInsurancePlanCodeSequence",
    "OtherPatientIDsSequence",
    "ClinicalTrialSubjectID",
    "ClinicalTrialSubjectReadingID",
    "ClinicalTrialSiteID",
    "ClinicalTrialProtocolID",
    "ClinicalTrialSponsorName",
    "ClinicalTrialSiteName",
    "ClinicalTrialTimePointID",
    "ClinicalTrialCoordinatingCenterName",
    "PersonIdentificationCodeSequence",
    "VerifyingObserverIdentificationCodeSequence",
    "ContainerIdentifier",
    "SpecimenIdentifier",
    "StorageMediaFileSetID",
}
_ADDRESS = {
    "PatientAddress",
    "PatientTelephoneNumbers",
    "PatientTelecomInformation",
    "CountryOfResidence",
    "RegionOfResidence",
    "ReferringPhysicianAddress",
    "ReferringPhysicianTelephoneNumbers",
    "PersonAddress",
    "PersonTelephoneNumbers",
    "PersonTelecomInformation",
    "ResponsiblePersonTelephone",
    "MilitaryRank",
    "BranchOfService",
    "PatientReligiousPreference",
    "Occupation",
    "PatientBirthName",
    "PatientMotherBirthName",
    "CurrentPatientLocation",
    "PatientInstitutionResidence",
    "EmergencyContactTelephoneNumber",
}
_INSTITUTION = {
    "InstitutionName",
    "InstitutionAddress",
    "InstitutionalDepartmentName",
    "RequestingService",
    "ScheduledStudyLocation",
    "ScheduledStudyLocationAETitle",
    "ScheduledProcedureStepLocation",
    "PerformedLocation",
    "PerformedProcedureStepLocation",
    "InstitutionalDepartmentTypeCodeSequence",
    "VerifyingOrganization",
    "InstitutionCodeSequence",
    "ResponsibleOrganization",
}
_DEVICE = {
    "StationName",
    "DeviceSerialNumber",
    "DeviceUID",
    "DetectorID",
    "GantryID",
    "PlateID",
    "CassetteID",
    "DeviceLabel",
    "DeviceID",
    "SourceApplicationEntityTitle",
    "SendingApplicationEntityTitle",
    "ReceivingApplicationEntityTitle",
    "PerformedStationAETitle",
    "PerformedStationName",
    "ScheduledStationAETitle",
    "ScheduledStationName",
    "StationAETitle",
    "RetrieveAETitle",
    "LargePaletteColorLookupTableUID",
    "ManufacturerDeviceClassUID",
    "UDISequence",
    "UniqueDeviceIdentifier",
}
_FREE_TEXT = {
    "PatientComments",
    "AdditionalPatientHistory",
    "ImageComments",
    "StudyComments",
    "RequestedProcedureComments",
    "ImagingServiceRequestComments",
    "InterpretationText",
    "InterpretationDiagnosisDescription",
    "TextValue",
    "VisitComments",
    "IdentifyingComments",
    "FrameComments",
    "AcquisitionComments",
    "MedicalAlerts",
    "Allergies",
    "SpecialNeeds",
    "PatientState",
    "ReasonForTheRequestedProcedure",
    "ReasonForStudy",
    "AdmittingDiagnosesDescription",
    "OverlayDescription",
    "OverlayLabel",
    "UnformattedTextValue",
    "TopicTitle",
    "TopicSubject",
    "TopicAuthor",
    "TopicKeywords",
    "DerivationDescription",
    "ContentCreatorName",
    "ServiceEpisodeDescription",
    "ScheduledProcedureStepDescription",
    "PerformedProcedureStepDescription",
    "RequestedProcedureDescription",
    "AnnotationGroupDescription",
    "LabelText",
    "ResultsComments",
    "Impressions",
    "TextString",
}
#: Descriptions kept (cleaned) under the Clean Descriptors option.
_DESCRIPTORS = {
    "StudyDescription",
    "SeriesDescription",
    "ProtocolName",
    "PerformedProcedureStepDescription",
    "ScheduledProcedureStepDescription",
    "RequestedProcedureDescription",
    "ImageComments",
    "AcquisitionComments",
    "DerivationDescription",
    "FrameComments",
    "ContentLabel",
}
_DATE_VRS = {"DA", "DT"}
#: VRs whose values are searched when the recipe/profile given to verify changes them (coded
#: strings, numbers and times are enumerations or measurements, not identifying text).
_REMOVED_VRS = {"AE", "DA", "DT", "LO", "LT", "PN", "SH", "ST", "UC", "UT"}
_TEXT_VRS = {
    "AE",
    "AS",
    "CS",
    "DA",
    "DS",
    "DT",
    "IS",
    "LO",
    "LT",
    "PN",
    "SH",
    "ST",
    "TM",
    "UC",
    "UI",
    "UR",
    "UT",
}
#: UI elements that name a class, syntax or implementation, never an instance.
_NON_INSTANCE_UIDS = {
    0x00020002,
    0x00020010,
    0x00020012,
    0x00080016,
    0x00081150,
    0x0008010C,
    0x0008010D,
    0x00080117,
    0x00041510,
    0x00041512,
    0x00080062,
    0x0008001A,
}
_NUMERIC = re.compile(r"^[+-]?[0-9][0-9.eE+\-:/ ]*$")
_HONOURABLE = re.compile(r"^(DR|MR|MRS|MS|JR|SR|MD|RN)\.?$", re.IGNORECASE)


@dataclass(frozen=True)
class RetainSet:
    """What the profile options say to keep, so that verify does not report it.

    Attributes are booleans named after the PS3.15 options.

    Examples
    --------
    >>> retain_from_options(["retain-uids"]).uids
    True
    """

    uids: bool = False
    full_dates: bool = False
    device: bool = False
    institution: bool = False
    safe_private: bool = False
    descriptors: bool = False
    patient_characteristics: bool = False


def retain_from_options(options: Iterable[str]) -> RetainSet:
    """Map PS3.15 option names (any spelling: ``retain-uids``, ``RetainUIDs``, ``113110``) to a
    :class:`RetainSet`.

    Examples
    --------
    >>> r = retain_from_options(["Retain Longitudinal Temporal Information Full Dates"])
    >>> r.full_dates, r.uids
    (True, False)
    """
    flags: dict[str, bool] = {}
    for option in options:
        key = re.sub(r"[^a-z0-9]", "", option.lower())
        if "uid" in key or key == "113110":
            flags["uids"] = True
        elif ("full" in key and "date" in key) or key in {"113106", "retainlongfulldates"}:
            flags["full_dates"] = True
        elif "device" in key or key == "113109":
            flags["device"] = True
        elif "institution" in key or key == "113112":
            flags["institution"] = True
        elif "private" in key or key == "113111":
            flags["safe_private"] = True
        elif "descriptor" in key or key == "113105":
            flags["descriptors"] = True
        elif "characteristic" in key or key == "113108":
            flags["patient_characteristics"] = True
    return RetainSet(**flags)


@dataclass
class Needle:
    """One identifying value of an input file.

    Attributes
    ----------
    text : str
        The value as decoded from the input.
    kind : str
        ``name``, ``id``, ``date``, ``uid``, ``address``, ``institution``, ``device``,
        ``free_text``, ``private`` or ``removed`` (changed by the recipe/profile given to verify).
    source : str
        Where it was in the input, e.g. ``(0010,0010) PatientName``.
    patterns : list of bytes
        Byte forms searched in the output (lower-cased for ASCII).
    boundary : str
        ``token`` (whole token), ``date`` (not preceded by a digit), ``uid`` or ``none``.
    """

    text: str
    kind: str
    source: str
    patterns: list[bytes] = field(default_factory=list)
    boundary: str = "token"

    @property
    def ascii(self) -> bool:
        """True when the value is plain ASCII (matched case-insensitively as a token)."""
        return self.text.isascii()


def keyword_of(tag: int) -> str:
    """Return the keyword of a tag, repeating groups (``60xx``) included, or ``""``.

    Examples
    --------
    >>> keyword_of(0x60021500)
    'OverlayLabel'
    """
    if (tag >> 16) % 2:
        return ""
    try:
        return str(dictionary_keyword(tag))
    except KeyError:
        return ""


def element_label(tag: int, path: str = "") -> str:
    """Return ``(gggg,eeee) Keyword`` for a tag, prefixed by its sequence path.

    Examples
    --------
    >>> element_label(0x00100010)
    '(0010,0010) PatientName'
    >>> element_label(0x00081155, "(0008,1140)[0].")
    '(0008,1140)[0].(0008,1155) ReferencedSOPInstanceUID'
    """
    kw = keyword_of(tag) or ("private" if (tag >> 16) % 2 else "unknown")
    return f"{path}({tag >> 16:04X},{tag & 0xFFFF:04X}) {kw}"


def iter_elements(ds: Dataset, path: str = "") -> Iterator[tuple[str, DataElement, list[str]]]:
    """Yield ``(path_prefix, element, charsets)`` for every element, depth first, file meta first.

    ``charsets`` is the Specific Character Set in force for the element (nested items may set
    their own). Elements that fail to decode are yielded with their raw value.

    Examples
    --------
    >>> from pydicom import Dataset
    >>> ds = Dataset(); ds.PatientID = "X"
    >>> [e.keyword for _, e, _ in iter_elements(ds)]
    ['PatientID']
    """
    meta = getattr(ds, "file_meta", None)
    if meta is not None and not path:
        for elem in _safe_elements(meta):
            yield "", elem, ["ISO_IR 6"]
    yield from _walk(ds, path, _charsets_of(ds, ["ISO_IR 6"]))


def _charsets_of(ds: Dataset, default: list[str]) -> list[str]:
    try:
        raw = ds.get("SpecificCharacterSet")
        value = raw.value if raw is not None else None
    except Exception:  # noqa: BLE001 - a broken charset is checked with the default
        return default
    if not value:
        return default
    if isinstance(value, (list, MultiValue)):
        return [str(v) for v in value]
    return [str(value)]


_SKIP_TAGS = frozenset({0x7FE00010, 0x7FE00008, 0x7FE00009, 0xFFFCFFFC})


def _safe_elements(ds: Dataset) -> Iterator[DataElement]:
    for tag in list(ds.keys()):
        if int(tag) in _SKIP_TAGS:
            continue
        try:
            yield ds[tag]
        except Exception:  # noqa: BLE001 - undecodable element: give the raw one
            raw = ds.get_item(tag)
            if raw is not None:
                yield DataElement(tag, "UN", getattr(raw, "value", b"") or b"")


def _walk(
    ds: Dataset, path: str, charsets: list[str]
) -> Iterator[tuple[str, DataElement, list[str]]]:
    for elem in _safe_elements(ds):
        yield path, elem, charsets
        if elem.VR == "SQ" and isinstance(elem.value, Sequence):
            for i, item in enumerate(elem.value):
                sub = f"{path}({elem.tag >> 16:04X},{elem.tag & 0xFFFF:04X})[{i}]."
                yield from _walk(item, sub, _charsets_of(item, charsets))


def _python_encodings(charsets: list[str]) -> list[str]:
    try:
        return list(convert_encodings([c for c in charsets if c]))
    except Exception:  # noqa: BLE001 - unknown charset: fall back to latin-1
        return ["iso8859"]


def _values_of(elem: DataElement, charsets: list[str]) -> list[str]:
    return _split_value(elem.value, elem.VR, charsets)


def _split_value(value: object, vr: str, charsets: list[str]) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, bytes):
        return _decode_bytes(value, charsets)
    if isinstance(value, (list, MultiValue, tuple)):
        out = []
        for v in value:
            out.extend(_split_value(v, vr, charsets))
        return out
    if isinstance(value, (int, float)):
        return [] if vr not in {"IS", "DS"} else [str(value)]
    return [str(value)]


def _decode_bytes(value: bytes, charsets: list[str]) -> list[str]:
    """Decode a text-like byte value (UN, private) into its backslash-separated values."""
    if len(value) < 2:
        return []
    for enc in _python_encodings(charsets) + ["utf-8", "latin-1"]:
        try:
            text = value.decode(enc)
            break
        except (UnicodeDecodeError, LookupError):
            continue
    else:  # pragma: no cover - latin-1 decodes anything
        return []
    text = text.rstrip("\x00 ")
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    if not text:
        return []
    if printable < 0.9 * len(text):
        # a binary blob (a vendor header): keep its runs of text, like strings(1)
        runs = re.findall(r"[\x20-\x7e\u00c0-\u024f]{4,}", value.decode("latin-1"))
        return [r.strip() for r in runs if any(c.isalpha() for c in r) and r.strip()]
    return [v.strip() for v in re.split(r"[\\\x00-\x1f]", text) if v.strip()]


def _name_parts(text: str) -> list[str]:
    parts: list[str] = []
    for group in text.split("="):
        comps = [c.strip() for c in group.split("^") if c.strip()]
        if len(comps) >= 2 and not group.isascii():
            # ideographic names are written without separators: family + given, and reversed
            for sep in ("", " "):
                parts.append(comps[0] + sep + comps[1])
                parts.append(comps[1] + sep + comps[0])
        for comp in group.split("^"):
            comp = comp.strip()
            if not comp:
                continue
            parts.append(comp)
            words = [w.strip(".,") for w in re.split(r"[\s,]+", comp) if w.strip(".,")]
            if len(words) > 1:
                parts.extend(words)
    return parts


def _searchable(text: str, kind: str) -> bool:
    t = text.strip()
    if not t or t.upper() in PLACEHOLDERS or _HONOURABLE.match(t):
        return False
    if not t.isascii():
        return len(t) >= MIN_WIDE
    if kind in ("date", "uid"):
        return True
    if _NUMERIC.match(t):
        return sum(c.isdigit() for c in t) >= MIN_NUMERIC
    minimum = MIN_NAME_PART if kind == "name_part" else MIN_ASCII
    return len(t) >= minimum


def _date_forms(text: str) -> list[str]:
    digits = text.strip()[:8]
    if len(digits) != 8 or not digits.isdigit():
        return [text.strip()] if len(text.strip()) >= MIN_ASCII else []
    y, m, d = digits[:4], digits[4:6], digits[6:8]
    return [
        digits,
        f"{y}-{m}-{d}",
        f"{y}.{m}.{d}",
        f"{y}/{m}/{d}",
        f"{m}/{d}/{y}",
        f"{d}/{m}/{y}",
        f"{d}.{m}.{y}",
    ]


def _patterns(text: str, encodings: list[str]) -> list[bytes]:
    if text.isascii():
        return [text.lower().encode("ascii")]
    out: list[bytes] = []
    for enc in dict.fromkeys(
        encodings
        + [
            "utf-8",
            "latin-1",
            "cp1252",
            "gb18030",
            "iso2022_jp",
            "shift_jis",
            "euc_jp",
            "euc_kr",
            "iso8859_5",
            "iso8859_7",
        ]
    ):
        try:
            data = text.encode(enc)
        except (UnicodeEncodeError, LookupError):
            continue
        if enc.startswith("iso2022"):
            data = re.sub(rb"\x1b[\(\)\$][\(\)]?[@-Z]", b"", data)
        if len(data) >= 2:
            out.append(data.lower())
    return list(dict.fromkeys(out))


#: Sequences whose items identify a person: every text value inside is treated as an ID.
_ID_SEQUENCES = tuple(
    f"({t >> 16:04X},{t & 0xFFFF:04X})["
    for t in (
        0x00101002,
        0x00401101,
        0x00080096,
        0x00081049,
        0x00081052,
        0x00081062,
        0x00081072,
        0x00100024,
        0x00080051,
        0x00400026,
        0x00400027,
    )
)


def _kind_for(elem: DataElement, path: str = "") -> str | None:
    kw = keyword_of(int(elem.tag))
    if int(elem.tag) == 0x00020102:
        return "private"  # Private Information: whatever the sending application put there
    if elem.tag >> 16 == 0x0002 and kw not in _DEVICE:
        return None  # file meta: only AE titles and private information are identifying
    if elem.VR == "PN":
        return "name"
    if kw in _IDS:
        return "id"
    if kw in _ADDRESS:
        return "address"
    if kw in _INSTITUTION:
        return "institution"
    if kw in _DEVICE:
        return "device"
    if kw in _FREE_TEXT or kw in _DESCRIPTORS:
        return "free_text"
    if elem.VR in _DATE_VRS:
        return "date"
    if elem.VR == "UI":
        return "uid"
    if path and elem.VR in _TEXT_VRS and any(seq in path for seq in _ID_SEQUENCES):
        return "id"
    return None


def collect_needles(
    ds: Dataset,
    retain: RetainSet | None = None,
    *,
    extra_keys: set[str] | None = None,
    removed_private: set[str] | None = None,
) -> list[Needle]:
    """Return the identifying values of ``ds`` (file meta and preamble included).

    Parameters
    ----------
    ds : pydicom.Dataset
        The input dataset.
    retain : RetainSet, optional
        What the profile options keep (not searched).
    extra_keys : set of str, optional
        Element labels (as :func:`element_label` builds them) that the recipe or profile given to
        verify changes or removes; their values are searched too (kind ``removed``).
    removed_private : set of str, optional
        With ``retain.safe_private``: labels of the private elements that the output no longer
        holds unchanged. Without it, every private value is searched.

    Returns
    -------
    list of Needle
        Deduplicated by (text, kind).

    Examples
    --------
    >>> from pydicom import Dataset
    >>> ds = Dataset(); ds.StudyDate = "20240131"
    >>> [(n.text, n.kind) for n in collect_needles(ds)]
    [('20240131', 'date')]
    >>> collect_needles(ds, retain_from_options(["retain-full-dates"]))
    []
    """
    retain = retain or RetainSet()
    extra_keys = extra_keys or set()
    found: dict[tuple[str, str], Needle] = {}  # keyed by lower-cased text: first place wins
    kept_by_option: set[str] = set()  # values an option keeps, wherever else they occur

    def add(
        text: str, kind: str, source: str, encodings: list[str], forms: list[str] | None = None
    ) -> None:
        text = text.strip().strip("\x00").strip()
        check_kind = "name_part" if kind == "name_part" else kind
        if not _searchable(text, check_kind):
            return
        shown = "name" if kind == "name_part" else kind
        key = (text.lower(), "")
        if key in found:
            return
        boundary = {"date": "date", "uid": "uid"}.get(shown, "token")
        patterns = [p for f in (forms or [text]) for p in _patterns(f, encodings)]
        found[key] = Needle(text, shown, source, list(dict.fromkeys(patterns)), boundary)

    for path, elem, charsets in iter_elements(ds):
        label = element_label(elem.tag, path)
        encodings = _python_encodings(charsets)
        tag = int(elem.tag)
        group, offset = tag >> 16, tag & 0xFFFF
        if elem.VR == "SQ":
            continue
        if group % 2 == 1:
            if offset < 0x0100 and offset >= 0x0010:
                continue  # private creator
            if retain.safe_private and label not in (removed_private or set()):
                continue
            if elem.VR not in _TEXT_VRS and elem.VR not in ("UN", "OB"):
                continue
            for v in _values_of(elem, charsets):
                add(v, "private", label, encodings)
                for part in _name_parts(v) if "^" in v else []:
                    add(part, "name_part", label, encodings)
            continue
        kind = _kind_for(elem, path)
        if label in extra_keys and kind is None and elem.VR in _REMOVED_VRS:
            kind = "removed"
        if kind is None:
            continue
        if kind == "uid" and tag in _NON_INSTANCE_UIDS:
            continue
        if (
            (kind == "uid" and retain.uids)
            or (kind == "date" and retain.full_dates)
            or (kind == "device" and retain.device)
            or (kind == "institution" and retain.institution)
            or (kind == "free_text" and retain.descriptors and keyword_of(tag) in _DESCRIPTORS)
        ):
            for v in _values_of(elem, charsets):
                kept_by_option.add(v.strip().lower())
                if kind == "date":
                    kept_by_option.add(v.strip()[:8])
            continue
        for v in _values_of(elem, charsets):
            if kind == "uid":
                if v in UID_dictionary:
                    continue
                add(v, "uid", label, ["ascii"])
            elif kind == "date":
                add(v.strip()[:8], "date", label, ["ascii"], _date_forms(v))
            elif kind == "name":
                add(v, "name", label, encodings)
                for part in _name_parts(v):
                    add(part, "name_part", label, encodings)
            else:
                add(v, kind, label, encodings)
    preamble = getattr(ds, "preamble", None)
    if preamble:
        for v in _decode_bytes(bytes(preamble), ["ISO_IR 6"]):
            for word in re.findall(r"[^\x00-\x20]{4,}", v):
                add(word, "preamble", "preamble", ["latin-1"])

    return [n for (text, _), n in found.items() if text not in kept_by_option]


def non_identifying_values(ds: Dataset, needles: list[Needle]) -> set[str]:
    """Return the whole values (lower-cased) of elements that are not identifying.

    A needle equal to one of them cannot be told apart from kept research data (``HEAD`` as a
    name part and as Body Part Examined); verify reports it as *ambiguous*, not as a leak.

    Examples
    --------
    >>> from pydicom import Dataset
    >>> ds = Dataset(); ds.BodyPartExamined = "HEAD"; ds.PatientName = "HEAD^ALICE"
    >>> sorted(non_identifying_values(ds, collect_needles(ds)))
    ['head']
    """
    sources = {n.source for n in needles}
    out: set[str] = set()
    for path, elem, charsets in iter_elements(ds):
        if elem.VR in ("SQ", "PN", "UI") or (elem.tag >> 16) % 2 == 1:
            continue
        if elem.tag >> 16 == 0x0002 or _kind_for(elem, path) is not None:
            continue
        label = element_label(elem.tag, path)
        if label in sources or elem.VR not in _TEXT_VRS:
            continue
        for v in _values_of(elem, charsets):
            out.add(v.strip().lower())
    return out
