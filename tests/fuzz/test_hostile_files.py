"""Hostile DICOM files through the runner: each ends as a per-file error or a correct output.

Never a crash of the batch, a hang, or a partial output file. Covers truncation, wrong lengths,
bad VRs, undefined-length sequences that never end, deep nesting, huge declared lengths,
non-DICOM files, files without preamble or file meta and odd character sets, both as a fixed
catalogue (one batch through ``deid.runner.run``) and as hypothesis byte-level mutations (one
file at a time through the runner's per-file job). Memory stays bounded on a file declaring a
multi-gigabyte element.
"""

from __future__ import annotations

import io
import os
import resource
import signal
import subprocess
import sys
import textwrap
from contextlib import contextmanager

import pydicom
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("DEID_FUZZ_EXAMPLES") or 0) or 25
SECRET_NAME = "Quigglesworth^Philomena"
SECRET_ID = "MRN-55501234"
STATUSES = {"written", "rejected", "failed", "skipped"}


@contextmanager
def deadline(seconds: int):
    """Fail instead of hanging (SIGALRM)."""

    def _raise(*_):
        raise TimeoutError(f"hung for more than {seconds} s")

    old = signal.signal(signal.SIGALRM, _raise)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def base_file(charset: str | None = None, name: str = SECRET_NAME) -> bytes:
    ds = Dataset()
    if charset:
        ds.SpecificCharacterSet = charset
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.PatientName = name
    ds.PatientID = SECRET_ID
    ds.Modality = "OT"
    item = Dataset()
    item.AccessionNumber = "ACC9988776"
    item.RequestedProcedureID = "RP-33441"
    ds.RequestAttributesSequence = [item]
    ds.Rows = ds.Columns = 4
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.SamplesPerPixel = 1
    ds.PixelRepresentation = 0
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.PixelData = bytes(range(16))
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def _tag(group: int, elem: int) -> bytes:
    return group.to_bytes(2, "little") + elem.to_bytes(2, "little")


def catalogue() -> dict[str, bytes]:
    base = base_file()
    name_at = base.find(_tag(0x0010, 0x0010) + b"PN")
    body_at = base.find(_tag(0x0008, 0x0016))
    never = (
        _tag(0x0008, 0x1115)
        + b"SQ\x00\x00\xff\xff\xff\xff"
        + _tag(0xFFFE, 0xE000)
        + b"\xff\xff\xff\xff"
        + _tag(0x0010, 0x0010)
        + b"PN\x04\x00ABCD"
    )
    deep = b""
    for _ in range(3000):
        deep = (
            _tag(0x0008, 0x1115)
            + b"SQ\x00\x00\xff\xff\xff\xff"
            + _tag(0xFFFE, 0xE000)
            + b"\xff\xff\xff\xff"
            + deep
            + _tag(0xFFFE, 0xE00D)
            + b"\x00" * 4
            + _tag(0xFFFE, 0xE0DD)
            + b"\x00" * 4
        )
    raw = io.BytesIO()
    ds = pydicom.dcmread(io.BytesIO(base))
    ds.save_as(raw, enforce_file_format=False, implicit_vr=False, little_endian=True)
    bare = raw.getvalue()
    bare = bare[bare.find(_tag(0x0008, 0x0016)) :] if b"DICM" in bare else bare
    return {
        "ok.dcm": base,
        "truncated-header.dcm": base[:100],
        "truncated-body.dcm": base[: name_at + 12],
        "wrong-length.dcm": base[:name_at]
        + _tag(0x0010, 0x0010)
        + b"PN\x40\x00"
        + base[name_at + 8 :],
        "bad-vr.dcm": base[:name_at] + _tag(0x0010, 0x0010) + b"Q!" + base[name_at + 6 :],
        "sequence-never-ends.dcm": base[:name_at] + never,
        "deep-nesting.dcm": base[:body_at] + deep + base[body_at:],
        "huge-length.dcm": base[:name_at]
        + _tag(0x0009, 0x1010)
        + b"OB\x00\x00\xf0\xff\xff\xff"
        + b"x" * 64,
        "not-dicom.dcm": b"%PDF-1.4 this is not DICOM " * 40,
        "empty.dcm": b"",
        "no-preamble-no-meta.dcm": bare,
        "unknown-charset.dcm": base_file("ISO_IR 999", "M\u00fcller^J\u00fcrgen"),
        "bad-charset-bytes.dcm": base_file("ISO 2022 IR 87").replace(
            SECRET_NAME.encode(), b"\x1b$B\xff\xfe\x1b(B^Philomena" + b" " * 6
        ),
    }


