"""PLS equals scikit-learn's PLSRegression and reduces to least squares at full rank."""

import numpy as np
import pytest
from sklearn.cross_decomposition import PLSSVD, PLSRegression
from sklearn.linear_model import LinearRegression

from neuroalign.errors import ConfigError
from neuroalign.transforms.pls import PLS


def _data(q, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(120, 30)) * np.geomspace(10, 0.1, 30)
    Y = X @ rng.normal(size=(30, q)) + 0.5 * rng.normal(size=(120, q))
    return X, Y


@pytest.mark.parametrize("k", [1, 4, 25])
@pytest.mark.parametrize("scale", [False, True])
def test_single_target_equals_sklearn(k, scale):
    # PLS1: scikit-learn needs no iteration, so it is exact
    X, Y = _data(1)
    ref = PLSRegression(n_components=k, scale=scale).fit(X, Y).predict(X)
    np.testing.assert_allclose(PLS(k, scale=scale).fit(X, Y).predict(X), ref, rtol=0, atol=1e-8)


@pytest.mark.parametrize("k", [1, 3, 8])
def test_multi_target_equals_converged_sklearn(k):
    # PLS2: scikit-learn's NIPALS stops at ‖Δw‖² < tol, so compare with a tight tol
    X, Y = _data(12)
    ref = PLSRegression(n_components=k, scale=False, tol=1e-15, max_iter=10_000).fit(X, Y)
    np.testing.assert_allclose(PLS(k).fit(X, Y).predict(X), ref.predict(X), rtol=0, atol=1e-6)


def test_first_component_is_the_top_singular_pair():
    X, Y = _data(6)
    w = PLSSVD(n_components=1, scale=False).fit(X, Y).x_weights_[:, 0]
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    t = Xc @ w
    expected = np.outer(w, Yc.T @ t / (t @ t))
    np.testing.assert_allclose(PLS(1).fit(X, Y).coef_, expected, atol=1e-10)


def test_components_capped_at_rank_and_full_rank_is_least_squares():
    X, Y = _data(5)
    m = PLS(25).fit(X[:, :10], Y)
    assert m.n_components_ == 10
    ols = LinearRegression().fit(X[:, :10], Y).predict(X[:, :10])
    np.testing.assert_allclose(m.predict(X[:, :10]), ols, atol=1e-8)
    assert PLS(25).fit(X[:8], Y[:8]).n_components_ <= 7  # centred rank ≤ n − 1


def test_bad_n_components():
    X, Y = _data(2)
    for bad in (0, 2.5, True):
        with pytest.raises(ConfigError, match="n_components"):
            PLS(bad).fit(X, Y)
