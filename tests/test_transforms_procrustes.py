"""Orthogonal Procrustes: recovery of rotations, scale, padding, against scipy's solver."""

import numpy as np
import pytest
from scipy.linalg import orthogonal_procrustes as scipy_procrustes
from scipy.stats import special_ortho_group

from neuroalign.errors import ConfigError
from neuroalign.transforms.procrustes import Procrustes


def test_recovers_random_rotation():
    rng = np.random.default_rng(0)
    Q = special_ortho_group.rvs(15, random_state=1)
    X = rng.normal(size=(60, 15))
    Y = X @ Q + rng.normal(size=15)
    m = Procrustes().fit(X, Y)
    np.testing.assert_allclose(m.rotation_, Q, atol=1e-10)
    np.testing.assert_allclose(m.predict(X), Y, atol=1e-10)
    assert m.scale_ == 1.0


def test_isotropic_scale_and_scipy_reference():
    rng = np.random.default_rng(1)
    Q = special_ortho_group.rvs(8, random_state=2)
    X = rng.normal(size=(40, 8))
    Y = 2.5 * X @ Q + 0.1 * rng.normal(size=(40, 8))
    m = Procrustes(scaling=True).fit(X, Y)
    assert m.scale_ == pytest.approx(2.5, rel=0.01)
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    R, s = scipy_procrustes(Xc, Yc)
    np.testing.assert_allclose(m.rotation_, R, atol=1e-12)
    assert m.scale_ == pytest.approx(s / np.sum(Xc**2))


@pytest.mark.parametrize("p, q", [(10, 6), (6, 10)])
def test_unequal_counts_equal_zero_padded_solution(p, q):
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(50, p)), rng.normal(size=(50, q))
    d = max(p, q)
    Xp = np.zeros((50, d))
    Yp = np.zeros((50, d))
    Xp[:, :p], Yp[:, :q] = X - X.mean(0), Y - Y.mean(0)
    R, _ = scipy_procrustes(Xp, Yp)
    m = Procrustes().fit(X, Y)
    np.testing.assert_allclose(m.predict(X) - Y.mean(0), (Xp @ R)[:, :q], atol=1e-10)


def test_bad_parameter():
    with pytest.raises(ConfigError, match="scaling"):
        Procrustes(scaling=1).fit(np.ones((5, 2)), np.ones((5, 2)))
