"""Executors: the same results serially, on processes and on a Dask LocalCluster; a killed worker
loses nothing and duplicates nothing."""

from __future__ import annotations

import os
import signal
import uuid
from pathlib import Path

import numpy as np
import pytest

from neuroalign.errors import ConfigError
from neuroalign.parallel import TaskError, parse_executor, run_tasks


def weighted_sum(task, inputs):
    """A task: a seeded draw weighted by the shared matrix (module level, so it pickles)."""
    seed, scale = task
    m = inputs["matrix"]
    rng = np.random.default_rng(seed)
    return float(scale * (m @ rng.normal(size=m.shape[1])).sum())


def names_seen(task, inputs):
    return task, sorted(inputs)


def die_once(task, inputs):
    """Kill the worker process the first time task 2 runs (a marker file remembers)."""
    marker = Path(inputs["folder"]) / f"ran-{task}"
    if task == 2 and not marker.exists():
        marker.write_text("x")
        os._exit(1)
    return task * 10


def sigkill_once(task, inputs):
    """SIGKILL the worker process the first time task 2 runs (as the OOM killer would)."""
    marker = Path(inputs["folder"]) / f"ran-{task}"
    if task == 2 and not marker.exists():
        marker.write_text("x")
        os.kill(os.getpid(), signal.SIGKILL)
    return task * 10


def sigkill_always(task, inputs):
    """Task 1 kills its worker every time it runs; the others count their runs."""
    (Path(inputs["folder"]) / f"ran-{task}-{uuid.uuid4().hex}").touch()
    if task == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    return task


def fail_on_three(task, inputs):
    if task == 3:
        raise ValueError("task three is broken")
    return task


TASKS = [(s, 0.5 * s) for s in range(6)]
SHARED = {"matrix": np.arange(12.0).reshape(3, 4)}


def reference():
    return [weighted_sum(t, SHARED) for t in TASKS]


def test_serial_results_in_task_order_and_callback_per_task():
    seen = []
    out = run_tasks(weighted_sum, TASKS, shared=SHARED, on_result=lambda i, r: seen.append(i))
    assert out == reference()
    assert sorted(seen) == list(range(len(TASKS)))


def test_processes_equal_serial():
    assert run_tasks(weighted_sum, TASKS, shared=SHARED, executor="processes:2") == reference()


def test_dask_local_cluster_equals_serial():
    pytest.importorskip("distributed")
    seen = []
    out = run_tasks(
        weighted_sum,
        TASKS,
        shared=SHARED,
        executor="local:2",
        on_result=lambda i, r: seen.append(i),
    )
    assert out == reference()
    assert sorted(seen) == list(range(len(TASKS)))


def test_killed_dask_worker_loses_and_duplicates_nothing(tmp_path):
    pytest.importorskip("distributed")
    recorded = []
    out = run_tasks(
        die_once,
        list(range(5)),
        shared={"folder": str(tmp_path)},
        executor="local:2",
        on_result=lambda i, r: recorded.append((i, r)),
    )
    assert (tmp_path / "ran-2").exists()  # the worker really died once
    assert out == [0, 10, 20, 30, 40]
    assert sorted(recorded) == [(i, 10 * i) for i in range(5)]  # each result once


def test_killed_process_worker_loses_and_duplicates_nothing(tmp_path):
    recorded = []
    out = run_tasks(
        sigkill_once,
        list(range(7)),
        shared={"folder": str(tmp_path)},
        executor="processes:2",
        on_result=lambda i, r: recorded.append((i, r)),
    )
    assert (tmp_path / "ran-2").exists()  # the worker really died
    assert out == [10 * i for i in range(7)]
    assert sorted(recorded) == [(i, 10 * i) for i in range(7)]  # each result exactly once


def test_a_task_that_keeps_killing_its_worker_fails_alone(tmp_path):
    recorded = []
    with pytest.raises(TaskError, match="task 1 died 3 times") as info:
        run_tasks(
            sigkill_always,
            list(range(5)),
            shared={"folder": str(tmp_path)},
            executor="processes:2",
            on_result=lambda i, r: recorded.append(i),
        )
    assert list(info.value.failures) == [1]
    assert sorted(recorded) == [0, 2, 3, 4]  # every other task finished, once
    # task 1 ran once beside another task, then three times alone on fresh pools
    assert len(list(tmp_path.glob("ran-1-*"))) == 4


@pytest.mark.parametrize("executor", ["serial", "processes:2"])
def test_failures_are_collected_after_the_others_finish(executor):
    got = []
    with pytest.raises(TaskError, match="task three is broken") as info:
        run_tasks(fail_on_three, range(6), executor=executor, on_result=lambda i, r: got.append(r))
    assert sorted(got) == [0, 1, 2, 4, 5]
    assert list(info.value.failures) == [3]


@pytest.mark.parametrize("bad", ["threads", "processes:0", "processes:x", "dask:remote:3", 3.5])
def test_bad_executor_names_the_choices(bad):
    with pytest.raises(ConfigError):
        parse_executor(bad)


def test_executor_parsing():
    assert parse_executor("serial").kind == "serial"
    assert parse_executor("processes:3").workers == 3
    assert parse_executor("dask:local:2") == parse_executor("local:2")
    assert parse_executor("tcp://10.0.0.1:8786").address == "tcp://10.0.0.1:8786"


@pytest.mark.parametrize("executor", ["serial", "processes:2"])
def test_each_task_gets_only_the_inputs_it_needs(executor):
    shared = {"a": 1, "b": np.ones(3), "c": "x"}
    out = run_tasks(
        names_seen, ["a", "b", "ac"], shared=shared, needs=lambda t: list(t), executor=executor
    )
    assert out == [("a", ["a"]), ("b", ["b"]), ("ac", ["a", "c"])]
    with pytest.raises(ConfigError, match="not shared"):
        run_tasks(names_seen, ["z"], shared=shared, needs=lambda t: [t])
