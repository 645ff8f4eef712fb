"""`Ridge` against scikit-learn's Ridge / RidgeCV, and its input checks."""

import numpy as np
import pytest
from sklearn.linear_model import Ridge as SkRidge
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import GridSearchCV, KFold

from neuroalign.errors import ConfigError, DataError
from neuroalign.solvers.ridge import PrecisionWarning
from neuroalign.transforms import contains
from neuroalign.transforms.ridge import Ridge

ALPHAS = np.logspace(-2, 4, 13)


def _data(n, p, t=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) + 3.0
    noise = np.geomspace(0.1, 30, t)  # targets of different SNR choose different alphas
    Y = X @ rng.normal(size=(p, t)) + noise * rng.normal(size=(n, t)) + 1.0
    return X, Y


@pytest.mark.parametrize("shape", [(60, 20), (30, 80)])
@pytest.mark.parametrize("solver", ["auto", "primal", "dual"])
def test_fixed_alpha_equals_sklearn(shape, solver):
    X, Y = _data(*shape)
    ours = Ridge(0.7, solver=solver, penalty="absolute").fit(X, Y)
    ref = SkRidge(0.7).fit(X, Y)
    np.testing.assert_allclose(ours.coef_, ref.coef_.T, atol=1e-8, rtol=0)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-8, rtol=0)
    X2, _ = _data(*shape, seed=1)
    np.testing.assert_allclose(ours.predict(X2), ref.predict(X2), atol=1e-8, rtol=0)


@pytest.mark.parametrize("shape", [(60, 20), (30, 80)])
@pytest.mark.parametrize("solver", ["primal", "dual"])
def test_loo_per_target_equals_ridgecv(shape, solver):
    X, Y = _data(*shape)
    ours = Ridge(ALPHAS, cv="loo", solver=solver, penalty="absolute").fit(X, Y)
    ref = RidgeCV(ALPHAS, alpha_per_target=True).fit(X, Y)
    np.testing.assert_array_equal(ours.alpha_, ref.alpha_)
    assert len(set(ours.alpha_)) > 1  # the per-target choice is exercised
    np.testing.assert_allclose(ours.coef_, ref.coef_.T, atol=1e-8, rtol=0)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), atol=1e-8, rtol=0)


def test_shared_alpha_equals_ridgecv():
    X, Y = _data(40, 15)
    ours = Ridge(ALPHAS, cv="loo", alpha_per_target=False, penalty="absolute").fit(X, Y)
    ref = RidgeCV(ALPHAS).fit(X, Y)
    assert np.all(ours.alpha_ == ref.alpha_)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), atol=1e-8, rtol=0)


@pytest.mark.parametrize("solver", ["primal", "dual"])
def test_kfold_equals_gridsearch(solver):
    X, Y = _data(50, 30, t=1)
    ours = Ridge(ALPHAS, cv=5, solver=solver, penalty="absolute").fit(X, Y)
    ref = GridSearchCV(SkRidge(), {"alpha": ALPHAS}, cv=KFold(5), scoring="neg_mean_squared_error")
    ref.fit(X, Y[:, 0])
    assert ours.alpha_[0] == ref.best_params_["alpha"]
    np.testing.assert_allclose(
        -ours.cv_errors_[:, 0], ref.cv_results_["mean_test_score"], rtol=1e-9
    )


@pytest.mark.parametrize("solver", ["primal", "dual"])
def test_gcv_is_the_closed_form(solver):
    """GCV(α) = n‖(I − H)y‖² / (n − tr H)² with the hat matrix H of ridge with intercept."""
    X, Y = _data(25, 10 if solver == "primal" else 40, t=2)
    ours = Ridge(ALPHAS, cv="gcv", solver=solver, penalty="absolute").fit(X, Y)
    n = X.shape[0]
    Xc = X - X.mean(0)
    for i, a in enumerate(ALPHAS):
        H = np.ones((n, n)) / n + Xc @ np.linalg.solve(Xc.T @ Xc + a * np.eye(X.shape[1]), Xc.T)
        gcv = n * ((Y - H @ Y) ** 2).sum(0) / (n - np.trace(H)) ** 2
        np.testing.assert_allclose(ours.cv_errors_[i], gcv, rtol=1e-8)
    np.testing.assert_array_equal(ours.alpha_, ALPHAS[np.argmin(ours.cv_errors_, axis=0)])


def test_torch_backend_equals_numpy():
    pytest.importorskip("torch")
    for shape in [(40, 15), (20, 50)]:
        X, Y = _data(*shape)
        a = Ridge(ALPHAS, cv="loo", penalty="absolute").fit(X, Y)
        b = Ridge(ALPHAS, cv="loo", backend="torch:cpu", penalty="absolute").fit(X, Y)
        np.testing.assert_array_equal(a.alpha_, b.alpha_)
        np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-10)


