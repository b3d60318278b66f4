"""Helpers shared by the test packages: the DICOM sample files the tests read, and the check
that a module's docstring examples pass.

Importable from any test package (pytest puts ``tests/`` on ``sys.path``): ``from shared import
sample_files``.
"""

from __future__ import annotations

import doctest
import glob
import importlib
import os


def sample_files() -> list[str]:
    """Every bundled pydicom test file, then the deid-data sample sets (when installed)."""
    import pydicom.data

    root = os.path.join(os.path.dirname(pydicom.data.__file__), "test_files")
    files = sorted(glob.glob(os.path.join(root, "**", "*.dcm"), recursive=True))
    try:
        import deid_data.data as dd

        for name in ("dicom-cookies", "humans", "ultrasounds", "animals"):
            files += sorted(glob.glob(os.path.join(str(dd.get_dataset(name)), "*.dcm")))
    except ImportError:  # pragma: no cover - data extra missing
        pass
    return files


def check_docstring_examples(name: str, require: bool = True) -> None:
    """Run the docstring examples of module ``name``; fail on any failure (and, with
    ``require``, when it has none)."""
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    if require:
        assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
