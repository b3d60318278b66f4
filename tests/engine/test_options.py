"""deid.options.EngineOptions."""

from __future__ import annotations

from deid.options import EngineOptions

from .conftest import build_plan, make_dataset


def test_options_drive_apply_and_compile() -> None:
    opts = EngineOptions(strip_sequences=True, disable_skip=True)
    plan = build_plan("REMOVE contains:UID", options=opts)
    ds = make_dataset()
    plan.apply(ds, **opts.apply_kwargs())
    assert "TransferSyntaxUID" not in ds.file_meta
    assert "RequestAttributesSequence" not in ds
    assert EngineOptions().apply_kwargs() == {"strip_sequences": False, "remove_private": False}
