"""CKA against closed forms: HSIC with explicit centring, classical scaling, invariances."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform

from neuroalign.errors import DataError
from neuroalign.metrics.cka import cka, cka_noise_ceiling, gram_from_rdm, linear_cka, rdm_cka
from neuroalign.metrics.rsa import rdm


def _hsic_cka(x, y):
    """Reference: CKA = HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)), H = I − 11ᵀ/n (Kornblith 2019)."""
    n = x.shape[0]
    h = np.eye(n) - np.ones((n, n)) / n
    k, l_ = x @ x.T, y @ y.T

    def hsic(a, b):
        return np.trace(a @ h @ b @ h)

    return hsic(k, l_) / np.sqrt(hsic(k, k) * hsic(l_, l_))


@pytest.mark.parametrize(("p", "q"), [(5, 8), (60, 3)])  # feature-space and Gram paths
def test_linear_cka_equals_hsic_formula(p, q):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, p))
    y = x[:, :1] @ rng.normal(size=(1, q)) + rng.normal(size=(30, q))
    assert linear_cka(x, y) == pytest.approx(_hsic_cka(x, y), abs=1e-12)


def test_invariances_and_identity():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(25, 6)), rng.normal(size=(25, 4))
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    assert linear_cka(x, x) == pytest.approx(1.0)
    assert linear_cka(3.0 * x @ q + 2.0, y) == pytest.approx(linear_cka(x, y), abs=1e-12)


def test_rdm_cka_of_squared_euclidean_rdms_is_linear_cka():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(20, 7)), rng.normal(size=(20, 9))
    dx, dy = (squareform(pdist(v, "sqeuclidean")) for v in (x, y))
    np.testing.assert_allclose(gram_from_rdm(dx), (x - x.mean(0)) @ (x - x.mean(0)).T, atol=1e-10)
    assert rdm_cka(dx, dy) == pytest.approx(linear_cka(x, y), abs=1e-12)
    assert rdm_cka(squareform(dx), dy) == pytest.approx(linear_cka(x, y), abs=1e-12)


def test_correlation_rdm_cka_is_cka_of_row_standardised_features():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(15, 12)), rng.normal(size=(15, 5))

    def z(v):
        return (v - v.mean(1, keepdims=True)) / v.std(1, keepdims=True)

    assert rdm_cka(rdm(x), rdm(y)) == pytest.approx(linear_cka(z(x), z(y)), abs=1e-12)


def test_noise_ceiling_bounds_and_errors():
    rng = np.random.default_rng(4)
    base = rng.normal(size=(12, 5))
    subjects = np.stack([rdm(base + 0.7 * rng.normal(size=base.shape)) for _ in range(4)])
    lo, up = cka_noise_ceiling(subjects)
    ref_lo = np.mean([rdm_cka(subjects[i], np.delete(subjects, i, 0).mean(0)) for i in range(4)])
    assert lo == pytest.approx(ref_lo) and 0 < lo < up <= 1
    with pytest.raises(DataError):
        cka(np.ones((3, 3)), np.eye(3))
