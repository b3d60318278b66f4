#!/usr/bin/env python3
"""Generate ``deid/profiles/_data/ps315_<edition>.json`` from the sources vendored in tools/vendor.

The output holds DICOM PS3.15 Table E.1-1 (one record per row, keyed on tag numbers, with
repeating groups as masks and the private-attribute row as its own kind), the companion tables
E.3.4-1 (Clean Structured Content concept names) and E.3.10-1 (safe private attributes), the
CID 7050 de-identification method codes and a header naming the edition, each source and its
SHA-256. It is sorted and carries no timestamp, so ``--check`` can rebuild it byte for byte.

Sources (see tools/vendor/README.md):

* ``dicom_anonymizer/dicomfields_2026c.py`` - the 2026c Basic Profile column (row set + action);
  read with :mod:`ast` (never imported or executed).
* ``innolitics/confidentiality_profile_attributes.json`` - the 2024b table with every option
  column; used for names, the "in standard composite IOD" flag and the option columns.
* ``ps315_text/part15_annex_E_2020.rst`` - the Annex E text, source of Tables E.3.4-1 and
  E.3.10-1 (reStructuredText grid tables).

Rows of 2026c that the 2024b option source does not cover are flagged
``"options_source": "none"`` (Basic Profile applies whatever the option) or, for date/time rows,
``"inferred"`` (the two longitudinal-date options are filled in as for every other date/time row).

Usage::

    python tools/generate_ps315.py           # write the file
    python tools/generate_ps315.py --check   # exit 1 if the committed file differs
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _checked_output import write_or_check

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "tools" / "vendor"
EDITION = "2026c"
OPTIONS_EDITION = "2024b"
OUT = ROOT / "deid" / "profiles" / "_data" / f"ps315_{EDITION}.json"

ANONYMIZER = VENDOR / "dicom_anonymizer" / "dicomfields_2026c.py"
INNOLITICS = VENDOR / "innolitics" / "confidentiality_profile_attributes.json"
TEXT = VENDOR / "ps315_text" / "part15_annex_E_2020.rst"

#: dicom-anonymizer list name -> action code of the Basic Profile column.
CATEGORY_CODES = {
    "D_TAGS": "D",
    "Z_TAGS": "Z",
    "X_TAGS": "X",
    "U_TAGS": "U",
    "Z_D_TAGS": "Z/D",
    "X_Z_TAGS": "X/Z",
    "X_D_TAGS": "X/D",
    "X_Z_D_TAGS": "X/Z/D",
    "X_Z_U_STAR_TAGS": "X/Z/U*",
}

#: Option ids (kebab-case) -> (innolitics column key, title, CID 7050 code).
OPTIONS: list[tuple[str, str | None, str, str]] = [
    ("retain-safe-private", "rtnSafePrivOpt", "Retain Safe Private Option", "113111"),
    ("retain-uids", "rtnUIDsOpt", "Retain UIDs Option", "113110"),
    ("retain-device-identity", "rtnDevIdOpt", "Retain Device Identity Option", "113109"),
    (
        "retain-institution-identity",
        "rtnInstIdOpt",
        "Retain Institution Identity Option",
        "113112",
    ),
    (
        "retain-patient-characteristics",
        "rtnPatCharsOpt",
        "Retain Patient Characteristics Option",
        "113108",
    ),
    (
        "retain-long-full-dates",
        "rtnLongFullDatesOpt",
        "Retain Longitudinal Temporal Information Full Dates Option",
        "113106",
    ),
    (
        "retain-long-modified-dates",
        "rtnLongModifDatesOpt",
        "Retain Longitudinal Temporal Information Modified Dates Option",
        "113107",
    ),
    ("clean-descriptors", "cleanDescOpt", "Clean Descriptors Option", "113105"),
    (
        "clean-structured-content",
        "cleanStructContOpt",
        "Clean Structured Content Option",
        "113104",
    ),
    ("clean-graphics", "cleanGraphOpt", "Clean Graphics Option", "113103"),
    ("clean-pixel-data", None, "Clean Pixel Data Option", "113101"),
    (
        "clean-recognizable-visual-features",
        None,
        "Clean Recognizable Visual Features Option",
        "113102",
    ),
]
BASIC_CODE = ("113100", "Basic Application Confidentiality Profile")

#: Columns of Table E.3.4-1 (after Code Meaning, Code Value, Scheme, Value Type, Retd., In Tpl.).
E341_OPTION_COLUMNS = [
    "basic",
    "retain-uids",
    "retain-device-identity",
    "retain-institution-identity",
    "retain-patient-characteristics",
    "retain-long-full-dates",
    "retain-long-modified-dates",
    "clean-descriptors",
]

_SMALL_WORDS = {"of", "and", "or", "the", "for", "in", "to", "by", "on", "at", "from", "with", "a"}
_DATE_WORDS = re.compile(r"\b(Date|Time|DateTime|Datetime|Timestamp)\b")


def sha256(path: Path) -> str:
    """Return the hex SHA-256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_anonymizer(path: Path) -> dict[str, dict]:
    """Read the 2026c Basic Profile lists (tag tuples with ``# name`` comments) without importing.

    Returns a mapping id -> {"basic": code, "name": name, "value"/"mask" for masked rows}.
    """
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    tree = ast.parse(text)
    rows: dict[str, dict] = {}
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.List)):
            continue
        target = node.targets[0]
        if not isinstance(target, ast.Name) or target.id not in CATEGORY_CODES:
            continue
        code = CATEGORY_CODES[target.id]
        for elt in node.value.elts:
            value = ast.literal_eval(elt)
            comment = lines[elt.lineno - 1].split("#", 1)
            if len(value) == 2 and f"{value[0]:04x}{value[1]:04x}" in rows:
                raise SystemExit(f"{path}: {value} listed twice")
            name = comment[1].strip() if len(comment) == 2 else ""
            if len(value) == 2:
                group, elem = value
                rid = f"{group:04x}{elem:04x}"
                rows[rid] = {"basic": code, "name": name, "tag": (group << 16) | elem}
            else:
                group, elem, gmask, emask = value
                rid = _mask_id(group, elem, gmask, emask)
                rows[rid] = {
                    "basic": code,
                    "name": name,
                    "tag": (group << 16) | elem,
                    "mask": (gmask << 16) | emask,
                }
    return rows


