"""idiscore-style entry points (``from deid.profiles.defaults import create_default_core``).

Examples
--------
>>> from deid.profiles.defaults import get_dicom_rule_sets
>>> get_dicom_rule_sets().basic_profile.code
'113100'
"""

from deid.profiles.core import DEFAULT_OPTIONS, create_default_core, get_dicom_rule_sets

__all__ = ["DEFAULT_OPTIONS", "create_default_core", "get_dicom_rule_sets"]
