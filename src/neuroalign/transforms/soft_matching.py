"""Soft matching: targets are transport-plan-weighted averages of source units (POT)."""

from __future__ import annotations

import numpy as np

from neuroalign._core.errors import ConfigError
from neuroalign._core.validation import check_xy
from neuroalign.transforms._common import check_source, cross_correlation, gain_offset
from neuroalign.transforms.base import Transform

__all__ = ["SoftMatching", "matching_cost", "transport_plan"]

_COSTS = ("correlation", "sqeuclidean")
_METHODS = ("emd", "sinkhorn")


def matching_cost(X: np.ndarray, Y: np.ndarray, cost: str = "correlation") -> np.ndarray:
    """Cost of matching each source unit to each target unit over the stimuli.

    ``X (n, p)``, ``Y (n, q)`` → ``(p, q)``. ``"correlation"``: ``1 − r`` (Pearson; gain- and
    offset-free). ``"sqeuclidean"``: mean squared difference of the *centred* response profiles,
    which, unlike ``1 − r``, also charges for differences in gain (on z-scored profiles it would
    equal ``2(1 − r)`` and add nothing).
    """
    if cost == "correlation":
        return 1.0 - cross_correlation(X, Y)
    if cost == "sqeuclidean":
        xc, yc = X - X.mean(axis=0), Y - Y.mean(axis=0)
        d = (xc**2).sum(0)[:, None] + (yc**2).sum(0)[None, :] - 2.0 * xc.T @ yc
        return np.maximum(d, 0.0) / X.shape[0]
    raise ConfigError(f"cost must be one of {_COSTS}, got {cost!r}.")


def transport_plan(
    C: np.ndarray, method: str = "emd", reg: float = 0.05, max_iter: int = 100_000
) -> np.ndarray:
    """Optimal-transport plan between uniform marginals over source and target units.

    ``C (p, q)`` cost → plan ``(p, q)`` with row sums ``1/p`` and column sums ``1/q``.
    ``"emd"``: the exact plan (``ot.emd``; a permutation / n when ``p == q`` and the optimum is
    unique). ``"sinkhorn"``: the entropic plan (``ot.sinkhorn``, log-domain) with ``reg`` relative
    to the mean cost, so it does not depend on the cost's units.
    """
    import ot  # POT imports torch when present: load it on first use only

    p, q = C.shape
    a, b = np.full(p, 1.0 / p), np.full(q, 1.0 / q)
    C = np.ascontiguousarray(C, dtype=np.float64)
    if method == "emd":
        return ot.emd(a, b, C, numItermax=max_iter)
    if method == "sinkhorn":
        if not (isinstance(reg, (int, float, np.floating)) and reg > 0):
            raise ConfigError(f"reg must be a positive number for method='sinkhorn', got {reg!r}.")
        unit = C.mean() if C.mean() > 0 else 1.0
        return ot.sinkhorn(
            a, b, C / unit, reg, method="sinkhorn_log", numItermax=max_iter, stopThr=1e-10
        )
    raise ConfigError(f"method must be one of {_METHODS}, got {method!r}.")


class SoftMatching(Transform):
    """``ŷ_j = a_j · Σ_i w_ij x_i + c_j`` with ``w_·j`` the column-normalised transport plan.

    The plan moves uniform mass over source units onto uniform mass over target units at least
    total cost (:func:`matching_cost`, :func:`transport_plan`): the soft matching of Khosla &
    Williams (2023, netrep). With equal unit counts the exact plan is a permutation, so this
    class contains :class:`~neuroalign.transforms.one_to_one.OneToOne`. ``affine`` adds the same
    per-target least-squares gain and offset as ``OneToOne``.

    Fitted: ``plan_ (n_source, n_target)``, ``weights_`` (columns summing to 1), ``scale_``,
    ``offset_ (n_target,)``.
    """

    name = "soft_matching"
    contains = ("one_to_one",)

    def __init__(
        self,
        cost: str = "correlation",
        method: str = "emd",
        reg: float = 0.05,
        affine: bool = True,
        max_iter: int = 100_000,
    ):
        self.cost = cost
        self.method = method
        self.reg = reg
        self.affine = affine
        self.max_iter = max_iter

    def fit(self, X, Y):
        """``X (n_stimuli, n_source)``, ``Y (n_stimuli, n_target)`` → ``self``."""
        if self.method not in _METHODS:
            raise ConfigError(f"method must be one of {_METHODS}, got {self.method!r}.")
        X, Y = check_xy(X, Y)
        self.n_source_, self.n_target_ = X.shape[1], Y.shape[1]
        C = matching_cost(X.astype(np.float64), Y.astype(np.float64), self.cost)
        self.plan_ = transport_plan(C, self.method, self.reg, self.max_iter)
        self.weights_ = (self.plan_ / self.plan_.sum(axis=0)).astype(X.dtype)
        self.scale_, self.offset_ = gain_offset(X @ self.weights_, Y, self.affine)
        return self

    def predict(self, X) -> np.ndarray:
        """``X (n_stimuli, n_source)`` → ``(n_stimuli, n_target)``."""
        X = check_source(self, X)
        return ((X @ self.weights_) * self.scale_ + self.offset_).astype(X.dtype, copy=False)