def _outside_unknown_elements(ds) -> str:
    """Text of every element whose tag is in the DICOM dictionary (a mutation that turns
    (0010,0020) into an undefined public tag is covered by test_unknown_public_element...)."""
    from pydicom.datadict import dictionary_has_tag

    parts = []
    for elem in ds.iterall():
        if elem.VR != "SQ" and (elem.tag.is_private or dictionary_has_tag(elem.tag)):
            parts.append(str(elem.value))
    parts.extend(str(e.value) for e in ds.file_meta)
    parts.append(repr(ds.preamble))
    return "\n".join(parts)


def _check_outcome(record, output_dir):
    assert record["status"] in STATUSES, record
    out = record.get("output")
    if record["status"] == "written":
        with open(out, "rb") as fh:
            data = fh.read()
        ds = pydicom.dcmread(io.BytesIO(data))  # a correct, complete DICOM file
        for _ in ds.iterall():
            pass
        leftover = _outside_unknown_elements(ds)
        for secret in ("Quigglesworth", "Philomena", SECRET_ID, "ACC9988776"):
            assert secret not in leftover, (record["input"], secret)
    elif out and record["status"] == "failed":
        assert not os.path.exists(out), "a failed file left an output"
    leftovers = [n for _, _, names in os.walk(output_dir) for n in names if ".deid-tmp-" in n]
    assert not leftovers, leftovers


def test_catalogue_batch_never_crashes(tmp_path):
    from deid.runner import run

    src = tmp_path / "in"
    src.mkdir()
    for name, data in catalogue().items():
        (src / name).write_bytes(data)
    out = tmp_path / "out"
    with deadline(120):
        summary = run(
            str(src),
            str(out),
            profile="basic",
            workers=1,
            progress=False,
            keep_records=True,
            report=str(out) + ".deid-report.jsonl",
        )
    records = summary.records
    assert len(records) == len(catalogue())
    by_name = {os.path.basename(r["input"]): r for r in records}
    assert by_name["ok.dcm"]["status"] == "written"
    for name in (
        "truncated-header.dcm",
        "not-dicom.dcm",
        "empty.dcm",
        "huge-length.dcm",
        "sequence-never-ends.dcm",
    ):
        assert by_name[name]["status"] in ("failed", "rejected"), by_name[name]
        assert by_name[name]["reason"], "a refused file says why"
    for record in records:
        _check_outcome(record, str(out))
    from deid.verify import verify

    report = verify(str(src), str(out), report=str(out) + ".deid-report.jsonl")
    assert report.totals()["leaks"] == 0 and report.totals()["lost"] == 0, report.render()


_FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("DEID_FUZZ_EXAMPLES"),
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
_BASE = base_file()


@st.composite
def mutated(draw):
    data = bytearray(_BASE)
    kind = draw(st.sampled_from(["truncate", "flip", "length", "insert", "vr"]))
    if kind == "truncate":
        return bytes(data[: draw(st.integers(0, len(data)))])
    if kind == "flip":
        for _ in range(draw(st.integers(1, 8))):
            pos = draw(st.integers(132, len(data) - 1))
            data[pos] = draw(st.integers(0, 255))
        return bytes(data)
    if kind == "length":
        pos = (
            data.find(_tag(0x0010, 0x0010))
            if draw(st.booleans())
            else draw(st.integers(132, len(data) - 8))
        )
        value = draw(st.sampled_from([0, 1, 0xFFFF, 0x7FFF, 0x1234]))
        data[pos + 6 : pos + 8] = value.to_bytes(2, "little")
        return bytes(data)
    if kind == "insert":
        pos = draw(st.integers(132, len(data)))
        return bytes(data[:pos]) + draw(st.binary(min_size=1, max_size=64)) + bytes(data[pos:])
    pos = data.find(_tag(0x0010, 0x0020))
    data[pos + 4 : pos + 6] = draw(st.sampled_from([b"SQ", b"UN", b"OB", b"??", b"UT", b"US"]))
    return bytes(data)


