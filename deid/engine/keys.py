"""Keyed pseudonyms: UIDs, identifiers, names and per-patient date offsets from one secret key.

Every replacement that must stay consistent across files, runs, processes and machines is an
HMAC-SHA256 of the original value under a secret key, with a domain label per kind of value so
that the same text used as a UID and as an ID gives unrelated outputs:

* UIDs become ``2.25.<integer>`` (the first 128 bits of the HMAC; at most 44 characters).
* Identifiers and names become pseudonyms valid for their VR (length limits, character sets).
* Dates shift by a whole number of days derived from the key and the original patient, so
  intervals between one patient's studies survive and times (TM, and the time part of DT) do not
  move at all: injection-to-acquisition intervals and studies crossing midnight stay right.

The key comes from an argument, the ``DEID_KEY`` environment variable or a key file
(:func:`load_key`); without any, :func:`load_key` makes a random key flagged
``reproducible=False`` so reports can say the pseudonyms cannot be reproduced.

Examples
--------
>>> key = Key.from_text("site-secret-0123456789")
>>> uid = keyed_uid(key, "1.2.840.113619.2.55.3.1234")
>>> uid.startswith("2.25.") and len(uid) <= 64
True
>>> uid == keyed_uid(key, "1.2.840.113619.2.55.3.1234")
True
>>> shift_date("20240131", 30)
'20240301'
"""

from __future__ import annotations

import base64
import csv
import datetime as _dt
import hashlib
import hmac
import os
import secrets
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deid.engine.values import MAX_VALUE_LENGTH
from deid.errors import DeidError

__all__ = [
    "ENV_VAR",
    "VR_MAX_LENGTH",
    "Key",
    "KeyMaterialError",
    "Pseudonymizer",
    "date_offset_days",
    "keyed_digest",
    "keyed_name",
    "keyed_number",
    "keyed_pseudonym",
    "keyed_uid",
    "load_key",
    "patient_identity",
    "read_lookup_table",
    "shift_date",
    "shift_datetime",
    "shift_value",
]

#: Environment variable holding the key text.
ENV_VAR = "DEID_KEY"
#: Maximum pseudonym length by VR: the PS3.5 value length (PN per component group), and for the
#: unlimited text VRs UC and UT a cap of 64 and 1024.
VR_MAX_LENGTH: dict[str, int] = {
    **{
        vr: MAX_VALUE_LENGTH[vr]
        for vr in ("AE", "AS", "CS", "DS", "IS", "LO", "LT", "PN", "SH", "ST", "UI")
    },
    "UC": 64,
    "UT": 1024,
}
_MIN_KEY_BYTES = 16
#: Offsets lie in [-DAYS_MAX, -DAYS_MIN]: always into the past, never zero.
DAYS_MIN = 1
DAYS_MAX = 3652


class KeyMaterialError(DeidError, ValueError):
    """A key is missing, empty, too short or unreadable; the message names its source."""


@dataclass(frozen=True)
class Key:
    """A secret key and where it came from.

    Attributes
    ----------
    secret : bytes
        The key material (never printed by ``repr``).
    source : str
        ``argument``, ``env:DEID_KEY``, ``file:<path>`` or ``random``.
    reproducible : bool
        False for a random key: pseudonyms of this run cannot be reproduced by another run.

    Examples
    --------
    >>> k = Key.from_text("0123456789abcdef")
    >>> k.reproducible, "0123" in repr(k)
    (True, False)
    >>> Key.random().reproducible
    False
    """

    secret: bytes = field(repr=False)
    source: str = "argument"
    reproducible: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.secret, (bytes, bytearray)):
            raise KeyMaterialError(f"key from {self.source} must be bytes or text")
        if len(self.secret) < _MIN_KEY_BYTES:
            raise KeyMaterialError(
                f"key from {self.source} is {len(self.secret)} bytes; at least "
                f"{_MIN_KEY_BYTES} are required"
            )

    @classmethod
    def from_text(cls, text: str | bytes, source: str = "argument") -> Key:
        """Make a key from text (UTF-8; surrounding whitespace removed) or bytes."""
        raw = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        return cls(raw.strip(), source=source, reproducible=True)

    @classmethod
    def random(cls) -> Key:
        """Make a random 32-byte key flagged ``reproducible=False``."""
        return cls(secrets.token_bytes(32), source="random", reproducible=False)

    @property
    def fingerprint(self) -> str:
        """A short non-secret identifier of the key (for reports): 12 hex digits."""
        return hmac.new(self.secret, b"deid-key-fingerprint", hashlib.sha256).hexdigest()[:12]


