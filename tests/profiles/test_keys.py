"""deid.engine.keys: keyed UIDs, pseudonyms, date offsets, key sources, lookup and crosswalk.

(Lives under tests/profiles because the profiles engineer owns deid/engine/keys.py.)
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deid.engine import keys
from deid.engine.keys import Key, KeyMaterialError
from deid.errors import DeidError

K1 = Key.from_text("first secret key 0123456789")
K2 = Key.from_text("second secret key 0123456789")


def test_uid_shape_and_consistency():
    uid = keys.keyed_uid(K1, "1.2.840.113619.2.55.3.604688119.969.1268071029.320")
    assert re.fullmatch(r"2\.25\.(0|[1-9][0-9]*)", uid)
    assert len(uid) <= 64
    assert int(uid[5:]) < 2**128
    assert uid == keys.keyed_uid(K1, "1.2.840.113619.2.55.3.604688119.969.1268071029.320")
    assert uid == keys.keyed_uid(K1, "1.2.840.113619.2.55.3.604688119.969.1268071029.320\x00")
    assert uid != keys.keyed_uid(K2, "1.2.840.113619.2.55.3.604688119.969.1268071029.320")
    assert keys.keyed_uid(K1, "1.2.3") != keys.keyed_uid(K1, "1.2.4")


def test_domains_are_separated():
    assert keys.keyed_digest(K1, "uid", "x") != keys.keyed_digest(K1, "id:PatientID", "x")
    a = keys.keyed_pseudonym(K1, "123", namespace="PatientID")
    b = keys.keyed_pseudonym(K1, "123", namespace="AccessionNumber")
    assert a != b


@pytest.mark.parametrize("vr,limit", [("SH", 16), ("LO", 64), ("CS", 16), ("AE", 16)])
def test_pseudonym_fits_vr(vr, limit):
    p = keys.keyed_pseudonym(K1, "some identifier value", vr=vr)
    assert 0 < len(p) <= limit
    assert re.fullmatch(r"[A-Z0-9]+", p)


def test_pseudonym_numeric_and_name():
    assert keys.keyed_pseudonym(K1, "7", vr="IS").isdigit()
    assert len(keys.keyed_pseudonym(K1, "7", vr="IS")) <= 12
    name = keys.keyed_name(K1, "Doe^Jane")
    assert re.fullmatch(r"ANON\^[A-Z]{10}", name)
    assert keys.keyed_name(K1, "") == ""


def test_date_offset_per_patient_and_key():
    d1 = keys.date_offset_days(K1, "id:|P1")
    assert -keys.DAYS_MAX <= d1 <= -keys.DAYS_MIN
    assert d1 == keys.date_offset_days(K1, "id:|P1")
    others = {keys.date_offset_days(K1, f"id:|P{i}") for i in range(20)}
    assert len(others) > 15  # offsets vary between patients
    assert any(
        keys.date_offset_days(K2, f"id:|P{i}") != keys.date_offset_days(K1, f"id:|P{i}")
        for i in range(5)
    )


def test_shift_date_and_datetime():
    assert keys.shift_date("20240301", -1) == "20240229"
    assert keys.shift_date("20231231", 1) == "20240101"
    assert keys.shift_datetime("20240101000000.123456-0500", -1) == "20231231000000.123456-0500"
    assert keys.shift_datetime("202401", 0) == "202401"
    assert keys.shift_value("235959", "TM", -400) == "235959"
    with pytest.raises(ValueError):
        keys.shift_date("not a date", 3)


def test_load_key_sources(tmp_path):
    assert keys.load_key("explicit key material").source == "argument"
    f = tmp_path / "k.txt"
    f.write_text("  key from a file, long enough \n")
    k = keys.load_key(key_file=f)
    assert k.source == f"file:{f}" and k.secret == b"key from a file, long enough"
    env = keys.load_key(env={"DEID_KEY": "environment key material"})
    assert env.source == "env:DEID_KEY" and env.reproducible
    rnd = keys.load_key(env={})
    assert rnd.source == "random" and not rnd.reproducible
    assert keys.load_key(env={}).secret != rnd.secret


def test_key_errors_are_deid_errors(tmp_path):
    with pytest.raises(KeyMaterialError, match="at least 16"):
        keys.load_key("short")
    with pytest.raises(KeyMaterialError, match="cannot read key file"):
        keys.load_key(key_file=tmp_path / "missing")
    with pytest.raises(KeyMaterialError, match="no key given"):
        keys.load_key(env={}, allow_random=False)
    assert issubclass(KeyMaterialError, DeidError)


def test_key_repr_hides_secret():
    assert "first secret" not in repr(K1)
    assert len(K1.fingerprint) == 12 and K1.fingerprint != K2.fingerprint


def test_lookup_table(tmp_path):
    p = tmp_path / "lookup.csv"
    p.write_text("original,pseudonym\nMRN1,SUBJ-001\nMRN2,SUBJ-002\n")
    assert keys.read_lookup_table(p) == {"MRN1": "SUBJ-001", "MRN2": "SUBJ-002"}
    bad = tmp_path / "bad.csv"
    bad.write_text("MRN1,A\nMRN1,B\n")
    with pytest.raises(KeyMaterialError, match=r"bad.csv:2"):
        keys.read_lookup_table(bad)


def test_pseudonymizer_lookup_and_crosswalk(tmp_path):
    import pickle

    p = keys.Pseudonymizer(K1, lookup={"MRN1": "SUBJ-001"}, record=True)
    assert p.identifier("MRN1", namespace="PatientID") == "SUBJ-001"
    other = p.identifier("MRN2", vr="SH", namespace="PatientID")
    assert other == keys.keyed_pseudonym(K1, "MRN2", vr="SH", namespace="PatientID")
    uid = p.uid("1.2.3\\1.2.4")
    assert uid.count("\\") == 1
    out = p.write_crosswalk(tmp_path / "cw.csv")
    text = out.read_text()
    assert text.splitlines()[0] == "kind,original,replacement"
    assert "MRN1,SUBJ-001" in text and "1.2.4" in text
    clone = pickle.loads(pickle.dumps(p))
    assert clone.crosswalk() == p.crosswalk()
    quiet = keys.Pseudonymizer(K1)
    quiet.identifier("MRN3")
    assert quiet.crosswalk() == []


@pytest.mark.fuzz
@given(st.text(min_size=1, max_size=80))
def test_property_uid_always_valid(text):
    uid = keys.keyed_uid(K1, text)
    if text.strip().rstrip("\x00").strip():
        assert re.fullmatch(r"2\.25\.(0|[1-9][0-9]*)", uid) and len(uid) <= 44
    else:
        assert uid == ""


@pytest.mark.fuzz
@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)),
)
def test_property_shift_keeps_intervals(a, b):
    days = keys.date_offset_days(K1, "id:|P1")
    sa = keys.shift_date(a.strftime("%Y%m%d"), days)
    sb = keys.shift_date(b.strftime("%Y%m%d"), days)
    da = date(int(sa[:4]), int(sa[4:6]), int(sa[6:]))
    db = date(int(sb[:4]), int(sb[4:6]), int(sb[6:]))
    assert db - da == b - a
    assert a - da == timedelta(days=-days)


def test_keyed_digests_are_remembered_but_keyed():
    from deid.engine import keys

    a = keys.Key.from_text("digest memo key A 0123456789")
    b = keys.Key.from_text("digest memo key B 0123456789")
    first = keys.keyed_uid(a, "1.2.3.999")
    assert keys.keyed_uid(a, "1.2.3.999") == first
    assert keys.keyed_uid(b, "1.2.3.999") != first
    keys._DIGESTS.clear()
    assert keys.keyed_uid(a, "1.2.3.999") == first


def test_b32_prefix_equals_encoding_the_whole_digest() -> None:
    import base64
    import hashlib

    from deid.engine.keys import _b32

    for seed in range(20):
        digest = hashlib.sha256(str(seed).encode()).digest()
        full = base64.b32encode(digest).decode("ascii")
        for n in range(len(full) + 3):
            assert _b32(digest, n) == full[:n]
