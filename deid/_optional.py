"""Import optional dependencies through one helper that names the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

from deid.errors import MissingExtraError

__all__ = ["require"]


def require(module: str, extra: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingExtraError` naming ``deid[extra]``.

    Parameters
    ----------
    module : str
        Dotted module name, e.g. ``"dask.distributed"``.
    extra : str
        The extra that provides it, e.g. ``"dask"``.

    Examples
    --------
    >>> require("json", "core").__name__
    'json'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(
            f"{module!r} is not installed; install it with: pip install 'deid[{extra}]'"
        ) from exc
