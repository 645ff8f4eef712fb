"""Partial least squares regression (PLS2): a rank-limited linear map, the Brain-Score default."""

from __future__ import annotations

import numbers

import numpy as np

from neuroalign._core.errors import ConfigError, DataError
from neuroalign._core.validation import check_xy
from neuroalign.transforms._common import check_source
from neuroalign.transforms.base import Transform

__all__ = ["PLS", "pls_coefficients", "pls_path"]


def pls_coefficients(Xc: np.ndarray, Yc: np.ndarray, n_components: int, rtol: float = 1e-10):
    """PLS2 regression coefficients of centred ``Yc (n, q)`` on centred ``Xc (n, p)``, for
    ``n_components`` (:func:`pls_path` gives every smaller number at once).

    Each component's weight ``w`` is the first left singular vector of ``Xkᵀ·Yc`` (``Xk``:
    ``Xc`` deflated by the previous scores; deflating ``Y`` as well would not change ``w``), its
    score ``t = Xk·w`` and loadings ``pₖ = Xkᵀt / tᵀt``, ``cₖ = Ycᵀt / tᵀt``. The map is
    ``coef = W·(PᵀW)⁻¹·Cᵀ`` — the exact version of scikit-learn's NIPALS ``PLSRegression``.
    Stops early when ``Xk`` or its covariance with ``Yc`` is exhausted (singular value below
    ``rtol`` × the first one): the number of components cannot exceed the data's rank.

    Returns ``(coef (p, q), n_used)``.
    """
    path = pls_path(Xc, Yc, n_components, rtol)
    p, q = Xc.shape[1], Yc.shape[1]
    if not path:
        return np.zeros((p, q), dtype=Xc.dtype), 0
    return path[-1], len(path)


def pls_path(Xc: np.ndarray, Yc: np.ndarray, n_components: int, rtol: float = 1e-10) -> list:
    """The coefficients ``(p, q)`` of PLS2 with 1, 2, … components (at most ``n_components``;
    fewer when the data's rank is exhausted), from one run of the deflation."""
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
    out = []
    for k in range(1, len(W) + 1):
        W_, P_, C_ = np.column_stack(W[:k]), np.column_stack(P[:k]), np.column_stack(C[:k])
        rotations = np.linalg.solve((P_.T @ W_).T, W_.T).T
        out.append(rotations @ C_.T)
    return out


class PLS(Transform):
    """``ŷ = (x − x̄)·coef_ + ȳ`` with ``coef_`` of rank ≤ ``n_components`` (PLS2 regression).

    ``n_components="cv"`` (default, what the name ``"pls"`` means): the number of components,
    1 … ``max_components`` (25), that minimises the squared error of ``cv``-fold cross-validation
    on the training stimuli (interleaved folds: stimulus ``i`` in fold ``i mod cv``), the same for
    every target; an int fixes it (Brain-Score's ``pls_regression``: ``n_components=25``).
    ``scale=True`` divides X and Y columns by their standard deviation, ddof 1, as scikit-learn
    does. Predictions equal ``sklearn.cross_decomposition.PLSRegression`` run to convergence.
    ``n_components`` is capped at the rank of the centred data; ``n_components_`` records the
    number used (e.g. 10 with 10 source units, which is then ordinary least squares).

    Fitted: ``coef_ (n_source, n_target)``, ``intercept_ (n_target,)``, ``n_components_``.
    """

    name = "pls"
    contains = ()
    test_params = {"n_components": 3}

    def __init__(
        self,
        n_components: int | str = "cv",
        scale: bool = False,
        max_components: int = 25,
        cv: int = 5,
    ):
        self.n_components = n_components
        self.scale = scale
        self.max_components = max_components
        self.cv = cv

    def fit(self, X, Y):
        """``X (n_stimuli, n_source)``, ``Y (n_stimuli, n_target)`` → ``self``."""
        k = self.n_components
        if k == "cv":
            k = self._choose(*check_xy(X, Y))
        elif not isinstance(k, numbers.Integral) or isinstance(k, bool) or k < 1:
            raise ConfigError(f"n_components must be a positive integer or 'cv', got {k!r}.")
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

    def _choose(self, X, Y) -> int:
        """The component count of least ``cv``-fold squared error on these stimuli."""
        kmax, cv = self.max_components, self.cv
        for name, v, lo in (("max_components", kmax, 1), ("cv", cv, 2)):
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < lo:
                raise ConfigError(f"{name} must be an integer >= {lo}, got {v!r}.")
        n = X.shape[0]
        if n < 2 * cv:
            raise DataError(f"PLS with cv={cv} needs at least {2 * cv} stimuli, got {n}.")
        errors = np.zeros(kmax)
        for f in range(cv):
            te, tr = np.arange(f, n, cv), np.setdiff1d(np.arange(n), np.arange(f, n, cv))
            xm, ym = X[tr].mean(0), Y[tr].mean(0)
            path = pls_path(X[tr] - xm, Y[tr] - ym, int(kmax))
            for i, coef in enumerate(path):
                errors[i] += ((Y[te] - ym - (X[te] - xm) @ coef) ** 2).sum()
            errors[len(path) :] = np.inf  # rank exhausted in some fold: never beyond it
        self.cv_errors_ = errors
        return int(np.argmin(errors)) + 1

    def predict(self, X) -> np.ndarray:
        """``X (n_stimuli, n_source)`` → ``(n_stimuli, n_target)``."""
        X = check_source(self, X)
        return (X @ self.coef_ + self.intercept_).astype(X.dtype, copy=False)
