"""Masking Pixel Data in place, on every transfer syntax pydicom can decode.

:func:`clean_dataset` blanks the removal mask of each frame and writes the result back:

* **native** data (Explicit/Implicit VR Little Endian, Big Endian, Deflated) is masked directly
  in its stored layout — no decoding, no colour conversion, planar configuration and signedness
  kept (native YBR_FULL_422 is expanded to YBR_FULL, since its chroma is shared by pixel pairs);
* **lossless encapsulated** data with a pydicom encoder (RLE Lossless, JPEG-LS, JPEG 2000) is
  re-encoded frame by frame, losslessly, in the original transfer syntax; frames no region
  touches keep their original fragments byte for byte;
* everything else (JPEG Baseline/Extended/Lossless, HTJ2K, ...) is decoded frame by frame and
  written as Explicit VR Little Endian with PhotometricInterpretation, PlanarConfiguration and
  LossyImageCompression set to match.

Images that no region touches are never decoded and their Pixel Data is left as it was.

Examples
--------
>>> import numpy as np
>>> from pydicom import Dataset, FileMetaDataset
>>> from pydicom.uid import ExplicitVRLittleEndian
>>> ds = Dataset(); ds.file_meta = FileMetaDataset()
>>> ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
>>> ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.BitsAllocated = 2, 3, 1, 8
>>> ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 7, 0
>>> ds.PhotometricInterpretation = "MONOCHROME2"
>>> ds.PixelData = bytes(range(1, 7))
>>> from deid.pixels.regions import Region
>>> clean_dataset(ds, [Region(0, 0, 2, 1)]).method
'native'
>>> list(ds.PixelData)
[0, 0, 3, 4, 5, 6]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydicom import uid as _uid
from pydicom.dataset import Dataset

from deid._optional import require
from deid.errors import DeidError
from deid.pixels.regions import Region, frame_mask

__all__ = ["CleanError", "CleanResult", "clean_dataset", "frame_count", "touched_frames"]


class CleanError(DeidError):
    """Pixel Data cannot be masked (unreadable, inconsistent or unsupported)."""


#: Encapsulated syntaxes re-encoded losslessly in place: syntax -> encoder syntax, options.
_REENCODE: dict[str, tuple[_uid.UID, dict[str, Any]]] = {
    _uid.RLELossless: (_uid.RLELossless, {}),
    _uid.JPEGLSLossless: (_uid.JPEGLSLossless, {}),
    _uid.JPEGLSNearLossless: (_uid.JPEGLSNearLossless, {"jls_error": 0}),
    _uid.JPEG2000Lossless: (_uid.JPEG2000Lossless, {}),
    # a reversible JPEG 2000 code stream is valid under the lossy-or-lossless syntax too
    _uid.JPEG2000: (_uid.JPEG2000Lossless, {}),
}

#: Syntaxes whose data is (or may be) lossy: LossyImageCompression "01" when written native.
_LOSSY = {
    _uid.JPEGBaseline8Bit,
    _uid.JPEGExtended12Bit,
    _uid.JPEGLSNearLossless,
    _uid.JPEG2000,
    "1.2.840.10008.1.2.4.203",  # HTJ2K (may be lossy)
}

#: Plugin module to import (through the ``pixels`` extra) per syntax family.
_PLUGIN = {
    "1.2.840.10008.1.2.4.5": "libjpeg",
    "1.2.840.10008.1.2.4.57": "libjpeg",
    "1.2.840.10008.1.2.4.70": "libjpeg",
    "1.2.840.10008.1.2.4.8": "jpeg_ls",
    "1.2.840.10008.1.2.4.9": "openjpeg",
    "1.2.840.10008.1.2.4.20": "openjpeg",
}


@dataclass(frozen=True)
class CleanResult:
    """What :func:`clean_dataset` did.

    Attributes
    ----------
    method : str
        ``untouched`` (nothing to mask, Pixel Data unchanged), ``native`` (masked in place),
        ``reencoded`` (lossless re-encode in the original syntax) or ``decoded`` (written as
        Explicit VR Little Endian).
    frames_total : int
    frames_touched : tuple of int
        0-based frames whose pixels were masked.
    pixels_masked : int
        Masked pixels summed over frames.
    transfer_syntax_in, transfer_syntax_out : str
    photometric_in, photometric_out : str
    """

    method: str
    frames_total: int
    frames_touched: tuple[int, ...]
    pixels_masked: int
    transfer_syntax_in: str
    transfer_syntax_out: str
    photometric_in: str
    photometric_out: str


def frame_count(ds: Dataset) -> int:
    """Return NumberOfFrames (1 when absent or empty).

    Examples
    --------
    >>> from pydicom import Dataset
    >>> frame_count(Dataset())
    1
    """
    try:
        return max(int(ds.get("NumberOfFrames") or 1), 1)
    except (TypeError, ValueError) as exc:
        raw = ds.get_item("NumberOfFrames")
        shown = raw.value if raw is not None else None
        raise CleanError(f"(0028,0008) NumberOfFrames {shown!r} is not a number") from exc


def _masks(regions: Sequence[Region], rows: int, cols: int, frames: int) -> list[np.ndarray | None]:
    """One removal mask per frame (None when nothing to remove), sharing identical masks."""
    if all(r.frames is None for r in regions):
        m = frame_mask(regions, rows, cols)
        shared = m if m.any() else None
        return [shared] * frames
    out: list[np.ndarray | None] = []
    for i in range(frames):
        m = frame_mask(regions, rows, cols, i)
        out.append(m if m.any() else None)
    return out


def touched_frames(ds: Dataset, regions: Sequence[Region]) -> tuple[int, ...]:
    """Return the 0-based frames of ``ds`` in which ``regions`` blank at least one pixel.

    Examples
    --------
    >>> from pydicom import Dataset
    >>> ds = Dataset(); ds.Rows, ds.Columns = 4, 4
    >>> touched_frames(ds, [Region(10, 10, 20, 20)])
    ()
    """
    if not regions:
        return ()
    rows, cols = int(ds.get("Rows") or 0), int(ds.get("Columns") or 0)
    if rows == 0 or cols == 0:
        return ()
    masks = _masks(regions, rows, cols, frame_count(ds))
    return tuple(i for i, m in enumerate(masks) if m is not None)


def _syntax(ds: Dataset) -> _uid.UID:
    meta = getattr(ds, "file_meta", None)
    ts = meta.get("TransferSyntaxUID") if meta is not None else None
    if ts:
        return _uid.UID(ts)
    implicit = getattr(ds, "is_implicit_VR", None)
    little = getattr(ds, "is_little_endian", None)
    if implicit is None and little is None:
        return _uid.ExplicitVRLittleEndian
    if implicit:
        return _uid.ImplicitVRLittleEndian
    return _uid.ExplicitVRLittleEndian if little is not False else _uid.ExplicitVRBigEndian


def _fill_vector(fill: Any, samples: int, ybr: bool, bits: int) -> Any:
    if isinstance(fill, (list, tuple)):
        if len(fill) != samples:
            raise CleanError(f"fill {fill!r} needs {samples} values (SamplesPerPixel)")
        return np.asarray(fill)
    if samples == 1:
        return int(fill)
    if ybr:  # a grey level f in RGB is (f, mid, mid) in YBR_FULL
        mid = 1 << (max(bits, 1) - 1)
        return np.asarray([int(fill), mid, mid])
    return np.asarray([int(fill)] * samples)


def _require_decoder(ts: _uid.UID) -> Any:
    from pydicom.pixels import get_decoder

    try:
        decoder = get_decoder(ts)
    except NotImplementedError as exc:
        raise CleanError(f"no pixel decoder for transfer syntax {ts} ({ts.name})") from exc
    if not decoder.is_available:
        module = next((m for p, m in _PLUGIN.items() if str(ts).startswith(p)), "pylibjpeg")
        require(module, "pixels")
        require("pylibjpeg", "pixels")
        raise CleanError(
            f"no working pixel decoder for {ts.name}; install it with: pip install 'deid[pixels]'"
        )
    return decoder


def _attrs(ds: Dataset) -> tuple[int, int, int, int, int, int, str]:
    try:
        rows, cols = int(ds.Rows), int(ds.Columns)
        spp = int(ds.get("SamplesPerPixel") or 1)
        bits = int(ds.BitsAllocated)
        stored = int(ds.get("BitsStored") or bits)
        rep = int(ds.get("PixelRepresentation") or 0)
    except AttributeError as exc:
        raise CleanError(f"image attribute missing for pixel cleaning: {exc}") from exc
    pi = str(ds.get("PhotometricInterpretation") or "").strip()
    return rows, cols, spp, bits, stored, rep, pi


#: Above this size the output buffer is stored as is (no ``bytes`` copy of the whole volume).
_NO_COPY_THRESHOLD = 1 << 26


def _set_pixel_bytes(ds: Dataset, buf: bytearray) -> None:
    """Store ``buf`` as Pixel Data; large buffers are kept without a second full copy.

    pydicom turns a ``bytearray`` given to ``ds.PixelData = ...`` into a list of numbers, so a
    large buffer is placed on the element directly (pydicom reads and writes it like bytes).
    """
    if len(buf) < _NO_COPY_THRESHOLD:
        ds.PixelData = bytes(buf)
        return
    if "PixelData" not in ds:
        ds.PixelData = b""
    ds["PixelData"]._value = buf


def _clean_native(ds: Dataset, masks: list[np.ndarray | None], fill: Any, ts: _uid.UID) -> int:
    rows, cols, spp, bits, stored, rep, pi = _attrs(ds)
    frames = len(masks)
    planar = int(ds.get("PlanarConfiguration") or 0)
    raw = ds.PixelData
    if bits == 1:
        from pydicom.pixels import pack_bits, unpack_bits

        count = rows * cols * spp * frames
        flat = np.asarray(unpack_bits(raw, as_array=True))[:count]
        if flat.size < count:
            raise CleanError(f"(7FE0,0010) PixelData holds {flat.size} bits, needs {count}")
        arr = flat.reshape(frames, rows, cols).copy()
        masked = 0
        for i, m in enumerate(masks):
            if m is not None:
                arr[i][m] = int(fill if not isinstance(fill, (list, tuple)) else fill[0]) & 1
                masked += int(m.sum())
        ds.PixelData = pack_bits(arr.reshape(-1))
        return masked
    if bits % 8:
        raise CleanError(f"(0028,0100) BitsAllocated {bits} is not supported")
    little = ts != _uid.ExplicitVRBigEndian
    dtype = np.dtype(f"{'<' if little else '>'}{'i' if rep else 'u'}{bits // 8}")
    count = rows * cols * spp * frames
    if len(raw) < count * dtype.itemsize:
        raise CleanError(
            f"(7FE0,0010) PixelData has {len(raw)} bytes, {count * dtype.itemsize} expected"
        )
    buf = bytearray(raw)
    arr = np.frombuffer(buf, dtype=dtype, count=count)
    if spp == 1:
        arr = arr.reshape(frames, rows, cols)
    elif planar == 1:
        arr = arr.reshape(frames, spp, rows, cols)
    else:
        arr = arr.reshape(frames, rows, cols, spp)
    vec = _fill_vector(fill, spp, pi.startswith("YBR"), stored)
    masked = 0
    for i, m in enumerate(masks):
        if m is None:
            continue
        frame = arr[i]
        if spp == 1 or planar == 0:
            frame[m] = vec
        else:
            for s in range(spp):
                frame[s][m] = vec[s]
        masked += int(m.sum())
    _set_pixel_bytes(ds, buf)
    return masked


def _pi_str(value: Any) -> str:
    """PhotometricInterpretation text of a decoder's meta value (str or enum)."""
    return str(getattr(value, "value", value) or "")


