"""CKA against closed forms: HSIC with explicit centring, classical scaling, invariances."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform

from neuroalign.errors import DataError
from neuroalign.metrics import cka_noise_ceiling
from neuroalign.metrics.cka import cka, gram_from_rdm, linear_cka, rdm_cka
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


def _song_unbiased_cka(k, l_):
    """Reference: unbiased HSIC of Song et al. (2012, eq. 5) on zero-diagonal kernels."""
    n = k.shape[0]
    one = np.ones(n)

    def hsic(a, b):
        a, b = a.copy(), b.copy()
        np.fill_diagonal(a, 0)
        np.fill_diagonal(b, 0)
        return (np.trace(a @ b) + (one @ a @ one) * (one @ b @ one) / ((n - 1) * (n - 2))
                - 2 / (n - 2) * (one @ a @ b @ one)) / (n * (n - 3))  # fmt: skip

    return hsic(k, l_) / np.sqrt(hsic(k, k) * hsic(l_, l_))


def _rbf_reference(x, bandwidth=1.0):
    """exp(−d²/(2σ²)), σ² = bandwidth² · median of the squared distances over pairs i < j."""
    d2 = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    return np.exp(-d2 / (2 * bandwidth**2 * np.median(d2[np.triu_indices(len(x), 1)])))


@pytest.mark.parametrize(("p", "q"), [(5, 8), (60, 45)])  # feature-space and Gram routes
def test_unbiased_linear_cka_equals_song_et_al(p, q):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(30, p))
    y = x[:, :1] @ rng.normal(size=(1, q)) + rng.normal(size=(30, q))
    ref = _song_unbiased_cka(x @ x.T, y @ y.T)
    assert linear_cka(x, y, unbiased=True) == pytest.approx(ref, abs=1e-12)
    assert cka(x @ x.T, y @ y.T, unbiased=True) == pytest.approx(ref, abs=1e-12)
    assert linear_cka(x, y, unbiased=True) < linear_cka(x, y)  # the biased estimate is inflated


@pytest.mark.parametrize("unbiased", [False, True])
def test_rbf_cka_equals_explicit_kernels(unbiased):
    from neuroalign.metrics.cka import rbf_cka

    rng = np.random.default_rng(6)
    x = rng.normal(size=(35, 6))
    y = np.tanh(x @ rng.normal(size=(6, 4))) + 0.3 * rng.normal(size=(35, 4))
    k, l_ = _rbf_reference(x, 0.8), _rbf_reference(y, 0.8)
    if unbiased:
        ref = _song_unbiased_cka(k, l_)
    else:
        ref = _hsic_cka_gram(k, l_)
    assert rbf_cka(x, y, bandwidth=0.8, unbiased=unbiased) == pytest.approx(ref, abs=1e-12)


def _hsic_cka_gram(k, l_):
    n = k.shape[0]
    h = np.eye(n) - np.ones((n, n)) / n
    return np.trace(k @ h @ l_ @ h) / np.sqrt(np.trace(k @ h @ k @ h) * np.trace(l_ @ h @ l_ @ h))


def test_rbf_cka_invariances():
    from neuroalign.metrics.cka import rbf_cka

    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(30, 5)), rng.normal(size=(30, 3))
    q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    assert rbf_cka(x, x) == pytest.approx(1.0)
    assert rbf_cka(4.0 * x @ q - 1.0, y) == pytest.approx(rbf_cka(x, y), abs=1e-12)


def test_torch_and_float32_paths():
    pytest.importorskip("torch")
    from neuroalign.metrics.cka import rbf_cka
    from neuroalign.solvers.compute import Compute

    rng = np.random.default_rng(8)
    x, y = rng.normal(size=(40, 70)), rng.normal(size=(40, 3)) + rng.normal(size=(40, 1))
    for fn in (linear_cka, rbf_cka):
        ref = fn(x, y)
        assert fn(x, y, compute="torch:cpu") == pytest.approx(ref, abs=1e-12)
        assert fn(x, y, compute=Compute(dtype="float32")) == pytest.approx(ref, abs=1e-5)


def test_features_are_joined_on_stimulus_ids():
    import pandas as pd

    rng = np.random.default_rng(9)
    x, y = rng.normal(size=(20, 4)), rng.normal(size=(20, 6))
    ids = [f"s{i}" for i in range(20)]
    perm = rng.permutation(20)
    dx = pd.DataFrame(x, index=ids)
    dy = pd.DataFrame(y[perm], index=[ids[i] for i in perm])
    assert linear_cka(dx, dy) == pytest.approx(linear_cka(x, y), abs=1e-14)
    with pytest.raises(DataError, match="share no stimulus id"):
        linear_cka(dx, pd.DataFrame(y, index=[f"t{i}" for i in range(20)]))


def test_noise_ceiling_from_gram_inner_products_matches_the_loop():
    rng = np.random.default_rng(10)
    base = rng.normal(size=(15, 6))
    subjects = np.stack([rdm(base + rng.normal(size=base.shape)) for _ in range(5)])
    lo, up = cka_noise_ceiling(subjects)
    mean = subjects.mean(0)
    others = [np.delete(subjects, i, 0).mean(0) for i in range(5)]
    assert lo == pytest.approx(
        np.mean([rdm_cka(s, o) for s, o in zip(subjects, others, strict=True)]), abs=1e-12
    )
    assert up == pytest.approx(np.mean([rdm_cka(s, mean) for s in subjects]), abs=1e-12)