def load_key(
    key: Key | str | bytes | None = None,
    *,
    key_file: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    allow_random: bool = True,
) -> Key:
    """Return the run's key: argument, then key file, then ``$DEID_KEY``, then a random one.

    Parameters
    ----------
    key : Key, str or bytes, optional
        Explicit key material.
    key_file : path, optional
        A file whose content (whitespace stripped) is the key.
    env : mapping, optional
        Environment to read ``DEID_KEY`` from (default ``os.environ``).
    allow_random : bool
        When False, having no key is an error instead of a random key.

    Raises
    ------
    KeyMaterialError
        Empty/short key, unreadable key file, or no key with ``allow_random=False``.

    Examples
    --------
    >>> load_key("a-long-enough-secret").source
    'argument'
    >>> load_key(env={"DEID_KEY": "another-long-secret"}).source
    'env:DEID_KEY'
    >>> load_key(env={}).reproducible
    False
    """
    if isinstance(key, Key):
        return key
    if key is not None:
        return Key.from_text(key, source="argument")
    if key_file is not None:
        path = Path(key_file)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise KeyMaterialError(f"cannot read key file {path}: {exc.strerror}") from exc
        return Key.from_text(data, source=f"file:{path}")
    environ = os.environ if env is None else env
    text = environ.get(ENV_VAR)
    if text is not None:
        return Key.from_text(text, source=f"env:{ENV_VAR}")
    if not allow_random:
        raise KeyMaterialError(f"no key given: pass one, set ${ENV_VAR} or give a key file")
    return Key.random()


def keyed_digest(key: Key, domain: str, value: str | bytes) -> bytes:
    """HMAC-SHA256 of ``value`` under ``key`` with a domain label (``uid``, ``id:PatientID``...).

    Examples
    --------
    >>> k = Key.from_text("0123456789abcdef")
    >>> keyed_digest(k, "uid", "1.2") != keyed_digest(k, "id", "1.2")
    True
    """
    memo = (key.secret, domain, value)
    hit = _DIGESTS.get(memo)
    if hit is not None:
        return hit
    data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    digest = hmac.new(key.secret, domain.encode("utf-8") + b"\x00" + data, hashlib.sha256).digest()
    if len(_DIGESTS) >= _DIGESTS_MAX:
        _DIGESTS.clear()
    _DIGESTS[memo] = digest
    return digest


#: (key, domain, value) -> digest: the values of one study (its UIDs, patient, accession...)
#: repeat in every file, so each is computed once per process. Bounded; never written anywhere.
_DIGESTS: dict[tuple[bytes, str, str | bytes], bytes] = {}
_DIGESTS_MAX = 65536


def keyed_uid(key: Key, uid: str) -> str:
    """Map a UID to ``2.25.<integer>`` (128 bits of its HMAC); same key, same UID, same output.

    Surrounding spaces and the trailing NUL padding of the value are ignored; an empty UID
    stays empty.

    Examples
    --------
    >>> k = Key.from_text("0123456789abcdef")
    >>> u = keyed_uid(k, "1.2.3.4")
    >>> u.startswith("2.25.") and len(u) <= 44 and u == keyed_uid(k, "1.2.3.4\\x00")
    True
    >>> keyed_uid(k, "")
    ''
    """
    text = str(uid).strip().rstrip("\x00").strip()
    if not text:
        return ""
    number = int.from_bytes(keyed_digest(key, "uid", text)[:16], "big")
    return f"2.25.{number}"


