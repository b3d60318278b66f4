"""DICOM PS3.15 Annex E profiles: the Basic Profile and every option, on deid's engine.

The table is generated (``tools/generate_ps315.py``) and edition-stamped
(``deid/profiles/_data/ps315_<edition>.json``); profiles compile to ordinary recipe rules.

Examples
--------
>>> import deid.profiles as p
>>> p.available_profiles(), p.available_options()[1]
(['basic'], 'retain-uids')
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "DEFAULT_EDITION",
    "Core",
    "ExplainRow",
    "Profile",
    "ProfileSteps",
    "SafePrivateBlock",
    "SafePrivateDefinition",
    "available_editions",
    "available_options",
    "available_profiles",
    "create_default_core",
    "effective_rules",
    "explain",
    "explain_rules",
    "get_dicom_rule_sets",
    "load_table",
    "normalize_options",
    "profile_plan",
    "profile_post",
    "profile_recipe",
]

_LAZY = {
    "available_profiles": "deid.profiles.api",
    "available_options": "deid.profiles.api",
    "profile_recipe": "deid.profiles.api",
    "profile_plan": "deid.profiles.api",
    "profile_post": "deid.profiles.api",
    "ProfileSteps": "deid.profiles.api",
    "explain_rules": "deid.profiles.api",
    "explain": "deid.profiles.api",
    "ExplainRow": "deid.profiles.api",
    "effective_rules": "deid.profiles.compose",
    "normalize_options": "deid.profiles.compose",
    "load_table": "deid.profiles.table",
    "available_editions": "deid.profiles.table",
    "DEFAULT_EDITION": "deid.profiles.table",
    "get_dicom_rule_sets": "deid.profiles.core",
    "Profile": "deid.profiles.core",
    "Core": "deid.profiles.core",
    "create_default_core": "deid.profiles.core",
    "SafePrivateBlock": "deid.profiles.private",
    "SafePrivateDefinition": "deid.profiles.private",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'deid.profiles' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_LAZY))
