"""``deid run`` (deid/cli/run.py): the pixel step is on in every run and fails closed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from runner.helpers import make_dataset, read_tree, write

from deid.cli.main import main
from deid.runner.report import read_report

#: A recipe whose only pixel rule covers CT images from the "Acme" manufacturer.
COVERING = (
    "FORMAT dicom\n%filter graylist\nLABEL Acme corner\n  contains Manufacturer Acme\n"
    "  coordinates 0,0,4,4\n%header\nREMOVE PatientID\n"
)


def _image(path: Path, index: int, **attrs: object) -> Path:
    ds = make_dataset(index, "1.2.826.0.1.3680043.8.498.77", size=8)
    ds.PixelData = np.arange(1, 65, dtype=np.uint16).tobytes()
    for key, value in attrs.items():
        setattr(ds, key, value)
    return write(ds, path)


@pytest.fixture
def images(tmp_path: Path) -> Path:
    src = tmp_path / "in"
    _image(src / "burned.dcm", 0, BurnedInAnnotation="YES")
    _image(src / "covered.dcm", 1, BurnedInAnnotation="YES", Manufacturer="Acme")
    _image(src / "plain.dcm", 2, BurnedInAnnotation="NO")
    _image(src / "nofield.dcm", 3)
    return src


@pytest.fixture
def covering(tmp_path: Path) -> Path:
    path = tmp_path / "covering.dicom"
    path.write_text(COVERING)
    return path


def _records(out: Path) -> dict[str, dict[str, object]]:
    return {Path(str(r["input"])).name: r for r in read_report(str(out) + ".deid-report.jsonl")}


def test_uncovered_burned_in_is_rejected_by_default(
    images: Path, covering: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = main(["run", str(images), "-o", str(out), "-r", str(covering), "-j", "1"])
    err = capsys.readouterr().err
    assert code == 1
    recs = _records(out)
    assert recs["burned.dcm"]["status"] == "rejected"
    reason = str(recs["burned.dcm"]["reason"])
    assert "(0028,0301) BurnedInAnnotation is YES" in reason and reason.startswith("pixels:")
    assert "burned.dcm" in err and "rejected" in err
    assert not (out / "burned.dcm").exists()
    assert {k: r["status"] for k, r in recs.items() if k != "burned.dcm"} == {
        "covered.dcm": "written",
        "plain.dcm": "written",
        "nofield.dcm": "written",
    }


def test_covered_image_is_masked_and_marked(images: Path, covering: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    main(["run", str(images), "-o", str(out), "-r", str(covering), "-j", "1"])
    recs = _records(out)
    assert recs["covered.dcm"]["pixels"]["status"] == "cleaned"  # type: ignore[index]
    ds = pydicom.dcmread(out / "covered.dcm")
    arr = ds.pixel_array
    assert (arr[:4, :4] == 0).all()
    original = pydicom.dcmread(images / "covered.dcm").pixel_array
    assert (arr[4:, :] == original[4:, :]).all() and (arr[:, 4:] == original[:, 4:]).all()
    assert ds.BurnedInAnnotation == "NO"


def test_untouched_images_keep_pixel_data_bytes(
    images: Path, covering: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    main(["run", str(images), "-o", str(out), "-r", str(covering), "-j", "1"])
    recs = _records(out)
    for name in ("plain.dcm", "nofield.dcm"):
        assert recs[name]["pixels"]["status"] == "untouched"  # type: ignore[index]
        before = pydicom.dcmread(images / name).PixelData
        after = pydicom.dcmread(out / name)
        assert after.PixelData == before
        assert "PatientID" not in after


def test_accept_burned_in_writes_unchanged_and_keeps_yes(
    images: Path, covering: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    code = main(
        ["run", str(images), "-o", str(out), "-r", str(covering), "-j", "1", "--accept-burned-in"]
    )
    assert code == 0
    ds = pydicom.dcmread(out / "burned.dcm")
    assert ds.PixelData == pydicom.dcmread(images / "burned.dcm").PixelData
    assert ds.BurnedInAnnotation == "YES"
    assert _records(out)["burned.dcm"]["pixels"]["status"] == "untouched"  # type: ignore[index]
    # the opt-out does not stop covered images from being cleaned
    assert (pydicom.dcmread(out / "covered.dcm").pixel_array[:4, :4] == 0).all()


def test_profile_yes_kept_when_not_cleaned(images: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code = main(
        [
            "run",
            str(images / "burned.dcm"),
            "-o",
            str(out),
            "--profile",
            "basic",
            "--key",
            "k" * 20,
            "--accept-burned-in",
            "-j",
            "1",
        ]
    )
    assert code == 0
    assert pydicom.dcmread(out / "burned.dcm").BurnedInAnnotation == "YES"


def test_no_pixels_opt_out_writes_everything_unchanged(
    images: Path, covering: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    code = main(["run", str(images), "-o", str(out), "-r", str(covering), "--no-pixels", "-j", "1"])
    assert code == 0
    recs = _records(out)
    assert all("pixels" not in r for r in recs.values())
    for name in ("burned.dcm", "covered.dcm"):
        assert pydicom.dcmread(out / name).PixelData == pydicom.dcmread(images / name).PixelData


@pytest.mark.parametrize("flag", ["--no-pixels", "--accept-burned-in"])
@pytest.mark.parametrize("option", ["clean-pixel-data", "clean_pixel_data"])
def test_clean_pixel_data_option_refused_without_pixels(
    images: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, option: str
) -> None:
    out = tmp_path / "out"
    argv = ["run", str(images), "-o", str(out), "--profile", "basic", "--option", option, flag]
    assert main(argv) == 2
    assert "clean-pixel-data" in capsys.readouterr().err
    assert not out.exists()


def test_clean_pixel_data_option_with_pixels_never_marks_uncovered(
    images: Path, covering: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    argv = ["run", str(images), "-o", str(out), "-r", str(covering), "--profile", "basic"]
    argv += ["--option", "clean-pixel-data", "--key", "k" * 20, "-j", "1"]
    assert main(argv) == 1
    recs = _records(out)
    assert recs["burned.dcm"]["status"] == "rejected"
    assert pydicom.dcmread(out / "covered.dcm").BurnedInAnnotation == "NO"


def test_pixels_flag_still_accepted(images: Path, covering: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["run", str(images), "-o", str(out), "-r", str(covering), "--pixels"]) == 1


def test_serial_equals_two_workers(images: Path, covering: Path, tmp_path: Path) -> None:
    outs = []
    for workers in ("1", "2"):
        out = tmp_path / f"out{workers}"
        code = main(
            ["run", str(images), "-o", str(out), "-r", str(covering), "-j", workers]
            + ["--profile", "basic", "--key", "k" * 20]
        )
        assert code == 1
        outs.append(out)
    assert read_tree(outs[0]) == read_tree(outs[1])
    assert sorted(read_tree(outs[0])) == ["covered.dcm", "nofield.dcm", "plain.dcm"]
    statuses = [{k: r["status"] for k, r in _records(o).items()} for o in outs]
    assert statuses[0] == statuses[1]


def test_suspect_modality_rejects_uncovered(images: Path, covering: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    argv = ["run", str(images), "-o", str(out), "-r", str(covering), "-j", "1"]
    assert main(argv + ["--suspect-modality", "ct", "--accept-burned-in"]) == 0
    out2 = tmp_path / "out2"
    argv = ["run", str(images), "-o", str(out2), "-r", str(covering), "-j", "1"]
    assert main(argv + ["--suspect-modality", "ct"]) == 1
    recs = _records(out2)
    assert recs["plain.dcm"]["status"] == "rejected"
    assert "Modality CT is marked suspect" in str(recs["plain.dcm"]["reason"])
    assert recs["covered.dcm"]["status"] == "written"


def test_suspect_image_type(images: Path, covering: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    argv = ["run", str(images), "-o", str(out), "-r", str(covering), "-j", "1"]
    assert main(argv + ["--suspect-image-type", "axial", "--accept-burned-in"]) == 0
    out2 = tmp_path / "out2"
    argv = ["run", str(images / "plain.dcm"), "-o", str(out2), "-r", str(covering), "-j", "1"]
    assert main(argv + ["--suspect-image-type", "axial"]) == 1


def test_blacklist_reported_and_rejected_only_on_request(tmp_path: Path) -> None:
    src = tmp_path / "in"
    _image(src / "secondary.dcm", 0, ImageType=["DERIVED", "SECONDARY"], Modality="OT")
    rec = tmp_path / "bl.dicom"
    rec.write_text(
        "FORMAT dicom\n%filter blacklist\nLABEL Secondary\n  contains ImageType SECONDARY\n"
        "%header\nREMOVE PatientID\n"
    )
    out = tmp_path / "out"
    assert main(["run", str(src), "-o", str(out), "-r", str(rec), "-j", "1"]) == 0
    pixels = _records(out)["secondary.dcm"]["pixels"]
    assert pixels["labels"] == ["blacklist/Secondary"]  # type: ignore[index]
    out2 = tmp_path / "out2"
    argv = ["run", str(src), "-o", str(out2), "-r", str(rec), "-j", "1", "--reject-blacklist"]
    assert main(argv) == 1
    reason = str(_records(out2)["secondary.dcm"]["reason"])
    assert "blacklist LABEL 'Secondary'" in reason


def test_default_filters_are_the_shipped_dicom_recipe(tmp_path: Path) -> None:
    """A run without %filter sections screens with the shipped dicom recipe."""
    src = tmp_path / "in"
    _image(
        src / "dose.dcm",
        0,
        Manufacturer="GE MEDICAL SYSTEMS",
        ManufacturerModelName="LightSpeed VCT",
        ImageType=["DERIVED", "SECONDARY", "SCREEN SAVE"],
        SeriesDescription="Dose Report",
        Rows=128,
        Columns=128,
    )
    ds = pydicom.dcmread(src / "dose.dcm")
    ds.PixelData = np.full((128, 128), 7, dtype=np.uint16).tobytes()
    ds.save_as(src / "dose.dcm")
    rec = tmp_path / "h.dicom"
    rec.write_text("FORMAT dicom\n%header\nREMOVE PatientID\n")
    out = tmp_path / "out"
    assert main(["run", str(src), "-o", str(out), "-r", str(rec), "-j", "1"]) == 0
    pixels = _records(out)["dose.dcm"]["pixels"]
    assert pixels["status"] == "cleaned"  # type: ignore[index]
    assert "graylist/LightSpeed Dose Report" in pixels["labels"]  # type: ignore[index]
    assert (pydicom.dcmread(out / "dose.dcm").pixel_array[:121, :] == 0).all()


def test_bad_filter_refused_before_any_file(
    images: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = tmp_path / "bad.dicom"
    rec.write_text(
        "FORMAT dicom\n%filter graylist\nLABEL Broken\n  contains Modality (unclosed\n"
        "  coordinates 0,0,2,2\n%header\nREMOVE PatientID\n"
    )
    out = tmp_path / "out"
    code = main(["run", str(images), "-o", str(out), "-r", str(rec), "-j", "1"])
    err = capsys.readouterr().err
    assert code == 2
    assert "bad.dicom:4" in err and "regular expression" in err
    assert not out.exists()
