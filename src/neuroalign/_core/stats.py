"""Basic statistics shared by every layer: column-wise Pearson correlation and Spearman–Brown."""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["columnwise_pearson", "nanmean", "nanmedian", "spearman_brown"]


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


def nanmedian(a, axis=None):
    """``np.nanmedian`` without its warning: NaN where every value is NaN (or none is given)."""
    a = np.asarray(a, dtype=float)
    if a.size == 0:
        return np.nan if axis is None else np.full(np.delete(a.shape, axis), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(a, axis=axis)


def nanmean(a, axis=None):
    """``np.nanmean`` without its warning: NaN where every value is NaN (or none is given)."""
    a = np.asarray(a, dtype=float)
    if a.size == 0:
        return np.nan if axis is None else np.full(np.delete(a.shape, axis), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(a, axis=axis)
