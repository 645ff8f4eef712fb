"""Executors: run independent tasks serially, on local processes, or on a Dask cluster.

One call, :func:`run_tasks`, whatever the engine: ``fn(task, inputs)`` is applied to every task,
``inputs`` being the entries of ``shared`` (a mapping name → heavy input: neural data, activations)
that ``needs(task)`` names. Each input is sent to a worker at most once, never with every task.
Results are handed to ``on_result`` in the calling process as each task finishes, so a sweep can
store them one by one (a single writer: nothing is recorded twice) and an interrupted sweep keeps
what finished.

Engines (``executor=``):

- ``"serial"`` (default): in this process, in task order.
- ``"processes"`` / ``"processes:N"``: a local process pool (N workers; default: the CPU count);
  ``shared`` goes to each worker once through the pool's initializer. A worker that dies takes
  the pool down with it: the tasks in flight are run again on a fresh pool (nothing lost, nothing
  twice), and a task that kills its worker three times running alone is reported as failed.
- ``"dask:local:N"`` (or ``"local:N"``): a Dask ``LocalCluster`` with N single-threaded worker
  processes started for the call; ``"tcp://host:port"``: an existing Dask scheduler (e.g. a SLURM
  cluster started with dask-jobqueue, see ``docs/cluster.md``); or a ``distributed.Client``.
  every input is scattered once and moves to a worker the first time one of its tasks needs it;
  a task whose worker dies is re-run elsewhere by the scheduler (and up to ``retries`` more times
  when the task itself raises).

Tasks must be picklable and ``fn`` importable (a module-level function) for every engine but
``"serial"``. A task that raises is reported to ``on_error`` (default: re-raise after the other
tasks finished, so no finished result is lost).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, CancelledError, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from neuroalign._core.errors import ConfigError

__all__ = ["TaskError", "parse_executor", "run_tasks"]


class TaskError(RuntimeError):
    """Some tasks failed; ``failures`` maps each failed task's index to its exception."""

    def __init__(self, failures: dict[int, BaseException]):
        self.failures = failures
        first = next(iter(failures.values()))
        super().__init__(
            f"{len(failures)} task(s) failed; the first: {type(first).__name__}: {first}"
        )


@dataclass(frozen=True)
class _Spec:
    kind: str  # serial | processes | dask
    workers: int | None = None
    address: str | None = None
    client: Any = None


def parse_executor(executor) -> _Spec:
    """``"serial"``, ``"processes[:N]"``, ``"dask:local:N"`` / ``"local:N"``, ``"tcp://…"`` or a
    ``distributed.Client`` → the engine to use; anything else is a :class:`ConfigError`."""
    if executor is None or executor == "serial":
        return _Spec("serial")
    if hasattr(executor, "scheduler_info") and hasattr(executor, "submit"):
        return _Spec("dask", client=executor)
    if hasattr(executor, "scheduler_address"):  # a running cluster (LocalCluster, SLURMCluster)
        return _Spec("dask", address=executor.scheduler_address)
    if not isinstance(executor, str):
        raise ConfigError(f"executor must be a string or a dask Client, got {executor!r}.")
    text = executor.strip()
    if text.startswith(("tcp://", "tls://", "inproc://", "ucx://")):
        return _Spec("dask", address=text)
    head, _, rest = text.partition(":")
    if head == "dask":
        head, _, rest = rest.partition(":")
        if head != "local":
            raise ConfigError(f"use 'dask:local:N' or a scheduler address, got {executor!r}.")
    if head in ("processes", "local"):
        try:
            n = int(rest) if rest else (os.cpu_count() or 1)
        except ValueError:
            n = 0
        if n < 1:
            raise ConfigError(f"the worker count in {executor!r} must be a positive integer.")
        return _Spec("processes" if head == "processes" else "dask", workers=n)
    raise ConfigError(
        f"unknown executor {executor!r}; use 'serial', 'processes:N', 'local:N' (a Dask "
        "LocalCluster of N workers) or a Dask scheduler address such as 'tcp://host:8786'."
    )


