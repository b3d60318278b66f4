"""deid.profiles.defaults: idiscore-style entry points."""

from deid.profiles import defaults
from deid.profiles.core import create_default_core, get_dicom_rule_sets


def test_reexports():
    assert defaults.create_default_core is create_default_core
    assert defaults.get_dicom_rule_sets is get_dicom_rule_sets
    assert "retain-safe-private" in defaults.DEFAULT_OPTIONS