@pytest.fixture(scope="module")
def job_spec():
    from deid.profiles import profile_plan
    from deid.runner import JobSpec

    return JobSpec(plan=profile_plan("basic"))


@_FUZZ
@given(data=mutated())
def test_mutated_file_is_an_error_or_a_correct_output(tmp_path_factory, job_spec, data):
    from deid.runner import collect_tasks, process_file

    root = tmp_path_factory.mktemp("mut")
    src = root / "in.dcm"
    src.write_bytes(data)
    task = collect_tasks([str(src)], str(root / "out"))[0]
    with deadline(30):
        record = process_file(task, job_spec)
    _check_outcome(record, str(root / "out"))


def test_unknown_public_element_is_not_released(tmp_path, job_spec):
    """A public (even group) tag that no dictionary defines may hold anything: fail closed."""
    from deid.runner import collect_tasks, process_file

    at = _BASE.find(_tag(0x0010, 0x0020))
    src = tmp_path / "in.dcm"
    src.write_bytes(_BASE[:at] + _tag(0x0110, 0x0020) + _BASE[at + 4 :])
    record = process_file(collect_tasks([str(src)], str(tmp_path / "out"))[0], job_spec)
    assert record["status"] in STATUSES
    if record["status"] == "written":
        with open(record["output"], "rb") as fh:
            assert SECRET_ID.encode() not in fh.read()


_MEMORY_CHILD = textwrap.dedent(
    """
    import json, resource, sys
    limit = int(sys.argv[3])
    if limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from deid.runner import run
    summary = run(sys.argv[1], sys.argv[2], profile="basic", workers=1, progress=False,
                  keep_records=True)
    # VmHWM, not ru_maxrss: on Linux ru_maxrss keeps the forking parent's peak across exec
    peak = next(int(line.split()[1]) for line in open("/proc/self/status")
                if line.startswith("VmHWM:"))
    print(json.dumps({"peak_kb": peak,
                      "records": {r["input"].rsplit("/", 1)[-1]: [r["status"], r["reason"]]
                                  for r in summary.records}}))
    """
)


def _run_child(src, out, limit=0):
    proc = subprocess.run(
        [sys.executable, "-c", _MEMORY_CHILD, str(src), str(out), str(limit)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    import json

    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_memory_bounded_on_declared_multi_gigabyte_element(tmp_path):
    """A 4 GB length in a small file: refused per file, with no 4 GB allocation."""
    src = tmp_path / "in"
    src.mkdir()
    base = _BASE
    at = base.find(_tag(0x7FE0, 0x0010))
    (src / "declares-4gb.dcm").write_bytes(
        base[:at]
        + _tag(0x7FE0, 0x0010)
        + b"OW\x00\x00"
        + (0xFFFFFFF0).to_bytes(4, "little")
        + b"\x00" * 4096
    )
    (src / "ok.dcm").write_bytes(base)
    result = _run_child(src, tmp_path / "out")
    assert result["records"]["ok.dcm"][0] == "written"
    assert result["records"]["declares-4gb.dcm"][0] in ("failed", "rejected")
    assert result["peak_kb"] < 400 * 1024, result["peak_kb"]


@pytest.mark.slow
def test_really_huge_sparse_element_is_a_per_file_error_under_a_memory_cap(tmp_path):
    """A sparse 3 GB file, run with a 1.5 GB address-space cap: the batch survives."""
    src = tmp_path / "in"
    src.mkdir()
    base = _BASE[: _BASE.find(_tag(0x7FE0, 0x0010))]
    size = 3 * 1024**3
    header = _tag(0x7FE0, 0x0010) + b"OW\x00\x00" + size.to_bytes(4, "little")
    path = src / "sparse-3gb.dcm"
    with open(path, "wb") as fh:
        fh.write(base + header)
        fh.truncate(len(base) + len(header) + size)
    (src / "ok.dcm").write_bytes(_BASE)
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    result = _run_child(src, tmp_path / "out", limit=int(1.5 * 1024**3))
    assert result["records"]["ok.dcm"][0] == "written"
    assert result["records"]["sparse-3gb.dcm"][0] in ("failed", "rejected")
    assert not (tmp_path / "out" / "sparse-3gb.dcm").exists()
    assert soft == resource.getrlimit(resource.RLIMIT_AS)[0]  # the cap stayed in the child
