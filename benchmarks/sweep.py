"""A sweep of 3 models × 3 layers × 2 benchmarks: serial against a Dask LocalCluster.

Both runs start from an empty results store and share one warm activation cache (the driver
extracts each model once per benchmark in both); the tasks are heavy enough (synthetic
populations of 4 animals, 10 split-half draws) for two single-threaded workers to beat one
process on this 2-core machine. Prints wall times, the speed-up and whether the stored numbers
are identical.

    python benchmarks/sweep.py                 # ~5 minutes on 2 cores
    python benchmarks/sweep.py --workers 4     # more workers on a bigger machine
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

MODELS = ["small_cnn@seed0", "small_cnn@seed1", "small_cnn@seed2"]  # three initialisations
LAYERS = ["relu1", "relu2", "fc"]
BENCHMARKS = ["synthetic.softplus", "synthetic.relu"]
PARAMS = {
    "n_draws": 10,
    "n_folds": 5,
    "n_stimuli": 300,
    "units_per_subject": 20,
    "n_subjects": 4,
    "max_model_units": 500,
}
NUMBERS = ["raw", "ceiling", "normalised", "error"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--workers", type=int, default=2, help="Dask workers (default 2)")
    args = ap.parse_args()
    from neuroalign import bench

    tmp = Path(tempfile.mkdtemp(prefix="neuroalign-sweep-"))
    os.environ["NEUROALIGN_CACHE"] = str(tmp / "cache")
    grid = bench.tasks(MODELS, BENCHMARKS, layers=LAYERS, params=PARAMS)
    bench.prepare_inputs(grid)  # warm the activation cache so both runs extract from it
    rows, frames = [], {}
    for name, executor in (
        ("serial", "serial"),
        (f"dask local:{args.workers}", f"local:{args.workers}"),
    ):
        store = bench.ResultsStore(tmp / f"{name.split()[0]}.sqlite")
        t0 = time.perf_counter()
        report = bench.run_sweep(
            MODELS, BENCHMARKS, store, layers=LAYERS, params=PARAMS, executor=executor
        )
        rows.append((name, time.perf_counter() - t0, len(report.done)))
        df = store.frame().sort_values(["key", "layer", "direction"]).reset_index(drop=True)
        frames[name] = df[["key", "direction", *NUMBERS]]
    a, b = frames[rows[0][0]], frames[rows[1][0]]
    same = a["key"].equals(b["key"]) and a["direction"].equals(b["direction"])
    delta = float(np.nanmax(np.abs(a[NUMBERS].to_numpy(float) - b[NUMBERS].to_numpy(float))))
    print(
        f"{len(grid)} tasks: {len(MODELS)} models × 3 layers × {len(BENCHMARKS)} benchmarks; {PARAMS}"
    )
    print(f"{'executor':18s} {'seconds':>8s} {'tasks':>6s} {'speed-up':>9s}")
    for name, seconds, done in rows:
        print(f"{name:18s} {seconds:8.1f} {done:6d} {rows[0][1] / seconds:9.2f}")
    print(
        f"same results stored: {'yes' if same else 'NO'}; largest difference of a stored number: "
        f"{delta:.1e} (BLAS threads differ between this process and single-threaded workers)"
    )


if __name__ == "__main__":
    main()
