"""Benchmarks, scores with provenance, a results store and resumable sweeps.

from neuroalign import bench
bench.names()                                       # registered benchmarks
s = bench.score("efficientnet_lite0", "cowley2023_v4.210325", data_dir="../shared/data")
s.summary                                           # raw, ceiling, normalised, error per direction
store = bench.ResultsStore("results.sqlite"); store.put(s); store.frame()
bench.run_sweep(["efficientnet_lite0", "efficientnet_lite0_untrained"],
                ["synthetic.softplus"], store)      # resumable; re-running does no work
"""

from neuroalign.bench.base import Benchmark
from neuroalign.bench.benchmarks import BENCHMARKS, all_benchmarks, get, names, register
from neuroalign.bench.kinds.own import from_data
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
from neuroalign.bench.store import (
    ResultsStore,
    SpoolWarning,
    default_store_path,
    is_store_file,
    store_paths,
)
from neuroalign.bench.uncertainty import (
    PairedTest,
    best_layer,
    headline,
    paired_test,
    rank_stability,
)

__all__ = [
    "BENCHMARKS",
    "FRAME_COLUMNS",
    "SUMMARY_COLUMNS",
    "Benchmark",
    "PairedTest",
    "ResultsStore",
    "Score",
    "SpoolWarning",
    "SweepReport",
    "Task",
    "all_benchmarks",
    "best_layer",
    "default_store_path",
    "from_data",
    "get",
    "headline",
    "is_store_file",
    "model_identity",
    "names",
    "register",
    "resolve_layers",
    "paired_test",
    "prepare_inputs",
    "rank_stability",
    "run_sweep",
    "run_task",
    "score",
    "score_key",
    "store_paths",
    "tasks",
]
