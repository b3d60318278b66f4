"""Tests for the top-level package: light import, lazy ``deid.run``."""

from __future__ import annotations

import subprocess
import sys

import pytest


def test_import_deid_is_light_and_side_effect_free() -> None:
    code = (
        "import sys, logging\n"
        "before = logging.getLogger().level\n"
        "import deid\n"
        "heavy = [m for m in ('lark', 'numpy', 'pydicom', 'dask', 'matplotlib') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "assert logging.getLogger().level == before\n"
        "print(deid.__version__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip()


def test_run_is_the_runner_api() -> None:
    import deid
    from deid.runner import run

    assert deid.run is run


def test_unknown_attribute_raises() -> None:
    import deid

    with pytest.raises(AttributeError):
        deid.no_such_thing  # noqa: B018
