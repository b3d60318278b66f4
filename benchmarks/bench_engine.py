"""Header engine throughput against a bare pydicom read + write of the same files.

For every file of the synthetic CT corpus (``benchmarks/corpus.py``) the benchmark times, in the
same run, interleaved file by file (alternating which goes first) so both see the same cache
state:

* **bare**: ``pydicom.dcmread(path)`` + ``ds.save_as(out)``;
* **deid**: ``pydicom.dcmread(path)`` + ``plan.apply(ds, Context(...))`` + ``ds.save_as(out)``
  with the default recipe (``recipes/deid.dicom``), compiled once;
* optionally **facade**: ``deid.dicom.replace_identifiers([path], save=True, ...)`` when the
  drop-in facade is importable (``--facade``).

It prints the totals, per-file means and the ratio deid/bare (the target is <= 1.3).

With ``--upstream PYTHON`` (the interpreter of another virtualenv where pydicom/deid is
installed) the same files are also run through upstream's ``replace_identifiers`` with its
default recipe, in a subprocess that times its own bare round trip too, so each ratio compares
runs made under the same conditions.

Usage::

    python benchmarks/bench_engine.py [--count 1000] [--corpus DIR] [--repeat 1] [--facade]
                                      [--upstream /path/to/other/venv/bin/python]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pydicom

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import generate_corpus

from deid.engine import Context, compile_plan
from deid.recipe import parse_recipe

ROOT = Path(__file__).resolve().parent.parent


def default_plan():  # type: ignore[no-untyped-def]
    """Compile the shipped default recipe."""
    path = ROOT / "recipes" / "deid.dicom"
    return compile_plan(parse_recipe(path.read_text(), name=str(path)))


def run(paths: list[Path], out_dir: Path, repeat: int = 1, facade: bool = False) -> dict:
    """Time bare and deid round trips over ``paths``; return the totals in seconds."""
    plan = default_plan()
    totals = {"bare": 0.0, "deid": 0.0, "facade": 0.0, "bare_cpu": 0.0, "deid_cpu": 0.0}
    replace = None
    if facade:
        from deid.dicom import replace_identifiers as replace  # type: ignore[no-redef]
    clock = time.perf_counter
    cpu = time.process_time

    def bare_once(path: Path, target: Path) -> tuple[float, float]:
        t0, c0 = clock(), cpu()
        ds = pydicom.dcmread(path)
        ds.save_as(target)
        return clock() - t0, cpu() - c0

    def deid_once(path: Path, target: Path) -> tuple[float, float]:
        t0, c0 = clock(), cpu()
        ds = pydicom.dcmread(path)
        plan.apply(ds, Context(filename=str(path)))
        ds.save_as(target)
        return clock() - t0, cpu() - c0

    for _ in range(repeat):
        for number, path in enumerate(paths):
            target = out_dir / path.name
            # alternate which one runs first, so neither always gets the colder cache
            if number % 2:
                (dw, dc), (bw, bc) = deid_once(path, target), bare_once(path, target)
            else:
                (bw, bc), (dw, dc) = bare_once(path, target), deid_once(path, target)
            totals["bare"] += bw
            totals["deid"] += dw
            totals["bare_cpu"] += bc
            totals["deid_cpu"] += dc
            if replace is not None:
                t3 = clock()
                replace([str(path)], save=True, overwrite=True, output_folder=str(out_dir))
                totals["facade"] += clock() - t3
    return totals


_UPSTREAM = r"""
import json, sys, tempfile, time, warnings
warnings.simplefilter("ignore")
import pydicom
from deid.config import DeidRecipe
from deid.dicom import replace_identifiers
paths, out = json.loads(open(sys.argv[1]).read()), sys.argv[2]
recipe = DeidRecipe()
bare = up = 0.0
for p in paths[:5]:
    replace_identifiers([p], deid=recipe, save=True, overwrite=True, output_folder=out)
def bare_once(p):
    t0 = time.perf_counter()
    ds = pydicom.dcmread(p)
    ds.save_as(out + "/bare.dcm")
    return time.perf_counter() - t0
def up_once(p):
    t0 = time.perf_counter()
    replace_identifiers([p], deid=recipe, save=True, overwrite=True, output_folder=out)
    return time.perf_counter() - t0
for i, p in enumerate(paths):
    if i % 2:
        u = up_once(p); b = bare_once(p)
    else:
        b = bare_once(p); u = up_once(p)
    bare += b
    up += u
print(json.dumps({"bare": bare, "upstream": up}))
"""


def run_upstream(python: str, paths: list[Path], out_dir: Path) -> dict:
    """Time pydicom/deid's replace_identifiers in another interpreter; return its totals."""
    listing = out_dir / "paths.json"
    listing.write_text(json.dumps([str(p) for p in paths]))
    proc = subprocess.run([python, "-c", _UPSTREAM, str(listing), str(out_dir)], cwd=out_dir,
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"pydicom/deid run failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="deid header engine benchmark")
    parser.add_argument("--count", type=int, default=1000, help="number of files (default 1000)")
    parser.add_argument("--corpus", default=os.path.join(tempfile.gettempdir(), "deid_corpus"),
                        help="corpus folder (generated if missing)")
    parser.add_argument("--size", type=int, default=512, help="rows/columns (default 512)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--facade", action="store_true",
                        help="also time deid.dicom.replace_identifiers")
    parser.add_argument("--upstream", metavar="PYTHON",
                        help="interpreter of a virtualenv with pydicom/deid installed")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    paths = generate_corpus(args.corpus, args.count, size=args.size)
    print(f"corpus: {len(paths)} files of {args.size}x{args.size} in {args.corpus} "
          f"({time.perf_counter() - t0:.1f} s to generate/check)")
    with tempfile.TemporaryDirectory() as tmp:
        # warm-up: imports, page cache, plan memo
        run(paths[: min(20, len(paths))], Path(tmp))
        totals = run(paths, Path(tmp), args.repeat, args.facade)
        upstream = run_upstream(args.upstream, paths, Path(tmp)) if args.upstream else None
    n = len(paths) * args.repeat
    bare, deid = totals["bare"], totals["deid"]
    print(f"bare pydicom read+write : {bare:8.3f} s  ({1000 * bare / n:.3f} ms/file)")
    print(f"deid read+apply+write   : {deid:8.3f} s  ({1000 * deid / n:.3f} ms/file)")
    print(f"engine overhead         : {1000 * (deid - bare) / n:.3f} ms/file")
    print(f"ratio deid/bare         : {deid / bare:.3f}  (wall clock; target <= 1.3)")
    print(f"ratio deid/bare (CPU)   : {totals['deid_cpu'] / totals['bare_cpu']:.3f}  "
          f"(process time: {1000 * totals['bare_cpu'] / n:.3f} vs "
          f"{1000 * totals['deid_cpu'] / n:.3f} ms/file)")
    if args.facade:
        print(f"replace_identifiers     : {totals['facade']:8.3f} s  "
              f"ratio {totals['facade'] / bare:.3f}")
    if upstream is not None:
        ratio = upstream["upstream"] / upstream["bare"]
        print(f"pydicom/deid            : {upstream['upstream']:8.3f} s  "
              f"({1000 * upstream['upstream'] / len(paths):.3f} ms/file); its bare run "
              f"{upstream['bare']:.3f} s; ratio upstream/bare {ratio:.3f}")
        print(f"speed-up over upstream  : {ratio / (deid / bare):.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
