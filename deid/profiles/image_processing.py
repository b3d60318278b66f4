"""idiscore-style names for PII locations, re-exported from :mod:`deid.pixels.locations`.

``from deid.profiles.image_processing import PIILocation, PIILocationList, SquareArea`` works
once the pixel module provides them; the names are resolved on first use.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PIILocation", "PIILocationList", "SquareArea"]  # noqa: F822 (resolved lazily)


def __getattr__(name: str) -> Any:
    import importlib

    if name not in __all__:
        raise AttributeError(f"module 'deid.profiles.image_processing' has no attribute {name!r}")

    module = importlib.import_module("deid.pixels.locations")
    try:
        value = getattr(module, name)
    except AttributeError:
        raise AttributeError(
            f"module 'deid.profiles.image_processing' has no attribute {name!r}"
        ) from None
    globals()[name] = value
    return value
