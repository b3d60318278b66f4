"""Upstream's ``deid.dicom.pixels.clean``: :class:`DicomCleaner` and :func:`clean_pixel_data`.

``DicomCleaner`` keeps upstream's workflow (``detect`` -> ``clean`` -> ``save_dicom`` /
``save_png``) and result shapes. ``save_dicom`` writes the cleaned array; with
``preserve_compression=True`` (or ``compression=<uid>``) it re-compresses losslessly when pydicom
has an encoder for the syntax and otherwise writes Explicit VR Little Endian with the
photometric interpretation and LossyImageCompression set to match. The header is not
de-identified here (use the header engine, or :func:`deid.pixels.process_pixels` in a run).

Examples
--------
>>> from pydicom.data import get_testdata_file
>>> cleaner = DicomCleaner(deid="dicom.ultrasound")
>>> cleaner.detect(get_testdata_file("CT_small.dcm"))["results"][0]["coordinates"]
[[0, 'all']]
>>> image = cleaner.clean()
>>> image.shape, int((image == 0).sum())
((128, 128), 16384)
"""

from __future__ import annotations

import copy
import os
import struct
import tempfile
import zlib
from typing import Any

import numpy as np
from pydicom import uid as _uid
from pydicom.dataset import Dataset

from deid._optional import require
from deid.config import DeidRecipe
from deid.dicom.pixels.detect import _as_recipe, _has_burned_pixels_single
from deid.dicom.utils import load_dicom
from deid.errors import DeidError
from deid.logger import bot
from deid.pixels.clean import frame_count
from deid.pixels.regions import Region, regions_from_coordinates, removal_mask

__all__ = ["DicomCleaner", "clean_pixel_data"]

_LOSSY = {
    _uid.JPEGBaseline8Bit,
    _uid.JPEGExtended12Bit,
    _uid.JPEGLSNearLossless,
    _uid.JPEG2000,
}


def _results_list(results: Any) -> list[dict]:
    if results is None:
        return []
    if isinstance(results, dict):
        return list(results.get("results", []))
    return list(results)


def _regions(results: Any) -> list[Region]:
    regions: list[Region] = []
    for item in _results_list(results):
        regions += regions_from_coordinates(item.get("coordinates", []), item.get("reason", ""))
    return regions


def _decode(ds: Dataset, fix_interpretation: bool, attribute: str) -> tuple[np.ndarray, str]:
    if attribute != "PixelData":
        return ds.pixel_array, str(ds.get("PhotometricInterpretation", ""))
    from pydicom.pixels import get_decoder

    ts = ds.file_meta.get("TransferSyntaxUID", _uid.ExplicitVRLittleEndian)
    decoder = get_decoder(ts)
    if not decoder.is_available:
        require("pylibjpeg", "pixels")
        raise DeidError(f"no working pixel decoder for {ts.name}; pip install 'deid[pixels]'")
    arr, meta = decoder.as_array(ds, as_rgb=fix_interpretation)
    pi = meta.get("photometric_interpretation", ds.get("PhotometricInterpretation", ""))
    return arr, str(getattr(pi, "value", pi))


def _cleaned(
    ds: Dataset, results: Any, fix_interpretation: bool, attribute: str
) -> tuple[np.ndarray, str]:
    """The decoded pixels with the regions of ``results`` set to 0, and their photometric."""
    arr, photometric = _decode(ds, fix_interpretation, attribute)
    frames, samples = frame_count(ds), int(ds.get("SamplesPerPixel") or 1)
    remove = removal_mask(_regions(results), int(ds.Rows), int(ds.Columns))
    out = arr.copy()
    if remove.any():
        if out.ndim == 2 or out.ndim == 3 and samples > 1 and frames == 1:
            out[remove] = 0
        else:
            out[:, remove] = 0
    return out, photometric


def clean_pixel_data(
    dicom_file: Any,
    results: Any,
    fix_interpretation: bool = True,
    pixel_data_attribute: str = "PixelData",
) -> np.ndarray:
    """Return the decoded pixels of ``dicom_file`` with the detected regions set to 0.

    Parameters
    ----------
    dicom_file : str, path or pydicom.dataset.Dataset
        The image.
    results : dict or list
        :func:`has_burned_pixels`'s single result (or its ``"results"`` list). Coordinates of
        every result are applied in order: mask 0 blanks, mask 1 protects; ``all`` is the
        whole frame; ``x0,y0,x1,y1`` are column/row bounds, end-exclusive.
    fix_interpretation : bool
        Decode YBR colour data as RGB (upstream's default).
    pixel_data_attribute : str
        The pixel element to read (``PixelData``).

    Returns
    -------
    numpy.ndarray
        Same shape and dtype as the decoded pixels; an unchanged copy when nothing applies.

    Raises
    ------
    deid.pixels.regions.RegionError
        A coordinate that is neither ``all`` nor four integers.

    Examples
    --------
    >>> from pydicom.data import get_testdata_file
    >>> keep_top = [{"coordinates": [[0, "all"], [1, "0,0,128,64"]]}]  # blank all, keep the top
    >>> image = clean_pixel_data(get_testdata_file("CT_small.dcm"), keep_top)
    >>> bool((image[64:] == 0).all()), bool(image[:64].any())
    (True, True)
    """
    ds = load_dicom(dicom_file)
    return _cleaned(ds, results, fix_interpretation, pixel_data_attribute)[0]


