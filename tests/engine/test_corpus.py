"""benchmarks/corpus.py and benchmarks/bench_engine.py on a tiny corpus."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pydicom

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


def load(name: str):
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCH))


def test_corpus_deterministic_and_realistic(tmp_path) -> None:
    corpus = load("corpus")
    a = corpus.generate_corpus(tmp_path / "a", count=3, seed=5, size=16)
    b = corpus.generate_corpus(tmp_path / "b", count=3, seed=5, size=16)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    ds = pydicom.dcmread(a[1])
    assert ds.Rows == 16 and ds.BitsAllocated == 16 and len(ds.PixelData) == 16 * 16 * 2
    assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    inner = ds.RequestAttributesSequence[0].ScheduledProtocolCodeSequence[0]
    assert inner.CodeMeaning.startswith("Protocol for")
    assert ds.SourceImageSequence[0].PurposeOfReferenceCodeSequence[0].CodeValue
    private_sq = ds[0x00191010].value[0]
    assert private_sq[0x00191004].VR == "UI"
    assert ds.private_block(0x0029, "SITE PACS")[0x01].value


def test_bench_runs(tmp_path) -> None:
    bench = load("bench_engine")
    corpus = load("corpus")
    paths = corpus.generate_corpus(tmp_path / "c", count=2, size=16)
    out = tmp_path / "out"
    out.mkdir()
    totals = bench.run(paths, out)
    assert totals["bare"] > 0 and totals["deid"] > 0
    assert "PatientName" not in pydicom.dcmread(out / paths[0].name)
