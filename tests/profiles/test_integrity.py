"""Referential integrity and reproducibility over a small generated study (keyed profile runs)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import date, datetime

import pydicom
import pytest

from deid.engine.context import Context
from deid.profiles import profile_plan

from .study import clone, make_patient, walk

KEY = "integrity test key 0123456789"


@pytest.fixture(scope="module")
def originals():
    return make_patient()


def run(datasets, key=KEY, options=()):
    plan = profile_plan("basic", options)
    out = clone(datasets)
    uid_map: dict = {}
    for ds in out:
        plan.apply(ds, Context(key=key, uid_map=uid_map))
    return out


def uids_of(ds):
    return sorted(str(e.value) for e in walk(ds) if e.VR == "UI" and e.value)


def test_every_instance_uid_is_replaced_and_references_resolve(originals):
    out = run(originals)
    original_uids = {u for ds in originals for u in uids_of(ds)}
    structural = {ds.SOPClassUID for ds in originals} | {
        "1.2.840.10008.3.1.2.3.1",
        pydicom.uid.ExplicitVRLittleEndian,
    }
    new_sops = {ds.SOPInstanceUID for ds in out}
    for ds in out:
        assert ds.SOPInstanceUID.startswith("2.25.")
        for elem in walk(ds):
            if elem.VR == "UI" and elem.value:
                value = str(elem.value)
                assert value in structural or value.startswith("2.25."), elem
                assert value not in original_uids - structural, elem
        # every reference points at an instance of the de-identified set
        for elem in walk(ds):
            if elem.keyword == "ReferencedSOPInstanceUID" and elem.value in new_sops:
                continue
            if elem.keyword == "ReferencedSOPInstanceUID":
                assert elem.value in {d.StudyInstanceUID for d in out}, elem
    ct1 = out[0]
    assert {i.ReferencedSOPInstanceUID for i in ct1.ReferencedImageSequence} == {
        out[1].SOPInstanceUID,
        out[2].SOPInstanceUID,
    }
    sr = out[4]
    refs = (
        [
            i.ReferencedSOPSequence[0].ReferencedSOPInstanceUID
            for i in sr.ContentSequence
            if i.ValueType == "IMAGE"
        ]
        if "ContentSequence" in sr
        else []
    )
    ev = sr.CurrentRequestedProcedureEvidenceSequence[0]
    ev_refs = [
        r.ReferencedSOPInstanceUID for r in ev.ReferencedSeriesSequence[0].ReferencedSOPSequence
    ]
    assert ev_refs == [out[0].SOPInstanceUID, out[1].SOPInstanceUID, out[2].SOPInstanceUID]
    assert ev.StudyInstanceUID == sr.StudyInstanceUID == ct1.StudyInstanceUID
    assert refs in ([], ev_refs)
    # study-level UIDs shared by the study's instances; different between studies
    assert len({d.StudyInstanceUID for d in out[:5]}) == 1
    assert out[0].StudyInstanceUID != out[5].StudyInstanceUID
    assert len({d.FrameOfReferenceUID for d in out[:5]}) == 1


def test_file_meta_tracks_sop_instance_and_output_parses(originals):
    for ds in run(originals):
        buf = io.BytesIO()
        ds.save_as(buf, enforce_file_format=True)
        back = pydicom.dcmread(io.BytesIO(buf.getvalue()))
        assert back.file_meta.MediaStorageSOPInstanceUID == back.SOPInstanceUID
        assert back.file_meta.MediaStorageSOPClassUID == back.SOPClassUID
        assert "SourceApplicationEntityTitle" not in back.file_meta
        assert back.preamble == b"\x00" * 128
        assert buf.getvalue()[:128] == b"\x00" * 128


def _fingerprint(datasets):
    out = []
    for ds in datasets:
        buf = io.BytesIO()
        ds.save_as(buf, enforce_file_format=True)
        out.append(buf.getvalue().hex())
    return out


def test_same_key_same_output_in_a_second_run(originals):
    assert _fingerprint(run(originals)) == _fingerprint(run(originals))


def test_different_key_different_output(originals):
    a, b = run(originals), run(originals, key="another key entirely 987654")
    assert a[0].SOPInstanceUID != b[0].SOPInstanceUID
    assert a[0].PatientID != b[0].PatientID
    assert a[0].PatientName != b[0].PatientName


CHILD = r"""
import json, sys
sys.path.insert(0, {root!r})
from tests.profiles.test_integrity import run, _fingerprint
from tests.profiles.study import make_patient
out = run(make_patient())
print(json.dumps([out[0].SOPInstanceUID, out[0].PatientID, _fingerprint(out)[3][-400:]]))
"""


def test_same_key_same_output_in_another_process(originals):
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[2])
    proc = subprocess.run(
        [sys.executable, "-c", CHILD.format(root=root)],
        capture_output=True,
        text=True,
        check=True,
        cwd=root,
    )
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    out = run(originals)
    assert got == [out[0].SOPInstanceUID, out[0].PatientID, _fingerprint(out)[3][-400:]]


def test_patient_pseudonyms_link_the_studies(originals):
    out = run(originals)
    assert len({d.PatientID for d in out}) == 1
    assert len({str(d.PatientName) for d in out}) == 1
    assert out[0].PatientID != originals[0].PatientID
    assert out[0].AccessionNumber != out[5].AccessionNumber


def _d(text):
    return date(int(text[:4]), int(text[4:6]), int(text[6:8]))


def test_modified_dates_keep_intervals_across_studies(originals):
    out = run(originals, options=("retain-long-modified-dates",))
    first, second = out[0], out[5]
    assert first.StudyDate != originals[0].StudyDate
    assert (_d(second.StudyDate) - _d(first.StudyDate)).days == 100
    # date-times move with dates, times of day do not move
    assert first.StudyTime == originals[0].StudyTime
    dt = datetime.strptime(first.AcquisitionDateTime[:14], "%Y%m%d%H%M%S")
    assert dt.strftime("%Y%m%d") == first.StudyDate
    assert first.AcquisitionDateTime.endswith("233015.25+0100")
    assert first.LongitudinalTemporalInformationModified == "MODIFIED"


def test_pet_injection_to_acquisition_interval_survives(originals):
    out = run(originals, options=("retain-long-modified-dates",))
    pet, orig = out[3], originals[3]
    info, oinfo = (
        pet.RadiopharmaceuticalInformationSequence[0],
        orig.RadiopharmaceuticalInformationSequence[0],
    )

    def interval(ds, inf):
        start = datetime.strptime(inf.RadiopharmaceuticalStartDateTime, "%Y%m%d%H%M%S")
        acq = datetime.strptime(ds.AcquisitionDateTime[:14], "%Y%m%d%H%M%S")
        return acq - start

    assert interval(pet, info) == interval(orig, oinfo)
    assert info.RadiopharmaceuticalStartTime == oinfo.RadiopharmaceuticalStartTime
    assert pet.AcquisitionTime == orig.AcquisitionTime


def test_other_patient_gets_another_offset(originals):
    others = clone(originals)
    for ds in others:
        ds.PatientID = "SOMEONE-ELSE"
    a = run(originals, options=("retain-long-modified-dates",))
    b = run(others, options=("retain-long-modified-dates",))
    assert a[0].StudyDate != b[0].StudyDate