def _mask_id(group: int, elem: int, gmask: int, emask: int) -> str:
    """Render a masked tag as innolitics' id (``60xx3000``, ``50xxxxxx``)."""
    digits = []
    for value, mask in ((group, gmask), (elem, emask)):
        for shift in (12, 8, 4, 0):
            nib = (mask >> shift) & 0xF
            digits.append(f"{(value >> shift) & 0xF:x}" if nib == 0xF else "x")
    return "".join(digits)


def tag_text(row: dict) -> str:
    """Return the display tag ``(gggg,eeee)`` / ``(60xx,3000)`` of a row."""
    rid = row["id"]
    if row["kind"] == "private":
        return "(gggg,eeee) where gggg is odd"
    return f"({rid[:4].upper().replace('X', 'x')},{rid[4:].upper().replace('X', 'x')})"


def build_e11() -> list[dict]:
    """Merge the 2026c row set and Basic column with the 2024b option columns."""
    basic = read_anonymizer(ANONYMIZER)
    inno = {r["id"]: r for r in json.loads(INNOLITICS.read_text(encoding="utf-8"))}
    rows: list[dict] = []
    ids = sorted(set(basic) | set(inno))
    for rid in ids:
        src = basic.get(rid)
        opt = inno.get(rid)
        if rid.startswith("gggg"):
            row = {"id": "private", "kind": "private", "tag": None, "mask": None}
        elif src is not None and "mask" in src:
            row = {"id": rid, "kind": "tag_mask", "tag": src["tag"], "mask": src["mask"]}
        elif src is None and "x" in rid:
            # masked rows only in the option source: derive the mask from the pattern
            value = int(rid.replace("x", "0"), 16)
            mask = int("".join("0" if c == "x" else "f" for c in rid), 16)
            row = {"id": rid, "kind": "tag_mask", "tag": value, "mask": mask}
        else:
            row = {"id": rid, "kind": "tag", "tag": int(rid, 16), "mask": None}
        if src is not None and opt is not None and src["basic"] != opt["basicProfile"]:
            row["basic_2024b"] = opt["basicProfile"]
        row["basic"] = src["basic"] if src is not None else opt["basicProfile"]
        row["name"] = opt["name"] if opt is not None else src["name"]
        row["in_std_comp_iod"] = opt["stdCompIOD"] if opt is not None else None
        row["in_2026c_source"] = src is not None
        options: dict[str, str] = {}
        if opt is not None:
            for oid, key, _title, _code in OPTIONS:
                if key and key in opt:
                    options[oid] = opt[key]
            row["options_source"] = OPTIONS_EDITION
        elif _DATE_WORDS.search(row["name"]):
            options["retain-long-full-dates"] = "K"
            options["retain-long-modified-dates"] = "C"
            row["options_source"] = "inferred"
        else:
            row["options_source"] = "none"
        row["options"] = options
        row["tag_text"] = tag_text(row)
        rows.append(row)
    return rows


# --------------------------------------------------------------------------- RST grid tables


def grid_table(lines: list[str], start: int) -> list[list[list[str]]]:
    """Parse the RST grid table whose first ``+---`` border is at or after ``start``.

    Returns body rows; each row is a list of cells, each cell the list of its text fragments
    (one per physical line, stripped, empty ones dropped).
    """
    i = start
    while not lines[i].lstrip().startswith("+-"):
        i += 1
    indent = len(lines[i]) - len(lines[i].lstrip())
    border = lines[i].strip()
    cuts = [k for k, ch in enumerate(border) if ch == "+"]
    rows: list[list[list[str]]] = []
    current: list[list[str]] | None = None
    in_body = False
    while i < len(lines):
        raw = lines[i][indent:].rstrip()
        if not raw or raw[0] not in "+|":
            break
        if raw.startswith("+="):
            in_body = True
            current = [[] for _ in cuts[:-1]]
        elif raw.startswith("+"):
            if in_body and current is not None:
                rows.append(current)
            current = [[] for _ in cuts[:-1]] if in_body else None
        elif in_body and current is not None:
            for col in range(len(cuts) - 1):
                frag = raw[cuts[col] + 1 : cuts[col + 1]].strip()
                if frag:
                    current[col].append(frag)
        i += 1
    return rows


