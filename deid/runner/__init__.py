"""Runs at scale: batches of files through a compiled plan, serially, on a pool or on Dask.

The entry point is :func:`deid.runner.run` (``deid run`` on the command line). Names are
imported lazily so ``import deid.runner`` stays light.

Examples
--------
>>> import deid.runner
>>> callable(deid.runner.run)
True
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "ArchiveExpander",
    "FileTask",
    "JobSpec",
    "RunSummary",
    "RunnerError",
    "build_plan",
    "collect_tasks",
    "parse_conditions",
    "parse_size",
    "process_file",
    "read_report",
    "run",
]

_WHERE = {
    "run": "deid.runner.api",
    "build_plan": "deid.runner.api",
    "RunSummary": "deid.runner.report",
    "read_report": "deid.runner.report",
    "JobSpec": "deid.runner.job",
    "process_file": "deid.runner.job",
    "FileTask": "deid.runner.sources",
    "RunnerError": "deid.runner.sources",
    "collect_tasks": "deid.runner.sources",
    "parse_conditions": "deid.runner.conditions",
    "parse_size": "deid.runner.job",
    "ArchiveExpander": "deid.runner.sources",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'deid.runner' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
