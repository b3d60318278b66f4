"""Run every ``benchmarks/bench_*.py`` quickly and print one table (``make bench``).

Each benchmark runs in its own Python process with small counts (``--count``, ``--frames``,
``--repeat`` are lowered when the benchmark has them; ``--corpus`` points at one private
temporary folder shared by the benchmarks of this run). Its own report is printed as it comes,
then a table of every benchmark: wall time, exit status and the ratio lines it printed. The
load average is printed before and after, since ratios measured on a busy machine are not worth
much. Benchmarks never fail the build on speed: the exit status is 1 only when one crashed
or timed out.

Usage::

    python benchmarks/run_all.py [--only runner,engine] [--full] [--timeout 900]

Examples
--------
>>> args_for({"--count", "--corpus"}, "/tmp/c", full=False)
['--count', '40', '--corpus', '/tmp/c']
>>> args_for({"--count"}, "/tmp/c", full=True)
[]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: Small values for the knobs benchmarks commonly have (only those a benchmark accepts).
QUICK = {"--count": "40", "--frames": "20", "--repeat": "3"}


def discover(only: set[str] | None = None) -> list[Path]:
    """The ``bench_*.py`` files, sorted; ``only`` filters on the name without ``bench_``.

    Examples
    --------
    >>> any(p.name == "bench_runner.py" for p in discover())
    True
    """
    found = sorted(HERE.glob("bench_*.py"))
    if only:
        found = [p for p in found if p.stem.removeprefix("bench_") in only]
    return found


def options_of(script: Path) -> set[str]:
    """The long options a benchmark's ``--help`` lists."""
    res = subprocess.run(
        [sys.executable, str(script), "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return set(re.findall(r"(--[a-z][a-z0-9-]*)", res.stdout))


def args_for(options: set[str], corpus: str, full: bool) -> list[str]:
    """Arguments that make a benchmark quick (none with ``full``)."""
    if full:
        return []
    args: list[str] = []
    for opt, value in QUICK.items():
        if opt in options:
            args += [opt, value]
    if "--corpus" in options:
        args += ["--corpus", corpus]
    return args


def load() -> str:
    """The 1/5/15-minute load averages and the core count, as text."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:  # pragma: no cover - not on this platform
        return "load average unknown"
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def _ratio_lines(output: str) -> list[str]:
    keep = []
    for line in output.splitlines():
        text = line.strip()
        if re.search(r"(ratio|_vs_|\bx\b|speedup|throughput)", text, re.IGNORECASE):
            keep.append(text)
    return keep[:12]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=None, help="comma-separated names (runner,engine,...)")
    parser.add_argument("--full", action="store_true", help="each benchmark's own defaults")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per benchmark")
    args = parser.parse_args(argv)
    only = {n.strip() for n in args.only.split(",")} if args.only else None
    scripts = discover(only)
    if not scripts:
        print("no benchmark matched", file=sys.stderr)
        return 2
    print(f"before: {load()}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="deid-bench-all-") as tmp:
        corpus = os.path.join(tmp, "corpus")
        for script in scripts:
            extra = args_for(options_of(script), corpus, args.full)
            cmd = [sys.executable, str(script), *extra]
            print(f"\n=== {script.name} {' '.join(extra)}", flush=True)
            t0 = time.perf_counter()
            try:
                res = subprocess.run(
                    cmd, capture_output=True, text=True, timeout=args.timeout, check=False
                )
                status = "ok" if res.returncode == 0 else f"exit {res.returncode}"
                output = res.stdout
                if res.returncode != 0:
                    output += res.stderr[-3000:]
            except subprocess.TimeoutExpired:
                status, output = "timeout", ""
            elapsed = time.perf_counter() - t0
            print(output.rstrip(), flush=True)
            rows.append((script.stem.removeprefix("bench_"), elapsed, status, output))
    print(f"\nafter: {load()}")
    print(f"\n{'benchmark':24s} {'seconds':>8s}  status")
    for name, elapsed, status, output in rows:
        print(f"{name:24s} {elapsed:8.1f}  {status}")
        for line in _ratio_lines(output):
            print(f"{'':24s}           {line}")
    return 0 if all(r[2] == "ok" for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
