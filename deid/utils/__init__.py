"""Utility functions of the pydicom/deid drop-in API (files, JSON, value forms).

Examples
--------
>>> from deid.utils import get_installdir, parse_keyvalue_pairs
>>> parse_keyvalue_pairs("a=true")
{'a': True}
"""

from deid.utils.actions import (
    convert_value,
    get_func,
    get_timestamp,
    parse_keyvalue_pairs,
    parse_value,
)
from deid.utils.fileio import (
    get_installdir,
    get_temporary_name,
    is_number,
    read_file,
    read_json,
    recursive_find,
    to_int,
    write_file,
    write_json,
)

__all__ = [
    "convert_value",
    "get_func",
    "get_installdir",
    "get_temporary_name",
    "get_timestamp",
    "is_number",
    "parse_keyvalue_pairs",
    "parse_value",
    "read_file",
    "read_json",
    "recursive_find",
    "to_int",
    "write_file",
    "write_json",
]
