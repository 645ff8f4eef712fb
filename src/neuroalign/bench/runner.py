"""Resumable sweeps: a grid of (model, layer, benchmark, seed) tasks run into a results store.

:func:`tasks` builds the grid (one task per layer, so each stored result is one model layer);
:func:`run_sweep` skips every task whose key the store already has, loads each benchmark's data
and extracts each model's activations once (:func:`prepare_inputs`), runs the remaining tasks on
an executor of :mod:`neuroalign.bench.executors` (serial, local processes, Dask) with those inputs sent to
each worker once, and writes each result the moment it finishes — only this process writes to the
store. An interrupted sweep therefore resumes where it stopped, and re-running a finished sweep
does no work. :func:`run_task` is a pure module-level function of a picklable :class:`Task`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from neuroalign._core.errors import ConfigError
from neuroalign.bench.benchmarks import get
from neuroalign.bench.executors import run_tasks
from neuroalign.bench.score import Score, load_inputs, resolve_layers, score, score_key
from neuroalign.bench.store import ResultsStore

__all__ = ["SweepReport", "Task", "prepare_inputs", "run_sweep", "run_task", "tasks"]


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


def run_task(task: Task, inputs: Mapping[Hashable, Any] | None = None) -> Score:
    """Run one task (pure: its result depends only on the task and the data). ``inputs``: the
    prepared data and activations of :func:`prepare_inputs` (default: loaded here)."""
    inputs = inputs or {}
    return score(
        task.model,
        task.benchmark,
        data_dir=task.data_dir,
        layers=None if task.layer is None else [task.layer],
        seed=task.seed,
        model_seed=task.model_seed,
        inputs=inputs.get(_data_name(task)),
        features=inputs.get(_features_name(task)),
        **_params(task.params),
    )


def _sweep_task(task: Task, inputs: dict) -> Score:
    return run_task(task, inputs)  # looked up at call time (tests replace it)


def _data_name(task: Task) -> tuple:
    return ("data", task.benchmark, task.params, task.data_dir)


def _features_name(task: Task) -> tuple:
    return ("features", task.model, task.model_seed, task.benchmark, task.params, task.data_dir)


def _needs(task: Task) -> list[tuple]:
    return [_data_name(task)] + ([_features_name(task)] if task.model is not None else [])


def prepare_inputs(todo: Sequence[Task], progress: bool = False) -> dict[Hashable, Any]:
    """The heavy inputs of ``todo``, each made once: every benchmark's data
    (:func:`~neuroalign.bench.score.load_inputs`) and every model's activations on it, for all
    the layers the tasks ask for (extracted with the activation cache). Keys are internal names;
    :func:`run_task` finds its inputs by them."""
    from neuroalign.models import zoo
    from neuroalign.models.extract import extract

    shared: dict[Hashable, Any] = {}
    layers: dict[tuple, list[str]] = {}
    for t in todo:
        name = _data_name(t)
        if name not in shared:
            shared[name] = load_inputs(t.benchmark, data_dir=t.data_dir, **_params(t.params))
        if t.model is not None:
            layers.setdefault(_features_name(t), [])
            if t.layer not in layers[_features_name(t)]:
                layers[_features_name(t)].append(t.layer)
    for name, wanted in layers.items():
        _, model, model_seed, benchmark, params, data_dir = name
        data = shared[("data", benchmark, params, data_dir)]
        pool = get(benchmark).params(_params(params))["pool"]
        acts = extract(
            zoo.load(model, seed=model_seed), data["stimuli"], wanted, pool=pool, progress=progress
        )
        shared[name] = acts.select(data["stimuli"].ids)  # in memory, in the benchmark's order
    return shared


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

    ``models``: zoo names; ``"name@seedN"`` is an untrained model initialised with seed N (several
    seeds = several models). ``layers``: one list for every model, a mapping model → list, or None
    (each model's default layers). Neural-only benchmarks get one task per seed, whatever the models. ``params``:
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
                name, mseed = _model_and_seed(m, model_seed)
                for layer in resolve_layers(name, wanted):
                    t = Task(name, bm.identifier, layer, int(seed), frozen, _str(data_dir), mseed)
                    out.setdefault(t.key, t)
    return list(out.values())


def _model_and_seed(model: str, default_seed: int) -> tuple[str, int]:
    """``"name@seedN"`` (an untrained zoo model initialised with seed N) → ``(name, N)``."""
    name, sep, rest = str(model).partition("@seed")
    if not sep:
        return name, default_seed
    if not rest.isdigit():
        raise ConfigError(
            f"model {model!r}: write an initialisation seed as NAME@seedN, e.g. small_cnn@seed1."
        )
    return name, int(rest)


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
    executor="serial",
    retries: int = 2,
    on_error: str = "raise",
    progress: bool | Callable[[Task, str], None] = False,
) -> SweepReport:
    """Run the grid of :func:`tasks` into ``store``, skipping stored keys; resumable.

    ``executor``: anything :func:`neuroalign.bench.executors.run_tasks` takes — ``"serial"`` (default),
    ``"processes:N"``, ``"local:N"`` (a Dask LocalCluster), a scheduler address, a running
    cluster or a ``distributed.Client``; the prepared inputs (:func:`prepare_inputs`) go to each
    worker once and results are stored here as they complete. ``retries``: extra attempts of a
    task that raised (Dask). ``on_error``: ``"raise"`` (stop at the first failure; finished
    results stay stored) or ``"continue"`` (record it in ``report.failed``). ``progress``: True
    for a bar, or a callback ``(task, status)`` with status ``"skipped" | "done" | "failed"``.
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
        if todo:
            shared = prepare_inputs(todo, progress=progress is True)
            run_tasks(
                _sweep_task,
                todo,
                shared=shared,
                needs=_needs,
                executor=executor,
                on_result=lambda i, result: finish(todo[i], result, None),
                on_error=lambda i, exc: finish(todo[i], None, exc),
                retries=retries,
            )
    finally:
        if bar is not None:
            bar.close()
    return report
