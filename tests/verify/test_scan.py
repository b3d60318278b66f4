"""deid.verify.scan: bytes outside Pixel Data, and token-bounded matching."""

from __future__ import annotations

import io

import pytest
from pydicom import Dataset
from pydicom.dataset import FileMetaDataset
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEGBaseline8Bit,
)

from deid.verify.scan import find, header_bytes, probe
from deid.verify.values import Needle, collect_needles


def _file(ts=ExplicitVRLittleEndian, pixel=b"SECRETID" * 4, after=None) -> bytes:
    ds = Dataset()
    ds.PatientID = "VISIBLE1"
    ds.BitsAllocated = 8
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = "1.2.3.4"
    ds.PixelData = pixel
    if ts == JPEGBaseline8Bit:
        from pydicom.encaps import encapsulate

        ds.PixelData = encapsulate([pixel])
        ds["PixelData"].VR = "OB"
    if after:
        ds.add_new(0xFFFCFFFC, "OB", after)
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ts
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


@pytest.mark.parametrize("ts", [ExplicitVRLittleEndian, ImplicitVRLittleEndian, JPEGBaseline8Bit])
def test_pixel_data_cut_out_rest_kept(ts):
    hb = header_bytes(_file(ts, after=b"TRAILER1"))
    assert hb.parsed and hb.preamble_end == 132
    assert b"SECRETID" not in hb.data
    assert b"VISIBLE1" in hb.data and b"TRAILER1" in hb.data
    assert len(hb.pixel_ranges) == 1


def test_deflated_is_inflated():
    raw = _file(DeflatedExplicitVRLittleEndian)
    assert b"VISIBLE1" not in raw
    assert b"VISIBLE1" in header_bytes(raw).data


def test_not_dicom_is_scanned_whole():
    hb = header_bytes(b"hello SECRETID world")
    assert not hb.parsed and b"SECRETID" in hb.data
    assert probe("/nonexistent/file") == (False, None)


def test_probe_digest_is_of_pixel_bytes(tmp_path):
    a, b = tmp_path / "a.dcm", tmp_path / "b.dcm"
    a.write_bytes(_file())
    b.write_bytes(_file(ImplicitVRLittleEndian))
    assert probe(str(a))[0] and probe(str(a))[1] == probe(str(b))[1]
    c = tmp_path / "c.dcm"
    c.write_bytes(_file(pixel=b"OTHERPIX" * 4))
    assert probe(str(c))[1] != probe(str(a))[1]


def _needle(text, boundary="token"):
    return Needle(text, "id", "x", [text.lower().encode()], boundary)


@pytest.mark.parametrize(
    "hay, hits",
    [
        (b"smith", 1),
        (b"x smith, y", 1),
        (b"smithson", 0),
        (b"blacksmith", 0),
        (b"\x08\x00smithT\x00\x16\x00", 1),  # next element's tag byte is not part of the token
        (b"SMITH", 1),
    ],
)
def test_token_boundaries(hay, hits):
    assert len(find(hay.lower(), _needle("Smith"))) == hits


def test_date_and_uid_boundaries():
    date = _needle("20200101", "date")
    assert find(b"20200101120000", date) == [0]
    assert find(b"120200101", date) == []
    uid = _needle("1.2.3.4", "uid")
    assert find(b"1.2.3.4", uid) == [0]
    assert find(b"1.2.3.45", uid) == [] and find(b"9.1.2.3.4", uid) == []


def test_non_ascii_patterns_match_without_boundaries():
    ds = Dataset()
    ds.SpecificCharacterSet = "GB18030"
    ds.PatientName = "Wang^XiaoDong=王^小东="
    needle = next(n for n in collect_needles(ds) if n.text == "小东")
    assert find("x小东y".encode("gb18030").lower(), needle)
    assert find("x小东y".encode().lower(), needle)


def test_big_pixel_data_is_neither_loaded_nor_mapped_into_memory(tmp_path):
    """A 256 MB (sparse) Pixel Data value: the scan and the digest stay small in RSS."""
    import subprocess
    import sys

    empty = _file(pixel=b"")
    head = empty[: empty.rfind(b"\xe0\x7f\x10\x00")]  # drop the empty Pixel Data element
    size = 256 * 1024 * 1024
    path = tmp_path / "big.dcm"
    with open(path, "wb") as fh:
        fh.write(head + b"\xe0\x7f\x10\x00OB\x00\x00" + size.to_bytes(4, "little"))
        fh.truncate(len(head) + 12 + size)
    code = (
        "import resource, sys\n"
        "from deid.verify.scan import header_bytes, probe\n"
        "ok, digest = probe(sys.argv[1]); hb = header_bytes(sys.argv[1])\n"
        "assert ok and digest and hb.parsed and len(hb.data) < 4096, (ok, digest, len(hb.data))\n"
        "print(next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM:')))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout.strip()) < 150 * 1024  # kB: far below the 256 MB value
