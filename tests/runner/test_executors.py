"""Serial, process-pool and Dask executors (deid/runner/executors.py)."""

from __future__ import annotations

import os as _os
from pathlib import Path

import pytest

from deid.runner.executors import (
    DaskExecutor,
    ProcessExecutor,
    SerialExecutor,
    default_workers,
    make_executor,
    pick_chunksize,
    warm_imports,
)
from deid.runner.job import JobSpec
from deid.runner.sources import collect_tasks

from .helpers import StandInPlan, make_dataset, make_tree, write


def _tasks(tmp_path: Path, n: int = 2) -> list:
    make_tree(tmp_path / "in", series=1, per_series=n)
    return collect_tasks([str(tmp_path / "in")], str(tmp_path / "out"))


def test_make_executor_choice() -> None:
    spec = JobSpec(plan=StandInPlan())
    assert isinstance(make_executor(spec, workers=1), SerialExecutor)
    ex = make_executor(spec, workers=2)
    assert isinstance(ex, ProcessExecutor) and ex.workers == 2
    ex.close()
    assert default_workers() >= 1


def test_serial_streams_every_task(tmp_path: Path) -> None:
    tasks = _tasks(tmp_path, 3)
    ex = SerialExecutor(JobSpec(plan=StandInPlan()))
    recs = list(ex.imap("process", tasks))
    assert [r["index"] for r in recs] == [0, 1, 2]
    assert all(r["status"] == "written" for r in recs)


def test_process_pool_with_small_window(tmp_path: Path) -> None:
    tasks = _tasks(tmp_path, 5)
    ex = ProcessExecutor(JobSpec(plan=StandInPlan()), workers=2, window=2)
    try:
        recs = list(ex.imap("process", tasks))
        conds = list(ex.imap("conditions", tasks))  # the same pool serves a second pass
    finally:
        ex.close()
    assert sorted(r["index"] for r in recs) == list(range(5))
    assert all(r["status"] == "written" for r in recs)
    assert len(conds) == 5


class _Unpicklable:
    def __reduce__(self) -> str:
        raise TypeError("cannot be sent to a worker")

    def apply(self, ds: object, context: object = None) -> list:
        return []


def test_process_pool_reports_unsendable_spec(tmp_path: Path) -> None:
    tasks = _tasks(tmp_path, 2)
    # spawned workers get the spec by pickling (forked ones inherit it)
    ex = ProcessExecutor(JobSpec(plan=_Unpicklable()), workers=2, method="spawn")
    try:
        with pytest.raises((TypeError, RuntimeError, OSError)):
            list(ex.imap("process", tasks))
    finally:
        ex.close()


def test_dask_local_cluster(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    tasks = _tasks(tmp_path, 5)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        ex = DaskExecutor(JobSpec(plan=StandInPlan()), client, window=2)
        recs = list(ex.imap("process", tasks[:3]))
        chunked = DaskExecutor(JobSpec(plan=StandInPlan()), client, window=1, chunksize=2)
        recs += list(chunked.imap("process", tasks[3:]))
        ex.close()
        assert client.status != "closed"
    assert sorted(r["index"] for r in recs) == [0, 1, 2, 3, 4]
    assert all(r["status"] == "written" for r in recs)


# ---- chunks and dying workers -------------------------------------------------------------


class _KillerPlan(StandInPlan):
    """Kills its worker process on patient ``Doe^Kill`` (a segfaulting codec, the OOM killer)."""

    def apply(self, ds, context=None):  # type: ignore[no-untyped-def]
        if str(ds.get("PatientName", "")) == "Doe^Kill":
            # die in the middle of writing the output: its temporary stays behind
            out = _os.path.join(_os.path.dirname(str(context.filename)), "..", "..", "out", "s0")
            _os.makedirs(out, exist_ok=True)
            with open(_os.path.join(out, f".kill.dcm.deid-tmp-{_os.getpid()}-0bad"), "wb") as fh:
                fh.write(b"half")
            _os._exit(13)
        return super().apply(ds, context)


def test_pick_chunksize_bounds() -> None:
    assert pick_chunksize(None, 2) == 1 and pick_chunksize(0, 2) == 1
    assert pick_chunksize(15, 2) == 1
    assert pick_chunksize(64, 2) == 4  # every worker still gets eight chunks
    assert pick_chunksize(100_000, 2) == 16  # capped: records stream back steadily
    assert pick_chunksize(100_000, 64) == 16
    warm_imports()


@pytest.mark.parametrize("chunksize", [1, 4])
def test_dead_worker_fails_only_its_file(tmp_path: Path, chunksize: int) -> None:
    paths = make_tree(tmp_path / "in", series=1, per_series=9)
    write(make_dataset(0, "1.2.3.4", patient="Doe^Kill"), tmp_path / "in" / "s0" / "kill.dcm")
    tasks = collect_tasks([str(tmp_path / "in")], str(tmp_path / "out"))
    ex = ProcessExecutor(JobSpec(plan=_KillerPlan()), workers=2, chunksize=chunksize)
    try:
        recs = list(ex.imap("process", tasks))
    finally:
        ex.close()
    assert sorted(r["index"] for r in recs) == list(range(len(paths) + 1))
    by_name = {r["input"].rsplit("/", 1)[-1]: r for r in recs}
    assert by_name["kill.dcm"]["status"] == "failed"
    assert "worker" in by_name["kill.dcm"]["reason"]
    others = [r for n, r in by_name.items() if n != "kill.dcm"]
    assert all(r["status"] == "written" for r in others), [r["reason"] for r in others]
    # the killed worker's temporary is gone; the other outputs are all there
    assert sorted(p.name for p in (tmp_path / "out" / "s0").iterdir()) == sorted(
        p.name for p in paths
    )


def test_retry_replaces_only_outputs_of_this_run(tmp_path: Path) -> None:
    """A retried file whose output predates the run still obeys existing='error'."""
    import time
    from dataclasses import replace

    from deid.runner.job import process_file

    (task,) = _tasks(tmp_path, 1)
    out = Path(task.output)
    out.parent.mkdir(parents=True)
    out.write_bytes(b"older file")
    old = time.time() - 3600
    _os.utime(out, (old, old))
    rec = process_file(replace(task, retry_after=time.time()), JobSpec(plan=StandInPlan()))
    assert rec["status"] == "failed" and "exists" in rec["reason"]
    assert out.read_bytes() == b"older file"
    _os.utime(out, None)  # as if the dead worker had just written it
    rec = process_file(replace(task, retry_after=time.time() - 5), JobSpec(plan=StandInPlan()))
    assert rec["status"] == "written"
