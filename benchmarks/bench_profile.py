"""PS3.15 profile throughput against a bare pydicom read + write of the same files.

For every file of the synthetic CT corpus (``benchmarks/corpus.py``) the benchmark times, in the
same run, interleaved file by file (alternating which goes first so both see the same cache):

* **bare**: ``pydicom.dcmread(path)`` + ``ds.save_as(out)``;
* one run per profile variant: ``pydicom.dcmread(path)`` + ``plan.apply(ds, Context(key=...))``
  + ``ds.save_as(out)``, with the plan compiled once by ``deid.profiles.profile_plan``:

  - ``basic``: the Basic Profile;
  - ``basic+dates+descriptors``: Basic + Retain Longitudinal Modified Dates + Clean Descriptors.

It prints, per variant, the totals, per-file means and the ratio variant/bare (target <= 1.3),
in wall-clock time and in process (CPU) time, which other load on the machine disturbs less.
With ``--profile FILE`` it also writes a cProfile of the Basic Profile's apply + post step.

Usage::

    python benchmarks/bench_profile.py [--count 300] [--corpus DIR] [--size 512]
                                       [--profile out.prof]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import pydicom

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import generate_corpus

from deid.engine import Context
from deid.profiles import profile_plan

KEY = "benchmark key, not secret 0123456789"

VARIANTS: dict[str, tuple[str, ...]] = {
    "basic": (),
    "basic+dates+descriptors": ("retain-long-modified-dates", "clean-descriptors"),
}


def run(paths: list[Path], out_dir: Path, variants: dict[str, tuple[str, ...]]) -> dict:
    """Time bare and profile round trips over ``paths``; return total seconds per name."""
    plans = {name: profile_plan("basic", opts) for name, opts in variants.items()}
    names = ["bare", *plans]
    totals = dict.fromkeys(names + [f"{n}_cpu" for n in names], 0.0)
    clock, cpu = time.perf_counter, time.process_time

    def bare_once(path: Path, target: Path) -> tuple[float, float]:
        t0, c0 = clock(), cpu()
        ds = pydicom.dcmread(path)
        ds.save_as(target)
        return clock() - t0, cpu() - c0

    def plan_once(plan, path: Path, target: Path) -> tuple[float, float]:  # type: ignore[no-untyped-def]
        t0, c0 = clock(), cpu()
        ds = pydicom.dcmread(path)
        plan.apply(ds, Context(key=KEY, filename=str(path)))
        ds.save_as(target)
        return clock() - t0, cpu() - c0

    for number, path in enumerate(paths):
        target = out_dir / path.name
        order = ["bare", *plans]
        if number % 2:
            order.reverse()
        for name in order:
            if name == "bare":
                wall, used = bare_once(path, target)
            else:
                wall, used = plan_once(plans[name], path, target)
            totals[name] += wall
            totals[f"{name}_cpu"] += used
    return totals


def profile(paths: list[Path], out_dir: Path, output: str) -> None:
    """Write a cProfile of read + Basic Profile apply + write over ``paths``."""
    import cProfile

    plan = profile_plan("basic")
    prof = cProfile.Profile()
    for path in paths:
        ds = pydicom.dcmread(path)
        prof.enable()
        plan.apply(ds, Context(key=KEY, filename=str(path)))
        prof.disable()
        ds.save_as(out_dir / path.name)
    prof.dump_stats(output)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="deid PS3.15 profile benchmark")
    parser.add_argument("--count", type=int, default=300, help="number of files (default 300)")
    parser.add_argument(
        "--corpus",
        default=os.path.join(tempfile.gettempdir(), "deid_corpus"),
        help="corpus folder (generated if missing)",
    )
    parser.add_argument("--size", type=int, default=512, help="rows/columns (default 512)")
    parser.add_argument("--profile", metavar="FILE", help="also write a cProfile of the apply")
    args = parser.parse_args(argv)
    paths = generate_corpus(args.corpus, args.count, size=args.size)
    print(f"corpus: {len(paths)} files of {args.size}x{args.size} in {args.corpus}")
    with tempfile.TemporaryDirectory() as tmp:
        run(paths[: min(20, len(paths))], Path(tmp), VARIANTS)  # warm-up
        totals = run(paths, Path(tmp), VARIANTS)
        if args.profile:
            profile(paths, Path(tmp), args.profile)
    n = len(paths)
    bare = totals["bare"]
    print(f"{'bare pydicom read+write':28s}: {bare:8.3f} s  ({1000 * bare / n:.3f} ms/file)")
    for name in VARIANTS:
        t = totals[name]
        cpu_ratio = totals[f"{name}_cpu"] / totals["bare_cpu"]
        print(
            f"{name:28s}: {t:8.3f} s  ({1000 * t / n:.3f} ms/file)  ratio {t / bare:.3f}  "
            f"(+{1000 * (t - bare) / n:.3f} ms/file; target <= 1.3); CPU ratio {cpu_ratio:.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
