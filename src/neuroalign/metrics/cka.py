"""Centred kernel alignment (Kornblith et al. 2019), from features or from RDMs.

For Gram matrices ``K``, ``L (n, n)`` over the same stimuli, ``CKA = HSIC(K, L) / sqrt(HSIC(K, K)
HSIC(L, L))``. The biased HSIC is ``⟨K̃, L̃⟩_F`` with ``K̃ = H K H`` (``H = I − 11ᵀ/n``); the
unbiased one (Song et al. 2012) is ``⟨K̆, L̆⟩_F / (n(n − 3))`` with the U-centred ``K̆`` (Székely
& Rizzo 2014: zero diagonal, row and column means removed over the off-diagonal entries), which
removes the bias of the biased estimator toward 1 for wide representations and few stimuli.

- Linear CKA of ``X (n, p)``, ``Y (n, q)`` uses ``K = X̃X̃ᵀ``, ``L = ỸỸᵀ`` (column-centred
  features). It runs in feature space, ``‖ỸᵀX̃‖²_F / (‖X̃ᵀX̃‖_F ‖ỸᵀỸ‖_F)`` (no ``n × n`` matrix),
  or through the two Gram matrices, whichever needs fewer operations; the Gram matrices are
  accumulated over feature blocks on the compute backend (:mod:`~neuroalign.metrics.dissimilarity`)
  and centred once, in place.
- RBF CKA uses ``K_ij = exp(−‖x_i − x_j‖² / (2σ²))`` with the median heuristic ``σ² = bandwidth² ·
  median_{i<j} ‖x_i − x_j‖²`` (Kornblith et al.'s code takes the median over all ``n²`` entries,
  the zero diagonal included: a slightly smaller σ). Each kernel is formed once, in the buffer of
  its Gram matrix, and centred there.
- From an RDM of squared Euclidean distances ``D``, classical scaling gives the centred Gram matrix
  exactly: ``−½ H D H = X̃X̃ᵀ``. A correlation-distance RDM (1 − Pearson r between stimulus
  patterns) is ``‖z_i − z_j‖² / (2p)`` of the row-standardised patterns ``z``, so CKA of two such
  RDMs is the linear CKA of the row-standardised features.

Two feature inputs are joined on stimulus ids when both carry them (:mod:`~neuroalign.metrics.paired`);
bare arrays must have the same rows in the same order.
"""

from __future__ import annotations

import numpy as np

from neuroalign._core.errors import ConfigError, DataError
from neuroalign.metrics.dissimilarity import _double_centre, feature_gram
from neuroalign.metrics.paired import paired_features
from neuroalign.solvers.compute import as_compute

__all__ = [
    "centre_gram",
    "cka",
    "gram_from_rdm",
    "linear_cka",
    "rbf_cka",
    "rdm_cka",
    "u_centre_gram",
]


def _square(k, name: str = "a Gram matrix") -> np.ndarray:
    k = np.array(k, dtype=np.float64)
    if k.ndim != 2 or k.shape[0] != k.shape[1]:
        raise DataError(f"{name} must be square (n, n), got {k.shape}.")
    return k


def centre_gram(k) -> np.ndarray:
    """``H K H`` of a symmetric Gram matrix ``K (n, n)`` (a new array)."""
    return _double_centre(_square(k))


def _u_centre(g: np.ndarray) -> np.ndarray:
    """U-centre ``g (n, n)`` in place (Székely & Rizzo 2014; Kornblith et al.'s formulation)."""
    n = g.shape[0]
    if n < 4:
        raise DataError(f"the unbiased HSIC needs at least 4 stimuli, got {n}.")
    np.fill_diagonal(g, 0.0)
    means = g.sum(axis=0) / (n - 2)
    means -= means.sum() / (2 * (n - 1))
    g -= means[:, None]
    g -= means[None, :]
    np.fill_diagonal(g, 0.0)
    return g


def u_centre_gram(k) -> np.ndarray:
    """U-centred ``K (n, n)`` (a new array): ``⟨K̆, L̆⟩ / (n(n − 3))`` is the unbiased HSIC."""
    return _u_centre(_square(k))


def _alignment(kc: np.ndarray, lc: np.ndarray) -> float:
    """``⟨K, L⟩ / (‖K‖ ‖L‖)`` of two (already centred) kernels."""
    nk, nl = np.linalg.norm(kc), np.linalg.norm(lc)
    if nk == 0 or nl == 0:
        raise DataError("a representation is constant over the stimuli; CKA is undefined.")
    return float(np.vdot(kc, lc) / (nk * nl))


def _centre_(g: np.ndarray, unbiased: bool) -> np.ndarray:
    return _u_centre(g) if unbiased else _double_centre(g)


def cka(k, l_, *, unbiased: bool = False) -> float:
    """CKA of two Gram matrices ``(n, n)`` (centred here; centring twice changes nothing);
    ``unbiased=True`` uses the unbiased HSIC."""
    kc, lc = _square(k), _square(l_)
    if kc.shape != lc.shape:
        raise DataError(f"Gram matrices of different sizes {kc.shape} and {lc.shape}.")
    return _alignment(_centre_(kc, unbiased), _centre_(lc, unbiased))


def _debiased(dot: float, rx: np.ndarray, ry: np.ndarray, n: int) -> float:
    """Unbiased HSIC numerator from feature-space terms (Kornblith et al. 2019, appendix)."""
    return dot - n / (n - 2) * float(rx @ ry) + rx.sum() * ry.sum() / ((n - 1) * (n - 2))


