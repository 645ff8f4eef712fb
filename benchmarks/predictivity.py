"""Forward + reverse noise-corrected EV on the paper-shaped workload, against scikit-learn and himalaya.

Workload (synthetic, seeded): 1,320 stimuli; 169 sites × 40 repeats; model layers of 10,000 /
50,000 / 100,352 ReLU units driven by the same 40-d latent as the sites; 10 folds; 20 split-half
draws; Ridge α = 0.1, and separately a 10-value α grid with per-target α.

Every case runs in its own subprocess; each method reports wall time and the peak of memory newly
allocated during the computation (tracemalloc: numpy and torch-CPU buffers), as a multiple of the
feature matrix. Peers do the same regression work with the same folds and halves: scikit-learn
``Ridge`` / ``RidgeCV`` and himalaya ``Ridge`` / ``RidgeCV`` fitted per fold and per half on ONE
draw, timed, and scaled to all draws (time = t_mean_fit + n_draws · t_one_draw; stated in the
table). Their ``r`` and first-draw ``ρ_pred`` are compared with ours ("max Δ"). Ours is timed
without the null and the bootstrap, like the peers; ``--null N --boot B`` adds a row with them.

    python benchmarks/predictivity.py --quick           # small sizes, ~1 minute
    python benchmarks/predictivity.py                   # the full run (several minutes)
    python benchmarks/predictivity.py --units 100352 --null 5 --boot 200   # + the null's cost
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import tracemalloc
import warnings

import numpy as np

N_STIM, N_SITES, N_REPS, LATENT = 1320, 169, 40, 40
GRID = np.logspace(-2, 7, 10)


def workload(n_units, n_stim=N_STIM, n_sites=N_SITES, n_reps=N_REPS, seed=0):
    """``features (n_stim, n_units)`` float64 and ``neural (n_stim, n_sites, n_reps)``."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n_stim, LATENT))
    signal = latent @ rng.normal(size=(LATENT, n_sites)) / np.sqrt(LATENT)
    neural = signal[:, :, None] + 1.5 * rng.normal(size=(n_stim, n_sites, n_reps))
    feats = np.empty((n_stim, n_units))
    for j in range(0, n_units, 8192):
        m = min(8192, n_units - j)
        block = latent @ rng.normal(size=(LATENT, m)) / np.sqrt(LATENT)
        feats[:, j : j + m] = np.maximum(block + 0.7 * rng.normal(size=(n_stim, m)), 0)
    return feats, neural


def _timed(fn):
    tracemalloc.start()
    t0 = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return out, dt, peak


def _ours(feats, neural, transform, n_draws, dtype="float64", backend=None, **extra):
    from neuroalign.metrics.predictivity import forward_ev, reverse_ev

    kw = dict(n_folds=10, n_draws=n_draws, seed=0, dtype=dtype, backend=backend)
    kw.update({"n_null": 0, "n_boot": 0, **extra})  # the score alone unless asked
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (f, tf, pf) = _timed(lambda: forward_ev(feats, neural, transform, **kw))
        (r, tr, pr) = _timed(lambda: reverse_ev(neural, feats, transform, **kw))
    notes = sorted({type(w.message).__name__ for w in caught})
    return f, r, tf, tr, max(pf, pr), notes


def _peer_one_draw(feats, neural, make, n_draws):
    """One draw of the same computation with a per-fold peer estimator; times scaled to n_draws."""
    from neuroalign.data.splits import split_half_means
    from neuroalign.metrics.ceilings import columnwise_pearson, spearman_brown
    from neuroalign.metrics.crossval import kfold_indices

    rng = np.random.default_rng(0)
    fold_rng, *draw_rngs = rng.spawn(1 + n_draws)
    folds = kfold_indices(N_STIM, 10, fold_rng)
    mean = neural.mean(axis=2)
    sa, sb = split_half_means(neural, draw_rngs[0])

    def oof(x, y):
        out = np.empty(y.shape)
        for te in folds:
            tr = np.setdiff1d(np.arange(x.shape[0]), te)
            out[te] = make(x[tr], y[tr], x[te])
        return out

    res = {}
    for name, (src, tgt, src_a, src_b, tgt_a, tgt_b) in {
        "forward": (feats, mean, feats, feats, sa, sb),
        "reverse": (mean, feats, sa, sb, feats, feats),
    }.items():
        t0 = time.perf_counter()
        r = columnwise_pearson(oof(src, tgt), tgt)
        t_mean = time.perf_counter() - t0
        t0 = time.perf_counter()
        rho0 = spearman_brown(columnwise_pearson(oof(src_a, tgt_a), oof(src_b, tgt_b)))
        t_draw = time.perf_counter() - t0
        res[name] = (r, rho0, t_mean + n_draws * t_draw)
    return res


