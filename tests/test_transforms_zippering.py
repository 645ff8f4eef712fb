"""Zippering: recovery of a known linear–nonlinear map, comparison with linear least squares."""

import numpy as np
import pytest
from scipy.optimize import approx_fprime
from sklearn.base import clone
from sklearn.linear_model import LinearRegression

from neuroalign.errors import ConfigError, DataError
from neuroalign.solvers.glm import (
    _loss_and_grad,
    fit_glm,
    softplus,
    softplus_inverse,
    weighted_ridge,
)
from neuroalign.transforms.zippering import Zippering


def _r2(pred, true):
    return np.mean(1 - ((pred - true) ** 2).sum(0) / ((true - true.mean(0)) ** 2).sum(0))


@pytest.fixture(scope="module")
def softplus_data():
    rng = np.random.default_rng(0)
    n, p, q = 200, 12, 10
    H = rng.normal(size=(n, p))
    W = 2 * rng.normal(size=(p, q)) / np.sqrt(p)
    b = 0.5 * rng.normal(size=q)
    Y = softplus(H @ W + b) + 0.01 * rng.normal(size=(n, q))
    return softplus(H), Y, W, b


def test_softplus_inverse_round_trip():
    x = np.geomspace(1e-6, 60, 50)[:, None]
    np.testing.assert_allclose(softplus(softplus_inverse(x, 1e-7)), x, rtol=1e-10)
    assert (
        softplus_inverse(np.array([[0.0, -1.0]]), 1e-3).max()
        == softplus_inverse(np.array([[1e-3]]), 0).item()
    )


@pytest.mark.parametrize("kind", ["gaussian", "poisson", "bernoulli"])
def test_loss_gradient_matches_finite_differences(kind):
    rng = np.random.default_rng(1)
    H = rng.normal(size=(6, 1))
    Y = (rng.random((6, 1)) > 0.5).astype(float) if kind == "bernoulli" else rng.random((6, 1))
    _, grad = _loss_and_grad(kind, H, Y)
    num = approx_fprime(H[:, 0], lambda h: _loss_and_grad(kind, h[:, None], Y)[0][0], 1e-7)
    np.testing.assert_allclose(grad[:, 0], num, rtol=1e-5, atol=1e-6)


def test_recovers_map_and_beats_linear_on_zippered_data(softplus_data):
    X, Y, W, b = softplus_data
    m = Zippering(scale=None).fit(X[:150], Y[:150])  # the map in the data's own units
    np.testing.assert_allclose(m.coef_, W, atol=0.05)
    np.testing.assert_allclose(m.intercept_, b, atol=0.05)
    assert m.clipped_fraction_ == 0.0
    zip_r2 = _r2(m.predict(X[150:]), Y[150:])
    lin_r2 = _r2(LinearRegression().fit(X[:150], Y[:150]).predict(X[150:]), Y[150:])
    assert zip_r2 > 0.99
    assert zip_r2 > lin_r2 + 0.1


def test_linear_least_squares_wins_on_linear_data():
    rng = np.random.default_rng(2)
    X = rng.gamma(2.0, 1.0, size=(200, 12))
    Y = X @ (rng.normal(size=(12, 8)) / np.sqrt(12)) + 0.3 * rng.normal(size=(200, 8))
    Y -= Y.min(0) - 0.5  # positive targets, so the softplus output is not trivially wrong
    zip_r2 = _r2(Zippering().fit(X[:150], Y[:150]).predict(X[150:]), Y[150:])
    lin_r2 = _r2(LinearRegression().fit(X[:150], Y[:150]).predict(X[150:]), Y[150:])
    assert lin_r2 > zip_r2 + 0.01


def test_targets_are_fitted_independently(softplus_data):
    X, Y, _, _ = softplus_data
    together = Zippering(alphas=(1e-3,)).fit(X, Y).predict(X)
    alone = Zippering(alphas=(1e-3,)).fit(X, Y[:, [3]]).predict(X)
    np.testing.assert_allclose(together[:, [3]], alone, atol=1e-4)


def test_cv_selects_from_grid_per_target(softplus_data):
    X, Y, _, _ = softplus_data
    noise = np.random.default_rng(3).normal(size=(200, 1)) ** 2
    m = Zippering(alphas=(1e-5, 1e-2, 10.0)).fit(X, np.hstack([Y[:, :2], noise]))
    assert m.cv_loss_.shape == (3, 3)
    np.testing.assert_array_equal(m.alpha_, np.array([1e-5, 1e-2, 10.0])[m.cv_loss_.argmin(0)])
    assert m.alpha_[2] == 10.0  # a pure-noise target is best predicted by its mean
    assert m.alpha_[0] < 10.0


