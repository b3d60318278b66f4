"""Tests for deid.utils.fileio (upstream's deid.utils file helpers)."""

from __future__ import annotations

import json
import os
import tempfile
from collections import OrderedDict

import pytest

from deid.utils import (
    get_installdir,
    get_temporary_name,
    read_file,
    read_json,
    recursive_find,
    to_int,
    write_file,
    write_json,
)
from deid.utils.fileio import atomic_write_bytes, is_number


def test_installdir_is_the_package():
    here = get_installdir()
    assert here.endswith("deid")
    assert os.path.isfile(os.path.join(here, "__init__.py"))


def test_temporary_name_does_not_exist_and_has_prefix_and_ext():
    plain = get_temporary_name()
    assert not os.path.exists(plain)
    assert os.path.basename(plain).startswith("deid-")
    assert os.path.dirname(plain) == tempfile.gettempdir()
    named = get_temporary_name(prefix="clean", ext=".dcm")
    assert os.path.basename(named).startswith("deid-clean-") and named.endswith(".dcm")
    assert get_temporary_name(ext="png").endswith(".png")
    assert get_temporary_name() != get_temporary_name()


def test_write_and_read_file(tmp_path):
    path = str(tmp_path / "f.txt")
    assert write_file(path, "hello!") == path
    assert read_file(path)[0] == "hello!"
    write_file(path, "\nmore", mode="a")
    assert read_file(path) == ["hello!\n", "more"]
    assert read_file(path, readlines=False) == "hello!\nmore"
    # the atomic writer leaves no temporary files behind
    assert sorted(os.listdir(tmp_path)) == ["f.txt"]


def test_write_json_round_trip_and_failure(tmp_path):
    path = str(tmp_path / "x.json")
    write_json({"Wakka": [True, "2", 3]}, path)
    with open(path) as handle:
        assert json.load(handle) == {"Wakka": [True, "2", 3]}
    assert isinstance(read_json(path, ordered_dict=True), OrderedDict)
    with pytest.raises(TypeError):
        write_json({"bad": object()}, str(tmp_path / "bad.json"))
    assert not os.path.exists(tmp_path / "bad.json")
    write_json({"a": 1}, path, print_pretty=False)
    assert read_json(path) == {"a": 1}


def test_recursive_find(tmp_path):
    (tmp_path / "sub").mkdir()
    write_file(str(tmp_path / "a.dcm"), "")
    write_file(str(tmp_path / "sub" / "b.dcm"), "")
    write_file(str(tmp_path / "sub" / "c.txt"), "")
    found = [os.path.relpath(p, tmp_path) for p in recursive_find(str(tmp_path), "*.dcm")]
    assert found == ["a.dcm", os.path.join("sub", "b.dcm")]
    assert len(list(recursive_find(str(tmp_path)))) == 3


def test_small_helpers(tmp_path):
    assert to_int("3.7") == 3 and to_int(5) == 5
    assert is_number(2.0) and not is_number("2") and not is_number(True)
    path = atomic_write_bytes(str(tmp_path / "b"), b"\x00\x01")
    with open(path, "rb") as handle:
        assert handle.read() == b"\x00\x01"


def test_written_files_get_normal_permissions(tmp_path):
    mask = os.umask(0o022)
    os.umask(mask)
    path = write_file(str(tmp_path / "p.txt"), "x")
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~mask
