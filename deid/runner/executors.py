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
import time
from collections.abc import Callable, Iterable, Iterator, Sized
from dataclasses import replace
from itertools import islice
from typing import Any

from deid.runner.job import (
    JobSpec,
    evaluate_file_conditions,
    new_record,
    process_file,
    remove_task_temporaries,
)
from deid.runner.sources import FileTask

__all__ = [
    "DaskExecutor",
    "ProcessExecutor",
    "SerialExecutor",
    "default_workers",
    "make_executor",
    "pick_chunksize",
    "warm_imports",
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
    return {**new_record(task, reason), "timings": {}}


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


_WARM_MODULES = (
    "pydicom",
    "pydicom.filereader",
    "pydicom.filewriter",
    "pydicom.values",
    "pydicom.uid",
    "pydicom.fileutil",
    "deid.engine.context",
    "deid.errors",
    "deid.runner.fastwrite",
    "deid.runner.screen",
    "deid.pixels.process",
)


def warm_imports() -> None:
    """Import what every file needs, once: in the parent before forking (the workers then
    share it) and in each spawned worker at start-up, never per task.

    Examples
    --------
    >>> warm_imports()
    """
    import importlib

    for name in _WARM_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:  # pragma: no cover - optional parts of deid missing
            continue


def _init_worker(spec: JobSpec) -> None:
    global _WORKER_SPEC
    _WORKER_SPEC = spec
    warm_imports()


def _run_in_worker(kind: str, task: FileTask) -> dict[str, Any]:
    assert _WORKER_SPEC is not None, "worker not initialised"
    return _FUNCS[kind](task, _WORKER_SPEC)


def _run_chunk_in_worker(kind: str, tasks: list[FileTask]) -> list[dict[str, Any]]:
    assert _WORKER_SPEC is not None, "worker not initialised"
    func = _FUNCS[kind]
    return [func(task, _WORKER_SPEC) for task in tasks]


def pick_chunksize(n_tasks: int | None, workers: int) -> int:
    """Files per round trip to a worker: enough to amortise the inter-process cost, small
    enough that every worker gets several chunks (load balance) and a dying worker loses few.

    Examples
    --------
    >>> pick_chunksize(10, 2), pick_chunksize(100, 2), pick_chunksize(1000, 2)
    (1, 6, 16)
    """
    if not n_tasks:
        return 1
    return max(1, min(16, n_tasks // (workers * 8)))


class ProcessExecutor:
    """A local pool of ``workers`` processes, the spec (with the plan) sent by the initializer.

    Tasks go to the workers in chunks of ``chunksize`` files (paths in, small records out);
    at most ``window`` chunks are in flight. A worker process that dies (killed, out of
    memory) does not stop the run: the pool is rebuilt, the files of the chunks it held are
    retried one at a time, and a file that kills a worker on its own is reported ``failed``.
    """

    def __init__(
        self,
        spec: JobSpec,
        workers: int | None = None,
        window: int | None = None,
        chunksize: int | None = None,
        method: str | None = None,
    ):
        self.spec = spec
        self.workers = workers or default_workers()
        self.window = window or 4 * self.workers
        self.chunksize = chunksize
        self.method = method
        self._pool: Any = None

    def start(self) -> None:
        """Start the workers now (before any helper thread, e.g. a progress bar, exists)."""
        if self._pool is None:
            self._pool = self._new_pool()

    @property
    def pickles_spec(self) -> bool:
        """Whether starting the workers pickles the spec (not with ``fork``: they inherit it)."""
        return (self.method or self.start_method()) != "fork"

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

        warm_imports()  # before fork: the workers inherit the modules

        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context(self.method or self.start_method()),
            initializer=_init_worker,
            initargs=(self.spec,),
        )

    def imap(self, kind: str, tasks: Iterable[FileTask]) -> Iterator[dict[str, Any]]:
        """Yield one result per task, in completion order."""
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        if self._pool is None:
            self._pool = self._new_pool()
        size = self.chunksize
        if size is None:
            size = pick_chunksize(len(tasks) if isinstance(tasks, Sized) else None, self.workers)
        pending: dict[Any, list[FileTask]] = {}
        retry: list[FileTask] = []  # files lost with a dead worker, sent again one by one
        tries: dict[int, int] = {}
        sent: dict[int, float] = {}
        queue = iter(tasks)
        exhausted = False

        def lost(task: FileTask, exc: BaseException) -> dict[str, Any] | None:
            """A task whose worker died: retry it alone once, then report it failed."""
            if kind == "process":
                remove_task_temporaries(task)  # a worker killed mid-write leaves one
            tries[task.index] = tries.get(task.index, 0) + 1
            if tries[task.index] > 1:
                return _crash_record(kind, task, exc)
            # the dead worker may have written this output before dying: the retry may
            # replace an output no older than when the task was sent (never an older file)
            retry.append(replace(task, retry_after=sent.get(task.index)))
            return None

        while True:
            while len(pending) < self.window and (retry or not exhausted):
                if retry:
                    chunk = [retry.pop(0)]
                else:
                    chunk = list(islice(queue, size))
                    if not chunk:
                        exhausted = True
                        break
                now = time.time()
                for task in chunk:
                    sent.setdefault(task.index, now)
                if len(chunk) == 1:
                    fut = self._pool.submit(_run_in_worker, kind, chunk[0])
                else:
                    fut = self._pool.submit(_run_chunk_in_worker, kind, chunk)
                pending[fut] = chunk
            if not pending:
                return
            done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            broken = False
            for fut in done:
                chunk = pending.pop(fut)
                try:
                    result = fut.result()
                except BrokenProcessPool as exc:
                    broken = True
                    for task in chunk:
                        record = lost(task, exc)
                        if record is not None:
                            yield record
                except Exception as exc:  # noqa: BLE001 - pickling errors and the like
                    for task in chunk:
                        yield _crash_record(kind, task, exc)
                else:
                    if isinstance(result, list):
                        yield from result
                    else:
                        yield result
            if broken:
                died = RuntimeError("worker process died")
                for fut, chunk in list(pending.items()):
                    outcome = None
                    if fut.done() and fut.exception() is None:
                        outcome = fut.result()
                    if outcome is None:
                        for task in chunk:
                            record = lost(task, died)
                            if record is not None:
                                yield record
                    elif isinstance(outcome, list):
                        yield from outcome
                    else:
                        yield outcome
                pending.clear()
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool()

    def close(self) -> None:
        """Shut the pool down."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


# ---- dask ------------------------------------------------------------------------------------


def _dask_call(kind: str, tasks: list[FileTask], spec: JobSpec) -> list[dict[str, Any]]:
    func = _FUNCS[kind]
    return [func(task, spec) for task in tasks]


class DaskExecutor:
    """Run the jobs on a dask.distributed cluster.

    Parameters
    ----------
    spec : JobSpec
    scheduler : str or distributed.Client
        A scheduler address (``tcp://host:8786``) or an existing client.
    window : int, optional
        Chunks in flight (default: 4 per worker thread, at least 8).
    chunksize : int, optional
        Files per Dask task (default: :func:`pick_chunksize`).
    """

    def __init__(
        self,
        spec: JobSpec,
        scheduler: Any,
        window: int | None = None,
        chunksize: int | None = None,
    ) -> None:
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
        self.chunksize = chunksize
        # one copy of the spec (and its plan) per worker
        self._spec_future = self.client.scatter(spec, broadcast=True, hash=False)

    def start(self) -> None:
        """The cluster is already running."""

    def imap(self, kind: str, tasks: Iterable[FileTask]) -> Iterator[dict[str, Any]]:
        """Yield one result per task, in completion order."""
        from distributed import as_completed

        size = self.chunksize
        if size is None:
            size = pick_chunksize(len(tasks) if isinstance(tasks, Sized) else None, self.workers)
        queue = iter(tasks)
        owner: dict[str, list[FileTask]] = {}

        def submit() -> Any:
            chunk = list(islice(queue, size))
            if not chunk:
                raise StopIteration
            fut = self.client.submit(_dask_call, kind, chunk, self._spec_future, pure=False)
            owner[fut.key] = chunk
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
            chunk = owner.pop(fut.key)
            try:
                results = fut.result()
            except Exception as exc:  # noqa: BLE001 - contained, reported per file
                results = [_crash_record(kind, task, exc) for task in chunk]
            yield from results
            try:
                stream.add(submit())
            except StopIteration:
                pass

    def close(self) -> None:
        """Close the client when this executor opened it."""
        if self._own_client:
            self.client.close()


def make_executor(
    spec: JobSpec,
    workers: int | None = None,
    scheduler: Any = None,
    *,
    chunksize: int | None = None,
) -> SerialExecutor | ProcessExecutor | DaskExecutor:
    """Pick the executor: Dask when ``scheduler`` is given, serial for 1 worker, else a pool.

    Examples
    --------
    >>> type(make_executor(JobSpec(plan=None), workers=1)).__name__
    'SerialExecutor'
    """
    if scheduler is not None:
        return DaskExecutor(spec, scheduler, chunksize=chunksize)
    n = default_workers() if workers is None or workers <= 0 else workers
    if n == 1:
        return SerialExecutor(spec)
    return ProcessExecutor(spec, n, chunksize=chunksize)
