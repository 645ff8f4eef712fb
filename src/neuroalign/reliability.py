"""Split-half reliability, Spearman–Brown, noise ceilings and noise-corrected scores.

Formulas: ../shared/DESIGN.md ("The science, precisely").
"""

from __future__ import annotations

import numpy as np

__all__ = ["spearman_brown", "noise_corrected_ev", "columnwise_pearson"]


def spearman_brown(r, factor: float = 2.0):
    """Spearman–Brown prophecy ``factor·r / (1 + (factor − 1)·r)``; ``SB(r) = 2r/(1+r)`` by default.

    ``r`` may be a scalar or an array (any shape); returns the same shape.
    """
    r = np.asarray(r, dtype=float)
    return factor * r / (1.0 + (factor - 1.0) * r)


def columnwise_pearson(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation of each column of ``a`` with the same column of ``b``.

    ``a``, ``b``: ``(n_samples, n_columns)`` → ``(n_columns,)``. A constant column gives NaN.
    """
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    num = np.einsum("ij,ij->j", a, b)
    den = np.sqrt(np.einsum("ij,ij->j", a, a) * np.einsum("ij,ij->j", b, b))
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / den


def noise_corrected_ev(r, rho_target, rho_pred):
    """Noise-corrected explained variance in percent: ``100 · (r / sqrt(ρ_target · ρ_pred))²``.

    ``r``: Pearson between the out-of-fold prediction and the mean target; ``ρ_target``: SB-corrected
    split-half reliability of the target (1 for a deterministic model unit); ``ρ_pred``: SB-corrected
    correlation between predictions fitted from the two split halves. Arrays broadcast.
    """
    r = np.asarray(r, dtype=float)
    denom = np.asarray(rho_target, dtype=float) * np.asarray(rho_pred, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 100.0 * r**2 / denom
