"""Prove nothing leaks: check a de-identified output set against its input set.

:func:`verify` pairs each output with its input (through a run report or crosswalk when there
is one, else by content), then reports every identifying value of the input that still occurs
in the output's bytes outside Pixel Data, original UIDs still present, references that no longer
resolve, missing de-identification markers and lost files. It works on any tool's output.

Examples
--------
>>> from deid.verify import verify, VerifyReport
>>> callable(verify)
True
"""

from __future__ import annotations

from deid.verify.core import verify
from deid.verify.report import FileReport, Finding, VerifyReport
from deid.verify.values import Needle, RetainSet, collect_needles, retain_from_options

__all__ = [
    "FileReport",
    "Finding",
    "Needle",
    "RetainSet",
    "VerifyReport",
    "collect_needles",
    "retain_from_options",
    "verify",
]
