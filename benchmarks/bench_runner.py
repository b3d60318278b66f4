"""Batch runner throughput and memory against a bare pydicom read + write of the same files.

Over the synthetic CT corpus (``benchmarks/corpus.py``) and in the same run, each configuration
runs in a fresh Python process (so peak RSS is its own):

* **bare**: ``pydicom.dcmread(path)`` + ``ds.save_as(out)`` for every file, one process;
* **bare, 2 processes**: the same split over two forked processes: how much two processes can
  gain on this machine at all (shared caches, memory bandwidth, hyper-threads), the ceiling for
  the 2-worker ratio;
* **1 worker**: ``deid.runner.run(..., profile="basic", workers=1)`` (in-process), with the
  pixel step on (the default: ``%filter`` screening of every header with the shipped ``dicom``
  recipe; loading that recipe is part of the timed run);
* **1 worker, no pixels**: the same with ``pixels=False`` (the difference is the cost of the
  burned-in screening);
* **runner, null plan**: 1 worker with a plan that changes nothing and never calls the engine:
  the runner's own cost (reading with truncation checks, record keeping, atomic write);
* **runner, minimal recipe**: 1 worker with a one-rule recipe (the engine's walk, no profile);
* **2 workers**: the same with ``workers=2`` (process pool, plan sent once per worker);
* **memory scaling**: 1 worker over ``count`` and over ``2 * count`` files;
* **big file**: one file whose Pixel Data really holds ``--big-mb`` MB (sparse on disk), bare
  pydicom against 1 worker (deid copies big values from the input instead of holding them).

Inputs and outputs live in ``/dev/shm`` when the machine has it (else the temporary folder): both
sides then measure the work of reading, de-identifying and writing, not the disk's write-back.

Besides the fresh-process runs, a **file-by-file** measure alternates the bare round trip and
the runner's per-file job (read, screen, apply, pixel step, write, record) in one process, file
by file, and reports both per stage: the ratio least disturbed by a drifting machine, without
the run-level costs.

Every configuration runs once per round, rounds interleaved; besides the ratios of the best
times, the median over rounds of the per-round ratios is reported (steadier when the machine's
speed drifts during the run).

Reported: files per second, peak RSS (parent and largest worker), and the ratios the issue sets
targets for: 1 worker time <= 1.3x bare; 2 workers >= 1.8x the 1-worker throughput (needs 2 free
cores); worker peak RSS independent of the number of files. The load average is printed with
the results: ratios from a busy machine are not worth much. ``cpu_2_workers_vs_1`` (CPU seconds
of the whole 2-worker run, parent and workers, over the 1-worker run) is the cost of going
parallel: at 1.0 two free cores give 2x. ``cpu_bare_2_vs_1_processes`` is the same for two bare
processes (on hyper-threads or a shared host, every process slows down when two run), and
``median_round_2_workers_share_of_bare_ceiling`` the runner's 2-worker gain over the gain of two
bare processes in the same round (1.0: the runner scales as well as the machine allows).

Usage::

    python benchmarks/bench_runner.py [--count 1000] [--size 512] [--corpus DIR] [--repeat 5]
                                      [--big-mb 256] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from corpus import generate_corpus

_CHILD = r"""
import json, os, resource, shutil, sys, time
def cpu():
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
def stolen():
    # (steal, total) jiffies of the machine: time the hypervisor gave our vCPUs to others
    try:
        with open("/proc/stat") as fh:
            fields = [int(x) for x in fh.readline().split()[1:]]
    except OSError:
        return (0, 0)
    return (fields[7] if len(fields) > 7 else 0, sum(fields[:8]))
mode, src, dst, workers = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
files = sorted(os.path.join(src, f) for f in os.listdir(src))[: int(sys.argv[5])]
shutil.rmtree(dst, ignore_errors=True)
os.makedirs(dst)
if mode in ("bare", "bare2"):
    import pydicom
    def bare(part):
        for f in part:
            ds = pydicom.dcmread(f)
            ds.save_as(os.path.join(dst, os.path.basename(f)))
    c0 = cpu()
    st0 = stolen()
    t0 = time.perf_counter()
    if mode == "bare":
        bare(files)
    else:  # the machine's own scaling: the bare round trip split over two forked processes
        import multiprocessing
        ctx = multiprocessing.get_context("fork")
        procs = [ctx.Process(target=bare, args=(files[i::2],)) for i in range(2)]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join()
    elapsed = time.perf_counter() - t0
    ok = len(files)
