"""Orthogonal Procrustes: a rotation/reflection (optionally scaled) between centred populations."""

from __future__ import annotations

import numpy as np

from neuroalign._core.errors import ConfigError
from neuroalign._core.validation import check_xy
from neuroalign.transforms._common import check_source
from neuroalign.transforms.base import Transform

__all__ = ["Procrustes", "orthogonal_procrustes"]


def orthogonal_procrustes(Xc: np.ndarray, Yc: np.ndarray) -> tuple[np.ndarray, float]:
    """The orthogonal map minimising ``‖Xc·R − Yc‖_F`` after zero-padding the smaller population.

    ``Xc (n, p)``, ``Yc (n, q)`` centred → ``(R (p, q), trace)``: ``R = U·Vᵀ`` from the thin SVD
    ``Xcᵀ·Yc = U·S·Vᵀ`` (the p × q block of the padded ``max(p, q)``-square solution; orthogonal
    when ``p == q``) and ``trace = ΣS``, which gives the optimal isotropic scale
    ``trace / ‖Xc‖²_F``.
    """
    U, S, Vt = np.linalg.svd(Xc.T @ Yc, full_matrices=False)
    return U @ Vt, float(S.sum())


class Procrustes(Transform):
    """``ŷ = s · (x − x̄)·R + ȳ`` with ``R`` orthogonal (padded with zeros if counts differ).

    ``scaling=True`` fits the isotropic scale ``s`` by least squares; ``False`` keeps ``s = 1``
    (a pure rotation/reflection plus intercept). Contains ``one_to_one`` in the sense of its
    permutation map (a permutation is orthogonal); the per-target gains of ``OneToOne(affine=True)``
    are not isotropic.

    Fitted: ``rotation_ (n_source, n_target)``, ``scale_``, ``coef_ = scale_·rotation_``,
    ``intercept_ (n_target,)``, so that ``ŷ = X·coef_ + intercept_``.
    """

    name = "procrustes"
    contains = ("one_to_one",)
    test_params = {"scaling": True}

    def __init__(self, scaling: bool = False):
        self.scaling = scaling

    def fit(self, X, Y):
        """``X (n_stimuli, n_source)``, ``Y (n_stimuli, n_target)`` → ``self``."""
        if not isinstance(self.scaling, (bool, np.bool_)):
            raise ConfigError(f"scaling must be True or False, got {self.scaling!r}.")
        X, Y = check_xy(X, Y)
        self.n_source_, self.n_target_ = X.shape[1], Y.shape[1]
        x_mean, y_mean = X.mean(axis=0), Y.mean(axis=0)
        Xc = X - x_mean
        self.rotation_, trace = orthogonal_procrustes(Xc, Y - y_mean)
        norm2 = float((Xc**2).sum())
        self.scale_ = trace / norm2 if self.scaling and norm2 > 0 else 1.0
        self.coef_ = self.scale_ * self.rotation_
        self.intercept_ = y_mean - x_mean @ self.coef_
        return self

    def predict(self, X) -> np.ndarray:
        """``X (n_stimuli, n_source)`` → ``(n_stimuli, n_target)``."""
        X = check_source(self, X)
        return (X @ self.coef_ + self.intercept_).astype(X.dtype, copy=False)
