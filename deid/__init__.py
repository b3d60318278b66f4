"""deid: recipe-driven DICOM de-identification.

Importing :mod:`deid` has no side effects on pydicom, logging or plotting libraries; the heavy
parts (the recipe parser, pixel codecs, dask) are imported where they are used.

Examples
--------
>>> import deid
>>> isinstance(deid.__version__, str)
True
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

try:
    __version__ = _version("deid")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.5.0"

__all__ = ["__version__", "run"]


def __getattr__(name: str) -> object:
    """Load :func:`deid.run` (the batch runner's Python API) on first use."""
    if name == "run":
        from deid.runner import run

        return run
    raise AttributeError(f"module 'deid' has no attribute {name!r}")
