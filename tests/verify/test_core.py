"""deid.verify.core: verify() on the planted-PHI corpus and a clean output made by another tool."""

from __future__ import annotations

import json
import os
import zlib
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from deid.errors import DeidError
from deid.verify import verify


def _edit(path, fn, **save):
    ds = pydicom.dcmread(path)
    fn(ds)
    ds.save_as(path, **save)


def _values(report):
    return {f.value for fr in report.files for f in fr.leaks}


def _path(out, key, modality, patient=None):
    rec = next(
        r
        for r in key["files"]
        if r["modality"] == modality and (patient is None or r["patient"] == patient)
    )
    return os.path.join(out, rec["path"]), rec


def test_clean_output_of_another_tool_has_no_findings(corpus, clean_output):
    src, key = corpus
    report = verify(src, clean_output)
    assert report.ok, report.render(verbose=True)
    assert report.totals()["files"] == len(key["files"])
    assert report.totals()["ambiguous"] == 0
    assert all(fr.needles > 20 for fr in report.files)


def test_copy_of_input_leaks_every_planted_value(corpus, tmp_path):
    """Every value of the answer key (except burned-in pixels) is reported for a plain copy."""
    src, key = corpus
    out = tmp_path / "copy"
    for rec in key["files"]:
        dst = out / rec["path"]
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(Path(src, rec["path"]).read_bytes())
    report = verify(src, str(out))
    assert report.exit_code == 1
    found: dict[str, set[str]] = {}
    for fr in report.files:
        found.setdefault(os.path.relpath(fr.output, out), set()).update(
            f.value.lower() for f in fr.leaks
        )
    missing = []
    for entry in key["phi"]:
        if entry["where"] == "burned_in":
            continue
        have = found[entry["file"]]
        value = entry["value"]
        if entry["category"] == "date":
            ok = value[:8].lower() in have
        elif entry["category"] == "name" and entry["where"] != "private":
            parts = [
                p
                for v in value.split("\\")
                for g in v.split("=")
                for p in g.split("^")
                if len(p) >= 3 and p != "Dr."
            ]
            ok = all(p.lower() in have for p in parts)
        else:
            ok = value.lower() in have
        if not ok:
            missing.append(entry)
    assert not missing, missing[:5]
    assert report.totals()["original_uids"] >= len(key["files"])
    assert report.totals()["missing_markers"] == 2 * len(key["files"])


@pytest.mark.parametrize(
    "where", ["private", "nested", "file_meta", "preamble", "trailing", "free_text_date", "overlay"]
)
def test_planted_leak_is_found_wherever_it_hides(corpus, work_output, where):
    src, key = corpus
    path, _ = _path(work_output, key, "CT", patient=0)
    patient = key["patients"][0]
    secret = patient["id"]
    if where == "private":

        def fn(ds):
            ds.private_block(0x0011, "ACME SECRET", create=True).add_new(0x01, "LO", secret)

        _edit(path, fn)
    elif where == "nested":

        def fn(ds):
            item = Dataset()
            item.TextValue = f"see {secret}"
            ds.ContentSequence = Sequence([Dataset()])
            ds.ContentSequence[0].ContentSequence = Sequence([item])

        _edit(path, fn)
    elif where == "file_meta":
        _edit(path, lambda ds: setattr(ds.file_meta, "SourceApplicationEntityTitle", secret[:16]))
    elif where == "preamble":
        _edit(path, lambda ds: setattr(ds, "preamble", secret.encode().ljust(128, b"\0")))
    elif where == "trailing":
        with open(path, "ab") as fh:
            fh.write(
                b"\xfc\xff\xfc\xffOB\x00\x00"
                + (12).to_bytes(4, "little")
                + secret.encode()[:10].ljust(12, b" ")
            )
    elif where == "free_text_date":
        y, m, d = patient["birth"][:4], patient["birth"][4:6], patient["birth"][6:8]
        secret = patient["birth"]
        _edit(path, lambda ds: setattr(ds, "ImageComments", f"born {d}/{m}/{y}"))
    elif where == "overlay":
        _edit(path, lambda ds: ds.add_new(0x60001500, "LO", secret))
    report = verify(src, work_output)
    assert report.exit_code == 1
    assert secret in _values(report), report.render()
    leaky = [fr for fr in report.files if fr.leaks]
    assert [os.path.normpath(fr.output) for fr in leaky] == [os.path.normpath(path)]


