"""`Ridge`: linear map with intercept, penalty chosen per target on the training stimuli."""

from __future__ import annotations

import numpy as np

from neuroalign._core.errors import ConfigError, DataError
from neuroalign._core.validation import check_xy
from neuroalign.solvers.compute import Compute, as_compute
from neuroalign.solvers.oof import FoldPlan
from neuroalign.solvers.ridge import Design, check_alphas, check_cv, fit_full
from neuroalign.transforms._common import check_source
from neuroalign.transforms.base import Transform

__all__ = ["DEFAULT_ALPHAS", "Ridge"]

#: the default grid, relative to each training set's total feature variance (``penalty="relative"``)
DEFAULT_ALPHAS = tuple(float(a) for a in np.logspace(-6, 4, 11))


class Ridge(Transform):
    """Ridge regression ``Y ≈ X W + b`` with an unpenalised intercept.

    ``Ridge()`` — what the name ``"ridge"`` means everywhere — chooses one penalty per target and
    per training set from an 11-value grid by generalised cross-validation on the training
    stimuli, with penalties relative to the features' scale, so a score does not change when
    features or responses are multiplied by a constant.

    Parameters
    ----------
    alphas : float or sequence of float > 0
        One penalty, or a grid searched per target (``alpha_per_target``) or jointly. Default
        :data:`DEFAULT_ALPHAS` (``10⁻⁶ … 10⁴``).
    cv : ``"gcv"`` (default) | ``"loo"`` | int
        How α is chosen from a grid: generalised cross-validation (leave-one-out with the average
        leverage; cheapest), exact leave-one-out error (what scikit-learn's ``RidgeCV`` does), or
        k-fold over contiguous blocks of rows (as ``KFold(k)``). Ignored for a single α.
    alpha_per_target : bool
        One α per target column (default) or one α for all targets (mean error).
    penalty : ``"relative"`` (default) | ``"absolute"``
        Relative: every α is multiplied by the training set's total feature variance (the trace
        of its centred scatter over its size), so the grid is scale-free. Absolute: α as given,
        as in scikit-learn's ``Ridge`` (e.g. ``Ridge(0.1, penalty="absolute")``).
    solver : ``"auto"`` | ``"primal"`` | ``"dual"``
        Dual (Gram of stimuli) when ``n_stimuli < n_features``, else primal; same result.
    compute : :class:`~neuroalign.solvers.compute.Compute`, a backend name or None
        Where and in which precision the products run (default numpy; ``dtype`` None: float32
        only when ``X`` and ``Y`` are both float32). An ill-conditioned float32 problem switches to
        float64 with a :class:`~neuroalign.solvers.ridge.PrecisionWarning`.
    backend : shorthand for ``compute=Compute(backend)`` (``"numpy"``, ``"torch"``,
        ``"torch:cuda"``); overrides the compute's backend when both are given.

    Attributes
    ----------
    coef_ : ``(n_features, n_targets)``; ``intercept_ : (n_targets,)``; ``alpha_ : (n_targets,)``
    (absolute); ``cv_errors_`` : ``(n_alphas, n_targets)`` mean squared CV error per α (``None``
    for one α).
    """

    name = "ridge"
    contains = ("procrustes", "pls")
    test_params = {"alphas": (0.1, 10.0)}

    def __init__(
        self,
        alphas=DEFAULT_ALPHAS,
        *,
        cv="gcv",
        alpha_per_target: bool = True,
        penalty: str = "relative",
        solver: str = "auto",
        compute=None,
        backend: str | None = None,
    ):
        self.alphas = alphas
        self.cv = cv
        self.alpha_per_target = alpha_per_target
        self.penalty = penalty
        self.solver = solver
        self.compute = compute
        self.backend = backend

    def compute_(self) -> Compute:
        """The effective :class:`~neuroalign.solvers.compute.Compute` (``backend`` applied)."""
        c = as_compute(self.compute)
        if self.backend is not None and self.backend != c.backend:
            c = Compute(self.backend, c.dtype, c.block_size)
        return c

    def _check(self, n_stimuli: int):
        if self.penalty not in ("relative", "absolute"):
            raise ConfigError(f"penalty must be 'relative' or 'absolute', got {self.penalty!r}.")
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

    def design(self, X, dtype=None) -> Design:
        """The :class:`~neuroalign.solvers.ridge.Design` of ``X`` with this estimator's settings
        (``dtype`` overrides the compute's)."""
        c = self.compute_()
        dtype = dtype or c.dtype or (np.float32 if X.dtype == np.float32 else np.float64)
        return Design(
            X,
            solver=self.solver,
            dtype=dtype,
            backend=c.backend,
            relative=self.penalty == "relative",
        )

    def oof_plan(self, X, folds, dtype=None) -> FoldPlan:
        """The fast path's :class:`~neuroalign.solvers.oof.FoldPlan`: out-of-fold predictions of
        any targets from ``X (n_stimuli, n_features)`` for the test folds ``folds``, one
        decomposition per fold shared by every target and penalty."""
        alphas, cv = self._check(X.shape[0] - max(np.size(f) for f in folds))
        design = self.design(X, dtype)
        with design.xp.serial():
            return FoldPlan(design, folds, alphas, cv, self.alpha_per_target)

    def fit(self, X, Y):
        """Fit on ``X (n_stimuli, n_features)``, ``Y (n_stimuli, n_targets)``; returns ``self``."""
        X, Y = check_xy(X, Y)
        alphas, cv = self._check(X.shape[0])
        design = self.design(X, X.dtype if self.compute_().dtype is None else None)
        self.coef_, self.intercept_, self.alpha_, self.cv_errors_ = fit_full(
            design, Y, alphas, cv, self.alpha_per_target
        )
        self.n_features_in_ = self.n_source_ = X.shape[1]
        return self

    def predict(self, X) -> np.ndarray:
        """Predictions ``(n_stimuli, n_targets)`` (float64) for ``X (n_stimuli, n_features)``."""
        X = check_source(self, X)
        return np.asarray(X, np.float64) @ self.coef_ + self.intercept_