else:
    s0 = time.perf_counter()
    from deid.runner.api import build_plan, run
    if mode not in ("deid-nopixels", "null"):
        # per-process setup, outside the per-file timing like build_plan below: the pixel
        # step's modules (and numpy) are imported, its default %filter rules come from the
        # shipped recipe (parsed once per process); the run compiles them (timed)
        from deid.recipe import load_recipe
        import deid.pixels.process, deid.runner.screen
        load_recipe("dicom")
    if mode == "null":
        import deid.engine  # a real run has compiled its plan (and imported the engine) by now
        class NullPlan:  # the runner alone: read, record, atomic write; no engine
            def apply(self, ds, context=None):
                return []
        plan = NullPlan()
    elif mode in ("big", "minimal"):
        from deid.recipe import parse_recipe
        plan = build_plan(parse_recipe("FORMAT dicom\n%header\nBLANK PatientName\n"))
    else:
        plan = build_plan(profile="basic")
    setup = time.perf_counter() - s0
    c0 = cpu()
    st0 = stolen()
    t0 = time.perf_counter()
    s = run(files, dst, plan=plan, key="benchmark-key-0123456789", workers=workers,
            progress=False, pixels=mode not in ("deid-nopixels", "null"))
    elapsed = time.perf_counter() - t0
    ok = s.written
me = resource.getrusage(resource.RUSAGE_SELF)
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"elapsed": elapsed, "files": len(files), "ok": ok,
                  "setup_s": globals().get("setup", 0.0),
                  "rss_self_mb": me.ru_maxrss / 1024, "rss_child_mb": kids.ru_maxrss / 1024,
                  "cpu_s": cpu() - c0,
                  "steal": (stolen()[0] - st0[0]) / max(1, stolen()[1] - st0[1])}))
"""


def _best(best: dict | None, data: dict) -> dict:
    """Merge one run into the best so far: the fastest time and CPU, the largest peak RSS."""
    if not best:
        best = dict(data)
    else:
        best["elapsed"] = min(best["elapsed"], data["elapsed"])
        best["cpu_s"] = min(best["cpu_s"], data["cpu_s"])
        best["steal"] = max(best.get("steal", 0.0), data.get("steal", 0.0))
        for key in ("rss_self_mb", "rss_child_mb"):
            best[key] = max(best[key], data[key])
    best["files_per_second"] = best["files"] / best["elapsed"] if best["elapsed"] else 0.0
    return best


def _child(mode: str, src: Path, dst: Path, workers: int, count: int, repeat: int = 1) -> dict:
    """Run one configuration ``repeat`` times in fresh processes: the fastest time, the
    largest peak RSS."""
    best: dict | None = None
    for _ in range(max(1, repeat)):
        res = subprocess.run(
            [sys.executable, "-c", _CHILD, mode, str(src), str(dst), str(workers), str(count)],
            capture_output=True,
            text=True,
            check=True,
        )
        best = _best(best, json.loads(res.stdout.strip().splitlines()[-1]))
    assert best is not None
    return best


def _big_file(folder: Path, megabytes: int) -> None:
    """One CT file whose Pixel Data element holds ``megabytes`` MB of zeros (sparse)."""
    import io
    import struct

    from corpus import make_ct_dataset

    folder.mkdir(parents=True, exist_ok=True)
    ds = make_ct_dataset(0, seed=0, size=16)
    del ds.PixelData
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    n = megabytes * 1024 * 1024
    with open(folder / "big.dcm", "wb") as fh:
        fh.write(buf.getvalue() + struct.pack("<HH", 0x7FE0, 0x0010) + b"OW\0\0")
        fh.write(struct.pack("<I", n))
        fh.truncate(fh.tell() + n)


def _warm_page_cache(folder: Path) -> None:
    """Read every file of ``folder`` once, so no configuration pays for a cold disk cache."""
    for path in sorted(folder.iterdir()):
        with open(path, "rb") as fh:
            while fh.read(1 << 20):
                pass


_PER_FILE = r"""
import json, os, sys, time
import pydicom
from deid.engine.keys import Key
from deid.pixels import PixelOptions
from deid.recipe import load_recipe
from deid.runner import job
from deid.runner.api import build_plan
from deid.runner.screen import FilterScreen
from deid.runner.sources import FileTask
src, dst, count, pixels = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
files = sorted(os.path.join(src, f) for f in os.listdir(src))[:count]
spec = job.JobSpec(
    plan=build_plan(profile="basic"), key=Key.from_text("benchmark-key-0123456789"),
    pixels=pixels, pixel_screen=FilterScreen.compile(load_recipe("dicom").filters),
    pixel_options=PixelOptions(), existing="overwrite",
)
for sub in ("bare", "deid"):
    os.makedirs(os.path.join(dst, sub), exist_ok=True)
bare = {"read": 0.0, "write": 0.0}
stages = {}
for rnd in range(2):  # the first round warms up; the second is measured
    bare = {"read": 0.0, "write": 0.0}
    stages = {}
    for i, path in enumerate(files):
        name = os.path.basename(path)
        t0 = time.perf_counter()
        ds = pydicom.dcmread(path)
        t1 = time.perf_counter()
        ds.save_as(os.path.join(dst, "bare", name))
        bare["read"] += t1 - t0
        bare["write"] += time.perf_counter() - t1
        record = job.process_file(FileTask(i, path, name, os.path.join(dst, "deid", name)), spec)
        assert record["status"] == "written", record["reason"]
        for key, value in record["timings"].items():
            stages[key] = stages.get(key, 0.0) + value