@pytest.mark.parametrize("patient", [0, 1, 2, 3])
def test_non_ascii_names_found_in_their_character_set(corpus, work_output, patient):
    """Latin-1, UTF-8, ISO 2022 IR 87 and GB18030 names are found in the output's encoding."""
    src, key = corpus
    p = key["patients"][patient]
    rec = next(r for r in key["files"] if r["patient"] == patient)
    path = os.path.join(work_output, rec["path"])
    ds_in = pydicom.dcmread(os.path.join(src, rec["path"]))
    groups = str(ds_in.PatientName).split("=")
    target = groups[1] if len(groups) > 1 and groups[1] else groups[0]
    family = max(target.split("^"), key=len)  # a one-character family name is too short

    def fn(ds):
        ds.SpecificCharacterSet = ds_in.SpecificCharacterSet
        ds.ImageComments = f"{family} follow-up"

    _edit(path, fn)
    with open(path, "rb") as fh:
        raw = fh.read()
    assert family.encode("utf-8") not in raw or p["charset"] == "ISO_IR 192"
    report = verify(src, work_output)
    assert family in _values(report), (p["charset"], report.render())


def test_multi_valued_and_multi_component_names(tmp_path):
    from pydicom.uid import generate_uid

    ins, outs = tmp_path / "in", tmp_path / "out"
    ins.mkdir()
    outs.mkdir()
    ds = Dataset()
    ds.SOPInstanceUID = generate_uid()
    ds.SpecificCharacterSet = ["", "ISO 2022 IR 87"]
    ds.OtherPatientNames = ["Kuroda^Ichirou=黒田^一郎", "Ogawara^Fumiko"]
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = "x"
    ds.save_as(ins / "a.dcm", implicit_vr=False, little_endian=True)
    ds.OtherPatientNames = ["SUBJ^ONE"]
    ds.SOPInstanceUID = generate_uid()
    ds.ImageComments = "Fumiko"
    ds.PatientComments = "一郎"
    ds.save_as(outs / "a.dcm", implicit_vr=False, little_endian=True)
    report = verify(str(ins), str(outs))
    assert {"Fumiko", "一郎"} <= _values(report)
    assert "Kuroda" not in _values(report)


def test_deflated_output_is_inflated_before_scanning(corpus, work_output):
    src, key = corpus
    path, _ = _path(work_output, key, "MR", patient=1)
    secret = key["patients"][1]["id"]

    def fn(ds):
        ds.ImageComments = secret
        ds.file_meta.TransferSyntaxUID = pydicom.uid.DeflatedExplicitVRLittleEndian

    _edit(path, fn)
    with open(path, "rb") as fh:
        assert secret.encode() not in fh.read()
    assert secret in _values(verify(src, work_output))


def test_unparseable_output_is_scanned_as_raw_bytes(corpus, work_output):
    src, key = corpus
    path, _ = _path(work_output, key, "OT", patient=4)
    secret = key["patients"][4]["id"]
    with open(path, "wb") as fh:
        fh.write(b"garbage " * 10 + secret.encode() + zlib.compress(b"x" * 50))
    report = verify(src, work_output)
    assert report.exit_code == 1
    assert secret in _values(report)
    assert report.totals()["unreadable_outputs"] == 1


def test_pixel_data_is_not_scanned(corpus, work_output):
    src, key = corpus
    path, _ = _path(work_output, key, "CT", patient=0)
    secret = key["patients"][0]["id"].encode()

    def fn(ds):
        data = bytearray(ds.PixelData)
        data[: len(secret)] = secret
        ds.PixelData = bytes(data)

    _edit(path, fn)
    assert verify(src, work_output).ok


def test_original_uid_left_is_reported(corpus, work_output):
    src, key = corpus
    path, rec = _path(work_output, key, "MR", patient=3)
    _edit(path, lambda ds: setattr(ds, "StudyInstanceUID", rec["study_instance_uid"]))
    report = verify(src, work_output)
    assert report.totals()["original_uids"] >= 1
    assert rec["study_instance_uid"] in _values(report)


def test_retain_uids_option_accepts_original_uids(corpus, work_output):
    src, key = corpus
    path, rec = _path(work_output, key, "MR", patient=3)
    _edit(path, lambda ds: setattr(ds, "SOPInstanceUID", rec["sop_instance_uid"]))
    assert not verify(src, work_output).ok
    assert verify(src, work_output, options=["retain-uids"]).ok


def test_broken_reference_is_reported(corpus, work_output):
    src, key = corpus
    sr, _ = _path(work_output, key, "SR")

    def fn(ds):
        seq = ds.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence[0]
        seq.ReferencedSOPSequence[1].ReferencedSOPInstanceUID = "2.25.1234"

    _edit(sr, fn)
    report = verify(src, work_output)
    assert report.totals()["broken_references"] == 1
    assert report.exit_code == 1


def test_split_study_is_reported_as_uid_inconsistency(corpus, work_output):
    src, key = corpus
    path, _ = _path(work_output, key, "CT", patient=0)
    _edit(path, lambda ds: setattr(ds, "StudyInstanceUID", "2.25.999"))
    report = verify(src, work_output)
    assert report.totals()["uid_inconsistent"] >= 1