def _sklearn(alphas):
    from sklearn.linear_model import Ridge, RidgeCV

    def make(x, y, xt):
        est = Ridge(alphas) if np.ndim(alphas) == 0 else RidgeCV(alphas, alpha_per_target=True)
        return est.fit(x, y).predict(xt)

    return make


def _himalaya(alphas, backend):
    from himalaya.backend import set_backend
    from himalaya.ridge import Ridge, RidgeCV

    bk = set_backend(backend, on_error="raise")

    def make(x, y, xt):
        if np.ndim(alphas) == 0:
            est = Ridge(alpha=alphas, fit_intercept=True)
        else:
            est = RidgeCV(alphas=alphas, cv=5, fit_intercept=True)
        return bk.to_numpy(est.fit(x, y).predict(xt))

    return make


def worker(case: dict) -> dict:
    from neuroalign.transforms.ridge import Ridge

    feats, neural = workload(case["units"])
    grid = case["alphas"] == "grid"
    alphas = GRID if grid else 0.1
    transform = Ridge(alphas, cv="gcv") if grid else Ridge(alphas)
    D = case["draws"]
    fbytes = feats.nbytes
    rows = []
    if case["method"] == "ours":
        f, r, tf, tr, peak, notes = _ours(feats, neural, transform, D)
        rows.append(
            dict(
                method="neuroalign numpy f64",
                tf=tf,
                tr=tr,
                mem=peak / fbytes,
                note=f"median EV fwd {np.nanmedian(f.ev):.1f} rev {np.nanmedian(r.ev):.1f}"
                + (f" {notes}" if notes else ""),
            )
        )

        def variant(method, note, **kw):
            """A row for ours run again with ``kw``; ``note(run, max |ΔEV| from f64)``."""
            u = _ours(feats, neural, transform, D, **kw)
            d = max(np.nanmax(np.abs(u[0].ev - f.ev)), np.nanmax(np.abs(u[1].ev - r.ev)))
            extra = f" {u[5]}" if u[5] else ""
            rows.append(
                dict(method=method, tf=u[2], tr=u[3], mem=u[4] / fbytes, note=note(u, d) + extra)
            )

        if case.get("f32", True):
            variant("neuroalign numpy f32", lambda u, d: f"max|EV f32 - f64| = {d:.4f} pts",
                    dtype="float32")  # fmt: skip
        if case.get("null") or case.get("boot"):
            nb = {"n_null": case.get("null", 0), "n_boot": case.get("boot", 0)}

            def null_note(u, d):
                nulls = [np.nanmedian(x.null_ev) for x in u[:2]] if nb["n_null"] else [np.nan] * 2
                return f"median null EV fwd {nulls[0]:.2f} rev {nulls[1]:.2f}; max|EV - above| = {d:.1e}"

            variant(f"  + null {nb['n_null']}, bootstrap {nb['n_boot']}", null_note, **nb)
        if case.get("torch"):
            variant("neuroalign torch f64", lambda u, d: f"max|EV torch - numpy| = {d:.1e}",
                    backend="torch")  # fmt: skip
        np.savez(case["ref"], fr=f.r, frho=f.rho_pred_draws[0], rr=r.r, rrho=r.rho_pred_draws[0])
        return {"rows": rows}
    make = {
        "sklearn": lambda: _sklearn(alphas),
        "himalaya-numpy": lambda: _himalaya(alphas, "numpy"),
        "himalaya-torch": lambda: _himalaya(alphas, "torch"),
    }[case["method"]]()
    (res, _, peak) = _timed(lambda: _peer_one_draw(feats, neural, make, D))
    ref = np.load(case["ref"])
    delta = max(
        np.nanmax(np.abs(res["forward"][0] - ref["fr"])),
        np.nanmax(np.abs(res["forward"][1] - ref["frho"])),
        np.nanmax(np.abs(res["reverse"][0] - ref["rr"])),
        np.nanmax(np.abs(res["reverse"][1] - ref["rrho"])),
    )
    crit = "" if not grid else (" (LOO α)" if case["method"] == "sklearn" else " (5-fold α)")
    rows.append(
        dict(
            method=case["method"] + crit,
            tf=res["forward"][2],
            tr=res["reverse"][2],
            mem=peak / fbytes,
            note=f"1 draw timed, scaled to {D}; max Δ(r, ρ_pred) = {delta:.1e}",
        )
    )
    return {"rows": rows}


