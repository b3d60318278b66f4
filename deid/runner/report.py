"""Reports of a run: the JSON-lines record file, the crosswalk, the summary, and resuming.

The report has one JSON object per line and per file (see :func:`deid.runner.job.process_file`
for the keys), flushed as soon as the file is done, so an interrupted run leaves a usable
report. ``--resume`` reads it back: files whose last record is ``written`` (and whose output
still exists), ``skipped`` or ``rejected`` are not processed again; ``failed`` files are retried.

Examples
--------
>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "report.jsonl")
>>> with ReportWriter(path) as w:
...     w.write({"input": "/a.dcm", "status": "rejected"})
>>> sorted(load_done(path))
['/a.dcm']
"""

from __future__ import annotations

import csv
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

__all__ = [
    "STATUSES",
    "CrosswalkWriter",
    "ReportWriter",
    "RunSummary",
    "iter_json_lines",
    "load_done",
    "read_report",
]

STATUSES = ("written", "skipped", "rejected", "failed")
_DONE = {"written", "skipped", "rejected"}


def _ends_mid_line(path: str) -> bool:
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return False
    with open(path, "rb") as fh:
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) != b"\n"


class ReportWriter:
    """Append records to a JSON-lines file, one flushed line per record.

    Parameters
    ----------
    path : str or None
        Where to write; None writes nothing.
    append : bool
        Keep existing records (used by ``--resume``).
    """

    def __init__(self, path: str | None, append: bool = False) -> None:
        self.path = path
        self._fh: IO[str] | None = None
        if path:
            parent = os.path.dirname(os.path.abspath(path))
            os.makedirs(parent, exist_ok=True)
            cut = append and _ends_mid_line(path)
            self._fh = open(path, "a" if append else "w", encoding="utf-8")  # noqa: SIM115
            if cut:  # a killed run left half a line: end it so the next record parses
                self._fh.write("\n")

    def write(self, record: dict[str, Any]) -> None:
        """Write one record and flush it."""
        if self._fh is not None:
            self._fh.write(json.dumps(record, sort_keys=False, default=str) + "\n")
            self._fh.flush()

    def close(self) -> None:
        """Close the file."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> ReportWriter:  # noqa: PYI034
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


CROSSWALK_KEYS = ("PatientID", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")


class CrosswalkWriter:
    """Write the crosswalk CSV: original and de-identified identifiers per written file.

    The crosswalk links released files back to patients: keep it with the source data, never
    with the release.
    """

    def __init__(self, path: str | None, append: bool = False) -> None:
        self.path = path
        self._fh: IO[str] | None = None
        self._csv: Any = None
        if path:
            exists = append and os.path.exists(path) and os.path.getsize(path) > 0
            cut = append and _ends_mid_line(path)
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            self._fh = open(  # noqa: SIM115 - closed by close()
                path, "a" if append else "w", encoding="utf-8", newline=""
            )
            if cut:
                self._fh.write("\n")
            self._csv = csv.writer(self._fh)
            if not exists:
                header = ["input", "output"]
                for key in CROSSWALK_KEYS:
                    header += [key, f"{key}_deid"]
                self._csv.writerow(header)

    def write(self, record: dict[str, Any]) -> None:
        """Add the row of a written record (others are ignored)."""
        if self._csv is None or record.get("status") != "written" or "crosswalk" not in record:
            return
        row = [record["input"], record["output"]]
        for key in CROSSWALK_KEYS:
            old, new = record["crosswalk"].get(key, [None, None])
            row += ["" if old is None else old, "" if new is None else new]
        self._csv.writerow(row)
        assert self._fh is not None
        self._fh.flush()

    def close(self) -> None:
        """Close the file."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def iter_json_lines(path: str) -> Iterator[dict[str, Any]]:
    """Yield the JSON objects of a JSON-lines file, skipping blank lines and lines that are
    not JSON objects (such as a last line cut by an interruption).

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "r.jsonl")
    >>> _ = open(p, "w").write('{"a": 1}\\n\\n[2]\\n{"a"')
    >>> list(iter_json_lines(p))
    [{'a': 1}]
    """
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict):
                yield record


