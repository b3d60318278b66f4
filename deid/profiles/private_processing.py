"""idiscore-style names for safe private definitions.

Examples
--------
>>> from deid.profiles.private_processing import SafePrivateBlock, SafePrivateDefinition
>>> SafePrivateDefinition(blocks=[SafePrivateBlock(tags=["00b1[X]01"])]).blocks[0].parsed[0].group
177
"""

from deid.profiles.private import (
    PrivateTag,
    SafePrivateBlock,
    SafePrivateDefinition,
    default_definition,
    parse_private_tag,
)

__all__ = [
    "PrivateTag",
    "SafePrivateBlock",
    "SafePrivateDefinition",
    "default_definition",
    "parse_private_tag",
]
