"""``python -m deid.demo --output DIR`` (what ``make demo`` runs).

De-identifies the deid-data sample sets (dicom-cookies, humans, ultrasounds, animals) with the
PS3.15 Basic Profile, one output folder per set, prints the run summary, then checks the result
with :func:`deid.verify.verify` and prints what it found (zero leaks is the expected outcome).

Only ``*.dcm`` files are taken: the ultrasound set's ``.zip`` cine archives are not DICOM files.

Examples
--------
>>> SAMPLE_SETS
('dicom-cookies', 'humans', 'ultrasounds', 'animals')
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["SAMPLE_SETS", "main", "run_demo"]

SAMPLE_SETS: tuple[str, ...] = ("dicom-cookies", "humans", "ultrasounds", "animals")
#: A fixed demo key, so the demo's pseudonyms are the same on every machine. Never reuse it.
DEMO_KEY = "deid-demo-key-not-for-real-data"


def _dataset_path(name: str) -> str:
    from deid._optional import require

    data = require("deid_data.data", "data")
    return str(data.get_dataset(name))


def _plan() -> tuple[Any, str]:
    from deid.runner.api import build_plan

    try:
        import deid.profiles  # noqa: F401

        return build_plan(profile="basic"), "PS3.15 Basic Profile"
    except ImportError:  # pragma: no cover - profiles part missing
        return build_plan(recipe="dicom"), "the default recipe"


def run_demo(
    output: str,
    sets: Sequence[str] = SAMPLE_SETS,
    workers: int | None = None,
    verify: bool = True,
    out: Any = None,
) -> int:
    """De-identify the sample sets into ``output/<set>`` and verify them.

    Returns
    -------
    int
        0 when every file was written and verification found nothing; 1 otherwise.
    """
    from deid.runner.api import run

    stream = out or sys.stdout
    plan, what = _plan()
    print(f"deid demo: {', '.join(sets)} with {what}", file=stream)
    status = 0
    totals = {"written": 0, "skipped": 0, "rejected": 0, "failed": 0}
    results = []
    for name in sets:
        src = _dataset_path(name)
        dst = os.path.join(output, name)
        summary = run(
            [src],
            dst,
            plan=plan,
            key=DEMO_KEY,
            workers=workers,
            existing="overwrite",
            pattern="*.dcm",
            report=dst + ".deid-report.jsonl",
            progress=False,
        )
        print(f"  {name:14s} {summary.text()}", file=stream)
        for k in totals:
            totals[k] += getattr(summary, k)
        status = max(status, summary.exit_code)
        results.append((src, dst))
    print(
        "summary: "
        + ", ".join(f"{v} {k}" for k, v in totals.items())
        + f"; output in {os.path.realpath(output)}",
        file=stream,
    )
    if verify:
        try:
            from deid.verify import verify as verify_output
        except ImportError:  # pragma: no cover - verify part missing
            print("verify: deid.verify is not available; skipped", file=stream)
            return status
        leaks = 0
        for (src, dst), name in zip(results, sets):
            rep = verify_output(src, dst, profile="basic")
            t = rep.totals()
            leaks += t.get("leaks", 0)
            line = (
                f"  verify {name:14s} {t.get('files', 0)} files checked, {t.get('leaks', 0)} leaks"
            )
            unchecked = t.get("skipped_inputs", 0) + t.get("unpaired_outputs", 0)
            if unchecked:
                line += (
                    f" ({t.get('skipped_inputs', 0)} inputs skipped, "
                    f"{t.get('unpaired_outputs', 0)} outputs unpaired by verify)"
                )
            print(line, file=stream)
            if not rep.ok:
                status = 1
                print(rep.render(), file=stream)
        print(f"verify: {leaks} leaks", file=stream)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry of the demo."""
    parser = argparse.ArgumentParser(prog="python -m deid.demo", description=__doc__.split("\n")[0])
    parser.add_argument("--output", default="demo-output", help="output folder")
    parser.add_argument("-j", "--workers", type=int, default=None)
    parser.add_argument("--no-verify", action="store_true")
    parser.add_argument("--set", dest="sets", action="append", choices=SAMPLE_SETS)
    args = parser.parse_args(argv)
    from deid.errors import DeidError

    try:
        return run_demo(args.output, args.sets or SAMPLE_SETS, args.workers, not args.no_verify)
    except DeidError as exc:
        print(f"deid demo: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
