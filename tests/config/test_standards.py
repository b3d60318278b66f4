"""deid.config.standards: upstream's vocabulary constants."""

from deid.config import standards


def test_constants() -> None:
    assert standards.formats == ["dicom"]
    assert standards.group_actions == ("FIELD", "SPLIT")
    assert standards.groups == ["values", "fields"]
    assert standards.value_filters == ["contains", "notcontains", "equals", "notequals"]
    assert set(standards.filters) == set(standards.value_filters) | {"missing", "present", "empty"}
    assert "LABEL" in standards.actions