def _decode_to_native(
    ds: Dataset, masks: list[np.ndarray | None], fill: Any, ts: _uid.UID
) -> tuple[int, str]:
    """Decode every frame (one at a time), mask, write Explicit VR Little Endian."""
    decoder = _require_decoder(ts)
    frames = len(masks)
    out: bytearray | None = None
    size = 0
    meta: dict[str, Any] = {}
    masked = 0
    for i, (arr, meta) in enumerate(decoder.iter_array(ds, as_rgb=True)):
        if i >= frames:
            break
        m = masks[i]
        if m is not None:
            if not arr.flags.writeable:
                arr = arr.copy()
            samples = int(meta.get("samples_per_pixel", 1))
            pi_out = _pi_str(meta.get("photometric_interpretation", ""))
            vec = _fill_vector(
                fill, samples, pi_out.startswith("YBR"), int(meta.get("bits_stored", 8))
            )
            arr[m] = vec
            masked += int(m.sum())
        data = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<")).tobytes()
        if out is None:
            size = len(data)
            out = bytearray(size * frames)
        out[i * size : (i + 1) * size] = data
        arr_dtype = arr.dtype
        del arr, data
    if out is None:
        raise CleanError("(7FE0,0010) PixelData contains no frames")
    if i + 1 < frames:
        raise CleanError(f"(7FE0,0010) PixelData has {i + 1} frames, {frames} expected")
    signed = np.dtype(arr_dtype).kind == "i"
    itemsize = size // max(
        int(meta.get("rows", 1))
        * int(meta.get("columns", 1))
        * int(meta.get("samples_per_pixel", 1)),
        1,
    )
    pi_out = _pi_str(meta.get("photometric_interpretation"))
    lossy_before = str(ds.get("LossyImageCompression") or "").strip() == "01"
    if len(out) % 2:
        out.append(0)
    _set_pixel_bytes(ds, out)
    elem = ds["PixelData"]
    elem.VR = "OB" if itemsize == 1 else "OW"
    elem.is_undefined_length = False
    if getattr(ds, "file_meta", None) is None:
        from pydicom.dataset import FileMetaDataset

        ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = _uid.ExplicitVRLittleEndian
    ds.PhotometricInterpretation = pi_out
    ds.BitsAllocated = itemsize * 8
    stored_out = min(int(meta.get("bits_stored") or itemsize * 8), itemsize * 8)
    ds.BitsStored = stored_out
    ds.HighBit = stored_out - 1
    ds.PixelRepresentation = 1 if signed else 0
    ds.SamplesPerPixel = int(meta.get("samples_per_pixel", 1))
    if ds.SamplesPerPixel > 1:
        ds.PlanarConfiguration = 0
    elif "PlanarConfiguration" in ds:
        del ds.PlanarConfiguration
    for kw in ("ExtendedOffsetTable", "ExtendedOffsetTableLengths"):
        if kw in ds:
            delattr(ds, kw)
    if lossy_before or ts in _LOSSY:
        ds.LossyImageCompression = "01"
    return masked, pi_out


