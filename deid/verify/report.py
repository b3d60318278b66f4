"""The result of ``deid verify``: per-file findings, totals, JSON and human renderings.

Examples
--------
>>> r = VerifyReport(input="in", output="out")
>>> r.ok, r.exit_code
(True, 0)
>>> r.files.append(FileReport("in/a.dcm", "out/a.dcm", "report"))
>>> r.files[0].leaks.append(Finding("leak", "Doe", "name", "(0010,0010) PatientName",
...                                 "(0010,0010) PatientName"))
>>> r.ok, r.exit_code, r.totals()["leaks"]
(False, 1, 1)
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["FileReport", "Finding", "VerifyReport"]


@dataclass
class Finding:
    """One problem (or one ambiguous match) in an output file.

    Attributes
    ----------
    kind : str
        ``leak``, ``ambiguous``, ``broken_reference``, ``missing_marker``, ``uid_inconsistent``,
        ``partial_output``, ``burned_in`` (an input flagged Burned In Annotation YES whose output
        has the very same Pixel Data).
    value : str
        The identifying value (or the marker / UID concerned).
    category : str
        What the value is: ``name``, ``id``, ``date``, ``uid``, ``address`` ...
    source : str
        Where the value was in the input.
    location : str
        Where it was found in the output (element label, ``preamble``, ``file meta`` or
        ``bytes @offset``).
    """

    kind: str
    value: str
    category: str
    source: str
    location: str


@dataclass
class FileReport:
    """Findings for one input/output pair."""

    input: str
    output: str
    method: str
    leaks: list[Finding] = field(default_factory=list)
    ambiguous: list[Finding] = field(default_factory=list)
    problems: list[Finding] = field(default_factory=list)
    needles: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when the file has no leak and no problem."""
        return not self.leaks and not self.problems and self.error is None


@dataclass
class VerifyReport:
    """Everything ``deid verify`` found.

    Attributes
    ----------
    files : list of FileReport
        One per paired input/output.
    lost : list of str
        Inputs that are DICOM, were not refused by the tool, and have no output.
    rejected : dict
        Inputs the tool's report says it refused, with the reason.
    unpaired_outputs : list of str
        Output files with no input (scanned against every input's values).
    skipped_inputs : dict
        Input files that are not readable DICOM, with the reason.
    problems : list of Finding
        Set-level problems (UID mapping inconsistencies).
    """

    input: str
    output: str
    files: list[FileReport] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)
    unpaired_outputs: list[str] = field(default_factory=list)
    skipped_inputs: dict[str, str] = field(default_factory=dict)
    problems: list[Finding] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        """Return the counts of every kind of finding.

        Examples
        --------
        >>> VerifyReport("i", "o").totals()["files"]
        0
        """
        leaks = [f for fr in self.files for f in fr.leaks]
        problems = [f for fr in self.files for f in fr.problems] + self.problems
        return {
            "files": len(self.files),
            "files_with_leaks": sum(1 for fr in self.files if fr.leaks),
            "leaks": len(leaks),
            "original_uids": sum(1 for f in leaks if f.category == "uid"),
            "ambiguous": sum(len(fr.ambiguous) for fr in self.files),
            "broken_references": sum(1 for f in problems if f.kind == "broken_reference"),
            "missing_markers": sum(1 for f in problems if f.kind == "missing_marker"),
            "uid_inconsistent": sum(1 for f in problems if f.kind == "uid_inconsistent"),
            "partial_outputs": sum(1 for f in problems if f.kind == "partial_output"),
            "burned_in_unchanged": sum(1 for f in problems if f.kind == "burned_in"),
            "unreadable_outputs": sum(1 for fr in self.files if fr.error),
            "lost": len(self.lost),
            "rejected": len(self.rejected),
            "unpaired_outputs": len(self.unpaired_outputs),
            "skipped_inputs": len(self.skipped_inputs),
        }

    @property
    def ok(self) -> bool:
        """True when nothing leaked, nothing was lost and no reference or marker is wrong."""
        t = self.totals()
        return not (
            t["leaks"]
            or t["broken_references"]
            or t["missing_markers"]
            or t["uid_inconsistent"]
            or t["lost"]
            or t["unreadable_outputs"]
            or t["partial_outputs"]
            or t["burned_in_unchanged"]
        )

    @property
    def exit_code(self) -> int:
        """0 when :attr:`ok`, else 1."""
        return 0 if self.ok else 1

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary (``ok``, ``totals`` and every finding)."""
        return {
            "ok": self.ok,
            "input": self.input,
            "output": self.output,
            "totals": self.totals(),
            "files": [dict(asdict(fr), ok=fr.ok) for fr in self.files],
            "lost": self.lost,
            "rejected": self.rejected,
            "unpaired_outputs": self.unpaired_outputs,
            "skipped_inputs": self.skipped_inputs,
            "problems": [asdict(p) for p in self.problems],
        }

    def to_json(self, indent: int | None = 2) -> str:
        """Return :meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def render(self, verbose: bool = False) -> str:
        """Return a human-readable summary: one line per finding, then the totals.

        Examples
        --------
        >>> print(VerifyReport("in", "out").render().splitlines()[-1])
        OK: no leaks in 0 file(s)
        """
        lines: list[str] = []
        for fr in self.files:
            if fr.error:
                lines.append(f"{fr.output}: unreadable output ({fr.error})")
            for f in fr.leaks:
                lines.append(
                    f"{fr.output}: LEAK {f.category} {f.value!r} (input {f.source}) "
                    f"found in {f.location}"
                )
            for f in fr.problems:
                lines.append(f"{fr.output}: {f.kind.upper()} {f.value} at {f.location}")
            if verbose:
                for f in fr.ambiguous:
                    lines.append(
                        f"{fr.output}: ambiguous {f.category} {f.value!r} in {f.location} "
                        f"(also kept research data or a value the tool writes itself)"
                    )
        for p in self.problems:
            lines.append(f"{p.location}: {p.kind.upper()} {p.value}")
        for path in self.lost:
            lines.append(f"{path}: LOST (no output and not reported as refused)")
        for path in self.unpaired_outputs:
            lines.append(f"{path}: output with no matching input (checked against all inputs)")
        if verbose:
            for path, why in self.rejected.items():
                lines.append(f"{path}: refused by the tool ({why})")
            for path, why in self.skipped_inputs.items():
                lines.append(f"{path}: input is not readable DICOM ({why})")
        t = self.totals()
        summary = (
            f"{t['files']} file(s) checked, {t['leaks']} leak(s) in {t['files_with_leaks']} "
            f"file(s) ({t['original_uids']} original UID(s)), {t['broken_references']} broken "
            f"reference(s), {t['missing_markers']} missing marker(s), {t['lost']} lost, "
            f"{t['rejected']} refused, {t['ambiguous']} ambiguous"
        )
        lines.append(summary)
        if self.ok:
            lines.append(f"OK: no leaks in {t['files']} file(s)")
        else:
            lines.append("FAIL: identifying data or integrity problems found")
        return "\n".join(lines)
