"""Peak memory of pixel cleaning on a large multi-frame image, against a bare pydicom copy.

Builds (once, in a temporary folder) an RLE Lossless (or, with ``--native``, uncompressed)
multi-frame RGB image whose decoded size is hundreds of MB, then runs, each in a fresh child
process so that peak RSS is its own:

* ``bare``   — ``pydicom.dcmread`` + ``save_as`` (the reference);
* ``deid``   — ``dcmread`` + :func:`deid.pixels.process_pixels` (a box on every frame) + ``save_as``;
* ``naive``  — ``dcmread`` + ``ds.pixel_array`` (whole volume) + mask + ``ds.compress`` (or
  ``tobytes``) — what a decode-everything cleaner does (skipped with ``--no-naive``).

Reported: decoded size; per run the RSS after reading, the peak RSS of the cleaning step alone
(the peak is reset after reading; Linux) as a fraction of the decoded size, the overall peak and
the extra over the bare copy, and wall time as a ratio to the bare copy. No assertions: numbers
only.

Usage::

    .venv/bin/python benchmarks/bench_pixels_memory.py [--frames 300] [--size 512] [--no-naive] [--native]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

CHILD = r"""
import json, os, resource, sys, time
import pydicom
if sys.argv[1] == "deid":
    from deid.pixels import process_pixels
    from deid.recipe.ast import NO_SPAN, Coordinate, FilterGroup, Label


def hwm_mb():
    # peak RSS since the last reset (VmHWM), Linux
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


mode, src, dst = sys.argv[1:4]
t0 = time.perf_counter()
ds = pydicom.dcmread(src)
after_read = rss_mb()
try:  # reset the peak so that the cleaning step is measured on its own
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")
except OSError:
    pass
if mode == "deid":
    box = Coordinate("coordinates", False, "box", NO_SPAN, box=(0, 0, 200, 40))
    groups = [FilterGroup("graylist", (Label("top", (), (box,), NO_SPAN),), NO_SPAN)]
    outcome = process_pixels(ds, groups)
    assert outcome.status == "cleaned", outcome.reason
elif mode == "naive":
    arr = ds.pixel_array.copy()
    arr[:, 0:40, 0:200] = 0
    if ds.file_meta.TransferSyntaxUID.is_compressed:
        ds.compress(pydicom.uid.RLELossless, arr, generate_instance_uid=False)
    else:
        ds.PixelData = arr.tobytes()
clean_peak = hwm_mb()
ds.save_as(dst, enforce_file_format=False)
elapsed = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"mode": mode, "seconds": elapsed, "peak_mb": peak,
                  "after_read_mb": after_read, "clean_peak_mb": clean_peak}))
"""


def build(path: str, frames: int, size: int, native: bool = False) -> int:
    """Write a multi-frame RGB file (RLE Lossless, or native with ``native``).

    Returns the decoded size in bytes.
    """
    import numpy as np
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.encaps import encapsulate
    from pydicom.pixels import get_encoder
    from pydicom.uid import ExplicitVRLittleEndian, RLELossless, generate_uid

    encoder = get_encoder(RLELossless)
    yy, xx = np.mgrid[0:size, 0:size]
    encoded = []
    for i in range(frames):
        frame = np.empty((size, size, 3), np.uint8)
        frame[..., 0] = (xx + i) % 256
        frame[..., 1] = (yy * 2 + i) % 256
        frame[..., 2] = ((xx // 16 + yy // 16) * 8) % 256
        if native:
            encoded.append(frame.tobytes())
            continue
        encoded.append(
            encoder.encode(
                frame,
                rows=size,
                columns=size,
                samples_per_pixel=3,
                bits_allocated=8,
                bits_stored=8,
                pixel_representation=0,
                number_of_frames=1,
                photometric_interpretation="RGB",
                planar_configuration=0,
            )
        )
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian if native else RLELossless
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.3.1"
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality = "US"
    ds.Rows = ds.Columns = size
    ds.NumberOfFrames = frames
    ds.SamplesPerPixel = 3
    ds.PlanarConfiguration = 0
    ds.PhotometricInterpretation = "RGB"
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    if native:
        ds.PixelData = b"".join(encoded)
    else:
        ds.PixelData = encapsulate(encoded)
        ds["PixelData"].is_undefined_length = True
    ds["PixelData"].VR = "OB"
    del encoded
    ds.save_as(path, enforce_file_format=True)
    del pydicom
    return frames * size * size * 3


def run(mode: str, src: str, dst: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, mode, src, dst], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--no-naive", action="store_true")
    parser.add_argument("--native", action="store_true", help="Explicit VR Little Endian input")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="deid-bench-") as tmp:
        src = os.path.join(tmp, "multiframe.dcm")
        t0 = time.perf_counter()
        decoded = build(src, args.frames, args.size, native=args.native)
        print(
            f"built {args.frames} frames {args.size}x{args.size} RGB in "
            f"{time.perf_counter() - t0:.1f} s: file {os.path.getsize(src) / 2**20:.1f} MB, "
            f"decoded {decoded / 2**20:.1f} MB"
        )
        modes = ["bare", "deid"] + ([] if args.no_naive else ["naive"])
        results = {m: run(m, src, os.path.join(tmp, f"{m}.dcm")) for m in modes}
        bare = results["bare"]
        for mode, r in results.items():
            extra = r["peak_mb"] - bare["peak_mb"]
            print(
                f"{mode:6s} after read {r['after_read_mb']:7.1f} MB  "
                f"peak while cleaning {r['clean_peak_mb']:7.1f} MB "
                f"(+{(r['clean_peak_mb'] - r['after_read_mb']) * 2**20 / decoded:4.2f} x decoded)  "
                f"peak RSS {r['peak_mb']:8.1f} MB  extra over bare {extra:8.1f} MB "
                f"({extra * 2**20 / decoded:5.2f} x decoded)  time {r['seconds']:6.2f} s "
                f"({r['seconds'] / bare['seconds']:5.1f} x bare)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
