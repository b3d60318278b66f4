"""``python -m deid.demo --output DIR`` (what ``make demo`` runs).

De-identifies the deid-data sample sets (dicom-cookies, humans, ultrasounds, animals) with the
PS3.15 Basic Profile and the pixel step on, one output folder per set, prints the run summary,
then checks every set with :func:`deid.verify.verify`. The last line counts everything verify
reports as a failure (leaks, burned-in images left unchanged, missing markers, lost files...)
over all sets; the demo exits 1 when that count is not zero or a file was rejected or failed.

The pixel step uses the shipped ``dicom`` recipe's ``%filter`` sections, except for the
ultrasounds, which use the ``dicom.ultrasound`` recipe's (everything outside the ultrasound
regions is blanked). The ultrasound set's ``.zip`` cine archives are expanded by the runner
and written under ``<set>/<archive name>/``.

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
#: The recipe whose ``%filter`` sections drive the pixel step of a set (default ``dicom``).
PIXEL_RECIPES: dict[str, str] = {"ultrasounds": "dicom.ultrasound"}
#: What :func:`deid.verify.verify` counts as a failure (``VerifyReport.ok`` is False on any).
FAILURE_KINDS: tuple[str, ...] = (
    "leaks",
    "broken_references",
    "missing_markers",
    "uid_inconsistent",
    "lost",
    "unreadable_outputs",
    "partial_outputs",
    "burned_in_unchanged",
)
#: A fixed demo key, so the demo's pseudonyms are the same on every machine. Never reuse it.
DEMO_KEY = "deid-demo-key-not-for-real-data"


def _dataset_path(name: str) -> str:
    from deid._optional import require

    data = require("deid_data.data", "data")
    return str(data.get_dataset(name))


def _verify_input(src: str, staging: str, expander: Any) -> str:
    """The input tree verify should compare ``src``'s output with.

    The runner writes the members of ``src/x.zip`` under ``OUT/x/``, and verify cannot read
    inside archives; for a set with archives this builds ``staging``, a tree of links that
    mirrors the output: every plain file linked at its place, every archive member (extracted
    by the runner's own safe expander) at ``x/<member>``. Without archives ``src`` is returned.
    """
    from deid.runner.sources import is_archive

    found: list[tuple[str, str]] = []
    for dirpath, _dirs, files in os.walk(src):
        for name in sorted(files):
            path = os.path.join(dirpath, name)
            found.append((path, os.path.relpath(path, src).replace(os.sep, "/")))
    if not any(is_archive(rel) for _p, rel in found):
        return src
    for path, rel in found:
        items = (
            [(p, r) for _n, r, p, err in expander.expand(path, rel) if p and not err]
            if is_archive(rel)
            else [(path, rel)]
        )
        for real, rel_out in items:
            target = os.path.join(staging, *rel_out.split("/"))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.symlink(os.path.realpath(real), target)
    return staging


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
    print(f"deid demo: {', '.join(sets)} with {what}, pixel step on", file=stream)
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
            pixel_recipe=PIXEL_RECIPES.get(name, "dicom"),
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
        import tempfile

        from deid.runner.sources import ArchiveExpander

        found = {kind: 0 for kind in FAILURE_KINDS}
        failed_sets = []
        expander = ArchiveExpander()
        staging = tempfile.mkdtemp(prefix="deid-demo-verify-")
        try:
            reports = []
            for (src, dst), name in zip(results, sets):
                where = _verify_input(src, os.path.join(staging, name), expander)
                reports.append(verify_output(where, dst, profile="basic"))
        finally:
            expander.cleanup()
            import shutil

            shutil.rmtree(staging, ignore_errors=True)
        for rep, name in zip(reports, sets):
            t = rep.totals()
            for kind in FAILURE_KINDS:
                found[kind] += int(t.get(kind, 0))
            bad = {k: int(t.get(k, 0)) for k in FAILURE_KINDS if t.get(k, 0)}
            line = (
                f"  verify {name:14s} {'OK  ' if rep.ok else 'FAIL'} "
                f"{t.get('files', 0)} files checked, {t.get('leaks', 0)} leaks"
            )
            others = {k: v for k, v in bad.items() if k != "leaks"}
            if others:
                line += ", " + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in others.items())
            if t.get("rejected", 0):
                line += f", {t['rejected']} rejected by the runner (not released)"
            unchecked = t.get("skipped_inputs", 0) + t.get("unpaired_outputs", 0)
            if unchecked:
                line += (
                    f" ({t.get('skipped_inputs', 0)} inputs skipped, "
                    f"{t.get('unpaired_outputs', 0)} outputs unpaired by verify)"
                )
            print(line, file=stream)
            if not rep.ok or bad:
                failed_sets.append(name)
                print(rep.render(), file=stream)
        total = sum(found.values())
        if total or failed_sets:
            status = 1
            detail = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in found.items() if v)
            print(
                f"verify: FAIL: {total} finding(s) in {len(failed_sets)} of {len(sets)} set(s) "
                f"({detail or 'see above'}); {found['leaks']} leaks",
                file=stream,
            )
        else:
            print(f"verify: OK: 0 leaks, 0 other findings in {len(sets)} set(s)", file=stream)
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