def linear_cka(x, y, *, unbiased: bool = False, compute=None) -> float:
    """Linear CKA of ``x (n_stimuli, p)`` and ``y (n_stimuli, q)`` (module docstring).

    ``compute``: backend and precision of the products (:class:`~neuroalign.solvers.compute.
    Compute`, e.g. ``"torch:cuda"``); scalars are formed in float64.
    """
    x, y = paired_features(x, y)
    n, p = x.shape
    q = y.shape[1]
    if n < 2:
        raise DataError(f"CKA needs at least 2 stimuli, got {n}.")
    compute = as_compute(compute)
    if n * (p * q + (p * p + q * q) / 2) > n * n * (p + q) / 2:
        return _gram_cka(feature_gram(x, "columns", compute), feature_gram(y, "columns", compute),
                         unbiased)  # fmt: skip
    xp = compute.xp
    dtype = np.result_type(compute.np_dtype(x), compute.np_dtype(y))
    xc = xp.asarray(_finite(x, "x"), dtype)
    yc = xp.asarray(_finite(y, "y"), dtype)
    xc, yc = xc - xc.mean(0), yc - yc.mean(0)
    dxy = float(xp.to_numpy(((xc.T @ yc) ** 2).sum()))
    dxx = float(xp.to_numpy(((xc.T @ xc) ** 2).sum()))
    dyy = float(xp.to_numpy(((yc.T @ yc) ** 2).sum()))
    if unbiased:
        if n < 4:
            raise DataError(f"the unbiased HSIC needs at least 4 stimuli, got {n}.")
        rx = xp.to_numpy((xc * xc).sum(1)).astype(np.float64)
        ry = xp.to_numpy((yc * yc).sum(1)).astype(np.float64)
        dxy, dxx, dyy = (
            _debiased(dxy, rx, ry, n),
            _debiased(dxx, rx, rx, n),
            _debiased(dyy, ry, ry, n),
        )
    if dxx <= 0 or dyy <= 0:
        raise DataError("a representation is constant over the stimuli; CKA is undefined.")
    return float(dxy / np.sqrt(dxx * dyy))


def _finite(a: np.ndarray, name: str) -> np.ndarray:
    if not np.isfinite(a).all():
        raise DataError(f"{name} holds NaN or infinite values; drop or impute them first.")
    return a


def _gram_cka(k: np.ndarray, l_: np.ndarray, unbiased: bool) -> float:
    """CKA of two column-centred Gram matrices, reused as the centred kernels' buffers."""
    if unbiased:
        return _alignment(_u_centre(k), _u_centre(l_))
    return _alignment(k, l_)


def _rbf_kernel_(g: np.ndarray, bandwidth: float) -> np.ndarray:
    """RBF kernel with the median heuristic, in the buffer of the centred Gram ``g``."""
    sq = np.diag(g).copy()
    g *= -2.0
    g += sq[:, None]
    g += sq[None, :]
    np.maximum(g, 0.0, out=g)
    iu = np.triu_indices(g.shape[0], 1)
    med = float(np.median(g[iu]))
    if med == 0:
        raise DataError("more than half the stimulus pairs have identical features; the median "
                        "heuristic gives no bandwidth. Pass distinct stimuli.")  # fmt: skip
    g *= -1.0 / (2.0 * bandwidth**2 * med)
    return np.exp(g, out=g)


def rbf_cka(x, y, *, bandwidth: float = 1.0, unbiased: bool = False, compute=None) -> float:
    """RBF-kernel CKA of ``x (n_stimuli, p)`` and ``y (n_stimuli, q)``.

    ``bandwidth``: σ as a multiple of the median pairwise distance of each representation (module
    docstring); ``unbiased``: unbiased HSIC; ``compute``: backend and precision of the Gram
    products.
    """
    if not (isinstance(bandwidth, int | float) and bandwidth > 0):
        raise ConfigError(f"bandwidth must be a positive number, got {bandwidth!r}.")
    x, y = paired_features(x, y)
    if x.shape[0] < 3:
        raise DataError(f"RBF CKA needs at least 3 stimuli, got {x.shape[0]}.")
    compute = as_compute(compute)
    k = _rbf_kernel_(feature_gram(x, "columns", compute), bandwidth)
    l_ = _rbf_kernel_(feature_gram(y, "columns", compute), bandwidth)
    return _alignment(_centre_(k, unbiased), _centre_(l_, unbiased))


def gram_from_rdm(d) -> np.ndarray:
    """Centred Gram matrix ``−½ H D H`` ``(n, n)`` of an RDM ``D (n, n)`` (or condensed)."""
    d = np.asarray(d, dtype=np.float64)
    if d.ndim == 1:
        m = d.size
        n = int(round((1 + np.sqrt(1 + 8 * m)) / 2))
        if n * (n - 1) // 2 != m:
            raise DataError(f"{m} entries are not the upper triangle of a square RDM.")
        full = np.zeros((n, n))
        iu = np.triu_indices(n, 1)
        full[iu] = d
        d = full + full.T
    return -0.5 * centre_gram(d)


def rdm_cka(a, b) -> float:
    """CKA of two RDMs ``(n, n)`` (or condensed) through their classical-scaling Gram matrices."""
    return cka(gram_from_rdm(a), gram_from_rdm(b))
