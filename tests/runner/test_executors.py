"""Serial, process-pool and Dask executors (deid/runner/executors.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from deid.runner.executors import (
    DaskExecutor,
    ProcessExecutor,
    SerialExecutor,
    default_workers,
    make_executor,
)
from deid.runner.job import JobSpec
from deid.runner.sources import collect_tasks

from .helpers import StandInPlan, make_tree


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
    ex = ProcessExecutor(JobSpec(plan=_Unpicklable()), workers=2)
    try:
        with pytest.raises((TypeError, RuntimeError, OSError)):
            list(ex.imap("process", tasks))
    finally:
        ex.close()


def test_dask_local_cluster(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    tasks = _tasks(tmp_path, 3)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        ex = DaskExecutor(JobSpec(plan=StandInPlan()), client, window=2)
        recs = list(ex.imap("process", tasks))
        ex.close()
        assert client.status != "closed"
    assert sorted(r["index"] for r in recs) == [0, 1, 2]
    assert all(r["status"] == "written" for r in recs)
