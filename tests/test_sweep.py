"""Sweeps on executors: a Dask LocalCluster gives the serial results; a killed worker loses and
duplicates nothing; a finished sweep re-runs as no work."""

from __future__ import annotations

import os
import signal

import pandas as pd
import pytest

from neuroalign import bench

pytest.importorskip("distributed")

SMALL = {
    "n_draws": 2,
    "n_folds": 3,
    "n_stimuli": 90,
    "units_per_subject": 8,
    "n_subjects": 3,
    "max_model_units": 200,
}
MODELS = ["small_cnn@seed0", "small_cnn@seed1", "small_cnn@seed2"]  # three initialisations
LAYERS = ["relu1", "relu2", "fc"]
BENCHMARKS = ["synthetic.softplus", "synthetic.relu"]
NUMBERS = ["raw", "ceiling", "normalised", "error"]


@pytest.fixture(scope="module", autouse=True)
def _cache(tmp_path_factory):
    """One activation cache for the module (each sweep's driver extracts; warm after the first)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("NEUROALIGN_CACHE", str(tmp_path_factory.mktemp("cache")))
    yield
    mp.undo()


def _sweep(store, executor, **kw):
    return bench.run_sweep(
        MODELS, BENCHMARKS, store, layers=LAYERS, params=SMALL, executor=executor, **kw
    )


def _numbers(store) -> pd.DataFrame:
    df = store.frame().sort_values(["key", "layer", "direction"]).reset_index(drop=True)
    return df[["key", "model", "layer", "benchmark", "direction", *NUMBERS]]


@pytest.fixture(scope="module")
def serial_store(tmp_path_factory):
    store = bench.ResultsStore(tmp_path_factory.mktemp("serial") / "s.sqlite")
    report = _sweep(store, "serial")
    assert len(report.done) == 18 and not report.failed  # 3 models × 3 layers × 2 benchmarks
    return store


def test_dask_local_cluster_equals_serial(serial_store, tmp_path):
    store = bench.ResultsStore(tmp_path / "d.sqlite")
    report = _sweep(store, "local:2")
    assert len(report.done) == 18
    # equal to rounding: the serial run's BLAS may use threads, the workers' one thread
    pd.testing.assert_frame_equal(_numbers(store), _numbers(serial_store), rtol=1e-12)
    again = _sweep(store, "local:2")  # a finished sweep: nothing to do
    assert again.done == [] and len(again.skipped) == 18


def test_killed_worker_loses_nothing_and_duplicates_nothing(serial_store, tmp_path):
    from distributed import Client, LocalCluster

    store = bench.ResultsStore(tmp_path / "k.sqlite")
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            pids = list(client.run(os.getpid).values())
            killed = []

            def kill_one(task, status):  # after the first stored result, kill a worker
                if status == "done" and not killed:
                    os.kill(pids[0], signal.SIGKILL)
                    killed.append(task)

            report = _sweep(store, client, progress=kill_one)
    assert killed and len(report.done) == 18 and not report.failed
    df = store.frame()
    assert len(store) == 18 and not df.duplicated(["key", "layer", "direction"]).any()
    pd.testing.assert_frame_equal(_numbers(store), _numbers(serial_store), rtol=1e-12)
