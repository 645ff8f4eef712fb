"""The zippering (linear–nonlinear) transform: map in pre-activation space, re-apply the activation.

``ŷ = σ(σ⁻¹(x)·W + b)`` with σ = softplus, or, for ReLU-like data with exact zeros, a hurdle
model ``ŷ = P(y > 0)·E[y | y > 0]`` with a logistic gate and a linear value. Penalised GLMs are
fitted for all targets (and all penalties of the grid) at once by L-BFGS with analytic gradients.
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy.special import expit
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from neuroalign._core.errors import ConfigError, DataError
from neuroalign._core.validation import check_seed, check_xy
from neuroalign.solvers.glm import (
    fit_glm,
    ridge_columns,
    softplus,
    softplus_inverse,
    weighted_ridge,
)
from neuroalign.solvers.threads import blas_limit
from neuroalign.transforms._common import check_source, standardize
from neuroalign.transforms.base import Transform

__all__ = ["Zippering", "softplus", "softplus_inverse", "fit_glm"]

_ACTIVATIONS = ("softplus", "relu_hurdle")
_LOSSES = ("gaussian", "poisson")
_TINY = 1e-12


def _unit(A: np.ndarray, scale: str | None, axis=None):
    """The mean response (over everything, or per column with ``axis=0``): the unit of the fit
    with ``scale="mean"``; 1.0 otherwise and where a mean is not positive."""
    if scale is None:
        return 1.0 if axis is None else np.ones(A.shape[1])
    m = np.mean(A, axis=axis, dtype=np.float64)
    return np.where((m > 0) & np.isfinite(m), m, 1.0) if axis is not None else (float(m) if m > 0 and np.isfinite(m) else 1.0)  # fmt: skip


class Zippering(Transform):
    """Linear–nonlinear map ``ŷ = σ(σ⁻¹(x)·W + b)``, fitted in pre-activation space.

    ``activation="softplus"``: σ(h) = log(1 + eʰ), σ⁻¹(x) = x + log(−expm1(−x)). Inputs must be
    positive activations (rates, softplus outputs); values below ``floor_`` = half the column's
    smallest positive training value (the resolution of trial-averaged counts; 1e-6 for a column
    with none) are clipped to it before inversion, so a zero mean count maps to a finite
    pre-activation instead of an outlier (``clipped_fraction_`` records how many); a unit with more than half its values
    clipped raises :class:`DataError` (use ``relu_hurdle``). ``loss`` is the penalised
    ``"gaussian"`` (squared error of ŷ, per target divided by the target's variance) or
    ``"poisson"`` negative log-likelihood (targets ≥ 0).

    ``activation="relu_hurdle"``, for ReLU-like data with exact zeros: ``ŷ = g·v`` with gate
    ``g = logistic(x·W_g + b_g) = P(y > 0)`` (penalised logistic regression) and value
    ``v = x·W_v + b_v = E[y | y > 0]`` (ridge over the stimuli where ``y > 0``); Gaussian only.

    The L2 penalty (on standardised features, intercepts free) is chosen per target over
    ``alphas`` by the held-out loss: ``cv="alo"`` (default) scores approximate leave-one-out
    predictions of one fit per penalty on every stimulus (one Newton step per left-out stimulus,
    in closed form: :func:`_approximate_loo`; exact for the hurdle's ridge part), and the final fit
    refines the chosen penalty's fit; ``cv=k`` runs seeded k-fold cross-validation instead (k fits
    per penalty, several times slower). Fits start from the ridge solution in pre-activation
    space (softplus) or from zero/ridge (hurdle). ``tol`` bounds each target's gradient in the
    final fit (on whitened, curvature-scaled coordinates, i.e. roughly relative to each target's
    scale; see :func:`fit_glm`); the fits of the search use ``100 × tol``.
    ``n_threads`` caps the BLAS threads while fitting (restored afterwards; ``None``: no cap): the
    matrices are small, and on a busy machine extra threads slow the fit several-fold.
    ``alpha`` (one value or one per target) fixes the penalty and skips the search
    (:meth:`frozen` returns such a copy with the penalties this fit chose). ``warm_start``
    ``(n_source + 1, n_target)`` (intercept row first; the pre-activation map in the input space for
    softplus, the gate's logit map for the hurdle) starts the final fit there instead of at the
    ridge solution; :meth:`frozen` sets it to this fit's map, so refits on similar data (the
    split halves of a fold) converge in a few Newton steps. It changes where the optimiser starts,
    not the optimum.
    With ``W`` a permutation and ``b = 0`` the map is a one-to-one copy, hence contains
    ``one_to_one``.
    ``scale="mean"`` (default) fits in units of the source population's mean response and of each
    target's mean on the training stimuli (``x / x̄``, ``y_j / ȳ_j``; predictions are multiplied
    back by ``ȳ_j``), so multiplying the
    source or the target by a constant changes no prediction's shape (softplus has a scale:
    without this, rates in spikes/s and in spikes per 10 ms would meet different nonlinearities);
    ``scale=None`` fits the values as given.

    Fitted: ``coef_ (n_source, n_target)``, ``intercept_ (n_target,)`` (pre-activation map;
    for the hurdle the value part, and ``gate_coef_``, ``gate_intercept_`` the gate),
    ``alpha_ (n_target,)``, ``cv_loss_ (n_alphas, n_target)`` (None when ``alpha`` was given),
    ``x_scale_`` and ``y_scale_ (n_target,)`` (the units of the fit; 1.0 with ``scale=None``).
    """

    name = "zippering"
    contains = ("one_to_one",)
    test_params = {"alphas": (1e-2,), "cv": 2}

    def __init__(
        self,
        activation: str = "softplus",
        loss: str = "gaussian",
        alphas=(1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0),
        cv: int | str = "alo",
        seed=0,
        max_iter: int = 500,
        tol: float = 1e-6,
        n_threads: int | None = 1,
        alpha=None,
        warm_start=None,
        scale: str | None = "mean",
    ):
        self.scale = scale
        self.activation = activation
        self.loss = loss
        self.alphas = alphas
        self.cv = cv
        self.seed = seed
        self.max_iter = max_iter
        self.tol = tol
        self.n_threads = n_threads
        self.alpha = alpha
        self.warm_start = warm_start

    # -- checks -----------------------------------------------------------------------------
    def _check_params(self) -> np.ndarray:
        if self.activation not in _ACTIVATIONS:
            raise ConfigError(f"activation must be one of {_ACTIVATIONS}, got {self.activation!r}.")
        if self.loss not in _LOSSES:
            raise ConfigError(f"loss must be one of {_LOSSES}, got {self.loss!r}.")
        if self.activation == "relu_hurdle" and self.loss != "gaussian":
            raise ConfigError("activation='relu_hurdle' supports loss='gaussian' only.")
        alphas = np.atleast_1d(np.asarray(self.alphas, dtype=np.float64))
        if alphas.ndim != 1 or alphas.size == 0 or not np.all(np.isfinite(alphas) & (alphas >= 0)):
            raise ConfigError(
                f"alphas must be a non-empty list of penalties ≥ 0, got {self.alphas!r}."
            )
        if self.n_threads is not None and (
            not isinstance(self.n_threads, numbers.Integral) or self.n_threads < 1
        ):
            raise ConfigError(
                f"n_threads must be a positive integer or None, got {self.n_threads!r}."
            )
        if self.scale not in ("mean", None):
            raise ConfigError(f"scale must be 'mean' or None, got {self.scale!r}.")
        if self.cv != "alo" and (not isinstance(self.cv, numbers.Integral) or self.cv < 2):
            raise ConfigError(
                f"cv must be 'alo' (approximate leave-one-out) or an integer ≥ 2 (k-fold), "
                f"got {self.cv!r}."
            )
        return alphas

    # -- features ---------------------------------------------------------------------------
    def _raw_features(self, X: np.ndarray) -> np.ndarray:
        """Features in the map's input space ``(n, n_source)``, float64: σ⁻¹(x) or x."""
        X = X.astype(np.float64)
        return softplus_inverse(X, self.floor_) if self.activation == "softplus" else X

    # -- fitting ---------------------------------------------------------------------------
    def _fit_columns(
        self, F: np.ndarray, Y: np.ndarray, alpha: np.ndarray, tol: float, B0=None, loo=False
    ):
        """Fit every column of ``Y (n, q)`` on ``F (n, p)`` for each row of ``alpha (k, q)``.

        Returns ``B (p+1, k·q)`` (softplus) or ``(B_gate, B_value)`` (hurdle); column block ``i``
        holds penalty row ``i``. All ``k·q`` problems go to one batched :func:`fit_glm` call,
        started at ``B0`` (the map on ``F``; the gate for the hurdle; ``(p+1, q)`` or
        ``(p+1, k·q)``) when given. With ``loo``: ``(params, leave-one-out predictions (n, k·q))``
        (approximate for the GLMs, exact for the hurdle's value part).
        """
        k = alpha.shape[0]
        Yk, a = np.tile(Y, k), alpha.ravel()
        if B0 is not None and B0.shape[1] != a.size:
            B0 = np.tile(B0, k)
        if self.activation == "relu_hurdle":
            pos = Y > 0
            value = weighted_ridge(F, Y, pos, alpha, with_loo=loo)
            # warm start: the linear probability model, rescaled to the logit's slope at 1/2
            if B0 is None:
                B0 = np.tile(
                    np.clip(
                        4.0 * ridge_columns(F, pos - 0.5, a.reshape(k, -1).max(0)), -10.0, 10.0
                    ),
                    k,
                )
            Pk = np.tile(pos, k).astype(np.float64)
            gate = fit_glm(F, Pk, a, "bernoulli", B0, None, self.max_iter, tol, loo)
            if not loo:
                return gate, value
            (gate, gate_loo), (value, value_loo) = gate, value
            return (gate, value), expit(gate_loo) * value_loo
        top = Y.max(axis=0)
        if B0 is None:
            B0 = ridge_columns(
                F, np.tile(softplus_inverse(Y, 1e-6 * np.where(top > 0, top, 1.0)), k), a
            )
        scale = Y.var(axis=0) if self.loss == "gaussian" else Y.mean(axis=0)
        weight = np.tile(1.0 / np.where(scale > 0, scale, 1.0), k)
        out = fit_glm(F, Yk, a, self.loss, B0, weight, self.max_iter, tol, loo)
        return (out[0], softplus(out[1])) if loo else out

    def _predict_columns(self, F: np.ndarray, params) -> np.ndarray:
        if self.activation == "relu_hurdle":
            gate, value = params
            return expit(gate[0] + F @ gate[1:]) * (value[0] + F @ value[1:])
        return softplus(params[0] + F @ params[1:])

    def _heldout_loss(self, pred: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """Summed held-out loss per column: squared error, or Poisson deviance up to a constant."""
        if self.loss == "gaussian":
            return ((pred - Y) ** 2).sum(0)
        pred = np.maximum(pred, _TINY)
        return (pred - Y * np.log(pred)).sum(0)

    def fit(self, X, Y):
        """``X (n_stimuli, n_source)`` activations, ``Y (n_stimuli, n_target)`` → ``self``."""
        alphas = self._check_params()
        if self.n_threads is None:
            return self._fit(alphas, X, Y)
        with blas_limit(self.n_threads):
            return self._fit(alphas, X, Y)

    def _fit(self, alphas: np.ndarray, X, Y):
        X, Y = check_xy(X, Y)
        n = X.shape[0]
        if n < (3 if self.cv == "alo" else self.cv):
            raise DataError(
                f"Zippering needs at least cv={self.cv} stimuli (3 for 'alo'), got {n}."
            )
        if self.loss == "poisson" and (Y < 0).any():
            raise DataError(
                "loss='poisson' needs non-negative targets (counts or rates); got Y < 0."
            )
        self.n_source_, self.n_target_ = X.shape[1], Y.shape[1]
        self.x_scale_, self.y_scale_ = _unit(X, self.scale), _unit(Y, self.scale, axis=0)
        X, Y = X / self.x_scale_, Y / self.y_scale_
        if self.activation == "softplus":
            positive = np.where(X > 0, X, np.inf).min(axis=0).astype(np.float64)
            self.floor_ = np.where(np.isfinite(positive), 0.5 * positive, 1e-6)
            low = (X < self.floor_).mean(axis=0)
            if low.max() > 0.5:
                j = int(low.argmax())
                raise DataError(
                    f"source unit {j} has {low[j]:.0%} of its values at or below zero; softplus "
                    "zippering needs positive activations (e.g. firing rates): use "
                    "activation='relu_hurdle' for ReLU-like data with many zeros."
                )
            self.clipped_fraction_ = float(low.mean())
        F, self.feature_mean_, self.feature_sd_ = standardize(self._raw_features(X))
        Y64 = Y.astype(np.float64)
        q, k = Y.shape[1], alphas.size
        if self.alpha is not None:
            self.alpha_ = self._fixed_alpha(q)
            self.cv_loss_ = None
        else:
            alpha_grid = np.repeat(alphas[:, None], q, axis=1)
            start = None
            if self.cv == "alo":
                params, pred = self._fit_columns(F, Y64, alpha_grid, 100 * self.tol, loo=True)
                cv_loss = self._heldout_loss(pred, np.tile(Y64, k))
            else:
                folds = np.array_split(check_seed(self.seed).permutation(n), self.cv)
                cv_loss = np.zeros(q * k)
                for test in folds:
                    train = np.setdiff1d(np.arange(n), test)
                    params = self._fit_columns(F[train], Y64[train], alpha_grid, 100 * self.tol)
                    pred = self._predict_columns(F[test], params)
                    cv_loss += self._heldout_loss(pred, np.tile(Y64[test], k))
            self.cv_loss_ = cv_loss.reshape(k, q) / n
            best = np.argmin(self.cv_loss_, axis=0)
            self.alpha_ = alphas[best]
            if self.cv == "alo":  # the final fit refines the chosen penalty's fit on all rows
                start = params[0] if self.activation == "relu_hurdle" else params
                start = start[:, best * q + np.arange(q)]
        if self.warm_start is not None or self.alpha is not None:
            start = self._start(q)
        params = self._fit_columns(F, Y64, self.alpha_[None, :], self.tol, start)
        if self.activation == "relu_hurdle":
            gate, params = params
            self.gate_coef_, self.gate_intercept_ = self._unstandardize(gate)
        self.coef_, self.intercept_ = self._unstandardize(params)
        return self

    def _fixed_alpha(self, q: int) -> np.ndarray:
        a = np.asarray(self.alpha, dtype=np.float64)
        if a.ndim > 1 or (a.ndim == 1 and a.size != q) or not np.all(np.isfinite(a) & (a >= 0)):
            raise ConfigError(
                f"alpha must be one penalty ≥ 0 or one per target ({q}), got shape {a.shape}."
            )
        return np.broadcast_to(a, (q,)).copy()

    def _start(self, q: int) -> np.ndarray | None:
        """``warm_start`` on the standardised features ``(p+1, q)``, or None."""
        if self.warm_start is None:
            return None
        w = np.asarray(self.warm_start, dtype=np.float64)
        if w.shape != (self.n_source_ + 1, q) or not np.all(np.isfinite(w)):
            raise ConfigError(
                f"warm_start must be a finite ({self.n_source_ + 1}, {q}) array (intercept row, "
                f"then one row per source unit), got shape {w.shape}."
            )
        return np.vstack([w[0] + self.feature_mean_ @ w[1:], w[1:] * self.feature_sd_[:, None]])

    def frozen(self) -> Zippering:
        """An unfitted copy with the penalty fixed at the per-target ``alpha_`` chosen here and
        ``warm_start`` at this fit's map (the gate for the hurdle)."""
        check_is_fitted(self, "alpha_")
        if self.activation == "relu_hurdle":
            start = np.vstack([self.gate_intercept_, self.gate_coef_])
        else:
            start = np.vstack([self.intercept_, self.coef_])
        return clone(self).set_params(alpha=self.alpha_.copy(), warm_start=start)

    def _unstandardize(self, B: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Map ``B`` on standardised features back to the raw (pre-activation) features."""
        coef = B[1:] / self.feature_sd_[:, None]
        return coef, B[0] - self.feature_mean_ @ coef

    def predict(self, X) -> np.ndarray:
        """``X (n_stimuli, n_source)`` → ``(n_stimuli, n_target)``."""
        X = check_source(self, X)
        F = self._raw_features(X / self.x_scale_)
        pre = F @ self.coef_ + self.intercept_
        if self.activation == "relu_hurdle":
            pred = expit(F @ self.gate_coef_ + self.gate_intercept_) * pre
        else:
            pred = softplus(pre)
        return (pred * self.y_scale_).astype(X.dtype, copy=False)
