"""Benchmarks, scores with provenance, a results store and resumable sweeps.

from neuroalign import bench
bench.names()                                       # registered benchmarks
s = bench.score("efficientnet_lite0", "cowley2023_v4.210325", data_dir="../shared/data")
s.summary                                           # raw, ceiling, normalised, error per direction
store = bench.ResultsStore("results.sqlite"); store.put(s); store.frame()
bench.run_sweep(["efficientnet_lite0", "efficientnet_lite0_untrained"],
                ["synthetic.softplus"], store)      # resumable; re-running does no work
"""

from neuroalign.bench.benchmarks import Benchmark, all_benchmarks, get, names, register
from neuroalign.bench.runner import SweepReport, Task, prepare_inputs, run_sweep, run_task, tasks
from neuroalign.bench.score import (
    FRAME_COLUMNS,
    SUMMARY_COLUMNS,
    Score,
    model_identity,
    resolve_layers,
    score,
    score_key,
)
from neuroalign.bench.store import ResultsStore, default_store_path, is_store_file

__all__ = [
    "FRAME_COLUMNS",
    "SUMMARY_COLUMNS",
    "Benchmark",
    "ResultsStore",
    "Score",
    "SweepReport",
    "Task",
    "all_benchmarks",
    "default_store_path",
    "get",
    "is_store_file",
    "model_identity",
    "names",
    "register",
    "resolve_layers",
    "prepare_inputs",
    "run_sweep",
    "run_task",
    "score",
    "score_key",
    "tasks",
]
