"""The DICOM sample files the tests read: pydicom's bundled test files, then the deid-data sets.

Importable from any test package (pytest puts ``tests/`` on ``sys.path``): ``from sample_data
import sample_files``.
"""

from __future__ import annotations

import glob
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
