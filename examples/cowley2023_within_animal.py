"""Within-animal baseline on Cowley et al. 2023 V4: sessions 210322 and 210325 of monkey PE.

The two sessions share 600 images (by content id) but not their electrodes' neurons, so mapping
one onto the other is a within-animal, across-day baseline for the animal → animal scores.
210325 has per-repeat counts; 210322 is repeat-averaged only, so its noise cannot be measured:

- 210325 → 210322 (``reverse_ev``: 210322 treated as a deterministic target, ρ_target = 1). The
  210322 means still hold trial noise, so its ceiling is overestimated and the EV is a **lower
  bound**; ρ_pred (split halves of 210325's repeats) is corrected.
- 210322 → 210325 (``forward_ev``: 210322 means as noise-free features). ρ_target and ρ_pred come
  from 210325's split halves; the noise of the 210322 predictors is not corrected (attenuates the
  fit: again a lower bound).
- An inter-animal EV needs both sides split; it cannot be formed here.

    python examples/cowley2023_within_animal.py --data-dir /path/to/data
"""

from __future__ import annotations

import argparse
import os
import warnings

import numpy as np
import pandas as pd

from neuroalign import datasets
from neuroalign.metrics.ceilings import columnwise_pearson, spearman_brown
from neuroalign.metrics.predictivity import PredictivityWarning, forward_ev, reverse_ev
from neuroalign.transforms import Ridge


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=os.environ.get("NEUROALIGN_DATA"))
    ap.add_argument("--n-folds", type=int, default=10)
    ap.add_argument("--n-draws", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    ds = datasets.load("cowley2023_v4", data_dir=args.data_dir, sessions=["210322", "210325"])
    avg, rep = ds.recordings["210322"].align(ds.recordings["210325"])
    print(f"shared images: {avg.n_stimuli}; 210322: {avg.n_units} neurons (repeat-averaged); "
          f"210325: {rep.n_units} neurons, {int(rep.n_valid_repeats().min())}-"
          f"{int(rep.n_valid_repeats().max())} valid repeats")  # fmt: skip
    kw = {"n_folds": args.n_folds, "n_draws": args.n_draws, "seed": args.seed}
    transform = Ridge(alphas=np.logspace(-2, 7, 10), cv="gcv")
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PredictivityWarning)
        runs = {
            "210325 → 210322 (reverse_ev, ρ_target=1)": reverse_ev(
                rep, avg.mean(), transform, **kw
            ),
            "210322 → 210325 (forward_ev)": forward_ev(avg.mean(), rep, transform, **kw),
        }
    for name, r in runs.items():
        rows.append(
            {
                "direction": name,
                "median_ev": np.median(r.ev[r.valid]),
                "q25": np.quantile(r.ev[r.valid], 0.25),
                "q75": np.quantile(r.ev[r.valid], 0.75),
                "median_r": np.median(r.r[r.valid]),
                "median_rho_target": np.median(r.rho_target[r.valid]),
                "median_rho_pred": np.median(r.rho_pred[r.valid]),
                "valid": f"{int(r.valid.sum())}/{r.valid.size}",
            }
        )
    pd.set_option("display.width", 140)
    print("\nwithin-animal mapping (ridge, noise-corrected EV %; both are lower bounds):")
    print(pd.DataFrame(rows).to_string(index=False, float_format="%.3g"))
    half_a, half_b = rep.split_halves(seed=args.seed)
    sb = spearman_brown(columnwise_pearson(half_a, half_b))
    print(f"\n210325 split-half reliability (Spearman–Brown, one draw): median {np.median(sb):.2f}")


if __name__ == "__main__":
    main()
