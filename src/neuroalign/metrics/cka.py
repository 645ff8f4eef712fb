"""Centred kernel alignment (Kornblith et al. 2019), from features or from RDMs.

For centred Gram matrices ``K̃ = H K H`` and ``L̃ = H L H`` (``H = I − 11ᵀ/n``),
``CKA(K, L) = ⟨K̃, L̃⟩_F / (‖K̃‖_F ‖L̃‖_F)``. Linear CKA of features ``X (n, p)``, ``Y (n, q)`` uses
``K = XXᵀ``, ``L = YYᵀ``, equal to ``‖ỸᵀX̃‖²_F / (‖X̃ᵀX̃‖_F ‖ỸᵀỸ‖_F)`` with column-centred
``X̃``, ``Ỹ``. From an RDM of squared Euclidean distances ``D``, classical scaling gives the centred
Gram matrix exactly: ``−½ H D H = X̃X̃ᵀ``. A correlation-distance RDM (1 − Pearson r between
stimulus patterns) is ``‖z_i − z_j‖² / (2p)`` of the row-standardised patterns ``z``, so CKA of two
such RDMs is the linear CKA of the row-standardised features.
"""

from __future__ import annotations

import numpy as np

from neuroalign._core.errors import DataError
from neuroalign.metrics.rsa import condensed

__all__ = ["centre_gram", "cka", "cka_noise_ceiling", "gram_from_rdm", "linear_cka", "rdm_cka"]


def centre_gram(k) -> np.ndarray:
    """``H K H`` of a symmetric Gram matrix ``K (n, n)``."""
    k = np.asarray(k, dtype=np.float64)
    if k.ndim != 2 or k.shape[0] != k.shape[1]:
        raise DataError(f"a Gram matrix must be square (n, n), got {k.shape}.")
    k = k - k.mean(axis=0, keepdims=True)
    return k - k.mean(axis=1, keepdims=True)


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


def cka(k, l_) -> float:
    """CKA of two Gram matrices ``(n, n)`` (centred here; centring twice changes nothing)."""
    kc, lc = centre_gram(k), centre_gram(l_)
    if kc.shape != lc.shape:
        raise DataError(f"Gram matrices of different sizes {kc.shape} and {lc.shape}.")
    nk, nl = np.linalg.norm(kc), np.linalg.norm(lc)
    if nk == 0 or nl == 0:
        raise DataError("a representation is constant over the stimuli; CKA is undefined.")
    return float(np.sum(kc * lc) / (nk * nl))


def linear_cka(x, y) -> float:
    """Linear CKA of ``x (n_stimuli, p)`` and ``y (n_stimuli, q)``; computed in feature space
    (``p, q < n``) or through Gram matrices, whichever is smaller."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[0] != y.shape[0]:
        raise DataError(
            f"x and y must be (n_stimuli, features) with equal rows; got {x.shape}, {y.shape}."
        )
    x = x - x.mean(axis=0)
    y = y - y.mean(axis=0)
    n = x.shape[0]
    if max(x.shape[1], y.shape[1]) < n:
        num = np.linalg.norm(y.T @ x) ** 2
        den = np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y)
        if den == 0:
            raise DataError("a representation is constant over the stimuli; CKA is undefined.")
        return float(num / den)
    return cka(x @ x.T, y @ y.T)


def rdm_cka(a, b) -> float:
    """CKA of two RDMs ``(n, n)`` (or condensed) through their classical-scaling Gram matrices."""
    return cka(gram_from_rdm(a), gram_from_rdm(b))


def cka_noise_ceiling(subject_rdms) -> tuple[float, float]:
    """``(lower, upper)`` CKA noise ceiling of ``k >= 2`` subject RDMs ``(k, n, n)`` / ``(k, m)``.

    Lower: mean CKA of each subject's RDM with the mean RDM of the others; upper: with the mean
    of all (the mean Gram matrix is the mean RDM's, as classical scaling is linear).
    """
    v = condensed(subject_rdms)
    if v.shape[0] < 2:
        raise DataError("a noise ceiling needs RDMs of at least 2 subjects.")
    everyone = v.mean(axis=0)
    lower = [rdm_cka(v[i], np.delete(v, i, axis=0).mean(axis=0)) for i in range(len(v))]
    upper = [rdm_cka(v[i], everyone) for i in range(len(v))]
    return float(np.mean(lower)), float(np.mean(upper))
