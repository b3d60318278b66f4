"""Where the per-file jobs run: in this process, in a local process pool, or on a Dask cluster.

All three take a :class:`~deid.runner.job.JobSpec` once and then stream records back, in
completion order, for an iterable of tasks (``imap``). The spec, with its compiled plan, reaches
each worker exactly once: through the pool initializer, or as one broadcast ``scatter`` on Dask.
At most ``window`` tasks are in flight, so memory does not grow with the number of files.

Examples
--------
>>> from deid.runner.job import JobSpec
>>> ex = SerialExecutor(JobSpec(plan=None))
>>> list(ex.imap("conditions", []))
[]
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from deid.runner.job import JobSpec, evaluate_file_conditions, process_file
from deid.runner.sources import FileTask

__all__ = [
    "DaskExecutor",
    "ProcessExecutor",
    "SerialExecutor",
    "default_workers",
    "make_executor",
]

_FUNCS: dict[str, Callable[[FileTask, JobSpec], dict[str, Any]]] = {
    "process": process_file,
    "conditions": evaluate_file_conditions,
}


def default_workers() -> int:
    """Number of usable cores.

    Examples
    --------
    >>> default_workers() >= 1
    True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _crash_record(kind: str, task: FileTask, exc: BaseException) -> dict[str, Any]:
    reason = f"worker error: {type(exc).__name__}: {exc}"
    if kind == "conditions":
        return {"input": task.input, "series": None, "passed": False, "error": reason}
    return {
        "index": task.index,
        "input": task.input,
        "output": None,
        "status": "failed",
        "reason": reason,
        "rules": [],
        "counts": {},
        "StudyInstanceUID": None,
        "SeriesInstanceUID": None,
        "conditions": [],
        "save_condition": None,
        "save_condition_series_agg": None,
        "save_disabling_inputs_series_agg": [],
        "quarantine": None,
        "timings": {},
    }


class SerialExecutor:
    """Run every job in this process, one after the other."""

    workers = 1

    def __init__(self, spec: JobSpec) -> None:
        self.spec = spec

    def start(self) -> None:
        """Nothing to start."""

    def imap(self, kind: str, tasks: Iterable[FileTask]) -> Iterator[dict[str, Any]]:
        """Yield one result per task."""
        func = _FUNCS[kind]
        for task in tasks:
            yield func(task, self.spec)

    def close(self) -> None:
        """Nothing to release."""


# ---- local process pool -------------------------------------------------------------------

_WORKER_SPEC: JobSpec | None = None


def _init_worker(spec: JobSpec) -> None:
    global _WORKER_SPEC
    _WORKER_SPEC = spec


def _run_in_worker(kind: str, task: FileTask) -> dict[str, Any]:
    assert _WORKER_SPEC is not None, "worker not initialised"
    return _FUNCS[kind](task, _WORKER_SPEC)


