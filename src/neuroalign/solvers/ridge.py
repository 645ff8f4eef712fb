"""Ridge regression with intercept through one spectral decomposition per training set.

For a training set with centred features ``Xc`` the centred Gram ``Kc = Xc Xcᵀ = U diag(λ) Uᵀ``
(``U (n_train, k)``, ``λ > 0``) serves every penalty α and every target:

- coordinates of the centred targets ``B = Uᵀ Yc``  ``(k, n_targets)``;
- held-out predictions ``ȳ + Q (B / (λ + α))`` with ``Q = Kc(test, train) U``  ``(n_test, k)``;
- generalised cross-validation ``GCV(α) = RSS / n / (1 − df/n)²`` with ``f = λ / (λ + α)``,
  ``df = 1 + Σ f`` (intercept counted), written without cancellation as
  ``RSS = R⊥ + Σ (1 − f)² B²`` and ``1 − df/n = (m + Σ (1 − f)) / n``, where ``m = n − 1 − k``
  counts the centred directions outside the basis and ``R⊥ = ‖Yc‖² − Σ B²`` their part of the
  targets (exactly 0 when ``m = 0``, as in the dual form). The textbook form
  ``‖Yc‖² − Σ (2f − f²) B²`` loses every digit when ridge nearly interpolates (small α, ``p > n``):
  in float32 it picked α = 0.01 for most targets where float64 picked 1,000;
- exact leave-one-out errors ``(Yc − U (f·B)) / (1 − 1/n − (U²) f)`` (scikit-learn's ``RidgeCV``),
  formed the same way: ``(R⊥ + U ((1 − f) B)) / (h⊥ + U² (1 − f))``;
- k-fold errors from the bases of the inner training sets (contiguous folds, as ``KFold(k)``).

Penalties are absolute (``α`` as in scikit-learn) or relative (``relative=True``): then each
training set's ``α`` is the given value times that set's penalty unit, the trace of its centred
scatter over its size (``Σλ / n_train``, the features' total variance on the training stimuli),
so multiplying the features by a constant changes no prediction and no choice of penalty.

The dual form eigendecomposes the ``(n_train, n_train)`` Gram, sliced from one global Gram
``K (n, n)``; the primal form (``p ≤ n``) eigendecomposes ``Xcᵀ Xc (p, p)`` and sets
``U = Xc V / √λ``. Decompositions and the small per-fold operators are float64 whatever the
compute dtype; only the large products (Gram, products with the targets) run in the compute dtype
(float32 or float64) on the chosen backend. float32 is used when its error bound
``eps32 · (λ_max + α) / (λ_min + α)`` (relative error of the solve from float32-rounded products)
is at most :data:`FLOAT32_TOLERANCE`; otherwise the design switches to float64 and says so.
In float32 the sums of squares behind the α choice are accumulated in float64, and targets whose
two best α nearly tie (:func:`~neuroalign.solvers.selection.near_ties`) are re-decided from
float64 products, so float32 chooses the α float64 chooses. The primal form's per-fold scatter
is the whole design's minus the test rows'. Out-of-fold predictions go through
:class:`~neuroalign.solvers.oof.FoldPlan`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from neuroalign._core.errors import ConfigError
from neuroalign.solvers.backend import get_backend
from neuroalign.solvers.oof import FoldPlan
from neuroalign.solvers.selection import choose, near_ties

__all__ = ["Design", "FoldBasis", "PrecisionWarning", "check_alphas", "check_cv", "fit_full"]

_F64 = np.float64
#: float32 is refused (recomputed in float64) above this ``eps32 · (λ_max + α) / (λ_min + α)``:
#: a relative error of 1e-4 in the predictions moves a correlation by about 1e-4.
FLOAT32_TOLERANCE = 1e-4


class PrecisionWarning(UserWarning):
    """A float32 computation was ill-conditioned and ran in float64 instead."""


def check_alphas(alphas) -> np.ndarray:
    """Penalty grid as a float64 vector ``(n_alphas,)``; every value finite and > 0."""
    a = np.atleast_1d(np.asarray(alphas, dtype=float))
    if a.ndim != 1 or a.size == 0 or not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise ConfigError(
            f"alphas must be one positive finite value or a 1-D grid of them, got {alphas!r}; "
            "e.g. alphas=np.logspace(-2, 6, 9)."
        )
    return a


def check_cv(cv):
    """``'gcv'``, ``'loo'`` or an int ≥ 2 (contiguous k-fold)."""
    if cv in ("gcv", "loo"):
        return cv
    if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool) and cv >= 2:
        return int(cv)
    raise ConfigError(f"cv must be 'gcv', 'loo' or an int >= 2 (k-fold), got {cv!r}.")


@dataclass
class FoldBasis:
    """Spectral basis of one training set; see the module docstring.

    ``train (n_train,)`` and ``test (n_test,)`` index the rows of the design; ``lam (k,)``,
    ``U (n_train, k)`` (``None`` in the primal form until :meth:`Design.left`), ``Q (n_test, k)`` and
    ``P (p, k) = V / √λ`` (primal form; ``None`` in the dual form) are float64;
    ``kappa = (λ_max + α_min) / (λ_min + α_min)``; ``unit``: the penalty unit of this training
    set (1.0 for absolute penalties, ``trace / n_train`` for relative ones); ``gcv``: the
    generalised cross-validation terms of each penalty grid (:meth:`Design.gcv_terms`).
    """

    train: np.ndarray
    test: np.ndarray
    lam: object
    U: object
    Q: object
    P: object
    kappa: float
    unit: float = 1.0
    gcv: dict = field(default_factory=dict, repr=False, compare=False)


class Design:
    """The predictors of one ridge problem, ready to fit any targets on any training rows.

    Parameters
    ----------
    X : array ``(n_stimuli, n_features)``
        Predictors (numpy, float32 or float64); never copied in the dual form.
    solver : ``"auto"`` (dual when ``n_stimuli < n_features``), ``"primal"`` or ``"dual"``.
    dtype : compute dtype of the large products (``np.float32`` or ``np.float64``).
    backend : ``"numpy"``, ``"torch"``, ``"torch:cuda"`` or a backend object.
    block : features per block when the Gram is accumulated (bounds memory).
    relative : penalties in units of each training set's total feature variance (module
        docstring); False: absolute penalties.
    """

    def __init__(
        self,
        X,
        *,
        solver="auto",
        dtype=_F64,
        backend="numpy",
        block: int = 4096,
        relative: bool = False,
    ):
        if solver not in ("auto", "primal", "dual"):
            raise ConfigError(f"solver must be 'auto', 'primal' or 'dual', got {solver!r}.")
        self.relative = bool(relative)
        self.xp = get_backend(backend)
        self.X = X
        self.n, self.p = X.shape
        self.dual = solver == "dual" or (solver == "auto" and self.n < self.p)
        self.dtype = np.dtype(dtype).type
        self.block = block
        self.x_mean = X.mean(axis=0, dtype=_F64)
        self._bases: dict = {}
        self._setup()

    def _setup(self):
        if self.dual:
            self.K = self._gram()
        else:
            self.Xc64 = self.xp.asarray(np.asarray(self.X, dtype=_F64) - self.x_mean, _F64)
            self._scatter = self.Xc64.T @ self.Xc64  # (p, p): training scatter = this − test part

    def _gram(self):
        """Centred Gram ``(n, n)`` float64, accumulated over feature blocks in the compute dtype.

        The blocks are split into a fixed number of contiguous chunks, summed per chunk in
        parallel and then in chunk order, so the result does not depend on thread timing."""
        xp = self.xp
        starts = list(range(0, self.p, self.block))
        n_chunks = min(len(starts), 8)
        chunks = [starts[i::n_chunks] for i in range(n_chunks)]

        def partial(chunk):
            K = xp.zeros((self.n, self.n), _F64)
            for j in chunk:
                xb = xp.asarray(np.ascontiguousarray(self.X[:, j : j + self.block]), self.dtype)
                xb = xb - xp.asarray(self.x_mean[j : j + self.block], self.dtype)
                K += xp.asarray(xb @ xb.T, _F64)
            return K

        parts = xp.map(partial, chunks)
        K = parts[0]
        for part in parts[1:]:
            K += part
        return K

    # ------------------------------------------------------------------ bases
    def basis(self, train: np.ndarray, test: np.ndarray, alpha_min: float) -> FoldBasis:
        """The :class:`FoldBasis` of rows ``train`` (cached), with test rows ``test``."""
        key = (train.tobytes(), test.tobytes())
        if key not in self._bases:
            self._bases[key] = (
                self._dual_basis(train, test) if self.dual else self._primal_basis(train, test)
            )
        b = self._bases[key]
        lam = self.xp.to_numpy(b.lam)
        lo, hi = (lam.min(), lam.max()) if lam.size else (0.0, 0.0)
        a = alpha_min * b.unit
        b.kappa = float((hi + a) / (lo + a))
        return b

    def unit(self, trace: float, n_train: int) -> float:
        """Penalty unit of a training set whose centred scatter has ``trace``: 1.0 for absolute
        penalties, ``trace / n_train`` for relative ones (1.0 when the features are constant)."""
        if not self.relative:
            return 1.0
        u = float(trace) / n_train
        return u if u > 0 else 1.0

    def bases(self, folds, alpha_min: float) -> list[FoldBasis]:
        """The bases of the training sets ``complement(test)`` for every ``test`` in ``folds``,
        decomposed in parallel (:meth:`~neuroalign.solvers.backend.NumpyBackend.map`)."""
        splits = [(np.setdiff1d(np.arange(self.n), te), np.sort(te)) for te in folds]
        return self.xp.map(lambda s: self.basis(s[0], s[1], alpha_min), splits)

    def _keep(self, lam):
        xp = self.xp
        lam_np = xp.to_numpy(lam)
        tol = max(lam_np.max(initial=0.0), 0.0) * max(lam_np.size, 1) * np.finfo(_F64).eps
        return xp.index(np.flatnonzero(lam_np > tol))

    def _centred_gram(self, train, test):
        """The Gram centred on the training rows' mean: ``(n_train, n_train)`` and
        ``(n_test, n_train)`` float64 (dual form)."""
        xp = self.xp
        tr, te = xp.index(train), xp.index(test)
        K_tr = self.K[tr][:, tr]
        r = K_tr.mean(0)
        g = r.mean()
        K_te = self.K[te][:, tr]
        return K_tr - r[:, None] - r[None, :] + g, K_te - K_te.mean(1)[:, None] - r[None, :] + g

    def _dual_basis(self, train, test):
        Kc_tr, Kc_te = self._centred_gram(train, test)
        unit = self.unit(self.xp.to_numpy(Kc_tr.diagonal()).sum(), train.size)
        lam, U = self.xp.eigh(Kc_tr)
        keep = self._keep(lam)
        lam, U = lam[keep], U[:, keep]
        return FoldBasis(train, test, lam, U, Kc_te @ U, None, 0.0, unit)

    def hat(self, train, test, alpha: float):
        """Held-out operator of one α in the dual form and its condition number.

        Returns ``H (n_test, n_train)`` float64 with test predictions ``H y_train`` (the
        intercept included: ``H = Kc(test, train) (Kc_train + α I)⁻¹ + 11ᵀ/n``; ``y`` needs no
        centring because ``Kc 1 = 0``; ``α`` times the training set's penalty unit),
        ``kappa = (λ_max + α) / (λ_min + α)`` over the positive eigenvalues of ``Kc_train``
        (computed only in float32, where it decides the precision; 0.0 otherwise) and the
        absolute penalty used.
        """
        xp = self.xp
        Kc_tr, Kc_te = self._centred_gram(train, test)
        alpha = alpha * self.unit(xp.to_numpy(Kc_tr.diagonal()).sum(), train.size)
        kappa = 0.0
        if self.dtype == np.float32:
            lam = xp.eigvalsh(Kc_tr)
            lam = xp.to_numpy(lam)[xp.to_numpy(self._keep(lam))]
            kappa = float((lam.max() + alpha) / (lam.min() + alpha)) if lam.size else 1.0
        ridge = Kc_tr + alpha * xp.asarray(np.eye(train.size), _F64)
        H = xp.spd_solve(ridge, Kc_te.T).T
        return H + 1.0 / train.size, kappa, alpha

    def _primal_basis(self, train, test):
        xp = self.xp
        tr, te = xp.index(train), xp.index(test)
        x_te = self.Xc64[te]
        covered = np.zeros(self.n, bool)
        covered[train] = covered[test] = True
        if covered.all() and train.size + test.size == self.n:  # whole scatter minus test rows
            m = (self.Xc64.sum(0) - x_te.sum(0)) / train.size
            scatter = self._scatter - x_te.T @ x_te - train.size * (m[:, None] * m[None, :])
        else:
            x_tr = self.Xc64[tr]
            m = x_tr.mean(0)
            scatter = (x_tr - m).T @ (x_tr - m)
        unit = self.unit(xp.to_numpy(scatter.diagonal()).sum(), train.size)
        lam, V = xp.eigh(scatter)
        keep = self._keep(lam)
        lam, V = lam[keep], V[:, keep]
        P = V / xp.sqrt(lam)[None, :]
        Q = (x_te - m) @ (V * xp.sqrt(lam)[None, :])
        # U = x_tr @ P is formed on demand (leave-one-out, k-fold, full fits) by `left`
        return FoldBasis(train, test, lam, None, Q, P, 0.0, unit)

    def left(self, b: FoldBasis, dtype=None):
        """``U (n_train, k)`` of a basis (formed from ``P`` in the primal form), in ``dtype``
        (default: the compute dtype)."""
        if b.U is None:
            x_tr = self.Xc64[self.xp.index(b.train)]
            b.U = (x_tr - x_tr.mean(0)) @ b.P
        return self.xp.asarray(b.U, dtype or self.dtype)

    def check_precision(self, kappa: float) -> bool:
        """Switch to float64 (warning) when a float32 solve of condition number ``kappa`` (the
        largest ``(λ_max + α) / (λ_min + α)`` of the training sets) would be ill-conditioned.

        Returns True when the design switched (its bases are then recomputed).
        """
        if self.dtype != np.float32:
            return False
        if np.finfo(np.float32).eps * kappa <= FLOAT32_TOLERANCE:
            return False
        warnings.warn(
            f"float32 ridge is ill-conditioned here ((λ_max + α)/(λ_min + α) = {kappa:.3g}, "
            f"float32 error bound {np.finfo(np.float32).eps * kappa:.2g} > {FLOAT32_TOLERANCE}); "
            "computing in float64 instead. Raise the smallest alpha to stay in float32.",
            PrecisionWarning,
            stacklevel=3,
        )
        self.dtype = _F64
        self._bases = {}
        self._setup()
        return True

    # ------------------------------------------------------------ selection
    def gcv_terms(self, b: FoldBasis, alphas):
        """``(shrink², resid², m)`` of penalties ``alphas (n_alphas,)`` (absolute, numpy) on basis
        ``b``: ``(1 − f)² (n_alphas, k)`` and ``(1 − df/n)² (n_alphas, 1)`` as float64 arrays of
        the backend, and ``m`` the centred directions outside the basis; made once per basis and
        grid, so choosing α sends nothing to the device."""
        key = np.asarray(alphas, _F64).tobytes()
        if key not in b.gcv:
            shrink, free = self._shrinkage(b, alphas)
            resid = (free + shrink.sum(1)) / b.train.size  # 1 − df/n with df = 1 + Σ f
            b.gcv[key] = (
                self.xp.asarray(shrink**2, _F64),
                self.xp.asarray(resid[:, None] ** 2, _F64),
                free,
            )
        return b.gcv[key]

    def _shrinkage(self, b: FoldBasis, alphas):
        """``1 − f = α / (λ + α)`` ``(n_alphas, k)`` float64 numpy of penalties ``alphas`` on basis
        ``b``, and ``m``, the centred training directions outside the basis (0 when ``U`` spans
        them all, as in the dual form)."""
        lam = self.xp.to_numpy(b.lam).astype(_F64)
        al = np.asarray(alphas, _F64)[:, None]
        return al / (lam[None, :] + al), max(b.train.size - 1 - lam.size, 0)

    def alpha_errors(self, b: FoldBasis, B, Y, alphas, cv, yc_sq=None, dtype=None):
        """Cross-validation error of every α for every target, ``(n_alphas, n_targets)`` float64,
        an array of the backend (on the device when computing there).

        ``B = Uᵀ Yc (k, n_targets)``; ``Y (n, n_targets)`` the targets of every design row;
        ``alphas (n_alphas,)`` numpy; ``yc_sq (n_targets,)`` the training rows' centred sum of
        squares when already known; ``dtype``: precision of the products with the targets
        (leave-one-out, k-fold; default the compute dtype).
        """
        xp = self.xp
        dtype = dtype or self.dtype
        n_tr = b.train.size
        B64 = xp.asarray(B, _F64)
        if cv == "gcv":
            shrink2, resid2, free = self.gcv_terms(b, alphas)
            if yc_sq is None:
                yc_sq = self._train_ss(b, Y)
            B2 = B64**2
            rss = shrink2 @ B2
            if free:  # centred training directions outside the basis (none in the dual form)
                rss = rss + xp.clip_min(xp.asarray(yc_sq, _F64) - B2.sum(0), 0.0)[None, :]
            return rss / n_tr / resid2
        shrink, free = self._shrinkage(b, alphas)
        if cv == "loo":
            y_tr = Y[xp.index(b.train)]
            U = self.left(b, dtype)
            U2 = xp.asarray(U, _F64) ** 2
            res_perp, h_perp = 0.0, 0.0
            if free:  # the part of the targets and of the leverage outside the basis
                yc = y_tr - y_tr.mean(0)
                res_perp = xp.asarray(yc - U @ xp.asarray(B64, dtype), _F64)
                h_perp = 1.0 - 1.0 / n_tr - U2.sum(1)
            out = []
            for g in xp.asarray(shrink, _F64):
                d = U2 @ g + h_perp
                res = xp.asarray(U @ xp.asarray(g[:, None] * B64, dtype), _F64) + res_perp
                out.append(((res / d[:, None]) ** 2).mean(0))
            return xp.stack(out)
        errs = 0.0
        alphas = np.asarray(alphas, _F64) / b.unit  # relative again: each inner set has its unit
        for test in np.array_split(np.arange(n_tr), cv):
            inner = self.basis(np.delete(b.train, test), b.train[test], float(alphas.min()))
            y_te = xp.asarray(Y[xp.index(inner.test)], _F64)
            Bi, y_mean = self.coords(inner, Y, dtype)
            fold = [self.predict(inner, Bi, y_mean, a * inner.unit, dtype) for a in alphas]
            errs = errs + xp.stack([((y_te - p) ** 2).mean(0) for p in fold])
        return errs / cv

    def coords(self, b: FoldBasis, Y, dtype=None):
        """``B = Uᵀ (Y_train − ȳ_train)`` ``(k, n_targets)`` and ``ȳ_train (n_targets,)``, the
        product in ``dtype`` (default: the compute dtype)."""
        y_tr = Y[self.xp.index(b.train)]
        y_mean = y_tr.mean(0)
        return self.left(b, dtype).T @ (y_tr - y_mean), y_mean

    def predict(self, b: FoldBasis, B, y_mean, alpha, dtype=None):
        """Test-row predictions ``(n_test, n_targets)`` float64 for ``alpha`` (scalar or per
        target), the product in ``dtype`` (default: the compute dtype)."""
        xp = self.xp
        dtype = dtype or self.dtype
        lam = xp.asarray(b.lam, _F64)
        alpha = xp.asarray(np.broadcast_to(alpha, (B.shape[1],)), _F64)
        scale = xp.asarray(1.0 / (lam[:, None] + alpha[None, :]), dtype)
        return xp.asarray(xp.asarray(b.Q, dtype) @ (xp.asarray(B, dtype) * scale), _F64) + (
            xp.asarray(y_mean, _F64)
        )

    def _train_ss(self, b: FoldBasis, Y):
        """Centred sums of squares ``(n_targets,)`` float64 of the training rows of ``Y``."""
        y_tr = self.xp.asarray(Y[self.xp.index(b.train)], _F64)
        return ((y_tr - y_tr.mean(0)) ** 2).sum(0)

    def cancellation(self, b: FoldBasis, B, Y, yc_sq=None):
        """``(n_targets,)`` float64 of the backend: ``Σ B² / R⊥``, the factor by which forming
        ``R⊥ = ‖Yc‖² − Σ B²`` (the targets' part outside the basis, see :meth:`alpha_errors`)
        magnifies the rounding of ``B``; 0 where the basis spans every centred direction
        (``R⊥ = 0`` exactly)."""
        xp = self.xp
        if b.train.size - 1 - b.lam.shape[0] <= 0:
            return xp.zeros((B.shape[1],), _F64)
        if yc_sq is None:
            yc_sq = self._train_ss(b, Y)
        b_sq = (xp.asarray(B, _F64) ** 2).sum(0)
        r_perp = xp.asarray(yc_sq, _F64) - b_sq
        return b_sq / xp.clip_min(r_perp, float(np.finfo(_F64).tiny))

    def select(self, b: FoldBasis, B, Y, alphas, cv, per_target: bool, yc_sq=None, exact=None):
        """Chosen α per target ``(n_targets,)`` and the error table ``(n_alphas, n_targets)``
        (float64 arrays of the backend); ``alphas`` (numpy) are this basis's absolute penalties
        (the grid times ``b.unit``).

        ``exact``: in float32, a function ``cols → (B, Y, yc_sq)`` giving the same statistics
        for the targets ``cols`` from float64 products; targets whose two best α are within
        :data:`~neuroalign.solvers.selection.FLOAT32_TIE` of each other are then re-decided from those (a near tie that
        float32 rounding could flip).
        """
        xp, n_t = self.xp, B.shape[1]
        if alphas.size == 1:
            return xp.asarray(np.full(n_t, alphas[0]), _F64), None
        refine = exact is not None and self.dtype != _F64
        if refine and yc_sq is None:
            yc_sq = self._train_ss(b, Y)  # for both the errors and the cancellation
        errors = self.alpha_errors(b, B, Y, alphas, cv, yc_sq)
        if refine:
            near = near_ties(errors, per_target, self.cancellation(b, B, Y, yc_sq), xp)
            cols = np.flatnonzero(xp.to_numpy(near))
            if cols.size:
                B64, Y64, yc_sq64 = exact(cols)
                exact_errors = self.alpha_errors(b, B64, Y64, alphas, cv, yc_sq64, dtype=_F64)
                errors[:, xp.index(cols)] = exact_errors
        return choose(errors, xp.asarray(alphas, _F64), per_target, xp), errors

    # ------------------------------------------------------- cross-validation
    def cross_val_predict(self, Y, folds, alphas, cv, per_target=True):
        """Out-of-fold predictions ``(n, n_targets)`` float64 and the α chosen per fold and target.

        ``Y (n, n_targets)`` numpy; ``folds``: list of test-index arrays partitioning the rows.
        Returns ``(predictions, alphas_chosen (n_folds, n_targets))``; see
        :class:`~neuroalign.solvers.oof.FoldPlan`.
        """
        with self.xp.serial():
            return FoldPlan(self, folds, alphas, cv, per_target).cross_val_predict(Y)


def fit_full(design: Design, Y, alphas, cv, per_target=True):
    """Fit on every row of ``design``: ``coef (p, t)``, ``intercept (t,)``, ``alpha (t,)``
    (absolute: the chosen grid value times the penalty unit), errors."""
    xp = design.xp
    n = design.n
    b = design.basis(np.arange(n), np.arange(0), float(alphas.min()))
    if design.check_precision(b.kappa):
        return fit_full(design, Y, alphas, cv, per_target)
    Yd = xp.asarray(Y, design.dtype)
    B, y_mean = design.coords(b, Yd)

    def exact(cols):
        y = xp.asarray(np.asarray(Y, _F64)[:, cols], _F64)
        B64, mean = design.coords(b, y, _F64)
        return B64, y, ((y - mean) ** 2).sum(0)

    alpha, errors = design.select(b, B, Yd, alphas * b.unit, cv, per_target, exact=exact)
    lam = xp.asarray(b.lam, _F64)
    scale = 1.0 / (lam[:, None] + xp.asarray(alpha, _F64)[None, :])
    if design.dual:
        dual = design.left(b) @ xp.asarray(xp.asarray(B, _F64) * scale, design.dtype)
        Xd = xp.asarray(design.X, design.dtype)
        coef = xp.to_numpy(xp.asarray(Xd.T @ dual, _F64)) - np.outer(
            design.x_mean, xp.to_numpy(xp.asarray(dual, _F64).sum(0))
        )
    else:
        coef = xp.to_numpy(b.P @ (xp.asarray(B, _F64) * scale * lam[:, None]))
    intercept = xp.to_numpy(xp.asarray(y_mean, _F64)) - design.x_mean @ coef
    return (
        coef,
        intercept,
        np.array(xp.to_numpy(alpha)),
        (None if errors is None else np.array(xp.to_numpy(errors))),
    )
