"""``deid version``: versions of deid and its dependencies, and which extras are usable."""

from __future__ import annotations

import argparse
import importlib.util
import platform
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from deid.cli._common import emit

__all__ = ["EXTRAS", "add_parser", "collect_versions", "run"]

#: extra -> distributions that provide it
EXTRAS: dict[str, tuple[str, ...]] = {
    "pixels": ("pylibjpeg", "pylibjpeg-libjpeg", "pylibjpeg-openjpeg", "pylibjpeg-rle", "pyjpegls"),
    "dask": ("dask", "distributed"),
    "progress": ("tqdm",),
    "data": ("deid-data",),
}
_CORE = ("deid", "pydicom", "lark", "numpy")


def _version(dist: str) -> str | None:
    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def collect_versions() -> dict[str, Any]:
    """Return versions of the core packages and the availability of each extra.

    Examples
    --------
    >>> info = collect_versions()
    >>> set(EXTRAS) <= set(info["extras"])
    True
    """
    import deid

    core = {name: _version(name) for name in _CORE}
    core["deid"] = core["deid"] or deid.__version__
    extras = {}
    for extra, dists in EXTRAS.items():
        found = {d: _version(d) for d in dists}
        extras[extra] = {"available": all(found.values()), "packages": found}
    extras["fsspec"] = {
        "available": importlib.util.find_spec("fsspec") is not None,
        "packages": {"fsspec": _version("fsspec")},
    }
    return {"python": platform.python_version(), "core": core, "extras": extras}


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``deid version``."""
    p = subparsers.add_parser("version", help="show versions and available extras")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(command_run=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Print the versions; returns 0."""
    info = collect_versions()
    if getattr(args, "json", False):
        emit(info, True)
        return 0
    lines = [f"deid {info['core']['deid']}", f"python {info['python']}"]
    lines += [f"{k} {v or 'missing'}" for k, v in info["core"].items() if k != "deid"]
    for extra, data in info["extras"].items():
        state = "available" if data["available"] else "missing"
        pkgs = ", ".join(f"{d} {v or '-'}" for d, v in data["packages"].items())
        lines.append(f"extra {extra}: {state} ({pkgs})")
    emit(lines, False)
    return 0