class ProcessExecutor:
    """A local pool of ``workers`` processes, the spec (with the plan) sent by the initializer.

    A worker process that dies (killed, out of memory) fails only the files it held; the pool is
    rebuilt and the run goes on.
    """

    def __init__(self, spec: JobSpec, workers: int | None = None, window: int | None = None):
        self.spec = spec
        self.workers = workers or default_workers()
        self.window = window or 4 * self.workers
        self._pool: Any = None

    def start(self) -> None:
        """Start the workers now (before any helper thread, e.g. a progress bar, exists)."""
        if self._pool is None:
            self._pool = self._new_pool()

    @staticmethod
    def start_method() -> str:
        """``fork`` on Linux while this process has a single thread (fast start, and functions
        defined in ``__main__`` or a notebook reach the workers); ``spawn`` otherwise."""
        import threading

        if sys.platform.startswith("linux") and threading.active_count() == 1:
            return "fork"
        return "spawn"

    def _new_pool(self) -> Any:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context(self.start_method()),
            initializer=_init_worker,
            initargs=(self.spec,),
        )

    def imap(self, kind: str, tasks: Iterable[FileTask]) -> Iterator[dict[str, Any]]:
        """Yield one result per task, in completion order."""
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        if self._pool is None:
            self._pool = self._new_pool()
        pending: dict[Any, FileTask] = {}
        queue = iter(tasks)
        exhausted = False
        while True:
            while not exhausted and len(pending) < self.window:
                try:
                    task = next(queue)
                except StopIteration:
                    exhausted = True
                    break
                pending[self._pool.submit(_run_in_worker, kind, task)] = task
            if not pending:
                return
            done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            broken = False
            for fut in done:
                task = pending.pop(fut)
                try:
                    yield fut.result()
                except BrokenProcessPool as exc:
                    broken = True
                    yield _crash_record(kind, task, exc)
                except Exception as exc:  # noqa: BLE001 - pickling errors and the like
                    yield _crash_record(kind, task, exc)
            if broken:
                for fut, task in list(pending.items()):
                    yield _crash_record(kind, task, RuntimeError("worker process died"))
                pending.clear()
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool()

    def close(self) -> None:
        """Shut the pool down."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


# ---- dask ------------------------------------------------------------------------------------


def _dask_call(kind: str, task: FileTask, spec: JobSpec) -> dict[str, Any]:
    return _FUNCS[kind](task, spec)


class DaskExecutor:
    """Run the jobs on a dask.distributed cluster.

    Parameters
    ----------
    spec : JobSpec
    scheduler : str or distributed.Client
        A scheduler address (``tcp://host:8786``) or an existing client.
    window : int, optional
        Tasks in flight (default: 4 per worker thread, at least 8).
    """

    def __init__(self, spec: JobSpec, scheduler: Any, window: int | None = None) -> None:
        from deid._optional import require

        distributed = require("distributed", "dask")
        self.spec = spec
        if isinstance(scheduler, str):
            self.client = distributed.Client(scheduler)
            self._own_client = True
        else:
            self.client = scheduler
            self._own_client = False
        threads = sum(self.client.nthreads().values()) or 1
        self.workers = threads
        self.window = window or max(8, 4 * threads)
        # one copy of the spec (and its plan) per worker
        self._spec_future = self.client.scatter(spec, broadcast=True, hash=False)

    def start(self) -> None:
        """The cluster is already running."""

    def imap(self, kind: str, tasks: Iterable[FileTask]) -> Iterator[dict[str, Any]]:
        """Yield one result per task, in completion order."""
        from distributed import as_completed

        queue = iter(tasks)
        owner: dict[str, FileTask] = {}

        def submit() -> Any:
            task = next(queue)
            fut = self.client.submit(_dask_call, kind, task, self._spec_future, pure=False)
            owner[fut.key] = task
            return fut

        initial = []
        for _ in range(self.window):
            try:
                initial.append(submit())
            except StopIteration:
                break
        if not initial:
            return
        stream = as_completed(initial)
        for fut in stream:
            task = owner.pop(fut.key)
            try:
                yield fut.result()
            except Exception as exc:  # noqa: BLE001 - contained, reported per file
                yield _crash_record(kind, task, exc)
            try:
                stream.add(submit())
            except StopIteration:
                pass

    def close(self) -> None:
        """Close the client when this executor opened it."""
        if self._own_client:
            self.client.close()


def make_executor(
    spec: JobSpec, workers: int | None = None, scheduler: Any = None
) -> SerialExecutor | ProcessExecutor | DaskExecutor:
    """Pick the executor: Dask when ``scheduler`` is given, serial for 1 worker, else a pool.

    Examples
    --------
    >>> type(make_executor(JobSpec(plan=None), workers=1)).__name__
    'SerialExecutor'
    """
    if scheduler is not None:
        return DaskExecutor(spec, scheduler)
    n = default_workers() if workers is None or workers <= 0 else workers
    if n == 1:
        return SerialExecutor(spec)
    return ProcessExecutor(spec, n)