n = len(files)
print(json.dumps({"bare_ms": {k: 1000 * v / n for k, v in bare.items()},
                  "deid_ms": {k: 1000 * v / n for k, v in stages.items()}}))
"""


def per_file(corpus: Path, work: Path, count: int, pixels: bool) -> dict:
    """Bare read + write and the runner's per-file job alternated file by file in one process
    (both see the same machine at the same moment): per-stage milliseconds and their ratio.
    Run-level costs (executor, report, progress) are not in it: the fresh-process runs have
    them."""
    out = subprocess.run(
        [sys.executable, "-c", _PER_FILE, str(corpus), str(work), str(count), str(int(pixels))],
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(out.stdout.strip().splitlines()[-1])
    data["ratio"] = data["deid_ms"]["total"] / sum(data["bare_ms"].values())
    shutil.rmtree(work, ignore_errors=True)
    return data


def bench(
    count: int, size: int, corpus: Path, work: Path, big_mb: int = 0, repeat: int = 5
) -> dict:
    """Run every configuration (best of ``repeat``); return the measurements and ratios.

    The rounds are interleaved (every configuration once, then again ...) so that a slow
    patch of the shared machine does not land on one configuration only.
    """
    load_before = os.getloadavg()
    generate_corpus(corpus, count=2 * count, seed=0, size=size)
    _warm_page_cache(corpus)
    configs = {
        "bare": ("bare", 1, count),
        "bare2": ("bare2", 2, count),
        "one": ("deid", 1, count),
        "two": ("deid", 2, count),
        "nopx": ("deid-nopixels", 1, count),
        "minimal": ("minimal", 1, count),
        "null": ("null", 1, count),
        "one_2n": ("deid", 1, 2 * count),
        "two_2n": ("deid", 2, 2 * count),
    }
    found: dict[str, dict] = {}
    # the same ratios within each round (bare and the configuration minutes apart at most):
    # their median is steadier than the ratio of the best times when the machine drifts
    rounds: dict[str, list[float]] = {
        name: [] for name in ("one", "nopx", "two_vs_one", "bare2", "two_vs_one_2n", "scaling")
    }
    for _ in range(max(1, repeat)):
        this: dict[str, dict] = {}
        for name, (mode, workers, n) in configs.items():
            data = _child(mode, corpus, work / name, workers, n, 1)
            shutil.rmtree(work / name, ignore_errors=True)
            this[name] = data
            found[name] = _best(found.get(name), data)
        rounds["one"].append(this["one"]["elapsed"] / this["bare"]["elapsed"])
        rounds["nopx"].append(this["nopx"]["elapsed"] / this["bare"]["elapsed"])
        rounds["two_vs_one"].append(this["one"]["elapsed"] / this["two"]["elapsed"])
        rounds["bare2"].append(this["bare"]["elapsed"] / this["bare2"]["elapsed"])
        rounds["two_vs_one_2n"].append(this["one_2n"]["elapsed"] / this["two_2n"]["elapsed"])
        # the runner's 2-worker gain as a share of what two bare processes gained in the round
        rounds["scaling"].append(rounds["two_vs_one"][-1] / rounds["bare2"][-1])
    bare, one, two, bare2 = found["bare"], found["one"], found["two"], found["bare2"]
    nopx, minimal, null = found["nopx"], found["minimal"], found["null"]
    one_2n, two_2n = found["one_2n"], found["two_2n"]
    file_by_file = {
        "pixels": per_file(corpus, work / "pf1", count, True),
        "no_pixels": per_file(corpus, work / "pf0", count, False),
    }
    big: dict = {}
    if big_mb:
        _big_file(work / "big-in", big_mb)
        big["bare"] = _child("bare", work / "big-in", work / "big-bare", 1, 1)
        shutil.rmtree(work / "big-bare", ignore_errors=True)
        big["deid"] = _child("big", work / "big-in", work / "big-deid", 1, 1)
        shutil.rmtree(work / "big-deid", ignore_errors=True)
        big["megabytes"] = big_mb
    result = {
        "count": count,
        "size": size,
        "cores": os.cpu_count(),
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "bare": bare,
        "bare_2_processes": bare2,
        "workers_1": one,
        "workers_2": two,
        "workers_1_no_pixels": nopx,
        "runner_minimal_recipe": minimal,
        "runner_null_plan": null,
        "workers_1_double": one_2n,
        "workers_2_double": two_2n,
        "file_by_file": file_by_file,
        "ratios": {
            "file_by_file_1_worker_vs_bare": file_by_file["pixels"]["ratio"],
            "file_by_file_1_worker_no_pixels_vs_bare": file_by_file["no_pixels"]["ratio"],
            "median_round_1_worker_vs_bare": statistics.median(rounds["one"]),
            "median_round_1_worker_no_pixels_vs_bare": statistics.median(rounds["nopx"]),
            "median_round_throughput_2_vs_1": statistics.median(rounds["two_vs_one"]),
            "median_round_throughput_2_vs_1_double": statistics.median(rounds["two_vs_one_2n"]),
            # the ceiling the machine allows: two bare processes against one
            "median_round_bare_2_vs_1_processes": statistics.median(rounds["bare2"]),
            "median_round_2_workers_share_of_bare_ceiling": statistics.median(rounds["scaling"]),
            "time_1_worker_vs_bare": one["elapsed"] / bare["elapsed"],
            "time_1_worker_no_pixels_vs_bare": nopx["elapsed"] / bare["elapsed"],
            "time_runner_minimal_vs_bare": minimal["elapsed"] / bare["elapsed"],
            "cpu_1_worker_vs_bare": one["cpu_s"] / bare["cpu_s"],
            "cpu_runner_minimal_vs_bare": minimal["cpu_s"] / bare["cpu_s"],
            "time_runner_null_plan_vs_bare": null["elapsed"] / bare["elapsed"],
            "cpu_runner_null_plan_vs_bare": null["cpu_s"] / bare["cpu_s"],
            "throughput_2_vs_1_workers": two["files_per_second"] / one["files_per_second"],
            # CPU of the whole 2-worker run (parent + workers, start-up included) over the
            # 1-worker run: the cost of going parallel, which a busy machine does not distort
            "cpu_2_workers_vs_1": two["cpu_s"] / one["cpu_s"],
            # the same for two bare processes: what sharing the machine's cores costs anyway
            "cpu_bare_2_vs_1_processes": bare2["cpu_s"] / bare["cpu_s"],
            "rss_1_worker_vs_bare": one["rss_self_mb"] / bare["rss_self_mb"],
            "rss_1_worker_2n_vs_n": one_2n["rss_self_mb"] / one["rss_self_mb"],
            "rss_pool_worker_2n_vs_n": two_2n["rss_child_mb"] / two["rss_child_mb"],
        },
    }
    if big:
        result["big_file"] = big
        result["ratios"]["rss_big_file_deid_vs_bare"] = (
            big["deid"]["rss_self_mb"] / big["bare"]["rss_self_mb"]
        )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--corpus", default=None, help="corpus folder (default: a temp folder)")
    parser.add_argument(
        "--repeat", type=int, default=5, help="rounds: best of N, and median of per-round ratios"
    )
    parser.add_argument(
        "--big-mb", type=int, default=256, help="size of the big-file case in MB (0: skip it)"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    # in memory when the machine has a tmpfs: the disk's write-back of one configuration's
    # outputs would otherwise slow down whichever configuration runs next
    shm = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="deid-bench-", dir=shm) as tmp:
        corpus = Path(args.corpus) if args.corpus else Path(tmp) / "corpus"
        result = bench(args.count, args.size, corpus, Path(tmp) / "work", args.big_mb, args.repeat)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"{args.count} files of {args.size}x{args.size} CT, {result['cores']} cores, "
        f"best of {args.repeat}"
    )
    before = " ".join(f"{x:.2f}" for x in result["load_before"])
    after = " ".join(f"{x:.2f}" for x in result["load_after"])
    print(f"  load average before {before}, after {after}")
    names = (
        "bare",
        "bare_2_processes",
        "runner_null_plan",
        "runner_minimal_recipe",
        "workers_1",
        "workers_1_no_pixels",
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
            + (f", run setup {r['setup_s']:.2f} s untimed" if r.get("setup_s") else "")
            + f", steal up to {100 * r.get('steal', 0.0):.0f}%"
        )
    if "big_file" in result:
        big = result["big_file"]
        print(
            f"  big file ({big['megabytes']} MB Pixel Data): peak RSS bare "
            f"{big['bare']['rss_self_mb']:.0f} MB, deid 1 worker {big['deid']['rss_self_mb']:.0f} MB"
            f" ({big['bare']['elapsed']:.2f} s vs {big['deid']['elapsed']:.2f} s)"
        )
    for name, data in result["file_by_file"].items():
        stages = ", ".join(f"{k} {v:.3f}" for k, v in data["deid_ms"].items())
        bare_ms = ", ".join(f"{k} {v:.3f}" for k, v in data["bare_ms"].items())
        print(f"  file by file ({name}): bare {bare_ms} ms; deid {stages} ms")
    for key, value in result["ratios"].items():
        print(f"  {key:40s} {value:5.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
