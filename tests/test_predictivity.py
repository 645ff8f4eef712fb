"""Forward / reverse / inter-animal EV against a plain loop-over-everything reference."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import pearsonr
from sklearn.linear_model import Ridge as SkRidge
from sklearn.linear_model import RidgeCV

from _helpers import SkWrapped
from neuroalign.data import NeuralData
from neuroalign.data.splits import split_half_means
from neuroalign.errors import ConfigError, DataError
from neuroalign.metrics.predictivity import (
    PredictivityWarning,
    forward_ev,
    interanimal_ev,
    reverse_ev,
)
from neuroalign.transforms.ridge import Ridge

GRID = np.logspace(-2, 4, 7)


def brute_force_ev(source, target, make_model, n_folds, n_draws, seed):
    """The documented definition, written plainly: loops over draws, folds and units."""
    rng = np.random.default_rng(seed)
    fold_rng, *draw_rngs = rng.spawn(1 + n_draws)
    n = source.shape[0]
    folds = np.array_split(fold_rng.permutation(n), n_folds)

    def oof(xs, ys):
        out = np.zeros(ys.shape)
        for te in folds:
            tr = np.setdiff1d(np.arange(n), te)
            out[te] = make_model().fit(xs[tr], ys[tr]).predict(xs[te])
        return out

    def mean(a):
        return np.nanmean(a, axis=2) if a.ndim == 3 else a

    def halves(a, g):
        return split_half_means(a, g) if a.ndim == 3 else (a, a)

    def sb(r):
        return 2 * r / (1 + r)

    s_mean, t_mean = mean(source), mean(target)
    pred = oof(s_mean, t_mean)
    units = range(t_mean.shape[1])
    r = np.array([pearsonr(pred[:, j], t_mean[:, j])[0] for j in units])
    rho_t, rho_p = [], []
    for g in draw_rngs:
        sa, sb_ = halves(source, g)
        ta, tb = halves(target, g)
        pa, pb = oof(sa, ta), oof(sb_, tb)
        rho_p.append([sb(pearsonr(pa[:, j], pb[:, j])[0]) for j in units])
        rho_t.append(
            [sb(pearsonr(ta[:, j], tb[:, j])[0]) if target.ndim == 3 else 1.0 for j in units]
        )
    rho_t, rho_p = np.mean(rho_t, axis=0), np.mean(rho_p, axis=0)
    return 100 * r**2 / (rho_t * rho_p), r, rho_t, rho_p


def _population(n=48, sites=6, reps=4, p=30, seed=0, missing=True):
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, 5))
    neural = (latent @ rng.normal(size=(5, sites)))[:, :, None] + rng.normal(size=(n, sites, reps))
    if missing:  # a few missing repeats (NaN), never below 2 valid per cell
        neural[rng.random((n, sites)) < 0.2, -1] = np.nan
    features = np.maximum(latent @ rng.normal(size=(5, p)) + 0.5 * rng.normal(size=(n, p)), 0)
    return neural, features


def _check(res, ref):
    ev, r, rho_t, rho_p = ref
    np.testing.assert_allclose(res.r, r, atol=1e-6, rtol=0)
    np.testing.assert_allclose(res.rho_target, rho_t, atol=1e-6, rtol=0)
    np.testing.assert_allclose(res.rho_pred, rho_p, atol=1e-6, rtol=0)
    np.testing.assert_allclose(res.ev, ev, atol=1e-6, rtol=0)
    assert res.valid.all()


@pytest.mark.parametrize("p", [12, 70])  # primal and dual forms
def test_forward_equals_brute_force(p):
    neural, features = _population(p=p)
    res = forward_ev(features, neural, Ridge(0.1, penalty="absolute"), n_folds=4, n_draws=3, seed=7)
    _check(res, brute_force_ev(features, neural, lambda: SkRidge(0.1), 4, 3, 7))
    assert res.direction == "forward" and res.n_draws == 3 and res.seed == 7
    np.testing.assert_array_equal(res.rho_target_draws.shape, (3, neural.shape[1]))


@pytest.mark.parametrize("p", [12, 70])
@pytest.mark.parametrize("missing", [True, False])  # False: B halves derived as 2·mean − A
def test_reverse_equals_brute_force(p, missing):
    neural, features = _population(p=p, missing=missing)
    res = reverse_ev(neural, features, Ridge(0.1, penalty="absolute"), n_folds=4, n_draws=3, seed=7)
    _check(res, brute_force_ev(neural, features, lambda: SkRidge(0.1), 4, 3, 7))
    np.testing.assert_array_equal(res.rho_target, 1.0)


def test_b_halves_are_derived_only_when_repeats_split_evenly():
    from neuroalign.data.splits import split_half_means
    from neuroalign.solvers.oof_fits import Fit, _derived_halves

    for missing, expected in [(False, {2, 4}), (True, set())]:
        neural, features = _population(missing=missing)
        mean = np.nanmean(neural, axis=2)
        halves = [h for g in np.random.default_rng(0).spawn(2) for h in split_half_means(neural, g)]

        class Plan:
            dtype = np.float64

        def fits(targets, srcs):
            roles = [("mean", 0), ("a", 0), ("b", 0), ("a", 1), ("b", 1)]
            return [Fit(s, t, r, i) for s, t, (r, i) in zip(srcs, targets, roles, strict=True)]

        plans = [Plan] * 5
        srcs = [mean, *halves]
        assert _derived_halves(fits([features] * 5, srcs), plans) == expected
        assert _derived_halves(fits([features, *halves], srcs), plans) == set()


def test_interanimal_equals_brute_force():
    neural, _ = _population(sites=10)
    a, b = neural[:, :4], neural[:, 4:]
    res = interanimal_ev(a, b, Ridge(1.0, penalty="absolute"), n_folds=4, n_draws=3, seed=2)
    _check(res, brute_force_ev(a, b, lambda: SkRidge(1.0), 4, 3, 2))


@pytest.mark.parametrize("direction", ["forward", "reverse"])
def test_per_target_alpha_equals_ridgecv(direction):
    neural, features = _population(p=40)
    src, tgt = (features, neural) if direction == "forward" else (neural, features)
    fn = forward_ev if direction == "forward" else reverse_ev
    res = fn(src, tgt, Ridge(GRID, cv="loo", penalty="absolute"), n_folds=4, n_draws=2, seed=3)
    ref = brute_force_ev(src, tgt, lambda: RidgeCV(GRID, alpha_per_target=True), 4, 2, 3)
    _check(res, ref)


def test_generic_transform_path_equals_brute_force():
    neural, features = _population(p=9)
    res = reverse_ev(neural, features, SkWrapped(0.3), n_folds=3, n_draws=2, seed=1)
    _check(res, brute_force_ev(neural, features, lambda: SkRidge(0.3), 3, 2, 1))


def test_torch_backend_equals_numpy():
    pytest.importorskip("torch")
    neural, features = _population(p=70)
    for fn, args in [(forward_ev, (features, neural)), (reverse_ev, (neural, features))]:
        a = fn(*args, Ridge(GRID, cv="gcv", penalty="absolute"), n_folds=4, n_draws=2, seed=0)
        b = fn(
            *args,
            Ridge(GRID, cv="gcv", penalty="absolute"),
            n_folds=4,
            n_draws=2,
            seed=0,
            backend="torch:cpu",
        )
        np.testing.assert_allclose(b.ev, a.ev, atol=1e-8)


def test_float32_within_a_tenth_of_a_point():
    neural, features = _population(n=80, sites=8, reps=6, p=300, missing=False)
    for fn, args in [(forward_ev, (features, neural)), (reverse_ev, (neural, features))]:
        a = fn(*args, Ridge(10.0, penalty="absolute"), n_folds=4, n_draws=3, seed=0)
        b = fn(
            *args, Ridge(10.0, penalty="absolute"), n_folds=4, n_draws=3, seed=0, dtype="float32"
        )
        assert np.nanmax(np.abs(a.ev - b.ev)) < 0.1


def test_float32_with_an_alpha_grid_within_a_tenth_of_a_point():
    """A per-target α from a fine grid: float32 picks float64's α (near ties re-decided in
    float64), so the EVs agree, in the dual form near interpolation (forward) and the primal."""
    neural, features = _population(n=80, sites=8, reps=6, p=300, missing=False)
    grid = np.logspace(-2, 7, 60)
    for fn, args in [(forward_ev, (features, neural)), (reverse_ev, (neural, features))]:
        a = fn(*args, Ridge(grid, cv="gcv", penalty="absolute"), n_folds=4, n_draws=3, seed=0)
        b = fn(
            *args,
            Ridge(grid, cv="gcv", penalty="absolute"),
            n_folds=4,
            n_draws=3,
            seed=0,
            dtype="float32",
        )
        assert np.nanmax(np.abs(a.ev - b.ev)) < 0.1


def test_pearson_of_a_constant_column_is_nan():
    from neuroalign.solvers.backend import NumpyBackend
    from neuroalign.solvers.oof_fits import pearson_from_sums as _pearson

    rng = np.random.default_rng(0)
    for dt in (np.float32, np.float64):
        b = rng.normal(size=(48, 3)).astype(dt)
        a = np.c_[np.full((48, 2), 0.1), rng.normal(size=48)].astype(dt)
        r = _pearson(NumpyBackend(), dt, a, b)
        assert np.isnan(r[:2]).all()
        np.testing.assert_allclose(r[2], pearsonr(a[:, 2], b[:, 2])[0], rtol=1e-5)


def test_neural_data_input_and_block_streaming():
    neural, features = _population(p=25)
    units = pd.DataFrame(
        {"unit_id": [f"u{i}" for i in range(neural.shape[1])], "subject": "m1", "area": "IT"}
    )
    nd = NeuralData(neural, [f"s{i}" for i in range(neural.shape[0])], units)
    a = reverse_ev(neural, features, Ridge(0.1, penalty="absolute"), n_folds=4, n_draws=2, seed=5)
    b = reverse_ev(
        nd, features, Ridge(0.1, penalty="absolute"), n_folds=4, n_draws=2, seed=5, block_size=7
    )
    np.testing.assert_allclose(b.ev, a.ev, atol=1e-10)
    c = reverse_ev(nd, features, Ridge(0.1, penalty="absolute"), n_folds=4, n_draws=2, seed=6)
    assert not np.allclose(c.ev, a.ev)  # the seed matters


def test_invalid_units_are_nan_flagged_and_warned():
    neural, features = _population(p=10, missing=False)
    features[:, 3] = 0.0  # a dead unit: constant target
    with pytest.warns(PredictivityWarning, match="constant_target: 1"):
        res = reverse_ev(
            neural, features, Ridge(0.1, penalty="absolute"), n_folds=4, n_draws=2, seed=0
        )
    assert res.flags["constant_target"][3] and np.isnan(res.ev[3]) and not res.valid[3]
    assert res.valid.sum() == features.shape[1] - 1
    rng = np.random.default_rng(0)  # repeats s + 3e and s - 3e: split-half correlation < 0
    s, e = rng.normal(size=(2, neural.shape[0], 2))
    anti = np.stack([s + 3 * e, s - 3 * e], axis=2)
    with pytest.warns(PredictivityWarning, match="unreliable_target"):
        res = forward_ev(
            features, anti, Ridge(0.1, penalty="absolute"), n_folds=4, n_draws=2, seed=0
        )
    assert res.flags["unreliable_target"].all() and np.isnan(res.ev).all()


def test_bad_input():
    neural, features = _population(p=10)
    with pytest.raises(DataError, match="repeats"):
        forward_ev(features, neural.mean(axis=2), Ridge(0.1, penalty="absolute"))
    with pytest.raises(DataError, match="stimuli"):
        forward_ev(features[:-1], neural, Ridge(0.1, penalty="absolute"))
    bad = neural.copy()
    bad[0, 0, 0] = np.inf
    with pytest.raises(DataError, match="infinite"):
        forward_ev(features, bad, Ridge(0.1, penalty="absolute"))
    bad = neural.copy()
    bad[0, 0, 1:] = np.nan
    with pytest.raises(DataError, match="2 valid repeats"):
        reverse_ev(bad, features, Ridge(0.1, penalty="absolute"))
    with pytest.raises(DataError, match="NaN"):
        forward_ev(np.full_like(features, np.nan), neural, Ridge(0.1, penalty="absolute"))
    with pytest.raises(DataError, match="numeric"):
        forward_ev(features.astype(str), neural, Ridge(0.1, penalty="absolute"))
    with pytest.raises(DataError, match="folds"):
        forward_ev(features[:5], neural[:5], Ridge(0.1, penalty="absolute"), n_folds=10)
    with pytest.raises(ConfigError, match="n_draws"):
        forward_ev(features, neural, Ridge(0.1, penalty="absolute"), n_draws=0)
    with pytest.raises(ConfigError, match="dtype"):
        forward_ev(features, neural, Ridge(0.1, penalty="absolute"), dtype="float16")


def test_parallel_blocks_are_bitwise_reproducible():
    """Blocks run on several threads; the numbers do not depend on it (nor on the block size)."""
    from threadpoolctl import threadpool_limits

    neural, features = _population(p=40)
    kw = dict(n_folds=4, n_draws=2, seed=3, block_size=8)
    a = reverse_ev(neural, features, Ridge(GRID, cv="gcv", penalty="absolute"), **kw)
    with threadpool_limits(1):
        b = reverse_ev(neural, features, Ridge(GRID, cv="gcv", penalty="absolute"), **kw)
    np.testing.assert_array_equal(a.ev, b.ev)
    c = reverse_ev(
        neural, features, Ridge(GRID, cv="gcv", penalty="absolute"), **{**kw, "block_size": 13}
    )
    np.testing.assert_allclose(c.ev, a.ev, atol=1e-10)


def test_float32_stays_float32_when_well_conditioned():
    """float32 is kept (no PrecisionWarning) when the solve is well conditioned, and the
    trial-mean predictions equal the float64 ones to float32 accuracy."""
    import warnings

    from neuroalign.solvers.ridge import PrecisionWarning

    neural, features = _population(n=80, sites=8, reps=6, p=300, missing=False)
    a = forward_ev(
        features,
        neural,
        Ridge(10.0, penalty="absolute"),
        n_folds=4,
        n_draws=2,
        return_predictions=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", PrecisionWarning)
        b = forward_ev(
            features,
            neural,
            Ridge(10.0, penalty="absolute"),
            n_folds=4,
            n_draws=2,
            dtype="float32",
            return_predictions=True,
        )
    scale = np.abs(a.predictions).max()
    np.testing.assert_allclose(b.predictions, a.predictions, atol=1e-5 * scale, rtol=0)
    assert np.nanmax(np.abs(a.ev - b.ev)) < 0.1


@pytest.mark.parametrize(
    "transform",
    [Ridge(0.1, penalty="absolute"), Ridge(GRID, cv="loo", penalty="absolute"), SkWrapped(0.1)],
)
def test_returned_predictions_are_the_trial_mean_oof(transform):
    neural, features = _population(p=40)
    res = reverse_ev(
        neural, features, transform, n_folds=4, n_draws=1, seed=4, return_predictions=True
    )
    folds = np.array_split(np.random.default_rng(4).spawn(2)[0].permutation(48), 4)
    mean = np.nanmean(neural, axis=2)
    ref = np.empty(features.shape)
    make = (
        (lambda: RidgeCV(GRID, alpha_per_target=True))
        if isinstance(transform, Ridge) and np.size(transform.alphas) > 1
        else (lambda: SkRidge(0.1))
    )
    for te in folds:
        tr = np.setdiff1d(np.arange(48), te)
        ref[te] = make().fit(mean[tr], features[tr]).predict(mean[te])
    np.testing.assert_allclose(res.predictions, ref, atol=1e-8, rtol=0)