def join_words(frags: list[str]) -> str:
    """Join the fragments of a column-wrapped cell (a fragment starting in lower case
    continues the previous word)."""
    out = ""
    for frag in frags:
        frag = frag.replace("*", "")
        if not out:
            out = frag
        elif frag in _SMALL_WORDS:
            out += " " + frag
        elif frag[:1].islower() or out.endswith("-") or frag[:1] in ").]":
            out += frag
        else:
            out += " " + frag
    return out


def join_code(frags: list[str]) -> str:
    """Join the fragments of a wrapped code cell (no spaces inside codes)."""
    return "".join(f.replace("*", "") for f in frags)


def find_table(lines: list[str], title_prefix: str) -> int:
    for k, line in enumerate(lines):
        if line.strip().startswith(".. table::") and title_prefix in line:
            return k
    raise SystemExit(f"{TEXT}: table {title_prefix!r} not found")


def build_e341(lines: list[str]) -> list[dict]:
    """Table E.3.4-1: SR content-item concept names and their actions."""
    start = find_table(lines, "Application Level Confidentiality Profile Clean Structured")
    out = []
    for cells in grid_table(lines, start):
        if len(cells) != 6 + len(E341_OPTION_COLUMNS) or not cells[1]:
            continue
        actions = [join_code(c) for c in cells[6:]]
        options = {oid: act for oid, act in zip(E341_OPTION_COLUMNS[1:], actions[1:]) if act}
        out.append(
            {
                "code_value": join_code(cells[1]),
                "scheme": join_code(cells[2]),
                "meaning": join_words(cells[0]),
                "value_type": join_code(cells[3]),
                "retired": join_code(cells[4]),
                "in_std_template": join_code(cells[5]),
                "basic": actions[0],
                "options": options,
            }
        )
    out.sort(key=lambda r: (r["scheme"], r["code_value"], r["value_type"], r["meaning"]))
    return out


def build_e3101(lines: list[str]) -> list[dict]:
    """Table E.3.10-1: private attributes thought safe, by creator."""
    start = find_table(lines, "Safe Private Attributes")
    out = []
    for cells in grid_table(lines, start):
        if len(cells) != 5 or not cells[0]:
            continue
        tag = join_code(cells[0])
        m = re.fullmatch(r"\(([0-9A-Fa-f]{4}),xx([0-9A-Fa-f]{2})\)", tag)
        if not m:
            continue
        out.append(
            {
                "group": int(m.group(1), 16),
                "offset": int(m.group(2), 16),
                "tag_text": f"({m.group(1).upper()},xx{m.group(2).upper()})",
                "creator": " ".join(cells[1]),
                "vr": join_code(cells[2]),
                "vm": join_code(cells[3]),
                "meaning": " ".join(cells[4]).replace("\\ :s up:`st`\\ ", "st "),
            }
        )
    out.sort(key=lambda r: (r["creator"], r["group"], r["offset"], r["vr"], r["meaning"]))
    return out


def build() -> str:
    """Return the JSON text of the generated table."""
    lines = TEXT.read_text(encoding="utf-8").splitlines()
    sources = [
        {
            "path": str(p.relative_to(ROOT)),
            "sha256": sha256(p),
            "role": role,
        }
        for p, role in (
            (ANONYMIZER, "Table E.1-1 rows and Basic Profile column, edition 2026c (BSD-3)"),
            (INNOLITICS, "Table E.1-1 names, IOD flag and option columns, edition 2024b (MIT)"),
            (TEXT, "Tables E.3.4-1 and E.3.10-1, Annex E text, edition 2020"),
        )
    ]
    doc = {
        "format": "deid-ps315/1",
        "edition": EDITION,
        "options_edition": OPTIONS_EDITION,
        "companion_edition": "2020",
        "title": "DICOM PS3.15 Annex E Attribute Confidentiality Profiles",
        "generator": "tools/generate_ps315.py",
        "sources": sources,
        "profile_code": {"code": BASIC_CODE[0], "scheme": "DCM", "meaning": BASIC_CODE[1]},
        "options": [
            {"id": oid, "column": key, "title": title, "code": code, "scheme": "DCM"}
            for oid, key, title, code in OPTIONS
        ],
        "table_e1_1": build_e11(),
        "table_e3_4_1": build_e341(lines),
        "table_e3_10_1": build_e3101(lines),
    }
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the output, or with ``--check`` verify it (exit status 1 when stale)."""
    return write_or_check(argv, __doc__.splitlines()[0], build, OUT, "tools/generate_ps315.py")


if __name__ == "__main__":
    sys.exit(main())
