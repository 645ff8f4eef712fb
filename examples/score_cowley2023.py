"""Trained vs untrained EfficientNet-Lite0 on Cowley et al. 2023 V4 (session 210325), both ways.

Scores each model layer with :func:`neuroalign.bench.score` on the ``cowley2023_v4.210325``
benchmark (ridge map; forward: model → each V4 neuron; reverse: all neurons → each model unit;
held-out, noise-corrected EV with split-half ceilings) and prints, per layer and direction, the
raw score (median 100·r²), the ceiling (median 100·ρ_target·ρ_pred) and the normalised score
(median noise-corrected EV), then the best layer of each model. Results go to a results store,
so a second run is instant.

    python examples/score_cowley2023.py --data-dir /path/to/data [--n-draws 20] [--store PATH]
"""

from __future__ import annotations

import argparse
import os
import time

import pandas as pd

from neuroalign import bench

MODELS = ("efficientnet_lite0", "efficientnet_lite0_untrained")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=os.environ.get("NEUROALIGN_DATA"))
    ap.add_argument("--benchmark", default="cowley2023_v4.210325")
    ap.add_argument("--n-draws", type=int, default=20)
    ap.add_argument("--n-folds", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--layers", nargs="*", default=None, help="default: each model's zoo layers")
    ap.add_argument("--store", default="cowley2023-scores.sqlite")
    args = ap.parse_args()
    store = bench.ResultsStore(args.store)
    params = {"n_draws": args.n_draws, "n_folds": args.n_folds}
    keys = []
    for model in MODELS:  # one score per model: all its layers from one pass over the images
        kw = {"layers": args.layers, "seed": args.seed, **params}
        key = bench.score_key(model, args.benchmark, **kw)
        t0 = time.perf_counter()
        if not store.has(key):
            store.put(bench.score(model, args.benchmark, data_dir=args.data_dir, **kw))
        print(f"{model}: {time.perf_counter() - t0:.0f} s")
        keys.append(key)
    df = store.frame()
    df = df[df["key"].isin(keys)]
    pd.set_option("display.width", 160)
    cols = ["model", "layer", "direction", "raw", "ceiling", "normalised", "error", "n_valid"]
    print(df[cols].to_string(index=False, float_format="%.2f"))
    best = df.loc[df.groupby(["model", "direction"])["normalised"].idxmax()]
    print("\nbest layer per model and direction (normalised = median noise-corrected EV %):")
    print(best[cols].to_string(index=False, float_format="%.2f"))


if __name__ == "__main__":
    main()
