"""IATC of macaque V1 (Hénaff et al. 2021: 4 monkeys, 440 stimuli) and animal → animal symmetry.

For every candidate transform class, every ordered pair of monkeys is mapped on held-out stimuli
(noise-corrected EV per target unit); the IATC is the strictest class as accurate as the best.
Then, with the selected class, the 4×4 matrix of median EV source → target and the correlation of
EV(a → b) with EV(b → a) over monkey pairs (the reverse-predictivity paper found animal ↔ animal
mapping roughly symmetric).

    python examples/henaff2021_iatc.py --data-dir /path/to/data [--mlp] [--n-draws 20]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd

from neuroalign import datasets
from neuroalign.analysis.iatc import default_candidates, estimate_iatc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=os.environ.get("NEUROALIGN_DATA"))
    ap.add_argument("--mlp", action="store_true", help="add the MLP class (slow)")
    ap.add_argument("--n-folds", type=int, default=10)
    ap.add_argument("--n-draws", type=int, default=20)
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", help="write the IATCResult here")
    args = ap.parse_args()

    pop = datasets.load("henaff2021_v1", data_dir=args.data_dir).population()
    print(pop)
    print(pop.units.groupby("subject").size().rename("units").to_frame().T.to_string(), "\n")
    candidates = default_candidates() + (["mlp"] if args.mlp else [])
    t0 = time.perf_counter()
    res = estimate_iatc(
        pop,
        candidates,
        n_folds=args.n_folds,
        n_draws=args.n_draws,
        n_boot=args.n_boot,
        seed=args.seed,
    )
    took = time.perf_counter() - t0
    if args.json:
        res.to_json(args.json)
    pd.set_option("display.width", 120)
    acc = res.accuracy.sort_values("median_ev", ascending=False)
    print(
        f"IATC accuracy: median noise-corrected EV (%) over {acc['n_columns'].iloc[0]} "
        f"(pair, unit) columns, {res.params['ci']:.0%} bootstrap CI ({took:.0f} s)"
    )
    cols = ["transform", "median_ev", "ci_low", "ci_high", "diff_ci_low", "diff_ci_high",
            "indistinguishable"]  # fmt: skip
    print(acc[cols].to_string(index=False, float_format="%.1f"))
    print(f"\nbest: {res.best}; selected IATC: {res.selected}\n")

    subjects = res.params["subjects"]
    for name in dict.fromkeys([res.selected[0], "ridge"]):
        s = res.scores[res.scores["transform"] == name]
        med = (
            s.groupby(["source", "target"])["ev"]
            .median()
            .unstack()
            .reindex(index=subjects, columns=subjects)
        )
        print(f"median EV (%) source (rows) → target (columns), {name}:")
        print(med.to_string(float_format="%.1f"))
        fwd, rev = [], []
        for i, a in enumerate(subjects):
            for b in subjects[i + 1 :]:
                fwd.append(med.loc[a, b])
                rev.append(med.loc[b, a])
        fwd, rev = np.array(fwd), np.array(rev)
        r = np.corrcoef(fwd, rev)[0, 1]
        print(
            f"symmetry over {len(fwd)} monkey pairs: corr(EV a→b, EV b→a) = {r:.2f}; "
            f"median |EV a→b − EV b→a| = {np.median(np.abs(fwd - rev)):.1f} points\n"
        )


if __name__ == "__main__":
    main()
