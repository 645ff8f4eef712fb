"""Partial least squares regression (PLS2): a rank-limited linear map, the Brain-Score default."""

from __future__ import annotations

import numbers

import numpy as np

from neuroalign._core.errors import ConfigError
from neuroalign._core.validation import check_xy
from neuroalign.transforms._common import check_source
from neuroalign.transforms.base import Transform

__all__ = ["PLS", "pls_coefficients"]


def pls_coefficients(Xc: np.ndarray, Yc: np.ndarray, n_components: int, rtol: float = 1e-10):
    """PLS2 regression coefficients of centred ``Yc (n, q)`` on centred ``Xc (n, p)``.

    Each component's weight ``w`` is the first left singular vector of ``Xkᵀ·Yc`` (``Xk``:
    ``Xc`` deflated by the previous scores; deflating ``Y`` as well would not change ``w``), its
    score ``t = Xk·w`` and loadings ``pₖ = Xkᵀt / tᵀt``, ``cₖ = Ycᵀt / tᵀt``. The map is
    ``coef = W·(PᵀW)⁻¹·Cᵀ`` — the exact version of scikit-learn's NIPALS ``PLSRegression``.
    Stops early when ``Xk`` or its covariance with ``Yc`` is exhausted (singular value below
    ``rtol`` × the first one): the number of components cannot exceed the data's rank.

    Returns ``(coef (p, q), n_used)``.
    """
    Xk = Xc.copy()
    W, P, C = [], [], []
    s_first = None
    for _ in range(n_components):
        U, s, _ = np.linalg.svd(Xk.T @ Yc, full_matrices=False)
        if s_first is None:
            s_first = s[0]
        if s[0] <= rtol * s_first or s_first == 0:
            break
        w = U[:, 0]
        t = Xk @ w
        tt = t @ t
        W.append(w)
        P.append(Xk.T @ t / tt)
        C.append(Yc.T @ t / tt)
        Xk -= np.outer(t, P[-1])
    p, q = Xc.shape[1], Yc.shape[1]
    if not W:
        return np.zeros((p, q), dtype=Xc.dtype), 0
    W_, P_, C_ = np.column_stack(W), np.column_stack(P), np.column_stack(C)
    rotations = np.linalg.solve((P_.T @ W_).T, W_.T).T
    return rotations @ C_.T, len(W)


class PLS(Transform):
    """``ŷ = (x − x̄)·coef_ + ȳ`` with ``coef_`` of rank ≤ ``n_components`` (PLS2 regression).

    Defaults follow Brain-Score's ``pls_regression``: ``n_components=25``, ``scale=False``
    (``scale=True`` divides X and Y columns by their standard deviation, ddof 1, as scikit-learn
    does). Predictions equal ``sklearn.cross_decomposition.PLSRegression`` run to convergence.
    ``n_components`` is capped at the rank of the centred data; ``n_components_`` records the
    number used (e.g. 10 with 10 source units, which is then ordinary least squares).

    Fitted: ``coef_ (n_source, n_target)``, ``intercept_ (n_target,)``, ``n_components_``.
    """

    name = "pls"
    contains = ()

    def __init__(self, n_components: int = 25, scale: bool = False):
        self.n_components = n_components
        self.scale = scale

    def fit(self, X, Y):
        """``X (n_stimuli, n_source)``, ``Y (n_stimuli, n_target)`` → ``self``."""
        k = self.n_components
        if not isinstance(k, numbers.Integral) or isinstance(k, bool) or k < 1:
            raise ConfigError(f"n_components must be a positive integer, got {k!r}.")
        X, Y = check_xy(X, Y)
        self.n_source_, self.n_target_ = X.shape[1], Y.shape[1]
        x_mean, y_mean = X.mean(axis=0), Y.mean(axis=0)
        Xc, Yc = X - x_mean, Y - y_mean
        x_sd = np.ones(X.shape[1], dtype=X.dtype)
        y_sd = np.ones(Y.shape[1], dtype=Y.dtype)
        if self.scale and X.shape[0] > 1:
            x_sd = np.where((s := Xc.std(axis=0, ddof=1)) > 0, s, 1.0)
            y_sd = np.where((s := Yc.std(axis=0, ddof=1)) > 0, s, 1.0)
        coef, self.n_components_ = pls_coefficients(Xc / x_sd, Yc / y_sd, int(k))
        self.coef_ = coef * y_sd / x_sd[:, None]
        self.intercept_ = y_mean - x_mean @ self.coef_
        return self

    def predict(self, X) -> np.ndarray:
        """``X (n_stimuli, n_source)`` → ``(n_stimuli, n_target)``."""
        X = check_source(self, X)
        return (X @ self.coef_ + self.intercept_).astype(X.dtype, copy=False)
