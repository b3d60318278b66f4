"""Vocabulary constants of the recipe language, under upstream's names.

Examples
--------
>>> "REPLACE" in actions and "filter" in sections
True
"""

from __future__ import annotations

from deid.recipe.ast import ACTIONS, FILTERS, SECTIONS, VALUE_FILTERS

__all__ = [
    "actions",
    "filters",
    "formats",
    "group_actions",
    "groups",
    "sections",
    "value_filters",
]

#: Recipe formats (``FORMAT dicom``).
formats: list[str] = ["dicom"]
#: Section kinds.
sections: list[str] = list(SECTIONS)
#: Action keywords.
actions: tuple[str, ...] = ACTIONS
#: Group section kinds.
groups: list[str] = ["values", "fields"]
#: Actions allowed in %values / %fields.
group_actions: tuple[str, ...] = ("FIELD", "SPLIT")
#: Filter criteria.
filters: list[str] = list(FILTERS)
#: Criteria that take a value.
value_filters: list[str] = list(VALUE_FILTERS)
