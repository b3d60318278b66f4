"""Engine switches shared by the API layers (facades, runner, CLI).

Examples
--------
>>> EngineOptions(strip_sequences=True).apply_kwargs()
{'strip_sequences': True, 'remove_private': False}
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EngineOptions"]


@dataclass(frozen=True)
class EngineOptions:
    """Upstream's ``parse()``/``replace_identifiers`` switches.

    Attributes
    ----------
    strip_sequences : bool
        Delete every top-level sequence before the rules run.
    remove_private : bool
        Delete every private element (all depths) before the rules run.
    disable_skip : bool
        Do not leave PixelData, TransferSyntaxUID, ... out of the walk.
    """

    strip_sequences: bool = False
    remove_private: bool = False
    disable_skip: bool = False

    def apply_kwargs(self) -> dict[str, bool]:
        """Keyword arguments for :meth:`deid.engine.plan.Plan.apply`."""
        return {"strip_sequences": self.strip_sequences, "remove_private": self.remove_private}
