"""Tests for deid.pixels.clean: masking on every transfer syntax pydicom can decode."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from pydicom.encaps import generate_fragmented_frames
from pydicom.uid import (
    JPEG2000,
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLSLossless,
    RLELossless,
)

from deid.pixels.clean import CleanError, clean_dataset, frame_count, touched_frames
from deid.pixels.regions import Region

from .conftest import bundled, frames_of, make_image, roundtrip

BOX = Region(2, 3, 7, 9)


def box_mask(shape2d):
    m = np.zeros(shape2d, bool)
    m[3:9, 2:7] = True
    return m


def check_masked(before, after, ds_before, fill=0):
    """Masked box == fill in every frame; everything else unchanged."""
    b = frames_of(before, ds_before)
    a = frames_of(after, ds_before)
    m = box_mask(b.shape[1:3])
    assert a.shape == b.shape
    for fb, fa in zip(b, a):
        assert np.array_equal(fa[~m], fb[~m])
        assert (fa[m] == fill).all()


# (file, expected method, expected output syntax or None for "same as input")
CASES = [
    ("CT_small.dcm", "native", None),
    ("MR_small_implicit.dcm", "native", None),
    ("MR_small_bigendian.dcm", "native", None),
    ("ExplVR_BigEnd.dcm", "native", None),  # RGB, planar configuration 1
    ("examples_rgb_color.dcm", "native", None),
    ("examples_palette.dcm", "native", None),
    ("image_dfl.dcm", "native", None),
    ("liver_1frame.dcm", "native", None),  # 1 bit allocated
    ("rtdose.dcm", "native", None),  # 32-bit multi-frame
    ("SC_ybr_full_422_uncompressed.dcm", "decoded", ExplicitVRLittleEndian),
    ("MR_small_RLE.dcm", "reencoded", None),
    ("SC_rgb_rle_2frame.dcm", "reencoded", None),
    ("SC_rgb_rle_16bit.dcm", "reencoded", None),
    ("rtdose_rle.dcm", "decoded", ExplicitVRLittleEndian),  # no 32-bit RLE encoder
    ("MR_small_jpeg_ls_lossless.dcm", "reencoded", None),
    ("JPEGLSNearLossless_08.dcm", "reencoded", None),
    ("SC_rgb_jls_lossy_sample.dcm", "reencoded", None),
    ("MR_small_jp2klossless.dcm", "reencoded", None),
    ("examples_jpeg2k.dcm", "reencoded", None),  # YBR_RCT
    ("JPEG2000.dcm", "reencoded", None),
    ("SC_rgb_gdcm_KY.dcm", "reencoded", None),
    ("SC_rgb_jpeg_dcmtk.dcm", "decoded", ExplicitVRLittleEndian),  # JPEG baseline YBR
    ("examples_ybr_color.dcm", "decoded", ExplicitVRLittleEndian),  # baseline multi-frame 422
    ("JPGExtended.dcm", "decoded", ExplicitVRLittleEndian),
    ("SC_rgb_jpeg_gdcm.dcm", "decoded", ExplicitVRLittleEndian),  # JPEG lossless SV1
]


@pytest.mark.parametrize("name,method,syntax", CASES, ids=[c[0] for c in CASES])
def test_pydicom_files_every_syntax(name, method, syntax):
    ds = pydicom.dcmread(bundled(name))
    ts_in = ds.file_meta.TransferSyntaxUID
    before = ds.pixel_array.copy()
    lossy_in = ts_in in (JPEGBaseline8Bit, "1.2.840.10008.1.2.4.51")
    result = clean_dataset(ds, [BOX])
    assert result.method == method
    out = roundtrip(ds)
    assert out.file_meta.TransferSyntaxUID == (syntax or ts_in)
    check_masked(before, out.pixel_array, ds)
    assert result.frames_touched == tuple(range(frame_count(ds)))
    if method == "decoded":
        assert out.get("LossyImageCompression") == (
            "01" if lossy_in else out.get("LossyImageCompression")
        )
        assert "PixelData" in out and not out["PixelData"].is_undefined_length
        if int(out.SamplesPerPixel) == 3:
            assert out.PhotometricInterpretation == "RGB"
            assert out.PlanarConfiguration == 0


def test_jpeg_baseline_marks_lossy_compression():
    ds = pydicom.dcmread(bundled("SC_rgb_jpeg_dcmtk.dcm"))
    if "LossyImageCompression" in ds:
        del ds.LossyImageCompression
    clean_dataset(ds, [BOX])
    assert ds.LossyImageCompression == "01"
    assert ds.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian


@pytest.mark.parametrize(
    "kwargs",
    [
        {"bits": 8},
        {"bits": 16},
        {"bits": 16, "signed": True},
        {"bits": 32},
        {"samples": 3, "planar": 0},
        {"samples": 3, "planar": 1},
        {"samples": 3, "planar": 1, "bits": 16},
        {"frames": 4},
        {"frames": 3, "samples": 3, "planar": 1},
        {"photometric": "MONOCHROME1"},
    ],
)
def test_native_layouts(kwargs):
    ds = make_image(rows=12, cols=10, **kwargs)
    before = ds.pixel_array.copy()
    result = clean_dataset(ds, [BOX])
    assert result.method == "native"
    out = roundtrip(ds)
    assert out.PhotometricInterpretation == ds.PhotometricInterpretation
    check_masked(before, out.pixel_array, ds)
    assert result.pixels_masked == 30 * frame_count(ds)


def test_fill_value_and_colour_fill():
    ds = make_image(rows=12, cols=10, bits=16)
    before = ds.pixel_array.copy()
    clean_dataset(ds, [BOX], fill=77)
    check_masked(before, roundtrip(ds).pixel_array, ds, fill=77)
    rgb = make_image(rows=12, cols=10, samples=3)
    clean_dataset(rgb, [BOX], fill=(1, 2, 3))
    assert (rgb.pixel_array[3:9, 2:7] == [1, 2, 3]).all()
    with pytest.raises(CleanError, match="SamplesPerPixel"):
        clean_dataset(make_image(samples=3), [BOX], fill=(1, 2))


def test_native_ybr_full_fill_decodes_to_black():
    ds = make_image(rows=12, cols=10, samples=3, photometric="YBR_FULL")
    before = ds.pixel_array.copy()  # converted to RGB by pydicom
    clean_dataset(ds, [BOX])
    stored = np.frombuffer(ds.PixelData, np.uint8).reshape(12, 10, 3)
    assert (stored[3:9, 2:7] == [0, 128, 128]).all()
    check_masked(before, roundtrip(ds).pixel_array, ds)


def test_untouched_is_never_decoded_and_byte_identical(monkeypatch):
    ds = pydicom.dcmread(bundled("SC_rgb_jpeg_dcmtk.dcm"))
    raw = ds.PixelData

    def boom(*a, **k):  # any decode attempt fails the test
        raise AssertionError("decoded")

    monkeypatch.setattr("pydicom.pixels.get_decoder", boom)
    for regions in (
        [],
        [Region(5000, 5000, 6000, 6000)],
        [Region.whole(), Region.whole(keep=True)],
    ):
        result = clean_dataset(ds, regions)
        assert result.method == "untouched"
        assert ds.PixelData is raw
    assert touched_frames(ds, [Region(5000, 5000, 6000, 6000)]) == ()


def _rle_multiframe(frames=3, extended=False):
    ds = make_image(rows=16, cols=12, frames=frames, bits=16)
    ds.compress(RLELossless, encapsulate_ext=extended, generate_instance_uid=False)
    return ds


@pytest.mark.parametrize("extended", [False, True])
def test_untouched_frames_keep_original_fragments(extended):
    ds = _rle_multiframe(extended=extended)
    before = ds.pixel_array.copy()
    eot = (ds.ExtendedOffsetTable, ds.ExtendedOffsetTableLengths) if extended else None
    original = list(
        generate_fragmented_frames(ds.PixelData, number_of_frames=3, extended_offsets=eot)
    )
    result = clean_dataset(ds, [Region(0, 0, 4, 4, frames=(1,))])
    assert result.method == "reencoded" and result.frames_touched == (1,)
    assert ("ExtendedOffsetTable" in ds) is extended
    eot = (ds.ExtendedOffsetTable, ds.ExtendedOffsetTableLengths) if extended else None
    after = list(generate_fragmented_frames(ds.PixelData, number_of_frames=3, extended_offsets=eot))
    assert after[0] == original[0] and after[2] == original[2]
    assert after[1] != original[1]
    out = roundtrip(ds).pixel_array
    assert np.array_equal(out[0], before[0]) and np.array_equal(out[2], before[2])
    assert (out[1][:4, :4] == 0).all() and np.array_equal(out[1][4:], before[1][4:])


def test_frames_restricted_native():
    ds = make_image(rows=6, cols=6, frames=3)
    before = ds.pixel_array.copy()
    clean_dataset(ds, [Region.whole(frames=(2,))])
    after = ds.pixel_array
    assert np.array_equal(after[:2], before[:2]) and not after[2].any()


@pytest.mark.parametrize("syntax", [RLELossless, JPEGLSLossless, JPEG2000Lossless])
def test_encoded_synthetic_multiframe_colour(syntax):
    ds = make_image(rows=64, cols=64, frames=2, samples=3)
    ds.compress(syntax, generate_instance_uid=False)
    before = ds.pixel_array.copy()
    assert clean_dataset(ds, [BOX]).method == "reencoded"
    out = roundtrip(ds)
    assert out.file_meta.TransferSyntaxUID == syntax
    check_masked(before, out.pixel_array, ds)


def test_target_native_forces_decoding():
    ds = _rle_multiframe()
    before = ds.pixel_array.copy()
    assert clean_dataset(ds, [BOX], target="native").method == "decoded"
    assert ds.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    check_masked(before, roundtrip(ds).pixel_array, ds)
    with pytest.raises(CleanError):
        clean_dataset(ds, [BOX], target="bogus")


def test_j2k_lossy_syntax_written_reversibly():
    ds = pydicom.dcmread(bundled("JPEG2000.dcm"))
    assert ds.file_meta.TransferSyntaxUID == JPEG2000
    clean_dataset(ds, [BOX])
    assert ds.file_meta.TransferSyntaxUID == JPEG2000


def test_errors_name_the_problem():
    ds = make_image()
    ds.PixelData = ds.PixelData[:10]
    with pytest.raises(CleanError, match=r"\(7FE0,0010\)"):
        clean_dataset(ds, [BOX])
    ds = make_image()
    del ds.Rows
    with pytest.raises(CleanError, match="Rows"):
        clean_dataset(ds, [BOX])
    ds = make_image()
    ds.NumberOfFrames = 5  # more frames than the Pixel Data holds
    with pytest.raises(CleanError, match="PixelData has"):
        clean_dataset(ds, [BOX])


def test_missing_codec_names_the_extra(monkeypatch):
    from deid.errors import MissingExtraError
    from deid.pixels import clean as clean_mod

    ds = pydicom.dcmread(bundled("SC_rgb_jpeg_dcmtk.dcm"))

    class Unavailable:
        is_available = False

    monkeypatch.setattr("pydicom.pixels.get_decoder", lambda ts: Unavailable())
    real = clean_mod.require

    def fake_require(module, extra):
        return real("deid_not_installed_module_xyz", extra)

    monkeypatch.setattr(clean_mod, "require", fake_require)
    with pytest.raises(MissingExtraError, match=r"deid\[pixels\]"):
        clean_dataset(ds, [BOX])


def test_accepts_a_detection():
    from deid.pixels.detect import Detection, Match

    ds = make_image(rows=12, cols=10)
    match = Match("g", "L", "", [[0, "2,3,7,9"]], (BOX,), span=None)
    result = clean_dataset(ds, Detection((match,)))
    assert result.pixels_masked == 30


def test_encapsulated_frame_count_mismatch_is_an_error():
    ds = _rle_multiframe(frames=2)
    ds.NumberOfFrames = 3
    with pytest.raises(CleanError, match="2 frames, 3 expected"):
        clean_dataset(ds, [BOX])


def test_corrupt_compressed_data_is_a_clean_error():
    ds = _rle_multiframe(frames=1)
    ds.PixelData = ds.PixelData[:40] + b"\xff" * 16
    with pytest.raises(CleanError, match="RLE Lossless"):
        clean_dataset(ds, [BOX])


@pytest.mark.parametrize("how", ["native", "reencoded", "decoded"])
def test_large_outputs_stored_without_copy_still_write(monkeypatch, how):
    from deid.pixels import clean as clean_mod

    monkeypatch.setattr(clean_mod, "_NO_COPY_THRESHOLD", 0)
    ds = make_image(rows=12, cols=10, frames=2, bits=16)
    if how != "native":
        ds.compress(RLELossless, generate_instance_uid=False)
    before = ds.pixel_array.copy()
    result = clean_dataset(ds, [BOX], target="native" if how == "decoded" else "original")
    assert result.method == how
    assert isinstance(ds.PixelData, bytearray)
    check_masked(before, roundtrip(ds).pixel_array, ds)


def test_dicom_cookie_jpeg_baseline():
    from .conftest import deid_data_dir

    ds = pydicom.dcmread(deid_data_dir() / "dicom-cookies" / "image3.dcm")
    assert ds.file_meta.TransferSyntaxUID == JPEGBaseline8Bit
    before = ds.pixel_array.copy()
    region = Region(100, 50, 900, 300)
    result = clean_dataset(ds, [region])
    assert result.method == "decoded" and result.photometric_out == "RGB"
    out = roundtrip(ds)
    assert out.LossyImageCompression == "01"
    after = out.pixel_array
    m = np.zeros(before.shape[:2], bool)
    m[50:300, 100:900] = True
    assert not after[m].any() and np.array_equal(after[~m], before[~m])


def test_ultrasound_multiframe_native_rgb():
    from .conftest import deid_data_dir

    ds = pydicom.dcmread(deid_data_dir() / "ultrasounds" / "ultrasound-multiframe.dcm")
    before = ds.pixel_array.copy()
    result = clean_dataset(ds, [Region(0, 0, 800, 30)])
    assert result.method == "native" and len(result.frames_touched) == 30
    after = roundtrip(ds).pixel_array
    assert not after[:, :30].any() and np.array_equal(after[:, 30:], before[:, 30:])


def test_rle_ybr_full_fill_is_black_after_decoding():
    ds = make_image(rows=16, cols=16, frames=2, samples=3, photometric="YBR_FULL")
    ds.compress(RLELossless, generate_instance_uid=False)
    before = ds.pixel_array.copy()
    assert clean_dataset(ds, [BOX]).method == "reencoded"
    assert ds.PhotometricInterpretation == "YBR_FULL"
    check_masked(before, roundtrip(ds).pixel_array, ds)


def test_frames_split_over_several_fragments_are_kept_as_they_were():
    from pydicom.encaps import encapsulate
    from pydicom.pixels import get_encoder

    ds = make_image(rows=16, cols=16, frames=3, bits=8)
    arr = ds.pixel_array
    encoder = get_encoder(RLELossless)
    frames = [encoder.encode(ds, index=i) for i in range(3)]
    ds.PixelData = encapsulate(frames, fragments_per_frame=2)
    ds["PixelData"].is_undefined_length = True
    ds.file_meta.TransferSyntaxUID = RLELossless
    original = list(generate_fragmented_frames(ds.PixelData, number_of_frames=3))
    assert all(len(f) == 2 for f in original)
    clean_dataset(ds, [Region(0, 0, 3, 3, frames=(0,))])
    after = list(generate_fragmented_frames(ds.PixelData, number_of_frames=3))
    assert after[1:] == original[1:] and len(after[0]) == 1
    out = roundtrip(ds).pixel_array
    assert np.array_equal(out[1:], arr[1:]) and not out[0][:3, :3].any()


def test_dataset_without_file_meta():
    ds = make_image(rows=12, cols=10, samples=3, photometric="YBR_FULL_422")
    # native YBR_FULL_422 needs the 4:2:2 layout: 2 Y + Cb + Cr per pixel pair
    ds.PixelData = bytes(range(256)) * (12 * 10 * 2 // 256) + bytes(12 * 10 * 2 % 256)
    del ds.file_meta
    result = clean_dataset(ds, [BOX])
    assert result.method == "decoded"
    assert ds.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert ds.PhotometricInterpretation == "RGB"
