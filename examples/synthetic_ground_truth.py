"""Ground-truth validation on synthetic populations whose subjects are related by zippering.

Two populations (softplus and ReLU rates; :func:`neuroalign.data.make_population`): the IATC
accuracy table, the selected IATC and the specificity table; then, with the selected class,
:func:`neuroalign.analysis.compare.compare` of three "models" against the softplus population:

(a) a held-out subject of the same network (Poisson repeats: a stochastic model that should
    masquerade as a subject), (b) the true network features plus many unrelated random units,
(c) unrelated random features (should not masquerade).

    python examples/synthetic_ground_truth.py [--n-draws 20] [--n-stimuli 400]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from neuroalign.analysis.compare import compare
from neuroalign.analysis.iatc import estimate_iatc
from neuroalign.data import make_population
from neuroalign.transforms import Zippering

CLASSES = ["one_to_one", "soft_matching", "procrustes", "ridge", "pls"]


def iatc_tables(pop, activation: str, kw: dict):
    t0 = time.perf_counter()
    res = estimate_iatc(pop.data, CLASSES + [Zippering(activation=activation)], **kw)
    acc = res.accuracy.sort_values("median_ev", ascending=False)
    cols = ["transform", "median_ev", "ci_low", "ci_high", "indistinguishable"]
    print(f"IATC accuracy ({time.perf_counter() - t0:.0f} s):")
    print(acc[cols].to_string(index=False, float_format="%.1f"))
    print(f"best: {res.best}; selected IATC: {res.selected}")
    if res.specificity is not None:
        print("specificity (mean silhouette, label = area):")
        spec = res.specificity.sort_values("silhouette", ascending=False)
        print(spec.to_string(index=False, float_format="%.3f"))
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-stimuli", type=int, default=400)
    ap.add_argument("--n-folds", type=int, default=10)
    ap.add_argument("--n-draws", type=int, default=20)
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--n-random-units", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    pd.set_option("display.width", 140)
    kw = {"n_folds": args.n_folds, "n_draws": args.n_draws, "seed": args.seed}

    pops = {}
    for nl, act in (("softplus", "softplus"), ("relu", "relu_hurdle")):
        pops[nl] = make_population(nonlinearity=nl, n_stimuli=args.n_stimuli, seed=args.seed)
        print(f"\n=== {nl} population: {pops[nl].data}; Zippering(activation={act!r}) ===")
        res = iatc_tables(pops[nl], act, {**kw, "n_boot": args.n_boot, "show_progress": False})
        if nl == "softplus":
            selected = res.transform() if res.selected[0] != "zippering" else Zippering()

    pop = pops["softplus"]
    area = pop.areas[0]
    data = pop.data.select(area=area)
    rng = np.random.default_rng(args.seed + 1)
    feats = pop.features(area)
    sd = feats.std()
    held_out = pop.extra_subject("M", seed=args.seed + 7).data.select(area=area).responses
    noisy_true = np.hstack([feats, sd * rng.normal(size=(feats.shape[0], args.n_random_units))])
    # softplus zippering needs positive sources and targets: model features (ReLU zeros,
    # Gaussian noise) are compared with ridge, and the held-out subject with both classes
    jobs = [
        ("(a) held-out subject", held_out, selected),
        ("(a) held-out subject", held_out, "ridge"),
        (f"(b) true features + {args.n_random_units} random units", noisy_true, "ridge"),
        ("(c) random features", rng.normal(size=(feats.shape[0], 128)), "ridge"),
    ]
    print(f"\n=== compare on {area} ({len(data.subjects)} subjects), selected {selected.name} ===")
    rows = []
    for name, m, tr in jobs:
        t0 = time.perf_counter()
        res = compare(m, data, tr, **kw, show_progress=False)
        s = res.summary.assign(model=name, transform=res.params["transform"]["name"])
        s["seconds"] = time.perf_counter() - t0
        rows.append(s)
    cols = ["model", "transform", "direction", "model_median_ev", "animal_median_ev",
            "masquerade_ratio", "percentile", "p_value", "distinguishable", "seconds"]  # fmt: skip
    print(pd.concat(rows)[cols].to_string(index=False, float_format="%.3g"))


if __name__ == "__main__":
    main()
