"""Shared helpers of the tools/ tests: load a generator as a module, or run it as a script."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / "tools"


def load_tool(name: str) -> ModuleType:
    """Import ``tools/<name>.py`` (once per process) without putting tools/ on the path."""
    alias = f"deid_tools_{name}"
    if alias not in sys.modules:
        spec = importlib.util.spec_from_file_location(alias, TOOLS / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[alias] = module
        spec.loader.exec_module(module)
    return sys.modules[alias]


def run_tool(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python tools/<name>.py ARGS`` from the project root."""
    return subprocess.run(
        [sys.executable, str(TOOLS / f"{name}.py"), *args],
        capture_output=True,
        check=False,
        text=True,
        cwd=ROOT,
    )
