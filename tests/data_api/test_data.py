"""Tests for deid.data (get_dataset backed by deid-data, data_base)."""

from __future__ import annotations

import os

import pytest

from deid.data import DATASETS, data_base, get_dataset


@pytest.mark.parametrize("name", DATASETS)
def test_known_datasets_are_folders(name):
    path = get_dataset(name)
    assert os.path.isdir(path) and os.path.basename(path) == name
    assert os.listdir(path)


def test_name_is_case_insensitive_and_extension_tolerant():
    assert get_dataset("Dicom-Cookies.zip") == get_dataset("dicom-cookies")


def test_unknown_dataset_prints_choices(capsys):
    assert get_dataset("nope") is None
    assert get_dataset() is None
    assert "dicom-cookies" in capsys.readouterr().out


def test_data_base_is_the_recipe_folder():
    assert os.path.isdir(data_base)
    import deid._recipes

    assert os.path.samefile(data_base, os.path.dirname(deid._recipes.__file__))
