"""Exceptions raised by deid.

Every exception deid raises on purpose derives from :class:`DeidError`, so callers can catch
one type. Recipe problems carry their :class:`~deid.diagnostics.Diagnostic` list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from deid.diagnostics import Diagnostic

__all__ = [
    "ApplyError",
    "DeidError",
    "DicomReadError",
    "MissingExtraError",
    "PlanError",
    "ProfileError",
    "RecipeError",
    "RejectedError",
]


class DeidError(Exception):
    """Base class of all deid errors."""


class RecipeError(DeidError, ValueError):
    """A recipe failed to parse or check.

    Parameters
    ----------
    diagnostics : list of Diagnostic
        Every problem found (errors and warnings), in source order.
    sources : dict, optional
        Display name -> source text, used to render the offending lines.
    """

    def __init__(self, diagnostics: list[Diagnostic], sources: dict[str, str] | None = None):
        from deid.diagnostics import render_all

        self.diagnostics = list(diagnostics)
        self.sources = dict(sources or {})
        errors = [d for d in self.diagnostics if d.severity == "error"]
        self.errors = errors
        text = render_all(self.diagnostics, self.sources)
        summary = f"{len(errors)} error(s) in recipe"
        super().__init__(f"{summary}\n{text}" if text else summary)


class PlanError(DeidError, ValueError):
    """A recipe cannot be compiled into a plan (e.g. an unregistered function)."""


class ApplyError(DeidError):
    """A rule could not be applied to a dataset; names the element and the rule."""


class DicomReadError(DeidError):
    """A file could not be read as DICOM; names the file."""


class ProfileError(DeidError, ValueError):
    """An unknown profile or option, or an inconsistent combination."""


class RejectedError(DeidError):
    """A file cannot be made safe to release (e.g. uncovered burned-in annotation)."""


class MissingExtraError(DeidError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""