def run_tasks(
    fn: Callable[[Any, dict], Any],
    tasks: Sequence[Any],
    *,
    shared: Mapping[Hashable, Any] | None = None,
    needs: Callable[[Any], Iterable[Hashable]] | None = None,
    executor="serial",
    on_result: Callable[[int, Any], None] | None = None,
    on_error: Callable[[int, BaseException], None] | None = None,
    retries: int = 2,
    progress: bool = False,
    description: str = "tasks",
) -> list[Any]:
    """Run ``fn(task, inputs)`` for every task; returns the results in task order.

    ``inputs`` = ``{name: shared[name] for name in needs(task)}`` (``needs`` None: every entry).

    ``on_result(index, result)`` is called in this process as each task finishes (any order);
    ``on_error(index, exc)`` for a task that raised (default: collect, then raise
    :class:`TaskError` once every other task has finished). ``retries``: extra attempts of a task
    that raised (Dask only; on either pool, a lost worker's tasks are re-run). ``progress``: a progress bar.
    A failed task's slot in the returned list is None.
    """
    spec = parse_executor(executor)
    tasks = list(tasks)
    shared = dict(shared or {})
    wanted = [list(needs(t)) if needs is not None else list(shared) for t in tasks]
    unknown = {k for names in wanted for k in names} - set(shared)
    if unknown:
        raise ConfigError(f"tasks need inputs that are not shared: {sorted(map(str, unknown))}.")
    results: list[Any] = [None] * len(tasks)
    failures: dict[int, BaseException] = {}
    bar = _progress(len(tasks), description) if progress else None

    def done(i: int, value: Any = None, exc: BaseException | None = None) -> None:
        if exc is not None:
            if on_error is None:
                failures[i] = exc
            else:
                on_error(i, exc)
        else:
            results[i] = value
            if on_result is not None:
                on_result(i, value)
        if bar is not None:
            bar.update(1)

    try:
        if spec.kind == "serial":
            for i, task in enumerate(tasks):
                try:
                    value = fn(task, {k: shared[k] for k in wanted[i]})
                except Exception as exc:  # noqa: BLE001 - reported per task, never swallowed
                    done(i, exc=exc)
                else:
                    done(i, value)
        elif spec.kind == "processes":
            _run_processes(fn, tasks, shared, wanted, spec.workers, done)
        else:
            _run_dask(fn, tasks, shared, wanted, spec, retries, done)
    finally:
        if bar is not None:
            bar.close()
    if failures:
        raise TaskError(failures)
    return results


def _progress(total: int, description: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=description, unit="task")


# ------------------------------------------------------------------------- local processes
_WORKER_SHARED: dict[str, Any] = {}
_MAX_DEATHS = 3  # like Dask's distributed.scheduler.allowed-failures


def _init_worker(shared: Any) -> None:
    _WORKER_SHARED["shared"] = shared


def _call_in_worker(fn, task, names):
    shared = _WORKER_SHARED["shared"]
    return fn(task, {k: shared[k] for k in names})


def _run_processes(fn, tasks, shared, wanted, workers, done) -> None:
    """Run the tasks on a pool of ``workers`` processes, at most one task in flight per worker.

    A worker that dies (killed, out of memory, a crash in native code) breaks the whole pool and
    every task in flight with it: those tasks are run again, each alone on a fresh pool (so a
    death is traced to its task), before the rest go on; a task whose worker dies
    ``_MAX_DEATHS`` times while it runs alone is reported as failed.
    """
    fresh = deque(range(len(tasks)))
    suspects: deque[int] = deque()
    deaths = dict.fromkeys(range(len(tasks)), 0)
    width = min(workers, max(len(tasks), 1))
    while fresh or suspects:
        if not suspects:
            suspects.extend(_pool_round(fn, tasks, shared, wanted, fresh, width, done))
            continue
        i = suspects.popleft()
        alone = deque([i])
        if not _pool_round(fn, tasks, shared, wanted, alone, 1, done):
            suspects.extendleft(alone)  # done, or never sent: nothing to count
            continue
        deaths[i] += 1
        if deaths[i] < _MAX_DEATHS:
            suspects.appendleft(i)
        else:
            died = RuntimeError(
                f"the worker process running task {i} died {deaths[i]} times (killed, out of "
                "memory, or a crash in native code); the task was given up."
            )
            done(i, exc=died)