def test_float32_matches_and_ill_conditioned_switches():
    X, Y = _data(60, 20)
    ref = Ridge(1.0, penalty="absolute").fit(X, Y)
    ours = Ridge(1.0, penalty="absolute").fit(X.astype(np.float32), Y.astype(np.float32))
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-4)
    # nearly collinear columns with a tiny penalty: float32 would be wrong, so it runs in float64
    Xbad = np.c_[X, X[:, :1] + 1e-3 * np.random.default_rng(1).normal(size=(60, 1))]
    with pytest.warns(PrecisionWarning, match="float64"):
        f32 = Ridge(1e-6, penalty="absolute").fit(Xbad.astype(np.float32), Y.astype(np.float32))
    f64 = Ridge(1e-6, penalty="absolute").fit(
        Xbad.astype(np.float32).astype(np.float64), Y.astype(np.float32)
    )
    np.testing.assert_allclose(f32.predict(Xbad), f64.predict(Xbad), rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("cv", ["gcv", "loo"])
@pytest.mark.parametrize("shape", [(80, 30), (80, 400)])  # primal; dual, ridge near interpolation
def test_float32_chooses_as_float64(shape, cv):
    """With a fine grid many targets have two nearly tied α; float32 must still choose an α that
    is best in float64 (near ties are re-decided from float64 statistics), including where ridge
    nearly interpolates (p > n, small α) and textbook GCV loses every float32 digit. The float64
    reference sees the same (float32-rounded) numbers."""
    from neuroalign.metrics.crossval import kfold_indices
    from neuroalign.solvers.ridge import Design

    X, _ = _data(*shape)
    rng = np.random.default_rng(3)
    t = 600
    Y = X @ rng.normal(size=(shape[1], t)) * np.geomspace(0.02, 2, t) + rng.normal(
        size=(shape[0], t)
    )
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    X64, Y64 = X32.astype(np.float64), Y32.astype(np.float64)
    grid = np.logspace(-2, 6, 400)
    f32 = Ridge(grid, cv=cv, penalty="absolute").fit(X32, Y32)
    f64 = Ridge(grid, cv=cv, penalty="absolute").fit(X64, Y64)
    assert len(np.unique(f64.alpha_)) > 10  # the choice is exercised
    e = f64.cv_errors_
    at_f32 = e[np.searchsorted(grid, f32.alpha_), np.arange(t)]
    np.testing.assert_allclose(at_f32, e.min(axis=0), rtol=1e-12)  # best in float64
    np.testing.assert_allclose(f32.cv_errors_, e, rtol=1e-4)
    folds = kfold_indices(shape[0], 5, 0)
    p64, _ = Design(X64).cross_val_predict(Y64, folds, grid, cv)
    p32, _ = Design(X32, dtype=np.float32).cross_val_predict(Y32, folds, grid, cv)
    np.testing.assert_allclose(p32, p64, rtol=0, atol=1e-3 * Y.std())


def test_float32_near_ties_where_few_directions_are_left_out():
    """Primal form with p close to n_train: the residual outside the basis is a small difference
    of large sums in float32, so its near ties need a wider tolerance to be re-decided."""
    from neuroalign.metrics.crossval import kfold_indices
    from neuroalign.solvers.ridge import Design

    rng = np.random.default_rng(1)
    n, p, t = 80, 55, 3000
    X = rng.normal(size=(n, p)).astype(np.float32)
    Y = X @ rng.normal(size=(p, t)) * np.sqrt(100 / p) + rng.normal(size=(n, t))
    Y = Y.astype(np.float32)
    folds, grid = kfold_indices(n, 4, 0), np.logspace(np.log10(0.3), 4, 60)
    p32, _ = Design(X, dtype=np.float32).cross_val_predict(Y, folds, grid, "gcv")
    p64, _ = Design(X.astype(float)).cross_val_predict(Y.astype(float), folds, grid, "gcv")
    np.testing.assert_allclose(p32, p64, rtol=0, atol=1e-3 * Y.std())


def test_zero_variance_column_gets_zero_weight():
    X, Y = _data(30, 5)
    X[:, 2] = 4.0
    ours = Ridge(0.5, penalty="absolute").fit(X, Y)
    ref = SkRidge(0.5).fit(X, Y)
    np.testing.assert_allclose(ours.coef_[2], 0, atol=1e-12)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), atol=1e-8)


def test_registry_and_containment():
    assert Ridge.name == "ridge" and Ridge.contains == ("procrustes", "pls")
    from neuroalign.transforms.base import get

    assert get("ridge") is Ridge
    if {"procrustes", "pls"} <= set(__import__("neuroalign").transforms.registry()):
        assert contains("ridge", "procrustes")


@pytest.mark.parametrize(
    "X, Y, match",
    [
        (np.full((5, 2), np.nan), np.ones((5, 1)), "NaN"),
        (np.full((5, 2), np.inf), np.ones((5, 1)), "infinite"),
        (np.ones((5, 2)), np.ones((4, 1)), "rows"),
        (np.array([["a", "b"]] * 5), np.ones((5, 1)), "numeric"),
        (np.ones(5), np.ones((5, 1)), "2-D"),
        (np.ones((1, 2)), np.ones((1, 1)), "at least 2"),
    ],
)
def test_bad_input_is_refused(X, Y, match):
    with pytest.raises(DataError, match=match):
        Ridge(1.0, penalty="absolute").fit(X, Y)


def test_bad_parameters_are_refused():
    X, Y = _data(10, 3)
    for bad in [0.0, -1.0, [1.0, np.nan], []]:
        with pytest.raises(ConfigError, match="alphas"):
            Ridge(bad, penalty="absolute").fit(X, Y)
    with pytest.raises(ConfigError, match="cv"):
        Ridge(ALPHAS, cv="bogus", penalty="absolute").fit(X, Y)
    with pytest.raises(ConfigError, match="solver"):
        Ridge(1.0, solver="qr", penalty="absolute").fit(X, Y)
    with pytest.raises(ConfigError, match="backend"):
        Ridge(1.0, backend="jax", penalty="absolute").fit(X, Y)
    with pytest.raises(DataError, match="stimuli"):
        Ridge(ALPHAS, cv=20, penalty="absolute").fit(X, Y)
    with pytest.raises(DataError, match="not fitted"):
        Ridge().predict(X)