def test_missing_markers(corpus, work_output):
    src, key = corpus
    path, _ = _path(work_output, key, "DX")

    def fn(ds):
        del ds.PatientIdentityRemoved
        del ds.DeidentificationMethod

    _edit(path, fn)
    report = verify(src, work_output)
    assert report.totals()["missing_markers"] == 2
    assert verify(src, work_output, require_markers=False).ok


def test_lost_file_and_refused_file(corpus, work_output, tmp_path):
    src, key = corpus
    path, rec = _path(work_output, key, "PT")
    os.remove(path)
    report = verify(src, work_output)
    assert report.lost == [os.path.join(src, rec["path"])]
    assert report.exit_code == 1
    log = tmp_path / "report.jsonl"
    log.write_text(
        json.dumps(
            {
                "input": os.path.join(src, rec["path"]),
                "output": None,
                "status": "rejected",
                "reason": "burned-in text",
            }
        )
        + "\n"
    )
    report = verify(src, work_output, report=str(log))
    assert report.lost == [] and len(report.rejected) == 1
    assert report.ok


def test_temporary_file_left_in_output(corpus, work_output):
    src, key = corpus
    path, _ = _path(work_output, key, "CR")
    os.rename(path, os.path.join(os.path.dirname(path), ".1.dcm.deid-tmp-1-abcd"))
    report = verify(src, work_output)
    assert report.totals()["partial_outputs"] == 1
    assert report.exit_code == 1


def test_unpaired_output_is_checked_against_every_input(corpus, work_output):
    src, key = corpus
    stray = os.path.join(work_output, "stray.dcm")
    ds = Dataset()
    ds.ImageComments = key["patients"][2]["id"]
    ds.save_as(stray, implicit_vr=False, little_endian=True)
    report = verify(src, work_output)
    assert stray in report.unpaired_outputs
    assert key["patients"][2]["id"] in _values(report)


def test_short_and_placeholder_values_are_not_leaks(tmp_path):
    from pydicom.uid import generate_uid

    ins, outs = tmp_path / "in", tmp_path / "out"
    ins.mkdir()
    outs.mkdir()
    ds = Dataset()
    ds.SOPInstanceUID = generate_uid()
    ds.PatientName = "Li^Wu^^Dr."
    ds.PatientID = "ANONYMOUS"
    ds.OtherPatientIDs = "12"
    ds.BodyPartExamined = "HEAD"
    ds.OtherPatientNames = "Head^Ann"
    ds.save_as(ins / "a.dcm", implicit_vr=False, little_endian=True)
    ds.SOPInstanceUID = generate_uid()
    for kw in ("PatientName", "OtherPatientNames", "OtherPatientIDs"):
        delattr(ds, kw)
    ds.ImageComments = "Li Wu Dr. 12 SCANNER"  # "Ann" must not match inside "SCANNER"
    ds.save_as(outs / "a.dcm", implicit_vr=False, little_endian=True)
    report = verify(str(ins), str(outs), require_markers=False)
    assert report.ok, report.render(verbose=True)
    assert [f.value for f in report.files[0].ambiguous] == ["Head"]


def test_missing_paths_raise():
    with pytest.raises(DeidError, match="no such file"):
        verify("/nonexistent/in", "/nonexistent/out")


def test_burned_in_image_released_unchanged(corpus, work_output):
    """An input flagged Burned In Annotation YES must not come out with the same pixels."""
    from .conftest import whitelist_deidentify

    src, key = corpus
    rec = next(r for r in key["files"] if r["burned_in"])
    whitelist_deidentify(os.path.join(src, rec["path"]), os.path.join(work_output, rec["path"]))
    report = verify(src, work_output)
    assert report.totals()["burned_in_unchanged"] == 1
    assert report.exit_code == 1
    assert "BURNED_IN" in report.render()


def test_recipe_given_to_verify_adds_what_it_removes(corpus, work_output, tmp_path):
    """Values of elements the recipe removes are searched too (here: Manufacturer)."""
    src, _ = corpus
    recipe = tmp_path / "site.dicom"
    recipe.write_text("FORMAT dicom\n\n%header\n\nREMOVE Manufacturer\n")
    assert verify(src, work_output).ok  # Manufacturer is not identifying by itself
    report = verify(src, work_output, recipes=[str(recipe)])
    assert {f.category for fr in report.files for f in fr.leaks} == {"removed"}
    assert _values(report) == {"ACME Imaging"}


def test_bad_recipe_or_option_is_a_deid_error(corpus, clean_output, tmp_path):
    src, _ = corpus
    bad = tmp_path / "bad.dicom"
    bad.write_text("FORMAT dicom\n%header\nREMOOVE PatientName\n")
    with pytest.raises(DeidError):
        verify(src, clean_output, recipes=[str(bad)])
    with pytest.raises(DeidError):
        verify(src, clean_output, profile="basic", options=["retain-everything"])
