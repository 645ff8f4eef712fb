"""Representational metrics against their peer libraries, measured in the same run.

One table per family; every row times ours and the peer on the same inputs and reports the time
ratio (peer / ours), the largest absolute difference of the results and the peak of memory newly
allocated during one call (tracemalloc: numpy buffers; MB; the timed runs go untraced).

- RDMs (correlation / Euclidean) of features ``(n_stimuli, n_features)``, memory-mapped float32
  (the full run: 1,320 × 100,352), against rsatoolbox ``calc_rdm`` and scipy ``pdist``.
- RDM comparison of 50 model RDMs with 8 subject RDMs over 92 stimuli (the Kriegeskorte 2008
  human-IT RDMs, 4 subjects × 2 sessions, when ``--data-dir`` has them; random RDMs otherwise),
  every method, and the noise ceiling of the 4 session-averaged subjects, against rsatoolbox.
- CKA (linear, unbiased, RBF) against netrep ``LinearCKA`` and Kornblith et al.'s reference code
  (re-typed below, with the median over distinct pairs that ours uses).
- Shape distances (Procrustes, one-to-one, soft matching, all pairs of 8 populations) against netrep
  and POT.

A missing peer is skipped with a line saying so (netrep is not on PyPI: install it from its
repository). Ours and peers: best of ``--repeats`` runs after a traced one, or that one run alone
where it takes over 10 s.

    python benchmarks/metrics.py --quick        # small sizes, ~1 minute
    python benchmarks/metrics.py                # the full run (~10 minutes)
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np

from neuroalign.metrics import ceilings, rsa, shape_metrics
from neuroalign.metrics.cka import linear_cka, rbf_cka
from neuroalign.solvers.compute import Compute

warnings.filterwarnings("ignore", message="Noise ceiling for tau")


def _measure(repeats: int, fn, *args, **kwargs):
    """``(fn(*args, **kwargs), best seconds, peak MB)``.

    Timed runs go without tracemalloc (it slows every allocation); one more, traced, run gives the
    peak memory. A run over 10 s is traced and timed at once, and not repeated."""
    tracemalloc.start()
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    first = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    if first > 10:
        return out, first, peak
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        best = min(best, time.perf_counter() - t0)
    return out, best, peak


def _have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _header(title: str) -> None:
    print(f"\n== {title}")
    print(f"{'case':34s} {'ours s':>9s} {'peer':>12s} {'peer s':>9s} {'ratio':>7s} "
          f"{'max|Δ|':>8s} {'ours MB':>8s} {'peer MB':>8s}")  # fmt: skip


def _row(case, ours, peer_name, peer, delta) -> None:
    _, t, m = ours
    if peer is None:
        print(f"{case:34s} {t:9.4f} {peer_name:>12s} {'skipped':>9s}")
        return
    _, tp, mp = peer
    print(f"{case:34s} {t:9.4f} {peer_name:>12s} {tp:9.4f} {tp / t:7.1f} {delta:8.1e} "
          f"{m:8.1f} {mp:8.1f}")  # fmt: skip


def _features(path: Path, n: int, p: int) -> np.ndarray:
    """Memory-mapped float32 ReLU features driven by a 40-d latent (written once, seeded)."""
    if not path.exists():
        rng = np.random.default_rng(0)
        mm = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, p))
        latent = rng.normal(size=(n, 40)).astype(np.float32)
        for j in range(0, p, 8192):
            w = min(8192, p - j)
            block = latent @ rng.normal(size=(40, w)).astype(np.float32) / np.sqrt(40)
            mm[:, j : j + w] = np.maximum(block + 0.7 * rng.normal(size=(n, w)), 0)
        mm.flush()
        del mm
    return np.load(path, mmap_mode="r")


def _rsatoolbox_rdm(x: np.ndarray, method: str) -> np.ndarray:
    from rsatoolbox.data import Dataset
    from rsatoolbox.rdm import calc_rdm

    return calc_rdm(Dataset(x), method=method).get_matrices()[0]


def _rsatoolbox_compare(a: np.ndarray, b: np.ndarray, method: str) -> np.ndarray:
    from rsatoolbox.rdm import RDMs, compare

    return compare(RDMs(a), RDMs(b), method=method)


def _rsatoolbox_ceiling(v: np.ndarray, method: str):
    from rsatoolbox.inference import boot_noise_ceiling
    from rsatoolbox.rdm import RDMs

    return boot_noise_ceiling(RDMs(v), method=method)


def _pot_soft_matching(x: np.ndarray, y: np.ndarray) -> float:
    import ot

    xc, yc = x - x.mean(0), y - y.mean(0)
    a, b = np.full(xc.shape[1], 1 / xc.shape[1]), np.full(yc.shape[1], 1 / yc.shape[1])
    return float(np.sqrt(ot.emd2(a, b, ot.dist(xc.T, yc.T), numItermax=10_000_000)))


def bench_rdm(n: int, p: int, repeats: int, workdir: Path, backend: str) -> None:
    from scipy.spatial.distance import pdist, squareform

    x = _features(workdir / f"features_{n}x{p}.npy", n, p)
    _header(f"RDM {n} × {p} float32 features (memory-mapped), backend {backend}")
    ref = _measure(1, lambda: squareform(pdist(np.asarray(x, dtype=np.float64), "correlation")))
    d_ref = ref[0]
    rsa_tb = _have("rsatoolbox")
    for metric, dtype in (("correlation", "float32"), ("correlation", "float64"),
                          ("euclidean", "float64")):  # fmt: skip
        ours = _measure(repeats, rsa.rdm, x, metric, compute=Compute(backend, dtype))
        if metric == "correlation":
            _row(f"{metric} {dtype} vs pdist", ours, "scipy", ref, np.abs(ours[0] - d_ref).max())
        if not rsa_tb:
            _row(f"{metric} {dtype}", ours, "rsatoolbox", None, 0)
            continue
        xa = np.asarray(x, dtype=np.float32 if dtype == "float32" else np.float64)
        method = "correlation" if metric == "correlation" else "euclidean"
        peer = _measure(1, _rsatoolbox_rdm, xa, method)
        theirs = peer[0] if metric == "correlation" else np.sqrt(peer[0] * p)  # rsatoolbox: d²/p
        _row(f"{metric} {dtype}", ours, "rsatoolbox", peer, np.abs(ours[0] - theirs).max())


def _rdm_sets(data_dir: Path | None):
    """``(models (50, 92, 92), subjects (8, m), subjects averaged over sessions (4, m), source)``."""
    rng = np.random.default_rng(1)
    n = 92
    base = rng.normal(size=(n, 30))
    if data_dir is not None and (data_dir / "kriegeskorte2008_92images").is_dir():
        from neuroalign import datasets

        ds = datasets.load("kriegeskorte2008_92", data_dir=data_dir)
        hit = ds.rdms.select(kind="hIT")
        subjects = rsa.condensed(hit)
        names = sorted(set(hit.descriptors["subject"]))
        mean = rsa.condensed(np.stack([hit.select(subject=s).rdms.mean(0) for s in names]))
        source = "Kriegeskorte 2008 hIT (4 subjects × 2 sessions)"
    else:
        subjects = rsa.condensed(
            np.stack([rsa.rdm(base + rng.normal(size=base.shape)) for _ in range(8)])
        )
        mean = (subjects[0::2] + subjects[1::2]) / 2
        source = "random (no data dir)"
    models = [rsa.rdm(base @ rng.normal(size=(30, 200)) + rng.normal(size=(n, 200)) * s)
              for s in np.linspace(0.5, 5, 45)]  # fmt: skip
    cats = rng.integers(0, 4, size=(5, n))
    models += [(c[:, None] != c[None, :]).astype(float) for c in cats]  # categorical: ties
    return np.stack(models), subjects, mean, source


def bench_compare(data_dir: Path | None, repeats: int) -> None:
    models, subjects, mean, source = _rdm_sets(data_dir)
    models = rsa.condensed(models)  # both sides get the same condensed vectors
    _header(f"RDM comparison: {len(models)} model × {len(subjects)} subject RDMs, 92 stimuli "
            f"({source}); noise ceiling of {len(mean)} subjects")  # fmt: skip
    if not _have("rsatoolbox"):
        print("rsatoolbox not installed: peer skipped")
    methods = [("cosine", "cosine"), ("pearson", "corr"), ("spearman", "spearman"),
               ("rho_a", "rho-a"), ("kendall_tau_a", "tau-a"), ("kendall_tau_b", "tau-b")]  # fmt: skip
    for ours_m, theirs_m in methods:
        ours = _measure(max(repeats, 5), rsa.compare_rdms, models, subjects, ours_m)
        nc = _measure(max(repeats, 5), ceilings.noise_ceiling, mean, ours_m)
        if not _have("rsatoolbox"):
            _row(f"compare {ours_m}", ours, "rsatoolbox", None, 0)
            continue
        peer = _measure(repeats, _rsatoolbox_compare, models, subjects, theirs_m)
        _row(f"compare {ours_m}", ours, "rsatoolbox", peer, np.abs(ours[0] - peer[0]).max())
        pnc = _measure(repeats, _rsatoolbox_ceiling, mean, theirs_m)
        _row(f"noise ceiling {ours_m}", nc, "rsatoolbox", pnc,
             np.abs(np.subtract(nc[0], pnc[0])).max())  # fmt: skip


def _kornblith_gram_linear(x):
    return x @ x.T


def _kornblith_gram_rbf(x, threshold=1.0):
    """Kornblith et al. (2019) ``gram_rbf``, with the median over distinct pairs (as ours)."""
    dot = x @ x.T
    sq = np.diag(dot)
    d2 = -2 * dot + sq[:, None] + sq[None, :]
    med = np.median(d2[np.triu_indices(len(x), 1)])
    return np.exp(-d2 / (2 * threshold**2 * med))


def _kornblith_center(gram, unbiased=False):
    gram = gram.copy()
    if unbiased:
        n = gram.shape[0]
        np.fill_diagonal(gram, 0)
        means = np.sum(gram, 0, dtype=np.float64) / (n - 2)
        means -= np.sum(means) / (2 * (n - 1))
        gram -= means[:, None]
        gram -= means[None, :]
        np.fill_diagonal(gram, 0)
    else:
        means = np.mean(gram, 0, dtype=np.float64)
        means -= np.mean(means) / 2
        gram -= means[:, None]
        gram -= means[None, :]
    return gram


def _kornblith(gram, xc, yc, unbiased):
    return _kornblith_cka(gram(xc), gram(yc), unbiased)


def _kornblith_cka(gx, gy, unbiased=False):
    gx, gy = _kornblith_center(gx, unbiased), _kornblith_center(gy, unbiased)
    return gx.ravel().dot(gy.ravel()) / (np.linalg.norm(gx) * np.linalg.norm(gy))


def bench_cka(n: int, p: int, q: int, repeats: int) -> None:
    rng = np.random.default_rng(2)
    latent = rng.normal(size=(n, 20))
    x = latent @ rng.normal(size=(20, p)) + rng.normal(size=(n, p))
    y = np.maximum(latent @ rng.normal(size=(20, q)) + rng.normal(size=(n, q)), 0)
    wide_x = np.hstack([x] * 4)
    _header(f"CKA, {n} stimuli × {p} / {q} features (wide: {4 * p})")
    for case, xx in (("linear", x), ("linear, wide (Gram route)", wide_x)):
        ours = _measure(repeats, linear_cka, xx, y)
        if _have("netrep"):
            from netrep.metrics import LinearCKA

            peer = _measure(repeats, LinearCKA().score, xx, y)
            _row(case, ours, "netrep", peer, abs(ours[0] - np.cos(peer[0])))
        else:
            _row(case, ours, "netrep", None, 0)
    for case, unbiased, gram in (("linear unbiased", True, _kornblith_gram_linear),
                                 ("rbf", False, _kornblith_gram_rbf),
                                 ("rbf unbiased", True, _kornblith_gram_rbf)):  # fmt: skip
        fn = linear_cka if gram is _kornblith_gram_linear else rbf_cka
        ours = _measure(repeats, fn, x, y, unbiased=unbiased)
        xc, yc = x - x.mean(0), y - y.mean(0)
        peer = _measure(repeats, _kornblith, gram, xc, yc, unbiased)
        _row(case, ours, "Kornblith", peer, abs(ours[0] - peer[0]))


def bench_shapes(n: int, units: int, repeats: int) -> None:
    rng = np.random.default_rng(3)
    latent = rng.normal(size=(n, 30))
    pops = [latent @ rng.normal(size=(30, units)) + rng.normal(size=(n, units)) for _ in range(8)]
    x, y = pops[0], pops[1]
    _header(f"Shape distances, {n} stimuli × {units} units (8 populations for the pairwise row)")
    have_netrep = _have("netrep")
    if have_netrep:
        from netrep.metrics import LinearMetric, PermutationMetric
    for case, metric, alpha in (("procrustes angular", "angular", 1.0),
                                ("procrustes euclidean", "euclidean", 1.0),
                                ("procrustes angular alpha=0.5", "angular", 0.5)):  # fmt: skip
        ours = _measure(
            repeats, shape_metrics.procrustes_distance, x, y, metric=metric, alpha=alpha
        )
        peer = (
            _measure(repeats, LinearMetric(alpha=alpha, score_method=metric).fit_score, x, y)
            if have_netrep
            else None
        )
        _row(case, ours, "netrep", peer, abs(ours[0] - peer[0]) if peer else 0)
    for case, metric in (("one-to-one angular", "angular"), ("one-to-one euclidean", "euclidean")):
        ours = _measure(repeats, shape_metrics.one_to_one_distance, x, y, metric=metric)
        peer = (
            _measure(repeats, PermutationMetric(score_method=metric).fit_score, x, y)
            if have_netrep
            else None
        )
        _row(case, ours, "netrep", peer, abs(ours[0] - peer[0]) if peer else 0)
    if have_netrep:
        pairs = [(i, j) for i in range(8) for j in range(i + 1, 8)]

        def netrep_all():
            out = np.zeros((8, 8))
            for i, j in pairs:
                out[i, j] = out[j, i] = LinearMetric(alpha=1.0).fit_score(pops[i], pops[j])
            return out

        ours = _measure(repeats, shape_metrics.shape_distances, pops)
        peer = _measure(repeats, netrep_all)
        _row("procrustes, all 28 pairs", ours, "netrep", peer, np.abs(ours[0] - peer[0]).max())
    soft = min(units, 200)  # POT's network simplex on equal masses degenerates: keep it small
    xs = x[:, :soft]
    for case, yy in (
        (f"soft matching, {soft} units each", y[:, :soft]),
        (f"soft matching, {soft} vs {soft * 2 // 3} units", y[:, : soft * 2 // 3]),
    ):
        ours = _measure(repeats, shape_metrics.soft_matching_distance, xs, yy)

        peer = _measure(repeats, _pot_soft_matching, xs, yy)
        _row(case, ours, "POT", peer, abs(ours[0] - peer[0]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes (about a minute)")
    ap.add_argument("--repeats", type=int, default=3, help="runs per measurement (best kept)")
    ap.add_argument("--data-dir", type=Path, default=Path(os.environ.get("NEUROALIGN_DATA", "")))
    ap.add_argument("--backend", default="numpy", help="compute backend of our RDMs")
    ap.add_argument("--only", choices=["rdm", "compare", "cka", "shapes"], nargs="*")
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "na_bench")
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    data_dir = args.data_dir if str(args.data_dir) else None
    only = set(args.only or ["rdm", "compare", "cka", "shapes"])
    for peer in ("rsatoolbox", "netrep", "ot"):
        if not _have(peer):
            print(f"peer {peer} not installed: its rows are skipped")
    if "rdm" in only:
        bench_rdm(*((300, 8192) if args.quick else (1320, 100352)), args.repeats, args.workdir,
                  args.backend)  # fmt: skip
    if "compare" in only:
        bench_compare(data_dir, args.repeats)
    if "cka" in only:
        bench_cka(*((300, 256, 128) if args.quick else (1320, 2048, 1024)), args.repeats)
    if "shapes" in only:
        bench_shapes(*((200, 100) if args.quick else (1320, 500)), args.repeats)


if __name__ == "__main__":
    main()
