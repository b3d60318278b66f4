"""Recipe parsing speed: the shipped default recipe against a bare pydicom read + write.

Measured in the same run, medians of ``--repeat`` rounds:

* **build**: compiling the Lark grammar (once per process; ``import deid.recipe`` does not do it);
* **parse**: ``parse_recipe_with_diagnostics`` of ``recipes/deid.dicom`` (~900 lines) with the
  result memo cleared every round (grammar already built) — the real cost of reading a recipe;
* **memoised**: the same call again (what ``DeidRecipe()`` costs after the first load);
* **bare**: ``pydicom.dcmread`` + ``save_as`` of one CT file (pydicom's ``CT_small.dcm``), the
  floor of de-identifying one file.

Prints the times and the ratios parse/bare and memoised/bare.

Usage::

    python benchmarks/bench_parse.py [--repeat 30]
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from pathlib import Path

import pydicom
from pydicom.data import get_testdata_file

ROOT = Path(__file__).resolve().parent.parent


def median_ms(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    """Median wall time of ``fn()`` in milliseconds (best of the run kept in ``BEST``)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    BEST.append(min(times) * 1000)
    return statistics.median(times) * 1000


BEST: list[float] = []


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Run the benchmark and print a small report; return the figures (ms)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=30)
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
    parse = median_ms(parse_fresh, args.repeat)
    memo = median_ms(lambda: parser.parse_recipe_with_diagnostics(text, str(path)), args.repeat)

    ct = get_testdata_file("CT_small.dcm")

    def bare() -> None:
        ds = pydicom.dcmread(ct)
        ds.save_as(io.BytesIO())

    bare_ms = median_ms(bare, args.repeat)
    lines = len(text.splitlines())
    best_parse, best_memo, best_bare = BEST[-3:]
    print(f"default recipe: {lines} lines; medians (best) of {args.repeat} rounds")
    print(f"grammar build (once per process): {build:8.2f} ms")
    print(
        f"parse + check (not memoised):     {parse:8.2f} ms ({best_parse:.2f})"
        f"   ratio to bare {parse / bare_ms:6.2f}"
    )
    print(
        f"parse, memoised:                  {memo:8.3f} ms ({best_memo:.3f})"
        f"   ratio to bare {memo / bare_ms:6.4f}"
    )
    print(f"bare pydicom read + write (CT):   {bare_ms:8.2f} ms ({best_bare:.2f})")
    return {"build": build, "parse": parse, "memoised": memo, "bare": bare_ms}


if __name__ == "__main__":
    main()