class _EncodeUnsupported(Exception):
    """The encoder refuses these image attributes; the caller writes native data instead."""


class _Encapsulator:
    """Build encapsulated Pixel Data in one buffer, one frame at a time.

    With a Basic Offset Table its space is reserved up front and patched at the end; with an
    Extended Offset Table (``extended``) the Basic Offset Table is empty.
    """

    def __init__(self, frames: int, extended: bool) -> None:
        import struct

        self._pack = struct.pack
        self.extended = extended
        self.frames = frames
        bot_len = 0 if extended else 4 * frames
        self.buffer = bytearray(self._pack("<HHI", 0xFFFE, 0xE000, bot_len))
        self.buffer += bytes(bot_len)
        self.start = len(self.buffer)
        self.offsets: list[int] = []
        self.lengths: list[int] = []

    def add(self, fragments: tuple[bytes, ...]) -> None:
        self.offsets.append(len(self.buffer) - self.start)
        length = 0
        for frag in fragments:
            pad = len(frag) % 2
            self.buffer += self._pack("<HHI", 0xFFFE, 0xE000, len(frag) + pad)
            self.buffer += frag
            if pad:
                self.buffer += b"\x00"
            length += len(frag) + pad
        self.lengths.append(length)

    def finish(self) -> tuple[bytearray, Any]:
        """Return (PixelData, (offsets, lengths) for an Extended Offset Table or None)."""
        if self.extended:
            return self.buffer, (self.offsets, self.lengths)
        if self.offsets and self.offsets[-1] > 0xFFFFFFFF:
            raise CleanError("encapsulated Pixel Data over 4 GiB needs an Extended Offset Table")
        self.buffer[8 : 8 + 4 * len(self.offsets)] = self._pack(
            f"<{len(self.offsets)}I", *self.offsets
        )
        return self.buffer, None


