"""Recipe parsing speed: the shipped default recipe against a bare pydicom read + write.

Measured in the same run, medians of ``--repeat`` rounds:

* **load**: getting the Lark parser (once per process; prebuilt LALR tables, see
  ``deid.recipe.tables``; ``import deid.recipe`` does not do it);
* **fresh process**: in a new interpreter with pydicom and the engine already imported, loading
  the parser plus the first parse + check of the default recipe (lazy regex compilation and
  DICOM dictionary look-ups included), the cost a one-shot command pays;
* **parse**: ``parse_recipe_with_diagnostics`` of ``recipes/deid.dicom`` (~900 lines) with the
  result memo cleared every round (grammar already built) — the real cost of reading a recipe;
* **memoised**: the same call again (what ``DeidRecipe()`` costs after the first load);
* **bare**: ``pydicom.dcmread`` + ``save_as`` of one realistic CT file (512x512, 16 bit, a full
  header with sequences and private blocks: ``benchmarks/corpus.py``), the floor of
  de-identifying one file;
* **deid one file**: read + ``plan.apply`` (the default recipe, compiled once) + write of the
  same file, when ``deid.engine`` is available; **apply** is ``plan.apply`` alone on a fresh
  copy of the dataset.

Prints the times, the ratios to bare, and parse / de-identify one file (the issue asks for
parsing to cost well under de-identifying one file). ``--small`` uses pydicom's
``CT_small.dcm`` (128x128) instead.

Usage::

    python benchmarks/bench_parse.py [--repeat 30]
"""

from __future__ import annotations

import argparse
import copy
import io
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pydicom
from pydicom.data import get_testdata_file

ROOT = Path(__file__).resolve().parent.parent


def timed_ms(fn, repeat: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Median and best wall time of ``fn()`` over ``repeat`` rounds, in milliseconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000, min(times) * 1000


_FRESH = """
import sys, time
import deid.engine
from deid.recipe import parser
text = open(sys.argv[1], encoding="utf-8").read()
t0 = time.perf_counter()
parser.get_parser()
parser.parse_recipe_with_diagnostics(text, sys.argv[1])
print((time.perf_counter() - t0) * 1000)
"""


def _fresh_process_ms(path: Path, rounds: int = 3) -> float:
    """Best of ``rounds`` fresh interpreters: parser load + first parse of ``path`` (ms)."""
    times = []
    for _ in range(rounds):
        out = subprocess.run(
            [sys.executable, "-c", _FRESH, str(path)],
            capture_output=True,
            text=True,
            check=True,
        )
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return min(times)


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Run the benchmark and print a small report; return the median figures (ms)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--small", action="store_true", help="use pydicom's CT_small.dcm")
    args = ap.parse_args(argv)

    from deid.recipe import parser

    path = ROOT / "recipes" / "deid.dicom"
    text = path.read_text()
    t0 = time.perf_counter()
    parser.get_parser()
    build = (time.perf_counter() - t0) * 1000

    def parse_fresh() -> None:
        parser.clear_cache()
        parser.parse_recipe_with_diagnostics(text, str(path))

    parse_fresh()  # warm the keyword dictionary
    results = {
        "parse": timed_ms(parse_fresh, args.repeat),
        "memoised": timed_ms(
            lambda: parser.parse_recipe_with_diagnostics(text, str(path)), args.repeat
        ),
    }
    fresh = _fresh_process_ms(path)
    tmp = tempfile.TemporaryDirectory()
    if args.small:
        ct = get_testdata_file("CT_small.dcm")
    else:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from corpus import generate_corpus

        ct = str(generate_corpus(tmp.name, count=1, seed=0, size=512)[0])

    def bare() -> None:
        ds = pydicom.dcmread(ct)
        ds.save_as(io.BytesIO())

    results["bare"] = timed_ms(bare, args.repeat)
    try:
        from deid.engine import Context, compile_plan
    except ImportError:  # the engine is another part of the project; optional here
        compile_plan = None
    if compile_plan is not None:
        plan = compile_plan(parser.parse_recipe(text, str(path)))

        def deid_one() -> None:
            ds = pydicom.dcmread(ct)
            plan.apply(ds, Context(filename=ct))
            ds.save_as(io.BytesIO())

        results["deid_one"] = timed_ms(deid_one, args.repeat)
        original = pydicom.dcmread(ct)
        times = []
        for _ in range(args.repeat):
            ds = copy.deepcopy(original)
            t0 = time.perf_counter()
            plan.apply(ds, Context(filename=ct))
            times.append(time.perf_counter() - t0)
        results["apply"] = (statistics.median(times) * 1000, min(times) * 1000)
    tmp.cleanup()

    bare_ms = results["bare"][0]
    size = "128x128 CT_small.dcm" if args.small else "512x512 synthetic CT"
    print(
        f"default recipe: {len(text.splitlines())} lines; file: {size}; "
        f"median (best) of {args.repeat} rounds"
    )
    print(f"parser load (once per process):    {build:8.2f} ms")
    print(f"fresh process: load + first parse:  {fresh:8.2f} ms")
    labels = {
        "parse": "parse + check (not memoised)",
        "memoised": "parse, memoised",
        "bare": "bare pydicom read + write (CT)",
        "deid_one": "de-identify one file (CT)",
        "apply": "plan.apply alone (CT)",
    }
    for key, (med, best) in results.items():
        ratio = med / bare_ms
        print(f"{labels[key] + ':':34s}{med:8.3f} ms ({best:.3f})   ratio to bare {ratio:7.3f}")
    if "deid_one" in results:
        ratio = results["parse"][0] / results["deid_one"][0]
        print(f"parse + check / de-identify one file: {ratio:.2f}")
    return {key: med for key, (med, _) in results.items()} | {"build": build, "fresh": fresh}


if __name__ == "__main__":
    main()
