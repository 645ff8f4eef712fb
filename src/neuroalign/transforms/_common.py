"""Helpers shared by the transform classes: unit-profile similarity, per-target gain, input checks."""

from __future__ import annotations

import numpy as np
from sklearn.exceptions import NotFittedError as SkNotFittedError
from sklearn.utils.validation import check_is_fitted

from neuroalign._core.errors import DataError, NotFittedError
from neuroalign._core.validation import as_float_matrix

__all__ = ["check_source", "cross_correlation", "fit_affine", "standardize"]


def standardize(A: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre each column and divide by its standard deviation (constant columns keep scale 1).

    ``A (n, m)`` → ``(Z (n, m), mean (m,), sd (m,))`` with ``Z = (A − mean) / sd``.
    """
    mean = A.mean(axis=0)
    sd = A.std(axis=0)
    sd = np.where(sd > np.finfo(A.dtype).eps * np.maximum(np.abs(mean), 1.0), sd, 1.0)
    return (A - mean) / sd, mean, sd


def cross_correlation(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Pearson correlation of every column of ``X (n, p)`` with every column of ``Y (n, q)``.

    Returns ``(p, q)``; a constant column correlates 0 with everything (no NaN).
    """
    zx = X - X.mean(axis=0)
    zy = Y - Y.mean(axis=0)
    nx = np.linalg.norm(zx, axis=0)
    ny = np.linalg.norm(zy, axis=0)
    zx = np.divide(zx, nx, out=np.zeros_like(zx), where=nx > 0)
    zy = np.divide(zy, ny, out=np.zeros_like(zy), where=ny > 0)
    return zx.T @ zy


def fit_affine(Xm: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares gain and offset of each ``Y`` column on the same ``Xm`` column.

    ``Xm, Y (n, q)`` → ``(scale (q,), offset (q,))`` minimising ``‖Y − (Xm·scale + offset)‖²``
    per column; a constant ``Xm`` column gets scale 0 (its prediction is the target's mean).
    """
    xm, ym = Xm.mean(axis=0), Y.mean(axis=0)
    xc = Xm - xm
    var = np.einsum("ij,ij->j", xc, xc)
    cov = np.einsum("ij,ij->j", xc, Y - ym)
    scale = np.divide(cov, var, out=np.zeros_like(cov), where=var > 0)
    return scale, ym - scale * xm


def gain_offset(Xm: np.ndarray, Y: np.ndarray, affine: bool) -> tuple[np.ndarray, np.ndarray]:
    """:func:`fit_affine` when ``affine``, else unit gain and zero offset, both ``(q,)`` in
    ``Xm``'s dtype."""
    if affine:
        return fit_affine(Xm, Y)
    q = Y.shape[1]
    return np.ones(q, dtype=Xm.dtype), np.zeros(q, dtype=Xm.dtype)


def check_source(estimator, X) -> np.ndarray:
    """Validate the source matrix given to ``predict``: fitted estimator, same unit count as in fit.

    ``X (n_stimuli, n_source)`` comes back as a float array (float32 kept, others float64).
    """
    try:
        check_is_fitted(estimator, "n_source_")
    except SkNotFittedError:
        raise NotFittedError(
            f"this {type(estimator).__name__} is not fitted yet; call fit(X, Y) first."
        ) from None
    X = as_float_matrix(X, "X")
    if X.shape[1] != estimator.n_source_:
        raise DataError(
            f"X has {X.shape[1]} source units but {type(estimator).__name__} was fitted on "
            f"{estimator.n_source_}; predict from the same units, in the same order, as in fit."
        )
    return X