def _b32(digest: bytes, n: int) -> str:
    """The first ``n`` base32 characters of ``digest`` (only the 5-byte groups they need are
    encoded: ``base64.b32encode`` is pure Python before 3.13).

    Examples
    --------
    >>> _b32(bytes(range(32)), 12) == base64.b32encode(bytes(range(32))).decode()[:12]
    True
    """
    return base64.b32encode(digest[: 5 * -(-n // 8)]).decode("ascii")[:n]


def keyed_pseudonym(
    key: Key, value: str, *, vr: str = "LO", namespace: str = "id", prefix: str = ""
) -> str:
    """Return a keyed pseudonym for an identifier, valid for ``vr``.

    The result is upper-case letters and digits (valid in CS, SH, LO, AE, UC, ST, LT, UT), fits
    the VR's length limit and does not depend on anything but key, namespace and value.

    Parameters
    ----------
    key : Key
    value : str
        The original value (surrounding spaces ignored).
    vr : str
        Value representation of the element receiving the pseudonym.
    namespace : str
        Separates families of identifiers (``PatientID``, ``AccessionNumber``...).
    prefix : str
        Optional readable prefix, kept when it fits.

    Examples
    --------
    >>> k = Key.from_text("0123456789abcdef")
    >>> p = keyed_pseudonym(k, "12345", vr="SH", namespace="AccessionNumber")
    >>> len(p) <= 16 and p.isalnum() and p.isupper()
    True
    >>> keyed_pseudonym(k, "12345", vr="IS").isdigit()
    True
    """
    text = str(value).strip()
    vr = vr.upper()
    digest = keyed_digest(key, f"id:{namespace}", text)
    if vr in ("IS", "DS", "US", "UL", "SS", "SL", "UV", "SV"):
        return str(keyed_number(key, text, digits=9, namespace=namespace))
    if vr == "PN":
        return keyed_name(key, text, namespace=namespace)
    limit = min(VR_MAX_LENGTH.get(vr, 64), 64)
    body_len = max(8, min(16, limit - len(prefix)))
    body = _b32(digest, body_len)
    out = (prefix + body) if len(prefix) + len(body) <= limit else body[:limit]
    return out


def keyed_number(key: Key, value: str, *, digits: int = 9, namespace: str = "number") -> int:
    """Return a keyed positive integer with at most ``digits`` digits (for IS / numeric VRs).

    Examples
    --------
    >>> k = Key.from_text("0123456789abcdef")
    >>> 0 < keyed_number(k, "7", digits=4) < 10000
    True
    """
    digest = keyed_digest(key, f"num:{namespace}", str(value).strip())
    modulus = int(10**digits) - 1  # int ** int may be a float for mypy
    return int.from_bytes(digest[:8], "big") % modulus + 1


def keyed_name(key: Key, value: str, *, namespace: str = "name") -> str:
    """Return a keyed person name ``ANON^<10 letters>`` (PN: letters only, < 64 characters).

    Examples
    --------
    >>> k = Key.from_text("0123456789abcdef")
    >>> n = keyed_name(k, "Doe^Jane")
    >>> n.startswith("ANON^") and n[5:].isalpha() and len(n) == 15
    True
    """
    text = str(value).strip()
    if not text:
        return ""
    digest = keyed_digest(key, f"pn:{namespace}", text)
    letters = "".join(chr(ord("A") + b % 26) for b in digest[:10])
    return f"ANON^{letters}"


def patient_identity(ds: object) -> str:
    """Return the text that identifies the patient for date offsets.

    Patient ID qualified by Issuer of Patient ID; without an ID, name and birth date. Works on a
    pydicom Dataset or anything with those attributes.

    Examples
    --------
    >>> from pydicom import Dataset
    >>> ds = Dataset(); ds.PatientID = "P1"; ds.IssuerOfPatientID = "H"
    >>> patient_identity(ds)
    'id:H|P1'
    """
    pid = str(getattr(ds, "PatientID", "") or "").strip()
    issuer = str(getattr(ds, "IssuerOfPatientID", "") or "").strip()
    if pid:
        return f"id:{issuer}|{pid}"
    name = str(getattr(ds, "PatientName", "") or "").strip()
    birth = str(getattr(ds, "PatientBirthDate", "") or "").strip()
    return f"name:{name}|{birth}"


def date_offset_days(key: Key, patient: str) -> int:
    """Return the patient's date offset in days: negative, in ``[-3652, -1]``, from key + patient.

    Examples
    --------
    >>> k = Key.from_text("0123456789abcdef")
    >>> d = date_offset_days(k, "id:|P1")
    >>> -3652 <= d <= -1 and d == date_offset_days(k, "id:|P1")
    True
    """
    digest = keyed_digest(key, "date-offset", patient)
    span = DAYS_MAX - DAYS_MIN + 1
    return -(int.from_bytes(digest[:8], "big") % span + DAYS_MIN)


def _parse_da(text: str) -> _dt.date:
    text = text.strip()
    if len(text) == 10 and text[4] == "." and text[7] == ".":  # ACR-NEMA yyyy.mm.dd
        text = text.replace(".", "")
    if len(text) != 8 or not text.isdigit():
        raise ValueError(f"not a DA value: {text!r}")
    return _dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))


def shift_date(value: str, days: int) -> str:
    """Shift a DA value (``YYYYMMDD``; multi-valued with ``\\``) by ``days``.

    Raises ValueError on a value that is not a date (callers fail closed: remove or blank).

    Examples
    --------
    >>> shift_date("20000301", -1)
    '20000229'
    >>> shift_date("20200101\\\\20200102", 1)
    '20200102\\\\20200103'
    """
    parts = str(value).split("\\")
    out = []
    for part in parts:
        if not part.strip():
            out.append("")
            continue
        out.append((_parse_da(part) + _dt.timedelta(days=days)).strftime("%Y%m%d"))
    return "\\".join(out)


def shift_datetime(value: str, days: int) -> str:
    """Shift the date part of a DT value by ``days``; time, fraction and UTC offset are kept.

    A DT given to year or month precision only is shifted as the first day of that period and
    written back with the same precision.

    Examples
    --------
    >>> shift_datetime("20240101233000.5+0100", -1)
    '20231231233000.5+0100'
    >>> shift_datetime("2024", 10)
    '2024'
    """
    parts = str(value).split("\\")
    out = []
    for part in parts:
        text = part.strip()
        if not text:
            out.append("")
            continue
        zone = ""
        for sign in ("+", "-"):
            pos = text.find(sign, 4)
            if pos != -1:
                text, zone = text[:pos], text[pos:]
                break
        date_part, rest = text[:8], text[8:]
        if len(date_part) < 4 or not date_part.isdigit():
            raise ValueError(f"not a DT value: {part!r}")
        precision = len(date_part)
        padded = date_part + "0101"[precision - 4 :] if precision < 8 else date_part
        shifted = (_parse_da(padded) + _dt.timedelta(days=days)).strftime("%Y%m%d")
        out.append(shifted[:precision] + rest + zone)
    return "\\".join(out)


def shift_value(value: str, vr: str, days: int) -> str:
    """Shift a DA or DT value; TM (and anything else) is returned unchanged.

    Whole-day shifts leave times of day untouched, so date-times and times stay consistent.

    Examples
    --------
    >>> shift_value("101500", "TM", -30)
    '101500'
    """
    vr = vr.upper()
    if vr == "DA":
        return shift_date(value, days)
    if vr == "DT":
        return shift_datetime(value, days)
    return value


def read_lookup_table(path: str | os.PathLike[str]) -> dict[str, str]:
    """Read a CSV lookup table ``original,pseudonym`` (a header row ``original,...`` is skipped).

    Raises
    ------
    KeyMaterialError
        On an unreadable file, a row without two columns, or an original listed twice with
        different pseudonyms (naming the file and line).

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> _ = open(p, "w").write("original,pseudonym\\nP1,SUBJ-001\\n")
    >>> read_lookup_table(p)
    {'P1': 'SUBJ-001'}
    """
    p = Path(path)
    table: dict[str, str] = {}
    try:
        handle = p.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise KeyMaterialError(f"cannot read lookup table {p}: {exc.strerror}") from exc
    with handle:
        for lineno, row in enumerate(csv.reader(handle), start=1):
            if not row or all(not c.strip() for c in row):
                continue
            if lineno == 1 and row[0].strip().lower() in ("original", "from", "source"):
                continue
            if len(row) < 2:
                raise KeyMaterialError(f"{p}:{lineno}: expected 'original,pseudonym'")
            orig, new = row[0].strip(), row[1].strip()
            if orig in table and table[orig] != new:
                raise KeyMaterialError(
                    f"{p}:{lineno}: {orig!r} already maps to {table[orig]!r}, not {new!r}"
                )
            table[orig] = new
    return table


@dataclass
class Pseudonymizer:
    """Keyed replacements for one run, with an optional lookup table and a crosswalk record.

    Parameters
    ----------
    key : Key
        The run's key.
    lookup : mapping, optional
        ``original -> pseudonym`` pairs that take precedence over keyed pseudonyms for
        identifiers and names (not for UIDs, which must stay keyed to remain consistent).
    record : bool
        Keep ``(kind, original, replacement)`` rows for a crosswalk file. Off by default:
        a crosswalk re-identifies, so it is only written where the user asks.

    Examples
    --------
    >>> p = Pseudonymizer(Key.from_text("0123456789abcdef"), lookup={"P1": "SUBJ-1"}, record=True)
    >>> p.identifier("P1", vr="LO", namespace="PatientID")
    'SUBJ-1'
    >>> p.uid("1.2.3") == p.uid("1.2.3")
    True
    >>> sorted(k for k, _, _ in p.crosswalk())
    ['PatientID', 'uid']
    """

    key: Key
    lookup: Mapping[str, str] = field(default_factory=dict)
    record: bool = False
    _rows: dict[tuple[str, str], str] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_lock", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def _note(self, kind: str, original: str, new: str) -> str:
        if self.record and original != new:
            with self._lock:
                self._rows[(kind, original)] = new
        return new

    def uid(self, value: str) -> str:
        """Keyed ``2.25.`` UID (multi-valued values mapped item by item)."""
        parts = [keyed_uid(self.key, v) for v in str(value).split("\\")]
        for orig, new in zip(str(value).split("\\"), parts):
            self._note("uid", orig.strip().rstrip("\x00"), new)
        return "\\".join(parts)

    def identifier(self, value: str, *, vr: str = "LO", namespace: str = "id") -> str:
        """Lookup-table value when listed, else a keyed pseudonym valid for ``vr``."""
        text = str(value).strip()
        if not text:
            return ""
        new = self.lookup.get(text)
        if new is None:
            new = keyed_pseudonym(self.key, text, vr=vr, namespace=namespace)
        return self._note(namespace, text, new)

    def name(self, value: str, *, namespace: str = "name") -> str:
        """Lookup-table value when listed, else a keyed person name."""
        text = str(value).strip()
        if not text:
            return ""
        new = self.lookup.get(text) or keyed_name(self.key, text, namespace=namespace)
        return self._note(namespace, text, new)

    def date_offset(self, patient: str) -> int:
        """The patient's day offset (see :func:`date_offset_days`)."""
        days = date_offset_days(self.key, patient)
        self._note("date-offset", patient, str(days))
        return days

    def crosswalk(self) -> list[tuple[str, str, str]]:
        """Recorded ``(kind, original, replacement)`` rows, sorted."""
        with self._lock:
            return sorted((k, o, n) for (k, o), n in self._rows.items())

    def merge(self, rows: Iterable[tuple[str, str, str]]) -> None:
        """Add rows recorded elsewhere (another worker process)."""
        with self._lock:
            for kind, orig, new in rows:
                self._rows[(kind, orig)] = new

    def write_crosswalk(self, path: str | os.PathLike[str]) -> Path:
        """Write the crosswalk CSV (``kind,original,replacement``) to ``path``; returns it."""
        p = Path(path)
        tmp = p.with_name(p.name + ".tmp")
        with tmp.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["kind", "original", "replacement"])
            writer.writerows(self.crosswalk())
        os.replace(tmp, p)
        return p
