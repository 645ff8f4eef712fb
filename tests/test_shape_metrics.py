"""Shape distances against netrep's algorithms re-derived here and POT, and their mathematics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linear_sum_assignment

from neuroalign.data.align import AlignmentWarning
from neuroalign.errors import ConfigError, DataError
from neuroalign.metrics.shape_metrics import (
    one_to_one_distance,
    procrustes_distance,
    shape_distances,
    soft_matching_distance,
)


def _pad(x, y):
    w = max(x.shape[1], y.shape[1])
    return (np.pad(x, ((0, 0), (0, w - x.shape[1]))), np.pad(y, ((0, 0), (0, w - y.shape[1]))))


def _netrep_whiten(x, alpha, tol=1e-7):
    """netrep.utils.whiten(x, alpha, preserve_variance=True)."""
    if alpha > 1 - tol:
        return x
    lam, v = np.linalg.eigh(x.T @ x)
    lam = np.maximum(lam, tol)
    d = alpha + (1 - alpha) * lam ** (-1 / 2)
    new_var = np.sum(alpha**2 * lam + 2 * alpha * (1 - alpha) * lam**0.5 + (1 - alpha) ** 2)
    d *= np.sqrt(np.sum(lam) / new_var)
    return x @ ((v * d) @ v.T)


def _score(tx, ty, metric):
    if metric == "euclidean":
        return np.linalg.norm(tx - ty)
    c = np.vdot(tx, ty) / (np.linalg.norm(tx) * np.linalg.norm(ty))
    return np.arccos(np.clip(c, -1, 1))


def _netrep_linear(x, y, alpha, metric):
    """netrep LinearMetric(alpha, center_columns=True, zero_pad=True).fit_score(x, y)."""
    x, y = _pad(x - x.mean(0), y - y.mean(0))
    xw, yw = _netrep_whiten(x, alpha), _netrep_whiten(y, alpha)
    u, _, vt = np.linalg.svd(xw.T @ yw)
    return _score(xw @ u, yw @ vt.T, metric)


def _netrep_permutation(x, y, metric):
    """netrep PermutationMetric(center_columns=True, zero_pad=True).fit_score(x, y)."""
    x, y = _pad(x - x.mean(0), y - y.mean(0))
    px, py = linear_sum_assignment(x.T @ y, maximize=True)
    return _score(x[:, px], y[:, py], metric)


def _pair(rng, n, p, q):
    x = rng.normal(size=(n, p))
    y = x[:, : min(p, q)] @ rng.normal(size=(min(p, q), q)) + rng.normal(size=(n, q)) + 2.0
    return x, y


SHAPES = [(50, 8, 8), (50, 8, 13), (30, 60, 45), (20, 20, 20)]


@pytest.mark.parametrize(("n", "p", "q"), SHAPES)
@pytest.mark.parametrize("alpha", [1.0, 0.5, 0.0])
@pytest.mark.parametrize("metric", ["angular", "euclidean"])
def test_procrustes_equals_netrep(n, p, q, alpha, metric):
    x, y = _pair(np.random.default_rng(0), n, p, q)
    ref = _netrep_linear(x, y, alpha, metric)
    got = procrustes_distance(x, y, metric=metric, alpha=alpha)
    # full whitening (alpha = 0) amplifies netrep's rounding (1e-8 where the distance is 0)
    assert got == pytest.approx(ref, rel=1e-9, abs=1e-7 if alpha == 0 else 1e-10)


@pytest.mark.parametrize(("n", "p", "q"), SHAPES)
@pytest.mark.parametrize("metric", ["angular", "euclidean"])
def test_one_to_one_equals_netrep(n, p, q, metric):
    x, y = _pair(np.random.default_rng(1), n, p, q)
    got = one_to_one_distance(x, y, metric=metric)
    assert got == pytest.approx(_netrep_permutation(x, y, metric), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize(("p", "q"), [(12, 12), (12, 7), (5, 9)])
def test_soft_matching_equals_pot(p, q):
    import ot

    rng = np.random.default_rng(2)
    x, y = _pair(rng, 40, p, q)
    xc, yc = x - x.mean(0), y - y.mean(0)
    ref = np.sqrt(ot.emd2(np.full(p, 1 / p), np.full(q, 1 / q), ot.dist(xc.T, yc.T)))
    assert soft_matching_distance(x, y) == pytest.approx(ref, rel=1e-12)
    if p < q:  # an entropic plan costs at least the optimum
        assert ref - 1e-9 <= soft_matching_distance(x, y, method="sinkhorn", reg=0.5) <= 2 * ref


def test_isometries_give_distance_zero():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(40, 10)) * np.linspace(0.5, 3, 10)
    q, _ = np.linalg.qr(rng.normal(size=(10, 10)))
    perm = rng.permutation(10)
    for metric in ("angular", "euclidean"):
        assert procrustes_distance(x, x @ q + 5.0, metric=metric) < 1e-12
        assert procrustes_distance(x, x @ q, metric=metric, alpha=0.3) < 1e-12
        assert one_to_one_distance(x, x[:, perm] - 1.0, metric=metric) < 1e-12
        assert procrustes_distance(x, rng.normal(size=(40, 10)), metric=metric) > 0.1
    assert soft_matching_distance(x, x[:, perm]) < 1e-12
    # with equal unit counts the optimal plan is a permutation: one-to-one / sqrt(units)
    y = rng.normal(size=(40, 10))
    ratio = one_to_one_distance(x, y, metric="euclidean") / np.sqrt(10)
    assert soft_matching_distance(x, y) == pytest.approx(ratio, rel=1e-12)


def test_wide_populations_use_the_qr_factor():
    rng = np.random.default_rng(4)
    x, y = _pair(rng, 15, 300, 200)
    ref = _netrep_linear(x, y, 1.0, "angular")
    assert procrustes_distance(x, y) == pytest.approx(ref, abs=1e-12)
    q, _ = np.linalg.qr(rng.normal(size=(300, 300)))
    assert procrustes_distance(x, x @ q, metric="euclidean") < 1e-10


def test_all_pairs_share_factors_and_equal_single_pairs():
    rng = np.random.default_rng(5)
    pops = [rng.normal(size=(30, w)) for w in (6, 9, 6, 12)]
    for kind in ("procrustes", "one_to_one", "soft_matching"):
        d = shape_distances(pops, kind=kind, metric="euclidean")
        assert np.allclose(d, d.T) and not np.diag(d).any()
        single = {"procrustes": procrustes_distance, "one_to_one": one_to_one_distance}
        fn = single.get(kind, lambda a, b, metric: soft_matching_distance(a, b))
        assert d[1, 3] == pytest.approx(fn(pops[1], pops[3], metric="euclidean"), rel=1e-12)
    cross = shape_distances(pops[:2], pops[2:], alpha=0.5)
    assert cross.shape == (2, 2)
    assert cross[1, 0] == pytest.approx(procrustes_distance(pops[1], pops[2], alpha=0.5), rel=1e-12)


def test_torch_cpu_equals_numpy():
    pytest.importorskip("torch")
    x, y = _pair(np.random.default_rng(6), 30, 7, 9)
    for fn in (procrustes_distance, one_to_one_distance, soft_matching_distance):
        assert fn(x, y, compute="torch:cpu") == pytest.approx(fn(x, y), rel=1e-12)


def test_populations_are_joined_on_stimulus_ids():
    rng = np.random.default_rng(7)
    x, y = _pair(rng, 25, 5, 6)
    ids = [f"s{i}" for i in range(25)]
    perm = rng.permutation(25)
    dx = pd.DataFrame(x, index=ids)
    dy = pd.DataFrame(y[perm], index=[ids[i] for i in perm])
    for fn in (procrustes_distance, one_to_one_distance, soft_matching_distance):
        assert fn(dx, dy) == pytest.approx(fn(x, y), rel=1e-12)
    with pytest.raises(DataError, match="share no stimulus id"):
        procrustes_distance(dx, pd.DataFrame(y, index=[f"t{i}" for i in range(25)]))
    with pytest.raises(DataError, match="lacks stimuli"), pytest.warns(AlignmentWarning):
        shape_distances([dx, dy.iloc[:20]])


def test_bad_parameters_raise():
    x = np.random.default_rng(8).normal(size=(10, 3))
    with pytest.raises(ConfigError, match="metric"):
        procrustes_distance(x, x, metric="cosine")
    with pytest.raises(ConfigError, match="alpha"):
        procrustes_distance(x, x, alpha=1.5)
    with pytest.raises(ConfigError, match="kind"):
        shape_distances([x, x], kind="cca")
    with pytest.raises(DataError, match="constant"):
        one_to_one_distance(x, np.ones((10, 3)))