def read_report(path: str) -> list[dict[str, Any]]:
    """Read a JSON-lines report, ignoring a last line cut by an interruption.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "r.jsonl")
    >>> _ = open(p, "w").write('{"input": "a", "status": "written"}\\n{"inp')
    >>> [r["input"] for r in read_report(p)]
    ['a']
    """
    return [r for r in iter_json_lines(path) if "input" in r and "status" in r]


def load_done(path: str) -> dict[str, dict[str, Any]]:
    """Return {input: last record} for the files a resumed run must not redo.

    A ``written`` record counts only when its output still exists.
    """
    if not os.path.exists(path):
        return {}
    last: dict[str, dict[str, Any]] = {}
    for rec in read_report(path):
        last[rec["input"]] = rec
    done = {}
    for inp, rec in last.items():
        if rec["status"] not in _DONE:
            continue
        out = rec.get("output")
        if rec["status"] == "written" and out and "://" not in out and not os.path.exists(out):
            continue
        done[inp] = rec
    return done


@dataclass
class RunSummary:
    """Counts and timing of a run.

    Attributes
    ----------
    written, skipped, rejected, failed : int
        Files per final status (files taken over from a resumed report included).
    resumed : int
        Files not processed again because the report already had them.
    elapsed : float
        Wall-clock seconds.
    report : str or None
        The JSON-lines report path.
    records : list of dict
        The records of this run (kept only when requested).
    key_source : str or None
        Where the run's key came from (``argument``, ``file:<path>``, ``env:DEID_KEY``,
        ``random``).
    reproducible : bool
        False when the key was generated for this run: its pseudonyms cannot be reproduced.

    Examples
    --------
    >>> s = RunSummary(written=3, rejected=1, elapsed=2.0)
    >>> s.total, s.exit_code
    (4, 1)
    """

    written: int = 0
    skipped: int = 0
    rejected: int = 0
    failed: int = 0
    resumed: int = 0
    elapsed: float = 0.0
    report: str | None = None
    records: list[dict[str, Any]] = field(default_factory=list)
    key_source: str | None = None
    reproducible: bool = True
    _start: float = field(default_factory=time.perf_counter, repr=False)

    @property
    def total(self) -> int:
        """All files of the run."""
        return self.written + self.skipped + self.rejected + self.failed

    @property
    def files_per_second(self) -> float:
        """Processed files (not resumed ones) per wall-clock second."""
        done = self.total - self.resumed
        return done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def exit_code(self) -> int:
        """0 when nothing was rejected or failed, else 1."""
        return 1 if (self.rejected or self.failed) else 0

    def add(self, record: dict[str, Any]) -> None:
        """Count one record."""
        status = record.get("status")
        if status not in STATUSES:
            status = "failed"
        setattr(self, status, getattr(self, status) + 1)

    def finish(self) -> RunSummary:
        """Stop the clock."""
        self.elapsed = time.perf_counter() - self._start
        return self

    def text(self) -> str:
        """One-line human summary.

        Examples
        --------
        >>> RunSummary(written=2, elapsed=1.0).text().split(" in ")[0]
        '2 files: 2 written, 0 skipped, 0 rejected, 0 failed'
        """
        line = (
            f"{self.total} files: {self.written} written, {self.skipped} skipped, "
            f"{self.rejected} rejected, {self.failed} failed"
        )
        if self.resumed:
            line += f" ({self.resumed} from the previous report)"
        line += f" in {self.elapsed:.2f} s ({self.files_per_second:.1f} files/s)"
        if not self.reproducible:
            line += (
                "; pseudonyms are NOT reproducible (a random key was generated for this run: "
                "give --key, --key-file or DEID_KEY)"
            )
        return line

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly summary."""
        return {
            "total": self.total,
            "written": self.written,
            "skipped": self.skipped,
            "rejected": self.rejected,
            "failed": self.failed,
            "resumed": self.resumed,
            "elapsed": round(self.elapsed, 3),
            "files_per_second": round(self.files_per_second, 2),
            "report": self.report,
            "key_source": self.key_source,
            "pseudonyms_reproducible": self.reproducible,
        }
