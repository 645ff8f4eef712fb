"""k-fold over stimuli and out-of-fold predictions, fast Ridge path against scikit-learn."""

import numpy as np
import pytest
from sklearn.linear_model import Ridge as SkRidge
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import cross_val_predict as sk_cross_val_predict

from _helpers import SkWrapped
from neuroalign.errors import ConfigError, DataError
from neuroalign.metrics.crossval import cross_val_predict, kfold_indices
from neuroalign.transforms.ridge import Ridge


def _data(n, p, t=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    Y = X @ rng.normal(size=(p, t)) + np.geomspace(0.3, 10, t) * rng.normal(size=(n, t))
    return X, Y


def test_kfold_partitions_and_is_seeded():
    folds = kfold_indices(23, 5, seed=3)
    assert len(folds) == 5 and sorted(len(f) for f in folds) == [4, 4, 5, 5, 5]
    np.testing.assert_array_equal(np.sort(np.concatenate(folds)), np.arange(23))
    perm = np.random.default_rng(3).permutation(23)
    expected = [np.sort(f) for f in np.array_split(perm, 5)]
    for a, b in zip(folds, expected, strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(
        not np.array_equal(a, b) for a, b in zip(folds, kfold_indices(23, 5, seed=4), strict=True)
    )


@pytest.mark.parametrize("shape", [(40, 10), (30, 60)])
@pytest.mark.parametrize("alphas", [0.5, np.logspace(-2, 3, 6)])
def test_fast_ridge_equals_sklearn_per_fold(shape, alphas):
    X, Y = _data(*shape)
    folds = kfold_indices(shape[0], 5, seed=1)
    splits = [(np.setdiff1d(np.arange(shape[0]), te), te) for te in folds]
    ref_est = SkRidge(alphas) if np.ndim(alphas) == 0 else RidgeCV(alphas, alpha_per_target=True)
    ref = sk_cross_val_predict(ref_est, X, Y, cv=splits)
    ours = cross_val_predict(Ridge(alphas, cv="loo", penalty="absolute"), X, Y, folds=folds)
    np.testing.assert_allclose(ours, ref, atol=1e-8, rtol=0)


def test_generic_path_equals_fast_path():
    X, Y = _data(30, 8)
    fast = cross_val_predict(Ridge(2.0, penalty="absolute"), X, Y, n_folds=6, seed=2)
    generic = cross_val_predict(SkWrapped(2.0), X, Y, n_folds=6, seed=2)
    np.testing.assert_allclose(fast, generic, atol=1e-10)


def test_torch_and_float32_fast_path():
    pytest.importorskip("torch")
    X, Y = _data(40, 70)
    ref = cross_val_predict(Ridge(np.logspace(-1, 3, 5), penalty="absolute"), X, Y, seed=0)
    tor = cross_val_predict(
        Ridge(np.logspace(-1, 3, 5), backend="torch:cpu", penalty="absolute"), X, Y, seed=0
    )
    np.testing.assert_allclose(tor, ref, atol=1e-10)
    f32 = cross_val_predict(Ridge(10.0, penalty="absolute"), X, Y, seed=0, dtype=np.float32)
    np.testing.assert_allclose(
        f32, cross_val_predict(Ridge(10.0, penalty="absolute"), X, Y, seed=0), rtol=1e-4, atol=1e-4
    )


def test_bad_input():
    X, Y = _data(8, 3)
    with pytest.raises(DataError, match="folds"):
        cross_val_predict(Ridge(), X, Y, n_folds=10)
    with pytest.raises(ConfigError, match="n_folds"):
        kfold_indices(8, 1)
    with pytest.raises(DataError, match="partition"):
        cross_val_predict(Ridge(), X, Y, folds=[np.arange(4), np.arange(3)])
    with pytest.raises(DataError, match="rows"):
        cross_val_predict(Ridge(), X, Y[:7])
    with pytest.raises(ConfigError, match="Transform"):
        cross_val_predict(SkRidge(), X, Y, n_folds=2)
    with pytest.raises(DataError, match="seed"):
        kfold_indices(8, 2, seed=None)


@pytest.mark.parametrize("shape", [(40, 10), (40, 25), (30, 60)])  # factored, dense primal, dual
def test_fast_gcv_equals_per_fold_fits(shape):
    """The fold plan's per-target GCV equals a Ridge fitted on each training fold (whose GCV is
    checked against the hat-matrix closed form in test_ridge.py)."""
    X, Y = _data(*shape, t=5)
    folds = kfold_indices(shape[0], 4, seed=2)
    grid = np.logspace(-2, 4, 7)
    ref = np.empty(Y.shape)
    for te in folds:
        tr = np.setdiff1d(np.arange(shape[0]), te)
        ref[te] = Ridge(grid, cv="gcv", penalty="absolute").fit(X[tr], Y[tr]).predict(X[te])
    ours = cross_val_predict(Ridge(grid, cv="gcv", penalty="absolute"), X, Y, folds=folds)
    np.testing.assert_allclose(ours, ref, atol=1e-8, rtol=0)
    fixed = cross_val_predict(Ridge(0.3, penalty="absolute"), X, Y, folds=folds)
    ref_fixed = sk_cross_val_predict(
        SkRidge(0.3), X, Y, cv=[(np.setdiff1d(np.arange(shape[0]), te), te) for te in folds]
    )
    np.testing.assert_allclose(fixed, ref_fixed, atol=1e-8, rtol=0)
