"""``deid.dicom.replace_identifiers(save=True)`` against a bare pydicom read + write.

Over the synthetic CT corpus (``benchmarks/corpus.py``: 512x512 16-bit, nested sequences,
private blocks, file meta) the benchmark times, in the same run:

* **bare**: ``pydicom.dcmread(path)`` + ``ds.save_as(out)`` for every file;
* **deid**: one ``replace_identifiers(paths, deid=DeidRecipe(), save=True, output_folder=out,
  overwrite=True)`` call per chunk of files with the default recipe (the drop-in API as
  users call it: recipe loaded once per call, plan compiled once, files written atomically);
* **get_identifiers**: ``get_identifiers(paths)`` (the listing users run first), for reference.

Bare and deid runs alternate chunk by chunk so both see the same page-cache state; the ratio
deid/bare is the figure of merit (target <= 1.3). If ``DEID_UPSTREAM_PYTHON`` names the python
of another virtualenv with pydicom/deid installed, the same replace_identifiers call is timed
there too (in a subprocess, on the same files).

Usage::

    python benchmarks/bench_replace_identifiers.py [--count 1000] [--corpus DIR] [--chunk 100]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pydicom

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import generate_corpus

from deid.config import DeidRecipe
from deid.dicom import get_identifiers, replace_identifiers

_UPSTREAM = """
import sys, time
from deid.config import DeidRecipe
from deid.dicom import replace_identifiers
paths, out = sys.argv[1:-1], sys.argv[-1]
recipe = DeidRecipe()
t0 = time.perf_counter()
replace_identifiers(paths, deid=recipe, save=True, output_folder=out, overwrite=True)
print(time.perf_counter() - t0)
"""


def bare(paths: list[str], out: str) -> tuple[float, float]:
    """(wall, CPU) seconds for dcmread + save_as of every path into ``out``."""
    t0, c0 = time.perf_counter(), time.process_time()
    for path in paths:
        ds = pydicom.dcmread(path)
        ds.save_as(os.path.join(out, os.path.basename(path)))
    return time.perf_counter() - t0, time.process_time() - c0


#: The recipe is loaded once, as a batch script does (upstream's timing script too).
_RECIPE: DeidRecipe | None = None


def deid(paths: list[str], out: str) -> tuple[float, float]:
    """(wall, CPU) seconds for one replace_identifiers(save=True) call over ``paths``."""
    global _RECIPE
    if _RECIPE is None:
        _RECIPE = DeidRecipe()
    t0, c0 = time.perf_counter(), time.process_time()
    written = replace_identifiers(
        paths, deid=_RECIPE, save=True, output_folder=out, overwrite=True
    )
    elapsed = time.perf_counter() - t0, time.process_time() - c0
    assert len(written) == len(paths)
    return elapsed


def upstream(python: str, paths: list[str], out: str) -> float:
    """Seconds pydicom/deid needs for the same call (run by another interpreter)."""
    # cwd=out: "python -c" puts the working directory first on sys.path, and this project's
    # own deid package must not shadow the one installed in the other virtualenv
    done = subprocess.run(
        [python, "-c", _UPSTREAM, *paths, out], check=False, capture_output=True, text=True,
        cwd=out,
    )
    if done.returncode:
        raise RuntimeError(f"pydicom/deid run failed: {done.stderr[-2000:]}")
    return float(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="replace_identifiers throughput")
    parser.add_argument("--count", type=int, default=1000, help="number of files (default 1000)")
    parser.add_argument("--corpus", default=os.path.join(tempfile.gettempdir(), "deid_corpus"))
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--chunk", type=int, default=100, help="files per replace call")
    args = parser.parse_args(argv)
    paths = [str(p) for p in generate_corpus(args.corpus, args.count, size=args.size)]
    chunks = [paths[i : i + args.chunk] for i in range(0, len(paths), args.chunk)]
    totals = {"bare": 0.0, "deid": 0.0, "ids": 0.0, "upstream": 0.0, "bare_cpu": 0.0}
    totals["deid_cpu"] = 0.0

    def add(side: str, measured: tuple[float, float]) -> None:
        totals[side] += measured[0]
        totals[side + "_cpu"] += measured[1]

    python = os.environ.get("DEID_UPSTREAM_PYTHON")
    with tempfile.TemporaryDirectory() as tmp:
        out_bare, out_deid = os.path.join(tmp, "bare"), os.path.join(tmp, "deid")
        os.makedirs(out_bare)
        os.makedirs(out_deid)
        bare(paths[:10], out_bare)  # warm-up: imports, plan compile, page cache
        deid(paths[:10], out_deid)
        for i, chunk in enumerate(chunks):
            if i % 2:  # alternate the order so neither side always runs first
                add("deid", deid(chunk, out_deid))
                add("bare", bare(chunk, out_bare))
            else:
                add("bare", bare(chunk, out_bare))
                add("deid", deid(chunk, out_deid))
        t0 = time.perf_counter()
        for chunk in chunks:
            get_identifiers(chunk)
        totals["ids"] = time.perf_counter() - t0
        if python:
            out_up = os.path.join(tmp, "upstream")
            os.makedirs(out_up)
            for chunk in chunks:
                totals["upstream"] += upstream(python, chunk, out_up)
    n = len(paths)
    b, d = totals["bare"], totals["deid"]
    print(f"files: {n} ({args.size}x{args.size}, chunks of {args.chunk})")
    print(f"bare pydicom read+write      : {b:8.3f} s  ({1000 * b / n:.3f} ms/file)")
    print(f"replace_identifiers(save)    : {d:8.3f} s  ({1000 * d / n:.3f} ms/file)")
    print(f"ratio deid/bare (wall)       : {d / b:.3f}  (target <= 1.3)")
    bc, dc = totals["bare_cpu"], totals["deid_cpu"]
    per_file = f"{1000 * bc / n:.3f} vs {1000 * dc / n:.3f} ms/file"
    print(f"ratio deid/bare (CPU time)   : {dc / bc:.3f}  ({per_file})")
    ids = totals["ids"]
    print(f"get_identifiers              : {ids:8.3f} s  ({1000 * ids / n:.3f} ms/file)")
    if python:
        u = totals["upstream"]
        print(f"pydicom/deid replace (save)  : {u:8.3f} s  ratio {u / b:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
