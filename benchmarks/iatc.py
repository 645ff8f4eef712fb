"""Wall time and peak memory of the full IATC on henaff2021_v1 and of a 100,352-unit comparison.

Each job runs in its own process (peak resident memory = that process's ``ru_maxrss``, data
included). IATC: one :func:`~neuroalign.analysis.iatc.estimate_iatc` per candidate class over the 4 monkeys
(12 ordered pairs), then ratios to ridge. Compare: :func:`~neuroalign.analysis.compare.compare` of a
synthetic layer of 100,352 random features (the size of a ResNet-50 block-3 output; random, not a
real network) against a 4-subject synthetic population, with ridge.

    python benchmarks/iatc.py --data-dir DIR [--n-draws 20] [--n-folds 10] [--classes a,b] [--mlp]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import warnings

import numpy as np
import pandas as pd


def _iatc(args) -> dict:
    from neuroalign import datasets
    from neuroalign.analysis.iatc import estimate_iatc

    pop = datasets.load("henaff2021_v1", data_dir=args.data_dir).population()
    t0 = time.perf_counter()
    res = estimate_iatc(
        pop,
        [args.job],
        n_folds=args.n_folds,
        n_draws=args.n_draws,
        n_boot=args.n_boot,
        show_progress=False,
    )
    return {"seconds": time.perf_counter() - t0, "median_ev": float(res.accuracy["median_ev"][0])}


def _compare(args) -> dict:
    from neuroalign.analysis.compare import compare
    from neuroalign.data import make_population

    pop = make_population(n_subjects=4, n_areas=1, n_stimuli=args.n_stimuli, seed=0).data
    feats = np.random.default_rng(0).normal(size=(pop.n_stimuli, args.n_features))
    t0 = time.perf_counter()
    res = compare(
        feats, pop, "ridge", n_folds=args.n_folds, n_draws=args.n_draws, show_progress=False
    )
    fwd = res.summary.set_index("direction").loc["forward", "model_median_ev"]
    return {"seconds": time.perf_counter() - t0, "median_ev": float(fwd)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=os.environ.get("NEUROALIGN_DATA"))
    ap.add_argument("--n-folds", type=int, default=10)
    ap.add_argument("--n-draws", type=int, default=20)
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--classes", default="one_to_one,soft_matching,procrustes,ridge,pls,zippering")
    ap.add_argument("--mlp", action="store_true", help="add the MLP class")
    ap.add_argument("--n-features", type=int, default=100_352)
    ap.add_argument("--n-stimuli", type=int, default=400)
    ap.add_argument("--job", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.job:
        warnings.simplefilter("ignore")
        out = _compare(args) if args.job == "compare" else _iatc(args)
        out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(out))
        return
    jobs = args.classes.split(",") + (["mlp"] if args.mlp else []) + ["compare"]
    rows = []
    for job in jobs:
        cmd = [sys.executable, __file__, "--job", job, *sys.argv[1:]]
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        r = json.loads(done.stdout.strip().splitlines()[-1])
        what = (
            f"compare {args.n_features} features × 4 subjects"
            if job == "compare"
            else f"IATC henaff2021_v1 {job}"
        )
        rows.append({"job": what, **r})
        print(f"{what}: {r['seconds']:.1f} s, {r['peak_mb']:.0f} MB", file=sys.stderr)
    df = pd.DataFrame(rows)
    iatc = df["job"].str.startswith("IATC")
    ridge = df.loc[df["job"].str.endswith(" ridge"), "seconds"]
    if len(ridge):
        df.loc[iatc, "× ridge"] = df.loc[iatc, "seconds"] / ridge.iloc[0]
    total = df.loc[iatc, "seconds"].sum()
    print(
        f"n_folds={args.n_folds} n_draws={args.n_draws} n_boot={args.n_boot}; "
        f"{os.cpu_count()} CPUs; IATC over all listed classes: {total:.0f} s"
    )
    print(df.to_string(index=False, float_format="%.1f"))


if __name__ == "__main__":
    main()
