"""Packaging: the built wheel carries the recipes, the grammar and the profile tables.

The wheel is built from a copy of the source tree and installed into a fresh virtualenv; the
project's own dependencies are borrowed from the test environment through a ``.pth`` line (so no
network is needed), which cannot activate the editable install of the source tree.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CHECK = r"""
import importlib.resources as r, json, sys
import deid
root = r.files("deid._recipes")
names = sorted(p.name for p in root.iterdir() if p.name.startswith("deid."))
grammar = r.files("deid.recipe").joinpath("grammar.lark")
print(json.dumps({
    "file": deid.__file__,
    "recipes": names,
    "default_recipe_lines": len(root.joinpath("deid.dicom").read_text().splitlines())
        if root.joinpath("deid.dicom").is_file() else 0,
    "grammar": grammar.is_file(),
}))
"""


def _copy_tree(dst: Path) -> None:
    for name in ("pyproject.toml", "setup.cfg", "README.md"):
        shutil.copy2(ROOT / name, dst / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "deid", dst / "deid", ignore=ignore)
    shutil.copytree(ROOT / "recipes", dst / "recipes", ignore=ignore)


@pytest.mark.slow
def test_wheel_installs_into_fresh_venv_with_recipes(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    _copy_tree(src)
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(dist), str(src)],
        check=True,
        capture_output=True,
    )
    wheels = list(dist.glob("deid-*.whl"))
    assert len(wheels) == 1

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    site = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    # unpack the wheel into the fresh environment (a wheel is a zip laid out as site-packages)
    shutil.unpack_archive(str(wheels[0]), site, format="zip")
    # dependencies (pydicom, lark, numpy) from the test environment, after the wheel's deid
    (Path(site) / "zz_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    out = subprocess.run(
        [str(py), "-c", CHECK], check=True, capture_output=True, text=True, cwd=tmp_path
    ).stdout
    import json

    info = json.loads(out)
    assert info["file"].startswith(site), info["file"]
    assert {"deid.dicom", "deid.dicom.ultrasound", "deid.dicom.xray.chest"} <= set(
        info["recipes"]
    )
    assert info["default_recipe_lines"] > 100
    assert info["grammar"] is True


def test_editable_install_finds_recipes_via_importlib_resources() -> None:
    import importlib.resources as r

    root = r.files("deid._recipes")
    names = {p.name for p in root.iterdir()}
    assert {"deid.dicom", "deid.dicom.ultrasound", "deid.dicom.xray.chest"} <= names


def test_every_package_directory_is_declared_in_pyproject() -> None:
    tomllib = pytest.importorskip("tomllib")

    declared = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"
    ])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "deid").rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    assert found - declared == set(), "packages missing from pyproject.toml"
