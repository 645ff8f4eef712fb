"""Resumable sweeps: a grid of (model, layer, benchmark, seed) tasks run into a results store.

:func:`tasks` builds the grid (one task per layer, so each stored result is one model layer);
:func:`run_sweep` skips every task whose key the store already has, runs the rest (serially or on
a ``concurrent.futures`` executor) and writes each result the moment it finishes. An interrupted
sweep therefore resumes where it stopped, and re-running a finished sweep does no work.
:func:`run_task` is a pure module-level function of a picklable :class:`Task`, so any executor
(processes, Dask) can call it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass, field
from typing import Any

from neuroalign.bench.benchmarks import get
from neuroalign.bench.score import Score, resolve_layers, score, score_key
from neuroalign.bench.store import ResultsStore
from neuroalign.errors import ConfigError

__all__ = ["SweepReport", "Task", "run_sweep", "run_task", "tasks"]


@dataclass(frozen=True)
class Task:
    """One unit of work: score zoo model ``model`` (None for neural-only benchmarks) at ``layer``
    on ``benchmark`` with ``seed``. ``params``: sorted ``(name, value)`` pairs of benchmark
    parameter overrides; ``data_dir``: the data folder (not part of the key)."""

    model: str | None
    benchmark: str
    layer: str | None
    seed: int = 0
    params: tuple[tuple[str, Any], ...] = ()
    data_dir: str | None = None
    model_seed: int = 0

    @property
    def key(self) -> str:
        """The key of the result this task produces (see :func:`~neuroalign.bench.score_key`)."""
        return score_key(
            self.model,
            self.benchmark,
            layers=None if self.layer is None else [self.layer],
            seed=self.seed,
            model_seed=self.model_seed,
            **_params(self.params),
        )


def _params(pairs) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in pairs}


def _freeze(v):
    return tuple(_freeze(x) for x in v) if isinstance(v, list | tuple) else v


def run_task(task: Task) -> Score:
    """Run one task (pure: its result depends only on the task and the data)."""
    return score(
        task.model,
        task.benchmark,
        data_dir=task.data_dir,
        layers=None if task.layer is None else [task.layer],
        seed=task.seed,
        model_seed=task.model_seed,
        **_params(task.params),
    )


def tasks(
    models: Iterable[str],
    benchmarks: Iterable[str],
    *,
    layers: Sequence[str] | Mapping[str, Sequence[str]] | None = None,
    seeds: Iterable[int] = (0,),
    params: Mapping[str, Any] | None = None,
    data_dir=None,
    model_seed: int = 0,
) -> list[Task]:
    """The grid: every model × its layers × benchmark × seed (duplicates by key removed).

    ``layers``: one list for every model, a mapping model → list, or None (each model's default
    layers). Neural-only benchmarks get one task per seed, whatever the models. ``params``:
    benchmark parameter overrides applied to every benchmark that has them.
    """
    models = list(models)
    out: dict[str, Task] = {}
    for b in benchmarks:
        bm = get(b)
        p = {k: v for k, v in (params or {}).items() if k in bm.defaults}
        frozen = tuple(sorted((k, _freeze(v)) for k, v in p.items()))
        for seed in seeds:
            if not bm.needs_model:
                t = Task(None, bm.identifier, None, int(seed), frozen, _str(data_dir), model_seed)
                out.setdefault(t.key, t)
                continue
            for m in models:
                wanted = layers.get(m) if isinstance(layers, Mapping) else layers
                for layer in resolve_layers(m, wanted):
                    t = Task(m, bm.identifier, layer, int(seed), frozen, _str(data_dir), model_seed)
                    out.setdefault(t.key, t)
    return list(out.values())


def _str(p) -> str | None:
    return None if p is None else str(p)


@dataclass
class SweepReport:
    """What a sweep did: keys ``done`` (computed and stored now), ``skipped`` (already stored),
    ``failed`` (key → one-line error, with ``on_error="continue"``)."""

    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return len(self.done) + len(self.skipped) + len(self.failed)


def run_sweep(
    models: Iterable[str],
    benchmarks: Iterable[str],
    store: ResultsStore | str,
    *,
    layers=None,
    seeds: Iterable[int] = (0,),
    params: Mapping[str, Any] | None = None,
    data_dir=None,
    model_seed: int = 0,
    executor: Executor | None = None,
    on_error: str = "raise",
    progress: bool | Callable[[Task, str], None] = False,
) -> SweepReport:
    """Run the grid of :func:`tasks` into ``store``, skipping stored keys; resumable.

    ``executor``: None (serial, in this process) or a ``concurrent.futures.Executor`` (tasks are
    submitted at once, results stored as they complete). ``on_error``: ``"raise"`` (stop at the
    first failure; finished results stay stored) or ``"continue"`` (record it in
    ``report.failed``). ``progress``: True for a bar, or a callback ``(task, status)`` with status
    ``"skipped" | "done" | "failed"``.
    """
    if on_error not in ("raise", "continue"):
        raise ConfigError(f"on_error must be 'raise' or 'continue', got {on_error!r}.")
    if not isinstance(store, ResultsStore):
        store = ResultsStore(store)
    grid = tasks(
        models,
        benchmarks,
        layers=layers,
        seeds=seeds,
        params=params,
        data_dir=data_dir,
        model_seed=model_seed,
    )
    report = SweepReport()
    bar = None
    if progress is True:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(grid), desc="sweep", leave=False)

    def note(task: Task, status: str) -> None:
        if bar is not None:
            bar.update()
        elif callable(progress):
            progress(task, status)

    todo = []
    for t in grid:
        if store.has(t.key):
            report.skipped.append(t.key)
            note(t, "skipped")
        else:
            todo.append(t)

    def finish(task: Task, result: Score | None, exc: BaseException | None) -> None:
        if exc is not None:
            if on_error == "raise":
                raise exc
            report.failed[task.key] = f"{type(exc).__name__}: {exc}"
            note(task, "failed")
            return
        if result.key != task.key:  # pragma: no cover - guards the key contract
            raise RuntimeError(f"task key {task.key} != result key {result.key}")
        store.put(result)
        report.done.append(task.key)
        note(task, "done")

    try:
        if executor is None:
            for t in todo:
                try:
                    result = run_task(t)
                except Exception as exc:  # noqa: BLE001 - reported or re-raised by finish
                    finish(t, None, exc)
                    continue
                finish(t, result, None)
        else:
            futures = {executor.submit(run_task, t): t for t in todo}
            try:
                for fut in as_completed(futures):
                    t = futures[fut]
                    exc = fut.exception()
                    finish(t, None if exc else fut.result(), exc)
            finally:
                for fut in futures:
                    fut.cancel()
    finally:
        if bar is not None:
            bar.close()
    return report