def _reencode(ds: Dataset, masks: list[np.ndarray | None], fill: Any, ts: _uid.UID) -> int:
    from pydicom.encaps import generate_fragmented_frames
    from pydicom.pixels import get_encoder

    decoder = _require_decoder(ts)
    enc_ts, options = _REENCODE[ts]
    encoder = get_encoder(enc_ts)
    if not encoder.is_available:
        require("pylibjpeg", "pixels")
        raise CleanError(f"no working encoder for {enc_ts.name}; pip install 'deid[pixels]'")
    rows, cols, spp, bits, stored, rep, pi = _attrs(ds)
    frames = len(masks)
    eot = None
    if "ExtendedOffsetTable" in ds and "ExtendedOffsetTableLengths" in ds:
        eot = (ds.ExtendedOffsetTable, ds.ExtendedOffsetTableLengths)
    originals = generate_fragmented_frames(
        ds.PixelData, number_of_frames=frames, extended_offsets=eot
    )
    kwargs: dict[str, Any] = dict(
        rows=rows,
        columns=cols,
        samples_per_pixel=spp,
        bits_allocated=bits,
        bits_stored=stored,
        pixel_representation=rep,
        photometric_interpretation=pi,
        **options,
    )
    if spp > 1:
        kwargs["planar_configuration"] = 0
    big = len(ds.PixelData) > 0x7FFFFFFF  # the output may not fit a 32-bit offset table
    output = _Encapsulator(frames, extended=eot is not None or big)
    masked = 0
    seen = 0
    for i, (m, fragments) in enumerate(zip(masks, originals)):
        seen += 1
        if m is None:
            output.add(fragments)
            continue
        del fragments
        arr, meta = decoder.as_array(ds, index=i, as_rgb=False)
        if not arr.flags.writeable:
            arr = arr.copy()
        pi_dec = _pi_str(meta.get("photometric_interpretation", pi))
        arr[m] = _fill_vector(fill, spp, pi_dec.startswith("YBR"), stored)
        masked += int(m.sum())
        try:
            encoded = encoder.encode(arr, number_of_frames=1, **kwargs)
        except (ValueError, RuntimeError) as exc:  # e.g. 32-bit RLE: no pydicom encoder
            raise _EncodeUnsupported(str(exc)) from exc
        output.add((bytes(encoded),))
        del arr, encoded
    if seen != frames:
        raise CleanError(f"(7FE0,0010) PixelData has {seen} frames, {frames} expected")
    data, table = output.finish()
    _set_pixel_bytes(ds, data)
    elem = ds["PixelData"]
    elem.VR = "OB"
    elem.is_undefined_length = True
    if table is not None:
        import struct

        offsets, lengths = table
        ds.ExtendedOffsetTable = struct.pack(f"<{len(offsets)}Q", *offsets)
        ds.ExtendedOffsetTableLengths = struct.pack(f"<{len(lengths)}Q", *lengths)
    return masked