def _run_case(case):
    out = subprocess.run(
        [sys.executable, __file__, "--worker", json.dumps(case)], capture_output=True, text=True
    )
    if out.returncode != 0:
        return [
            dict(
                method=case["method"],
                tf=np.nan,
                tr=np.nan,
                mem=np.nan,
                note="failed: " + out.stderr.strip().splitlines()[-1][:80],
            )
        ]
    return json.loads(out.stdout.strip().splitlines()[-1])["rows"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1,000 units, 4 draws")
    ap.add_argument("--units", type=int, nargs="*", help="layer sizes (default 10000 50000 100352)")
    ap.add_argument("--draws", type=int, default=None, help="split-half draws (default 20)")
    ap.add_argument("--alphas", choices=["fixed", "grid", "both"], default="both")
    ap.add_argument("--peers", nargs="*", default=["sklearn", "himalaya-numpy", "himalaya-torch"])
    ap.add_argument("--no-torch", action="store_true", help="skip our torch backend")
    ap.add_argument("--no-f32", action="store_true", help="skip our float32 row")
    ap.add_argument("--null", type=int, default=0, help="also time ours with N null permutations")
    ap.add_argument("--boot", type=int, default=0, help="... and N bootstrap resamples")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return
    units = args.units or ([1000] if args.quick else [10000, 50000, 100352])
    draws = args.draws or (4 if args.quick else 20)
    settings = ["fixed", "grid"] if args.alphas == "both" else [args.alphas]
    print(
        f"workload: {N_STIM} stimuli, {N_SITES} sites x {N_REPS} repeats, 10 folds, {draws} draws"
    )
    print("times: forward / reverse / total seconds; ratio = peer total / ours (numpy f64) total;")
    print("mem = peak newly allocated memory / feature-matrix size (tracemalloc)\n")
    for setting in settings:
        for u in units:
            label = "alpha=0.1" if setting == "fixed" else "10-alpha grid, per-target (ours: GCV)"
            print(f"== {u} units, {label}")
            ref = f"/tmp/neuroalign_bench_{u}_{setting}.npz"
            base = dict(units=u, alphas=setting, draws=draws, ref=ref, torch=not args.no_torch,
                        null=args.null, boot=args.boot, f32=not args.no_f32)  # fmt: skip
            rows = _run_case(dict(base, method="ours"))
            for peer in args.peers:
                rows += _run_case(dict(base, method=peer))
            ours_total = rows[0]["tf"] + rows[0]["tr"]
            print(
                f"{'method':34s} {'fwd s':>8s} {'rev s':>8s} {'total s':>8s} {'ratio':>7s} "
                f"{'mem':>5s}  note"
            )
            for row in rows:
                total = row["tf"] + row["tr"]
                print(
                    f"{row['method']:34s} {row['tf']:8.1f} {row['tr']:8.1f} {total:8.1f} "
                    f"{total / ours_total:7.1f} {row['mem']:5.2f}  {row['note']}",
                    flush=True,
                )
            print()


if __name__ == "__main__":
    main()