def _png_bytes(image: np.ndarray) -> bytes:
    """Encode a 2-D (grey) or 3-D (RGB) array as an 8-bit PNG, scaled to 0..255."""
    img = np.asarray(image, dtype=np.float64)
    lo, hi = float(np.min(img)), float(np.max(img))
    scaled = np.zeros(img.shape) if hi <= lo else (img - lo) * (255.0 / (hi - lo))
    data = np.clip(np.round(scaled), 0, 255).astype(np.uint8)
    if data.ndim == 2:
        color, channels = 0, 1
    else:
        color, channels = 2, 3
        data = data[..., :3]
    height, width = data.shape[:2]
    rows = data.reshape(height, width * channels)
    raw = b"".join(b"\x00" + row.tobytes() for row in rows)

    def chunk(kind: bytes, payload: bytes) -> bytes:
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, color, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )


class DicomCleaner:
    """Detect and blank burned-in annotation, one image at a time (upstream's class).

    Parameters
    ----------
    output_folder : str, optional
        Where ``save_*`` write; a new temporary folder (created on first save) when None.
    add_padding, margin : optional
        Accepted for compatibility; unused (as upstream).
    deid : DeidRecipe or anything DeidRecipe accepts, optional
        The recipe with ``%filter`` rules; None uses the default recipe.
    font : optional
        Accepted for compatibility (plot titles).
    force : bool
        Passed to :func:`pydicom.dcmread`.

    Examples
    --------
    >>> cleaner = DicomCleaner(deid="dicom.ultrasound")
    >>> cleaner.clean() is None  # detect() was not called
    True
    """

    def __init__(
        self,
        output_folder: str | None = None,
        add_padding: bool = False,
        margin: int = 3,
        deid: Any = None,
        font: Any = None,
        force: bool = True,
    ) -> None:
        self.output_folder = output_folder
        self.add_padding = add_padding
        self.margin = margin
        self.recipe = _as_recipe(deid) if deid is not None else DeidRecipe()
        self.font = font
        self.cmap = "gray"
        self.force = force
        self.results: dict | None = None
        self.cleaned: np.ndarray | None = None
        self.dicom_file: Any = None
        self._photometric = ""

    def __str__(self) -> str:
        return "[deid.DicomCleaner]"

    def detect(self, dicom_file: Any) -> dict:
        """Run the recipe's filters on ``dicom_file``; remember and return the results.

        Examples
        --------
        >>> from pydicom import Dataset
        >>> ds = Dataset(); ds.Modality = "CT"; ds.ImageType = ["ORIGINAL"]
        >>> DicomCleaner(deid="dicom.ultrasound").detect(ds)["flagged"]
        True
        """
        self.results = _has_burned_pixels_single(dicom_file, force=self.force, deid=self.recipe)
        self.dicom_file = dicom_file
        self.cleaned = None
        return self.results

    def clean(
        self, fix_interpretation: bool = True, pixel_data_attribute: str = "PixelData"
    ) -> np.ndarray | None:
        """Return (and keep in ``.cleaned``) the pixels with detected regions blanked.

        Returns None with a warning when :meth:`detect` was not called.
        """
        if self.results is None or self.dicom_file is None:
            bot.warning(f"Use {self}.detect() with a dicom file to find coordinates first.")
            return None
        ds = load_dicom(self.dicom_file, force=self.force)
        self.cleaned, self._photometric = _cleaned(
            ds, self.results, fix_interpretation, pixel_data_attribute
        )
        return self.cleaned

    def _get_clean_name(
        self, output_folder: str | None, extension: str = "dcm", mode: int = 0o700
    ) -> str:
        """Return ``<folder>/cleaned-<basename>.<extension>``, creating the folder."""
        folder = output_folder or self.output_folder
        if folder is None:
            folder = self.output_folder = tempfile.mkdtemp(prefix="deid-clean-")
        os.makedirs(folder, mode=mode, exist_ok=True)
        name = (
            getattr(self.dicom_file, "filename", None)
            if isinstance(self.dicom_file, Dataset)
            else self.dicom_file
        )
        base = os.path.basename(str(name)) if name else "image"
        for ext in (".dcm", ".dicom"):
            if base.lower().endswith(ext):
                base = base[: -len(ext)]
        return os.path.join(folder, f"cleaned-{base}.{extension}")

    def _ready(self, image_type: str) -> bool:
        if image_type != "cleaned":
            bot.warning(f"image_type {image_type!r} is not available; use 'cleaned'.")
            return False
        if self.cleaned is None:
            bot.warning(f"Use {self}.clean() before saving.")
            return False
        return True

    def save_dicom(
        self,
        output_folder: str | None = None,
        image_type: str = "cleaned",
        preserve_compression: bool = False,
        compression: str | None = None,
        mode: int = 0o700,
    ) -> str | None:
        """Write the original file with the cleaned pixels as ``cleaned-<name>.dcm``.

        Parameters
        ----------
        output_folder : str, optional
            Overrides the cleaner's folder.
        image_type : str
            Only ``cleaned`` is available.
        preserve_compression : bool
            Re-compress in the original transfer syntax (losslessly) when pydicom has an
            encoder for it; otherwise Explicit VR Little Endian is written.
        compression : str, optional
            A transfer syntax UID to compress to (overrides ``preserve_compression``).
        mode : int
            Permissions of a newly created folder.

        Returns
        -------
        str or None
            The path written; None (with a warning) when there is nothing to save.
        """
        if not self._ready(image_type):
            return None
        assert self.cleaned is not None
        ds = load_dicom(self.dicom_file, force=self.force)
        if isinstance(self.dicom_file, Dataset):
            ds = copy.deepcopy(ds)
        original_ts = _uid.UID(ds.file_meta.get("TransferSyntaxUID", _uid.ExplicitVRLittleEndian))
        lossy = original_ts in _LOSSY or str(ds.get("LossyImageCompression", "")) == "01"
        arr = self.cleaned
        pi = self._photometric or str(ds.get("PhotometricInterpretation", "MONOCHROME2"))
        bits_stored = int(ds.get("BitsStored") or arr.dtype.itemsize * 8)
        bits_stored = min(bits_stored, arr.dtype.itemsize * 8)
        for kw in ("ExtendedOffsetTable", "ExtendedOffsetTableLengths"):
            if kw in ds:
                delattr(ds, kw)
        ds.set_pixel_data(arr, pi, bits_stored, generate_instance_uid=False)
        if lossy:
            ds.LossyImageCompression = "01"
        target = compression or (original_ts if preserve_compression else None)
        if target and _uid.UID(target).is_compressed:
            self._compress(ds, _uid.UID(target))
        path = self._get_clean_name(output_folder, "dcm", mode)
        tmp = f"{path}.tmp-{os.getpid()}"
        ds.save_as(tmp, enforce_file_format=False)
        os.replace(tmp, path)
        return path

    @staticmethod
    def _compress(ds: Dataset, target: _uid.UID) -> None:
        from pydicom.pixels import get_encoder

        encode_as = _uid.JPEG2000Lossless if target == _uid.JPEG2000 else target
        options: dict[str, Any] = {"jls_error": 0} if target == _uid.JPEGLSNearLossless else {}
        try:
            encoder = get_encoder(encode_as)
        except (NotImplementedError, ValueError):
            encoder = None
        if encoder is None or not encoder.is_available:
            bot.warning(f"no encoder for {target.name}; writing Explicit VR Little Endian instead")
            return
        try:
            ds.compress(encode_as, generate_instance_uid=False, **options)
        except (ValueError, RuntimeError) as exc:
            bot.warning(f"cannot compress to {target.name} ({exc}); writing uncompressed data")
            return
        if encode_as != target:
            ds.file_meta.TransferSyntaxUID = target

    def save_png(
        self,
        output_folder: str | None = None,
        image_type: str = "cleaned",
        title: str | None = None,
        mode: int = 0o700,
    ) -> str | None:
        """Write the cleaned image (middle frame of a multi-frame) as ``cleaned-<name>.png``.

        The PNG is written without plotting libraries: grey or RGB, scaled to 8 bits. ``title``
        is accepted for compatibility and not drawn.
        """
        if not self._ready(image_type):
            return None
        assert self.cleaned is not None
        image = self.cleaned
        is_rgb = image.ndim >= 3 and image.shape[-1] in (3, 4)
        if image.ndim == 4 or (image.ndim == 3 and not is_rgb):
            image = image[image.shape[0] // 2]
        path = self._get_clean_name(output_folder, "png", mode)
        with open(path, "wb") as handle:
            handle.write(_png_bytes(image))
        return path

    def get_figure(self, show: bool = False, image_type: str = "cleaned", title: str | None = None):
        """Return a matplotlib figure of the cleaned image (needs matplotlib installed)."""
        if not self._ready(image_type):
            return None
        plt = require("matplotlib.pyplot", "plot")
        assert self.cleaned is not None
        image = self.cleaned
        if image.ndim == 4 or (image.ndim == 3 and image.shape[-1] not in (3, 4)):
            image = image[image.shape[0] // 2]
        fig = plt.figure(figsize=(10, 10))
        ax = fig.add_subplot(111)
        ax.imshow(image, cmap=self.cmap)
        if title:
            ax.set_title(title)
        if show:
            plt.show()
        return plt

    def save_animation(self, *args: Any, **kwargs: Any) -> str | None:
        """Not supported: deid does not drive ffmpeg; use :meth:`save_png` per frame."""
        raise DeidError("DicomCleaner.save_animation is not supported (no ffmpeg dependency)")