def _can_reencode(ts: _uid.UID, pi: str) -> bool:
    """True when touched frames can be re-encoded losslessly in syntax ``ts``."""
    if ts not in _REENCODE:
        return False
    if ts in (_uid.JPEG2000, _uid.JPEG2000Lossless):
        # a reversible code stream cannot carry YBR_ICT (irreversible colour transform)
        return pi in ("MONOCHROME1", "MONOCHROME2", "RGB", "YBR_RCT", "PALETTE COLOR")
    return True


def _dispatch(
    ds: Dataset, masks: list[np.ndarray | None], fill: Any, ts: _uid.UID, pi_in: str, target: str
) -> tuple[str, int]:
    if not ts.is_compressed and pi_in not in ("YBR_FULL_422", "YBR_PARTIAL_422"):
        masked = _clean_native(ds, masks, fill, ts)
        method = "native"
    elif ts.is_compressed and target == "original" and _can_reencode(ts, pi_in):
        try:
            masked = _reencode(ds, masks, fill, ts)
            method = "reencoded"
        except _EncodeUnsupported:
            masked, _ = _decode_to_native(ds, masks, fill, ts)
            method = "decoded"
    else:
        masked, _ = _decode_to_native(ds, masks, fill, ts)
        method = "decoded"
    return method, masked