def test_relu_hurdle_beats_linear_on_relu_data():
    rng = np.random.default_rng(4)
    H = rng.normal(size=(240, 10))
    X = np.maximum(H, 0)
    W = rng.normal(size=(10, 6))
    Z = X @ W + 0.05 * rng.normal(size=(240, 6))
    Y = np.maximum(Z - np.median(Z, axis=0), 0)
    assert np.all((0.2 < (Y == 0).mean(0)) & ((Y == 0).mean(0) < 0.8))
    m = Zippering(activation="relu_hurdle").fit(X[:180], Y[:180])
    hurdle_r2 = _r2(m.predict(X[180:]), Y[180:])
    lin_r2 = _r2(LinearRegression().fit(X[:180], Y[:180]).predict(X[180:]), Y[180:])
    assert hurdle_r2 > lin_r2 + 0.05
    assert m.gate_coef_.shape == (10, 6)


def test_poisson_loss_recovers_rates():
    rng = np.random.default_rng(5)
    H = rng.normal(size=(600, 4))
    W = rng.normal(size=(4, 3))
    rate = softplus(H @ W + 1.0)
    m = Zippering(loss="poisson", scale=None).fit(softplus(H), rng.poisson(rate).astype(float))
    np.testing.assert_allclose(m.coef_, W, atol=0.35)


def test_seed_determinism(softplus_data):
    X, Y, _, _ = softplus_data
    a = Zippering(seed=7).fit(X[:80], Y[:80, :3])
    b = Zippering(seed=7).fit(X[:80], Y[:80, :3])
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    np.testing.assert_array_equal(a.cv_loss_, b.cv_loss_)


def test_bad_configuration_and_data(softplus_data):
    X, Y, _, _ = softplus_data
    with pytest.raises(ConfigError, match="relu_hurdle"):
        Zippering(activation="relu_hurdle", loss="poisson").fit(X, Y)
    with pytest.raises(ConfigError, match="activation"):
        Zippering(activation="sigmoid").fit(X, Y)
    with pytest.raises(ConfigError, match="alphas"):
        Zippering(alphas=(-1.0,)).fit(X, Y)
    with pytest.raises(ConfigError, match="cv"):
        Zippering(cv=1).fit(X, Y)
    with pytest.raises(ConfigError, match="n_threads"):
        Zippering(n_threads=0).fit(X, Y)
    with pytest.raises(DataError, match="non-negative"):
        Zippering(loss="poisson").fit(X, Y - 10)
    with pytest.raises(DataError, match="at least cv"):
        Zippering(cv=5).fit(X[:3], Y[:3])
    with pytest.raises(DataError, match="at least cv"):
        Zippering().fit(X[:2], Y[:2])
    with pytest.raises(ConfigError, match="alo"):
        Zippering(cv="loo").fit(X, Y)


def test_softplus_refuses_relu_like_sources():
    rng = np.random.default_rng(6)
    X = np.maximum(rng.normal(size=(40, 3)) - 0.5, 0)
    with pytest.raises(DataError, match="relu_hurdle"):
        Zippering().fit(X, X + 1)


@pytest.mark.parametrize("kind", ["gaussian", "poisson", "bernoulli"])
def test_newton_matches_lbfgs(kind, monkeypatch):
    import neuroalign.solvers.glm as z

    rng = np.random.default_rng(8)
    F = rng.normal(size=(150, 6))
    H = 0.5 + F @ rng.normal(size=(6, 4)) / 2
    Y = {
        "gaussian": softplus(H) + 0.1 * rng.normal(size=H.shape),
        "poisson": rng.poisson(softplus(H)).astype(float),
        "bernoulli": (rng.random(H.shape) < 1 / (1 + np.exp(-H))).astype(float),
    }[kind]
    alpha, B0 = np.full(4, 1e-2), np.zeros((7, 4))
    newton = z.fit_glm(F, Y, alpha, kind, B0, tol=1e-9)
    monkeypatch.setattr(z, "_NEWTON_MAX_DIM", 0)  # the L-BFGS-B path as the reference
    lbfgs = z.fit_glm(F, Y, alpha, kind, B0, max_iter=5000, tol=1e-10)
    np.testing.assert_allclose(newton, lbfgs, atol=1e-5)


