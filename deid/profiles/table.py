"""The generated PS3.15 tables: Table E.1-1 rows, E.3.4-1 concept names, E.3.10-1 safe private.

The data file ``deid/profiles/_data/ps315_<edition>.json`` is produced by
``tools/generate_ps315.py`` (see ``_data/README.md`` for provenance); this module only reads it.

Examples
--------
>>> t = load_table()
>>> t.edition
'2026c'
>>> row = t.row_for_tag(0x00100010)
>>> row.name, row.basic
("Patient's Name", 'Z')
>>> t.row_for_tag(0x60023000).tag_text
'(60xx,3000)'
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache
from importlib import resources
from typing import Any, TypeVar, cast

from deid.engine.walk import tag_string
from deid.errors import ProfileError

__all__ = [
    "DEFAULT_EDITION",
    "OPTION_ALIASES",
    "OPTION_IDS",
    "ConceptRow",
    "OptionInfo",
    "Row",
    "SafePrivateRow",
    "Table",
    "available_editions",
    "format_tag",
    "load_table",
]

#: The newest edition shipped.
DEFAULT_EDITION = "2026c"

#: Option ids in the order of Table E.1-1's columns (plus the pixel-level options).
OPTION_IDS: tuple[str, ...] = (
    "retain-safe-private",
    "retain-uids",
    "retain-device-identity",
    "retain-institution-identity",
    "retain-patient-characteristics",
    "retain-long-full-dates",
    "retain-long-modified-dates",
    "clean-descriptors",
    "clean-structured-content",
    "clean-graphics",
    "clean-pixel-data",
    "clean-recognizable-visual-features",
)

#: Accepted spellings -> option id (idiscore rule-set names, short forms).
OPTION_ALIASES: dict[str, str] = {
    "retain_safe_private": "retain-safe-private",
    "rtnsafeprivopt": "retain-safe-private",
    "retain_uid": "retain-uids",
    "retain_uids": "retain-uids",
    "rtnuidsopt": "retain-uids",
    "retain_device_id": "retain-device-identity",
    "retain-device-id": "retain-device-identity",
    "retain_device_identity": "retain-device-identity",
    "rtndevidopt": "retain-device-identity",
    "retain_institution_id": "retain-institution-identity",
    "retain-institution-id": "retain-institution-identity",
    "retain_institution_identity": "retain-institution-identity",
    "rtninstidopt": "retain-institution-identity",
    "retain_patient_chars": "retain-patient-characteristics",
    "retain-patient-chars": "retain-patient-characteristics",
    "retain_patient_characteristics": "retain-patient-characteristics",
    "rtnpatcharsopt": "retain-patient-characteristics",
    "retain_long_full_dates": "retain-long-full-dates",
    "retain-full-dates": "retain-long-full-dates",
    "rtnlongfulldatesopt": "retain-long-full-dates",
    "retain_long_modified_dates": "retain-long-modified-dates",
    "retain_modified_dates": "retain-long-modified-dates",
    "retain-modified-dates": "retain-long-modified-dates",
    "rtnlongmodifdatesopt": "retain-long-modified-dates",
    "clean_descriptors": "clean-descriptors",
    "clean_desc": "clean-descriptors",
    "cleandescopt": "clean-descriptors",
    "clean_structured_content": "clean-structured-content",
    "clean_structured": "clean-structured-content",
    "cleanstructcontopt": "clean-structured-content",
    "clean_graphics": "clean-graphics",
    "cleangraphopt": "clean-graphics",
    "clean_pixel_data": "clean-pixel-data",
    "clean_pixel": "clean-pixel-data",
    "clean-pixel": "clean-pixel-data",
    "clean_recognizable_visual_features": "clean-recognizable-visual-features",
    "clean_visual_features": "clean-recognizable-visual-features",
}


#: ``(GGGG,EEEE)`` for a tag number (``format_tag(0x00100010) == "(0010,0010)"``).
format_tag = tag_string


@dataclass(frozen=True, slots=True)
class Row:
    """One row of Table E.1-1.

    Attributes
    ----------
    id : str
        ``ggggeeee`` (lower-case hex), a pattern such as ``60xx3000``, or ``private``.
    kind : str
        ``tag``, ``tag_mask`` or ``private``.
    tag, mask : int or None
        Tag number (x digits as 0) and, for ``tag_mask``, the bits that must match.
    name : str
        Attribute name as printed in the standard.
    basic : str
        Basic Profile action code (``X``, ``Z``, ``D``, ``U``, ``Z/D``, ``X/Z``, ...).
    options : mapping
        Option id -> action code where the option changes the action.
    in_std_comp_iod : str or None
        ``Y``/``N`` (None for rows newer than the option source).
    options_source : str
        ``2024b`` (option columns from the source), ``inferred`` or ``none``.
    tag_text : str
        Display form of the tag.
    line : int
        1-based position of the row in the table (used as the span line of generated rules).
    """

    id: str
    kind: str
    tag: int | None
    mask: int | None
    name: str
    basic: str
    options: Mapping[str, str]
    in_std_comp_iod: str | None
    options_source: str
    tag_text: str
    line: int
    in_newest_source: bool = True

    def matches(self, tag: int) -> bool:
        """Whether the row covers the tag number ``tag``."""
        if self.kind == "private":
            return bool((tag >> 16) & 1)
        if self.kind == "tag_mask":
            assert self.mask is not None and self.tag is not None
            return (tag & self.mask) == self.tag
        return tag == self.tag


@dataclass(frozen=True, slots=True)
class ConceptRow:
    """One row of Table E.3.4-1 (SR content-item concept names)."""

    code_value: str
    scheme: str
    meaning: str
    value_type: str
    retired: str
    basic: str
    options: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class SafePrivateRow:
    """One row of Table E.3.10-1 (a private attribute thought safe)."""

    group: int
    offset: int
    creator: str
    vr: str
    vm: str
    meaning: str
    tag_text: str

    @property
    def idiscore_form(self) -> str:
        """The creator-qualified form ``gggg[creator]ee``."""
        return f"{self.group:04x}[{self.creator}]{self.offset:02x}"


@dataclass(frozen=True, slots=True)
class OptionInfo:
    """An option: id, title, CID 7050 code and the table column it comes from."""

    id: str
    title: str
    code: str
    scheme: str
    column: str | None


@dataclass(frozen=True)
class Table:
    """The loaded tables of one edition.

    Attributes
    ----------
    edition : str
        The edition of Table E.1-1's rows (``2026c``).
    options_edition : str
        The edition the option columns come from (``2024b``).
    rows : tuple of Row
    concepts : tuple of ConceptRow
    safe_private : tuple of SafePrivateRow
    options : dict
        Option id -> :class:`OptionInfo`.
    profile_code : tuple
        ``(code, scheme, meaning)`` of the Basic Profile (CID 7050).
    sources : tuple of dict
        The generator's record of each source (path, sha256, role).
    """

    edition: str
    options_edition: str
    companion_edition: str
    rows: tuple[Row, ...]
    concepts: tuple[ConceptRow, ...]
    safe_private: tuple[SafePrivateRow, ...]
    options: Mapping[str, OptionInfo]
    profile_code: tuple[str, str, str]
    sources: tuple[Mapping[str, str], ...]
    _by_tag: Mapping[int, Row] = field(default_factory=dict, repr=False)

    def row_for_tag(self, tag: int) -> Row | None:
        """The row governing ``tag``: exact tag, then repeating-group masks, then private."""
        row = self._by_tag.get(tag)
        if row is not None:
            return row
        for candidate in self.rows:
            if candidate.kind == "tag_mask" and candidate.matches(tag):
                return candidate
        if (tag >> 16) & 1:
            return self.private_row
        return None

    @property
    def private_row(self) -> Row:
        """The ``(gggg,eeee) where gggg is odd`` row."""
        return next(r for r in self.rows if r.kind == "private")

    def concept(self, code_value: str, scheme: str) -> ConceptRow | None:
        """The Table E.3.4-1 row for a concept code, or None."""
        for row in self.concepts:
            if row.code_value == code_value and row.scheme == scheme:
                return row
        return None


def available_editions() -> list[str]:
    """Editions of the table shipped with deid, newest last.

    Examples
    --------
    >>> "2026c" in available_editions()
    True
    """
    folder = resources.files("deid.profiles._data")
    names = [p.name for p in folder.iterdir() if p.name.startswith("ps315_")]
    return sorted(n[len("ps315_") : -len(".json")] for n in names if n.endswith(".json"))


def _load_json(edition: str) -> dict[str, Any]:
    folder = resources.files("deid.profiles._data")
    path = folder / f"ps315_{edition}.json"
    if not path.is_file():
        raise ProfileError(
            f"no PS3.15 table for edition {edition!r}; available: {', '.join(available_editions())}"
        )
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


_T = TypeVar("_T")


def _from_record(cls: type[_T], record: Mapping[str, Any], **given: Any) -> _T:
    """Build the row dataclass ``cls`` from a JSON record holding one key per field.

    Fields in ``given`` are not read from the record; an ``options`` mapping is copied.
    """
    names = [f.name for f in fields(cast(Any, cls)) if f.name not in given]
    values = {name: record[name] for name in names}
    if "options" in values:
        values["options"] = dict(values["options"])
    return cls(**values, **given)


@lru_cache(maxsize=4)
def load_table(edition: str = DEFAULT_EDITION) -> Table:
    """Load (and cache) the tables of ``edition``.

    Raises
    ------
    ProfileError
        When the edition is not shipped.
    """
    data = _load_json(edition)
    rows = [
        _from_record(Row, rec, line=line, in_newest_source=rec.get("in_2026c_source", True))
        for line, rec in enumerate(data["table_e1_1"], start=1)
    ]
    concepts = tuple(_from_record(ConceptRow, r) for r in data["table_e3_4_1"])
    safe = tuple(_from_record(SafePrivateRow, r) for r in data["table_e3_10_1"])
    options = {o["id"]: _from_record(OptionInfo, o) for o in data["options"]}
    pc = data["profile_code"]
    by_tag = {r.tag: r for r in rows if r.kind == "tag" and r.tag is not None}
    return Table(
        edition=data["edition"],
        options_edition=data["options_edition"],
        companion_edition=data["companion_edition"],
        rows=tuple(rows),
        concepts=concepts,
        safe_private=safe,
        options=options,
        profile_code=(pc["code"], pc["scheme"], pc["meaning"]),
        sources=tuple(data["sources"]),
        _by_tag=by_tag,
    )
