"""`Ridge`: linear map with intercept, α chosen per target by cross-validation."""

from __future__ import annotations

import numpy as np

from neuroalign._core.errors import DataError
from neuroalign._core.validation import as_float_matrix, check_xy
from neuroalign.solvers.ridge import Design, check_alphas, check_cv, fit_full
from neuroalign.transforms.base import Transform

__all__ = ["Ridge"]


class Ridge(Transform):
    """Ridge regression ``Y ≈ X W + b`` with an unpenalised intercept.

    Parameters
    ----------
    alphas : float or sequence of float > 0
        One penalty, or a grid searched per target (``alpha_per_target``) or jointly.
    cv : ``"loo"`` (default) | ``"gcv"`` | int
        How α is chosen from a grid: exact leave-one-out error (what scikit-learn's ``RidgeCV``
        does), generalised cross-validation (leave-one-out with the average leverage; cheapest), or
        k-fold over contiguous blocks of rows (as ``KFold(k)``). Ignored for a single α.
    alpha_per_target : bool
        One α per target column (default) or one α for all targets (mean error).
    solver : ``"auto"`` | ``"primal"`` | ``"dual"``
        Dual (Gram of stimuli) when ``n_stimuli < n_features``, else primal; same result.
    backend : ``"numpy"`` | ``"torch"`` | ``"torch:cuda"``
        Where the products run. Computation runs in the input's float dtype (float32 only when ``X``
        and ``Y`` are both float32; an ill-conditioned float32 problem switches to float64 with a
        :class:`~neuroalign.solvers.ridge.PrecisionWarning`).

    Attributes
    ----------
    coef_ : ``(n_features, n_targets)``; ``intercept_ : (n_targets,)``; ``alpha_ : (n_targets,)``;
    cv_errors_ : ``(n_alphas, n_targets)`` mean squared CV error per α (``None`` for one α).
    """

    name = "ridge"
    contains = ("procrustes", "pls")

    def __init__(
        self,
        alphas=1.0,
        *,
        cv="loo",
        alpha_per_target: bool = True,
        solver: str = "auto",
        backend: str = "numpy",
    ):
        self.alphas = alphas
        self.cv = cv
        self.alpha_per_target = alpha_per_target
        self.solver = solver
        self.backend = backend

    def _check(self, n_stimuli: int):
        alphas = check_alphas(self.alphas)
        cv = check_cv(self.cv)
        need = cv if isinstance(cv, int) else 2
        if alphas.size > 1 and n_stimuli < need + (cv == "loo"):
            raise DataError(
                f"Ridge with cv={cv!r} needs at least {max(need, 3)} stimuli to choose alpha, "
                f"got {n_stimuli}; use fewer folds or a single alpha."
            )
        if n_stimuli < 2:
            raise DataError(
                f"Ridge needs at least 2 stimuli to fit an intercept and a slope, got {n_stimuli}."
            )
        return alphas, cv

    def design(self, X, dtype) -> Design:
        """The :class:`~neuroalign.solvers.ridge.Design` of ``X`` with this estimator's settings."""
        return Design(X, solver=self.solver, dtype=dtype, backend=self.backend)

    def fit(self, X, Y):
        """Fit on ``X (n_stimuli, n_features)``, ``Y (n_stimuli, n_targets)``; returns ``self``."""
        X, Y = check_xy(X, Y)
        alphas, cv = self._check(X.shape[0])
        design = self.design(X, X.dtype)
        self.coef_, self.intercept_, self.alpha_, self.cv_errors_ = fit_full(
            design, Y, alphas, cv, self.alpha_per_target
        )
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X) -> np.ndarray:
        """Predictions ``(n_stimuli, n_targets)`` (float64) for ``X (n_stimuli, n_features)``."""
        if not hasattr(self, "coef_"):
            raise DataError("this Ridge is not fitted yet; call fit(X, Y) first.")
        X = as_float_matrix(X, "X")
        if X.shape[1] != self.n_features_in_:
            raise DataError(
                f"X has {X.shape[1]} features but the Ridge was fitted on {self.n_features_in_}."
            )
        return X @ self.coef_ + self.intercept_
