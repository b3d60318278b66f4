"""Batch runner throughput and memory against a bare pydicom read + write of the same files.

Over the synthetic CT corpus (``benchmarks/corpus.py``) and in the same run, each configuration
runs in a fresh Python process (so peak RSS is its own):

* **bare**: ``pydicom.dcmread(path)`` + ``ds.save_as(out)`` for every file, one process;
* **1 worker**: ``deid.runner.run(..., profile="basic", workers=1)`` (in-process);
* **runner, minimal recipe**: 1 worker with a one-rule recipe, which isolates the runner's own
  cost (reading with truncation checks, record keeping, atomic write) from the engine's;
* **2 workers**: the same with ``workers=2`` (process pool, plan sent once per worker);
* **memory scaling**: 1 worker over ``count`` and over ``2 * count`` files.

Reported: files per second, peak RSS (parent and largest worker), and the ratios the issue sets
targets for: 1 worker time <= 1.3x bare; 2 workers >= 1.8x the 1-worker throughput (needs 2 free
cores); worker peak RSS independent of the number of files.

Usage::

    python benchmarks/bench_runner.py [--count 200] [--size 512] [--corpus DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from corpus import generate_corpus

_CHILD = r"""
import json, os, resource, shutil, sys, time
mode, src, dst, workers = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
files = sorted(os.path.join(src, f) for f in os.listdir(src))[: int(sys.argv[5])]
shutil.rmtree(dst, ignore_errors=True)
os.makedirs(dst)
if mode == "bare":
    import pydicom
    t0 = time.perf_counter()
    for f in files:
        ds = pydicom.dcmread(f)
        ds.save_as(os.path.join(dst, os.path.basename(f)))
    elapsed = time.perf_counter() - t0
    ok = len(files)
else:
    from deid.runner.api import build_plan, run
    if mode == "minimal":
        from deid.recipe import parse_recipe
        plan = build_plan(parse_recipe("FORMAT dicom\n%header\nBLANK PatientName\n"))
    else:
        plan = build_plan(profile="basic")
    t0 = time.perf_counter()
    s = run(files, dst, plan=plan, key="benchmark-key-0123456789", workers=workers,
            progress=False)
    elapsed = time.perf_counter() - t0
    ok = s.written
self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"elapsed": elapsed, "files": len(files), "ok": ok,
                  "rss_self_mb": self_rss / 1024, "rss_child_mb": child_rss / 1024}))
"""


def _child(mode: str, src: Path, dst: Path, workers: int, count: int) -> dict:
    res = subprocess.run(
        [sys.executable, "-c", _CHILD, mode, str(src), str(dst), str(workers), str(count)],
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(res.stdout.strip().splitlines()[-1])
    data["files_per_second"] = data["files"] / data["elapsed"] if data["elapsed"] else 0.0
    return data


def bench(count: int, size: int, corpus: Path, work: Path) -> dict:
    """Run every configuration; return the measurements and ratios."""
    generate_corpus(corpus, count=2 * count, seed=0, size=size)
    bare = _child("bare", corpus, work / "bare", 1, count)
    one = _child("deid", corpus, work / "w1", 1, count)
    two = _child("deid", corpus, work / "w2", 2, count)
    minimal = _child("minimal", corpus, work / "m1", 1, count)
    one_2n = _child("deid", corpus, work / "w1x2", 1, 2 * count)
    two_2n = _child("deid", corpus, work / "w2x2", 2, 2 * count)
    return {
        "count": count,
        "size": size,
        "cores": os.cpu_count(),
        "bare": bare,
        "workers_1": one,
        "workers_2": two,
        "runner_minimal_recipe": minimal,
        "workers_1_double": one_2n,
        "workers_2_double": two_2n,
        "ratios": {
            "time_1_worker_vs_bare": one["elapsed"] / bare["elapsed"],
            "time_runner_minimal_vs_bare": minimal["elapsed"] / bare["elapsed"],
            "throughput_2_vs_1_workers": two["files_per_second"] / one["files_per_second"],
            "rss_1_worker_vs_bare": one["rss_self_mb"] / bare["rss_self_mb"],
            "rss_1_worker_2n_vs_n": one_2n["rss_self_mb"] / one["rss_self_mb"],
            "rss_pool_worker_2n_vs_n": two_2n["rss_child_mb"] / two["rss_child_mb"],
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--corpus", default=None, help="corpus folder (default: a temp folder)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="deid-bench-") as tmp:
        corpus = Path(args.corpus) if args.corpus else Path(tmp) / "corpus"
        result = bench(args.count, args.size, corpus, Path(tmp) / "work")
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{args.count} files of {args.size}x{args.size} CT, {result['cores']} cores")
    names = (
        "bare",
        "runner_minimal_recipe",
        "workers_1",
        "workers_2",
        "workers_1_double",
        "workers_2_double",
    )
    for name in names:
        r = result[name]
        print(
            f"  {name:21s} {r['files']:5d} files {r['elapsed']:7.2f} s "
            f"{r['files_per_second']:7.1f} files/s  peak RSS {r['rss_self_mb']:6.0f} MB"
            f" (largest worker {r['rss_child_mb']:6.0f} MB)"
        )
    for key, value in result["ratios"].items():
        print(f"  {key:28s} {value:5.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