def _pool_round(fn, tasks, shared, wanted, queue: deque, width: int, done) -> list[int]:
    """Run tasks taken from ``queue`` on one fresh pool until the queue is empty or the pool
    breaks; returns the tasks lost with a broken pool (those in flight), else ``[]``. Tasks not
    yet sent stay in ``queue``."""
    running: dict = {}
    lost: list[int] = []
    broken = False
    with ProcessPoolExecutor(
        max_workers=width, initializer=_init_worker, initargs=(shared,)
    ) as pool:
        while running or (queue and not broken):
            while queue and not broken and len(running) < width:
                i = queue.popleft()
                try:
                    running[pool.submit(_call_in_worker, fn, tasks[i], wanted[i])] = i
                except BrokenProcessPool:  # broke since the last wait: this one was never sent
                    queue.appendleft(i)
                    broken = True
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in finished:
                i = running.pop(fut)
                exc = fut.exception()
                if isinstance(exc, BrokenProcessPool):
                    broken = True
                    lost.append(i)
                else:
                    done(i, None if exc else fut.result(), exc)
    return lost


# ------------------------------------------------------------------------------------- dask
def _dask():
    try:
        import distributed
    except ImportError as exc:
        raise ConfigError(
            "the Dask executors need dask.distributed: pip install 'neuroalign[cluster]'."
        ) from exc
    return distributed


def _run_dask(fn, tasks, shared, wanted, spec: _Spec, retries: int, done) -> None:
    distributed = _dask()
    own: list[Any] = []
    try:
        if spec.client is not None:
            client = spec.client
        elif spec.address is not None:
            client = distributed.Client(spec.address)
            own.append(client)
        else:
            cluster = distributed.LocalCluster(
                n_workers=spec.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            own.append(cluster)
            client = distributed.Client(cluster)
            own.insert(0, client)
        scattered: dict = {}

        def scatter(names) -> None:
            """Copies on every worker: a worker that dies takes no input with it."""
            names = [k for k in names if k not in scattered or scattered[k].status != "finished"]
            if names:
                futs = client.scatter([shared[k] for k in names], broadcast=True)
                scattered.update(zip(names, futs, strict=True))

        def submit(i: int):
            scatter(wanted[i])
            inputs = {k: scattered[k] for k in wanted[i]}
            return client.submit(fn, tasks[i], inputs, pure=False, retries=retries)

        futures = {submit(i): i for i in range(len(tasks))}
        resubmitted: dict[int, int] = {}
        pending = distributed.as_completed(futures)
        for fut in pending:
            i = futures.pop(fut)
            status, value = fut.status, None
            if status == "finished":
                try:
                    value = fut.result()
                except CancelledError:  # its result died with a worker after it finished
                    status = "cancelled"
            if status == "cancelled" and resubmitted.get(i, 0) <= retries:
                # its inputs or its result were lost with the workers holding them: send it again
                resubmitted[i] = resubmitted.get(i, 0) + 1
                new = submit(i)
                futures[new] = i
                pending.add(new)
            elif status in ("error", "cancelled"):
                done(
                    i,
                    exc=fut.exception()
                    if status == "error"
                    else RuntimeError(f"task {i} was cancelled by the Dask scheduler"),
                )
            else:
                done(i, value)
    finally:
        for obj in own:
            obj.close()
