"""Names in ISO_IR 100, ISO_IR 192, ISO 2022 IR 87 and GB18030 are found and removed.

Multi-valued and multi-component PN values too. Built datasets go through the runner's per-file
job with the Basic Profile; pydicom's own character-set sample files go through a whole run; in
both cases the output bytes must not hold any name part, in any encoding, and ``deid verify``
must agree.
"""

from __future__ import annotations

import os
import shutil

import pydicom
import pytest
from pydicom.data import get_charset_files
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from deid.verify import verify

pytestmark = pytest.mark.fuzz

CASES = {
    "ISO_IR 100": ("Größenwahn^Jürgen", ["Brückner^Käthe", "Öztürk^Ümit"]),
    "ISO_IR 192": ("Þórsdóttir^Ástríður=Θεοδωράκης^Σταύρος", ["Łukasiewicz^Zoë", "Øster^Søren"]),
    "ISO 2022 IR 87": ("Yamada^Tarou=山田^太郎=やまだ^たろう", ["Takahashi^Hanako=高橋^花子"]),
    "GB18030": ("Wang^XiaoDong=王^小东=", ["Zhang^Meiling=张^美玲=", "Li^Wei=李^伟="]),
}


def _parts(name):
    return [p for g in name.split("=") for p in g.split("^") if len(p) >= 2]


def _write(path, charset, name, others):
    ds = Dataset()
    ds.SpecificCharacterSet = ["", charset] if "2022" in charset else charset
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "OT"
    ds.PatientName = name
    ds.OtherPatientNames = others
    ds.ReferringPhysicianName = others[0]
    item = Dataset()
    item.PatientName = name
    item.PatientID = "NESTED-445566"
    ds.OtherPatientIDsSequence = [item]
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.save_as(path, enforce_file_format=True)


@pytest.mark.parametrize("charset", sorted(CASES))
def test_names_in_each_charset_removed(tmp_path, charset):
    from deid.runner import run

    name, others = CASES[charset]
    src = tmp_path / "in"
    src.mkdir()
    _write(src / "a.dcm", charset, name, others)
    raw_in = (src / "a.dcm").read_bytes()
    out = tmp_path / "out"
    summary = run(str(src), str(out), profile="basic", workers=1, progress=False)
    assert summary.written == 1
    raw = (out / "a.dcm").read_bytes()
    encodings = ["utf-8", "latin-1", "gb18030", "iso2022_jp", "euc_jp", "shift_jis"]
    for part in [p for n in [name, *others] for p in _parts(n)]:
        for enc in encodings:
            try:
                blob = part.encode(enc)
            except UnicodeEncodeError:
                continue
            if enc == "iso2022_jp":
                blob = blob.replace(b"\x1b$B", b"").replace(b"\x1b(B", b"")
            if blob in raw_in:  # the form the input really used
                assert blob not in raw, (charset, part, enc)
    report = verify(str(src), str(out), profile="basic")
    assert report.ok, report.render()


def test_verify_sees_a_name_left_behind_in_each_charset(tmp_path):
    """The same check the other way round: a tool that forgets a field is caught."""
    from deid.runner import run

    for charset, (name, others) in CASES.items():
        d = tmp_path / charset.replace(" ", "_")
        (d / "in").mkdir(parents=True)
        _write(d / "in" / "a.dcm", charset, name, others)
        run(str(d / "in"), str(d / "out"), profile="basic", workers=1, progress=False)
        ds = pydicom.dcmread(d / "out" / "a.dcm")
        ds.SpecificCharacterSet = ["", charset] if "2022" in charset else charset
        ds.ImageComments = others[-1].split("=")[-2 if "=" in others[-1] else 0].replace("^", " ")
        ds.save_as(d / "out" / "a.dcm")
        report = verify(str(d / "in"), str(d / "out"))
        assert report.totals()["leaks"] >= 1, charset


def test_pydicom_charset_samples_through_a_run(tmp_path):
    from deid.runner import run

    src = tmp_path / "in"
    src.mkdir()
    for path in get_charset_files("chr*.dcm"):
        shutil.copy(path, src / os.path.basename(path))
    out = tmp_path / "out"
    summary = run(
        str(src),
        str(out),
        profile="basic",
        workers=1,
        progress=False,
        report=str(tmp_path / "r.jsonl"),
    )
    assert summary.written + summary.failed + summary.rejected == len(os.listdir(src))
    assert summary.written >= 12
    report = verify(str(src), str(out), profile="basic", report=str(tmp_path / "r.jsonl"))
    assert report.totals()["leaks"] == 0, report.render()
    assert report.totals()["lost"] == 0