def clean_dataset(
    ds: Dataset,
    regions: Sequence[Region] | Any,
    *,
    fill: int | Sequence[int] = 0,
    target: str = "original",
) -> CleanResult:
    """Blank ``regions`` in ``ds``'s Pixel Data, in place.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        A dataset with Pixel Data and a file meta (the transfer syntax is read from it).
    regions : sequence of Region, or a Detection
        Applied in order; see :mod:`deid.pixels.regions`. Anything with a ``regions``
        attribute (a :class:`~deid.pixels.detect.Detection`) is accepted as well.
    fill : int or sequence of int
        Stored value written into removed pixels (one per sample for colour; a single grey level
        is converted for YBR data so that it decodes to that grey).
    target : str
        ``original`` keeps the transfer syntax when a lossless encoder exists for it;
        ``native`` always writes Explicit VR Little Endian (decoded) data when compressed.

    Returns
    -------
    CleanResult

    Raises
    ------
    CleanError
        Inconsistent image attributes or Pixel Data, or no decoder.
    deid.errors.MissingExtraError
        The codec plugin is not installed (``pip install 'deid[pixels]'``).

    Examples
    --------
    >>> from pydicom import Dataset
    >>> clean_dataset(Dataset(), [Region.whole()]).method
    'untouched'
    """
    if hasattr(regions, "regions"):
        regions = regions.regions
    regions = tuple(regions)
    if target not in ("original", "native"):
        raise CleanError(f"target must be 'original' or 'native', not {target!r}")
    ts = _syntax(ds)
    pi_in = str(ds.get("PhotometricInterpretation") or "")
    frames = frame_count(ds) if "PixelData" in ds else 0
    untouched = CleanResult("untouched", frames, (), 0, str(ts), str(ts), pi_in, pi_in)
    if "PixelData" not in ds or not regions:
        return untouched
    rows, cols = int(ds.get("Rows") or 0), int(ds.get("Columns") or 0)
    if rows == 0 or cols == 0:
        raise CleanError("(0028,0010) Rows / (0028,0011) Columns missing: cannot mask pixels")
    masks = _masks(regions, rows, cols, frames)
    touched = tuple(i for i, m in enumerate(masks) if m is not None)
    if not touched:
        return untouched
    try:
        method, masked = _dispatch(ds, masks, fill, ts, pi_in, target)
    except DeidError:
        raise
    except (ValueError, RuntimeError, KeyError, IndexError, TypeError, EOFError) as exc:
        raise CleanError(f"(7FE0,0010) PixelData ({ts.name}) cannot be masked: {exc}") from exc
    return CleanResult(
        method,
        frames,
        touched,
        masked,
        str(ts),
        str(_syntax(ds)),
        pi_in,
        str(ds.get("PhotometricInterpretation") or ""),
    )