@pytest.mark.parametrize("activation", ["softplus", "relu_hurdle"])
def test_frozen_warm_start_changes_the_start_not_the_fit(softplus_data, activation):
    X, Y, _, _ = softplus_data
    if activation == "relu_hurdle":
        Y = np.maximum(Y - np.median(Y, axis=0), 0.0)
    m = Zippering(activation=activation, alphas=(1e-3, 1e-1)).fit(X[:100], Y[:100])
    frozen = m.frozen()
    assert frozen.warm_start.shape == (X.shape[1] + 1, Y.shape[1])
    np.testing.assert_array_equal(frozen.alpha, m.alpha_)
    warm = frozen.fit(X[100:], Y[100:])
    cold = clone(frozen).set_params(warm_start=None).fit(X[100:], Y[100:])
    scale = Y[100:].std(0)
    assert (np.abs(warm.predict(X) - cold.predict(X)) / scale).max() < 1e-3
    with pytest.raises(ConfigError, match="warm_start"):
        clone(frozen).set_params(warm_start=np.zeros((3, 3))).fit(X, Y)


@pytest.mark.parametrize("kind", ["gaussian", "poisson", "bernoulli"])
def test_approximate_loo_matches_refits_without_each_stimulus(kind):
    """One closed-form Newton step per left-out stimulus lands near the exact leave-one-out fit."""
    rng = np.random.default_rng(3)
    n, p, m = 50, 4, 3
    F = rng.normal(size=(n, p))
    H = 0.3 + F @ (rng.normal(size=(p, m)) / 2)
    Y = {
        "gaussian": softplus(H) + 0.2 * rng.normal(size=(n, m)),
        "poisson": rng.poisson(softplus(H)).astype(float),
        "bernoulli": (rng.random((n, m)) < 1 / (1 + np.exp(-H))).astype(float),
    }[kind]
    alpha = np.array([1e-3, 1e-2, 1e-1])
    B0 = np.zeros((p + 1, m))
    B, h_alo = fit_glm(F, Y, alpha, kind, B0, tol=1e-8, loo=True)
    h_full = B[0] + F @ B[1:]
    exact = np.empty((n, m))
    for i in range(n):
        keep = np.arange(n) != i
        # the objective weights the loss by 1/n: keep that weight without stimulus i
        Bi = fit_glm(F[keep], Y[keep], alpha, kind, B, np.full(m, (n - 1) / n), tol=1e-8)
        exact[i] = Bi[0] + F[i] @ Bi[1:]
    shift = np.abs(exact - h_full).max()
    assert shift > 1e-3  # leaving a stimulus out does move the fit
    assert np.abs(h_alo - exact).max() < 0.1 * shift


def test_hurdle_value_loo_equals_refits():
    rng = np.random.default_rng(4)
    n, p, q = 40, 3, 2
    F = rng.normal(size=(n, p))
    Y = np.maximum(F @ rng.normal(size=(p, q)) + 0.3 * rng.normal(size=(n, q)), 0)
    mask = Y > 0
    alpha = np.array([[0.01, 0.1], [1.0, 1.0]])
    B, loo = weighted_ridge(F, Y, mask, alpha, with_loo=True)
    for i in range(n):
        keep = np.arange(n) != i
        # the objective's 1/n_t scaling changes with n_t: rescale the penalty to match
        n_t = mask.sum(0)
        scaled = alpha * np.where(mask[i], n_t / (n_t - 1), 1.0)
        Bi = weighted_ridge(F[keep], Y[keep], mask[keep], scaled)
        pred = Bi[0] + F[i] @ Bi[1:]
        np.testing.assert_allclose(loo[i], pred, atol=1e-10)


def test_alo_and_kfold_searches_agree_on_a_known_map(softplus_data):
    X, Y, W, b = softplus_data
    alo = Zippering(alphas=(1e-5, 1e-2, 10.0), scale=None).fit(X, Y)
    kfold = Zippering(alphas=(1e-5, 1e-2, 10.0), cv=5, scale=None).fit(X, Y)
    assert (alo.alpha_ < 10).all() and (kfold.alpha_ < 10).all()  # the true map is not tiny
    np.testing.assert_allclose(alo.coef_, W, atol=0.05)
