"""deid.profiles.private_processing: idiscore-style names for safe private definitions."""

from deid.profiles import private, private_processing


def test_reexports():
    assert private_processing.SafePrivateBlock is private.SafePrivateBlock
    assert private_processing.SafePrivateDefinition is private.SafePrivateDefinition
    assert private_processing.parse_private_tag("0023[X]10").group == 0x23
