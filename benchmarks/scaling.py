"""How time and memory grow with the layer's width and the number of stimuli.

Forward + reverse noise-corrected EV (Ridge α = 0.1, 10 folds, split-half draws) on the
paper-shaped synthetic workload of ``benchmarks/predictivity.py`` (169 sites × 40 repeats), over
layer widths (1,320 stimuli) and stimulus counts (20,000 units). Each case runs in its own process;
peak memory is the most memory newly allocated during the computation (tracemalloc: every numpy
buffer), as a multiple of the feature matrix; the growth exponent is the least-squares slope of
log time against log size.

    python benchmarks/scaling.py                  # widths 10k-200k, stimuli 500-5,000 (~15 min)
    python benchmarks/scaling.py --quick          # small sizes, ~1 minute
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from predictivity import workload  # noqa: E402  (the shared paper-shaped workload)


def worker(case: dict) -> dict:
    from neuroalign.metrics.predictivity import forward_ev, reverse_ev
    from neuroalign.transforms.ridge import Ridge

    feats, neural = workload(case["units"], n_stim=case["stimuli"])
    kw = dict(n_folds=10, n_draws=case["draws"], seed=0, dtype=case["dtype"])
    out = {}
    for name, fn, args in (
        ("forward", forward_ev, (feats, neural)),
        ("reverse", reverse_ev, (neural, feats)),
    ):
        tracemalloc.start()
        t0 = time.perf_counter()
        fn(*args, Ridge(0.1), **kw)
        out[name] = time.perf_counter() - t0
        out[name + "_peak"] = tracemalloc.get_traced_memory()[1] / feats.nbytes
        tracemalloc.stop()
    out["feature_gb"] = feats.nbytes / 1e9
    return out


def _run(case: dict) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", json.dumps(case)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise SystemExit(f"case {case} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _exponent(sizes, seconds) -> float:
    return float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0])


def _table(title: str, key: str, cases: list[dict], results: list[dict]) -> None:
    print(f"\n== {title}")
    print(
        f"{key:>9s} {'feat GB':>8s} {'fwd s':>7s} {'rev s':>7s} {'total s':>8s} "
        f"{'fwd mem':>8s} {'rev mem':>8s}"
    )
    for c, r in zip(cases, results, strict=True):
        print(
            f"{c[key]:9,d} {r['feature_gb']:8.2f} {r['forward']:7.1f} {r['reverse']:7.1f} "
            f"{r['forward'] + r['reverse']:8.1f} {r['forward_peak']:8.2f} {r['reverse_peak']:8.2f}"
        )
    sizes = [c[key] for c in cases]
    fits = {
        part: _exponent(
            sizes, [r[part] if part != "total" else r["forward"] + r["reverse"] for r in results]
        )
        for part in ("forward", "reverse", "total")
    }
    worst = max(max(r["forward_peak"], r["reverse_peak"]) for r in results)
    print(
        f"growth exponent (time ∝ {key}^k): forward {fits['forward']:.2f}, reverse "
        f"{fits['reverse']:.2f}, total {fits['total']:.2f}; largest peak memory "
        f"{worst:.2f}× the feature matrix"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes")
    ap.add_argument("--draws", type=int, default=5, help="split-half draws (default 5)")
    ap.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return
    widths = [2_000, 4_000, 8_000] if args.quick else [10_000, 25_000, 50_000, 100_000, 200_000]
    stimuli = [300, 600, 1_200] if args.quick else [500, 1_000, 2_000, 5_000]
    base = dict(draws=args.draws, dtype=args.dtype)
    print(
        f"forward + reverse EV, Ridge α = 0.1, 10 folds, {args.draws} draws, {args.dtype}; "
        "mem = peak newly allocated memory / feature matrix"
    )
    wc = [dict(base, units=w, stimuli=1_320) for w in widths]
    _table("layer width (1,320 stimuli)", "units", wc, [_run(c) for c in wc])
    sc = [dict(base, units=2_000 if args.quick else 20_000, stimuli=s) for s in stimuli]
    _table(f"stimuli ({sc[0]['units']:,} units)", "stimuli", sc, [_run(c) for c in sc])


if __name__ == "__main__":
    main()
