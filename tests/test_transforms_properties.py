"""Properties shared by the transform classes: shapes, equivariances, estimator API, bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import ortho_group
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from neuroalign.errors import DataError
from neuroalign.transforms import registry
from neuroalign.transforms.procrustes import Procrustes
from neuroalign.transforms.zippering import Zippering

#: every registered class, built with the small settings it declares (``test_params``)
FACTORIES = {name: (lambda c=cls: c(**c.test_params)) for name, cls in registry().items()}
LINEAR_FAMILY = ["one_to_one", "soft_matching", "procrustes", "pls", "ridge"]
SETTINGS = settings(max_examples=20, deadline=None)


def _xy(seed, n, p, q, positive=False):
    rng = np.random.default_rng(seed)
    X, Y = rng.normal(size=(n, p)), rng.normal(size=(n, q))
    if positive:
        X, Y = np.abs(X) + 0.1, np.abs(Y) + 0.1
    return X, Y


@SETTINGS
@given(
    name=st.sampled_from(sorted(FACTORIES)),
    seed=st.integers(0, 2**16),
    n=st.integers(6, 25),
    p=st.integers(1, 6),
    q=st.integers(1, 6),
)
def test_shapes_and_finiteness(name, seed, n, p, q):
    if name == "identity":
        q = p
    X, Y = _xy(seed, n, p, q, positive=True)
    pred = FACTORIES[name]().fit(X, Y).predict(X[:4])
    assert pred.shape == (4, q) and pred.dtype == np.float64 and np.isfinite(pred).all()


@SETTINGS
@given(
    name=st.sampled_from(LINEAR_FAMILY),
    seed=st.integers(0, 2**16),
    p=st.integers(1, 6),
    q=st.integers(2, 6),
)
def test_permuting_targets_permutes_predictions(name, seed, p, q):
    X, Y = _xy(seed, 30, p, q)
    perm = np.random.default_rng(seed + 1).permutation(q)
    a = FACTORIES[name]().fit(X, Y).predict(X)
    b = FACTORIES[name]().fit(X, Y[:, perm]).predict(X)
    np.testing.assert_allclose(b, a[:, perm], atol=1e-9)


@SETTINGS
@given(name=st.sampled_from(["one_to_one", "soft_matching"]), seed=st.integers(0, 2**16))
def test_matching_invariant_to_permuting_sources(name, seed):
    X, Y = _xy(seed, 30, 5, 4)
    perm = np.random.default_rng(seed + 1).permutation(5)
    a = FACTORIES[name]().fit(X, Y).predict(X)
    b = FACTORIES[name]().fit(X[:, perm], Y).predict(X[:, perm])
    np.testing.assert_allclose(a, b, atol=1e-9)


@SETTINGS
@given(seed=st.integers(0, 2**16), p=st.integers(1, 6), q=st.integers(1, 6))
def test_procrustes_invariant_to_source_rotation(seed, p, q):
    X, Y = _xy(seed, 25, p, q)
    Q = ortho_group.rvs(p, random_state=seed) if p > 1 else np.array([[-1.0]])
    for scaling in (False, True):
        a = Procrustes(scaling=scaling).fit(X, Y).predict(X)
        b = Procrustes(scaling=scaling).fit(X @ Q, Y).predict(X @ Q)
        np.testing.assert_allclose(a, b, atol=1e-9)


def test_zippering_permuting_targets_permutes_predictions():
    X, Y = _xy(0, 40, 4, 5, positive=True)
    perm = np.array([3, 0, 4, 1, 2])
    a = Zippering().fit(X, Y).predict(X)
    b = Zippering().fit(X, Y[:, perm]).predict(X)
    np.testing.assert_allclose(b, a[:, perm], atol=1e-4)


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_sklearn_estimator_api(name):
    est = FACTORIES[name]()
    params = est.get_params()
    twin = clone(est)
    assert twin.get_params() == params and twin is not est
    assert twin.set_params(**params) is twin
    X, Y = _xy(0, 12, 3, 3, positive=True)
    assert est.fit(X, Y) is est
    with pytest.raises(NotFittedError):
        clone(est).predict(X)


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_bad_input_raises_clear_errors(name):
    X, Y = _xy(0, 12, 3, 3, positive=True)
    bad = X.copy()
    bad[2, 1] = np.nan
    with pytest.raises(DataError, match="NaN"):
        FACTORIES[name]().fit(bad, Y)
    bad[2, 1] = np.inf
    with pytest.raises(DataError, match="infinite"):
        FACTORIES[name]().fit(X, bad)
    with pytest.raises(DataError, match="rows"):
        FACTORIES[name]().fit(X, Y[:-1])
    est = FACTORIES[name]().fit(X, Y)
    with pytest.raises(DataError, match="source units"):
        est.predict(X[:, :2])
    with pytest.raises(DataError, match="NaN"):
        est.predict(np.where(X > 1, np.nan, X))
