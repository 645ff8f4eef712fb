"""The zippering (linear–nonlinear) transform: map in pre-activation space, re-apply the activation.

``ŷ = σ(σ⁻¹(x)·W + b)`` with σ = softplus, or, for ReLU-like data with exact zeros, a hurdle
model ``ŷ = P(y > 0)·E[y | y > 0]`` with a logistic gate and a linear value. Penalised GLMs are
fitted for all targets (and all penalties of the grid) at once by L-BFGS with analytic gradients.
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy.linalg import solve_triangular
from scipy.optimize import minimize
from scipy.special import expit
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import ThreadpoolController

from neuroalign._core.errors import ConfigError, DataError
from neuroalign._core.validation import check_seed, check_xy
from neuroalign.transforms._common import check_source, standardize
from neuroalign.transforms.base import Transform

__all__ = ["Zippering", "softplus", "softplus_inverse", "fit_glm"]

_ACTIVATIONS = ("softplus", "relu_hurdle")
_LOSSES = ("gaussian", "poisson")
_TINY = 1e-12


def softplus(h: np.ndarray) -> np.ndarray:
    """``σ(h) = log(1 + eᴴ)``, computed without overflow."""
    return np.logaddexp(0.0, h)


def softplus_inverse(x: np.ndarray, floor) -> np.ndarray:
    """``σ⁻¹(x) = x + log(−expm1(−x))`` after clipping ``x`` to at least ``floor`` (> 0)."""
    x = np.maximum(x, floor)
    return x + np.log(-np.expm1(-x))


def _loss_and_grad(kind: str, H: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column summed loss ``(m,)`` and its derivative ``dℓ/dH (n, m)`` at pre-activation ``H``.

    ``gaussian``: ``½(σ(H) − Y)²``; ``poisson``: ``σ(H) − Y·log σ(H)`` (softplus link);
    ``bernoulli``: ``log(1 + eᴴ) − Y·H`` (logit link, Y in {0, 1}).
    """
    e = np.exp(-np.abs(H))
    sp = np.maximum(H, 0.0) + np.log1p(e)  # softplus(H)
    d = np.where(H >= 0, 1.0, e) / (1.0 + e)  # σ'(H) = logistic(H)
    if kind == "bernoulli":
        return (sp - Y * H).sum(0), d - Y
    mu = np.maximum(sp, _TINY)
    if kind == "gaussian":
        r = mu - Y
        return 0.5 * (r**2).sum(0), r * d
    return (mu - Y * np.log(mu)).sum(0), (1.0 - Y / mu) * d


def _curvature(kind: str, H: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Per-observation second derivative ``d²ℓ/dH² (n, m)`` of :func:`_loss_and_grad`'s losses,
    clipped at 0 (where the Gaussian or Poisson loss is locally concave in ``H``)."""
    e = np.exp(-np.abs(H))
    d = np.where(H >= 0, 1.0, e) / (1.0 + e)  # σ'(H)
    d2 = d * (1.0 - d)  # σ''(H)
    if kind == "bernoulli":
        return d2
    mu = np.maximum(np.maximum(H, 0.0) + np.log1p(e), _TINY)
    if kind == "gaussian":
        return np.maximum(d * d + (mu - Y) * d2, 0.0)
    return np.maximum((Y / mu) * (d / mu) * d + (1.0 - Y / mu) * d2, 0.0)


#: largest whitened feature count (+ intercept) solved by batched Newton; L-BFGS above it
_NEWTON_MAX_DIM = 128
#: a Newton step that leaves more than this fraction of a column's scaled gradient rebuilds its Hessian
_REBUILD_RATIO = 0.5
#: bytes of one block of the row-wise outer products ``G1_i ⊗ G1_i`` that build the Hessians
_HESSIAN_BLOCK_BYTES = 2**25


class _Hessians:
    """Penalised Hessians ``(k, d, d) = Σ_i C_ik G1_i G1_iᵀ + diag(pen_k)`` of a design ``G1 (n, d)``
    for curvatures ``C (n, k)``: one GEMM per block of rows on the upper triangles (symmetric),
    the first block's row-wise outer products kept between calls."""

    def __init__(self, G1: np.ndarray):
        n, dim = G1.shape
        self.G1, self.dim = G1, dim
        iu, ju = np.triu_indices(dim)
        self.iu, self.ju = iu, ju
        self.upper, self.lower = iu * dim + ju, ju * dim + iu
        rows = max(1, _HESSIAN_BLOCK_BYTES // (8 * iu.size))
        self.blocks = [slice(i, i + rows) for i in range(0, n, rows)]
        self.first = G1[self.blocks[0]][:, iu] * G1[self.blocks[0]][:, ju]

    def __call__(self, C: np.ndarray, pen: np.ndarray) -> np.ndarray:
        """``C (n, k)``, ``pen (d, k)`` → ``(k, d, d)``."""
        G1, iu, ju, dim = self.G1, self.iu, self.ju, self.dim
        tri = C[self.blocks[0]].T @ self.first
        for b in self.blocks[1:]:
            tri += C[b].T @ (G1[b][:, iu] * G1[b][:, ju])
        H = np.empty((C.shape[1], dim * dim))
        H[:, self.upper] = tri
        H[:, self.lower] = tri
        H = H.reshape(-1, dim, dim)
        diag = np.arange(dim)
        H[:, diag, diag] += pen.T + 1e-12
        return H


def _approximate_loo(G1, pen, B, Y, c, kind) -> np.ndarray:
    """Approximate leave-one-out pre-activations ``(n, m)`` of a fitted penalised GLM.

    One Newton step from the full fit ``B (d, m)`` towards the fit without stimulus ``i``, in
    closed form (Sherman–Morrison; Rad & Maleki 2020, "A scalable estimate of the out-of-sample
    prediction error via approximate leave-one-out", JRSS-B):
    ``h₋ᵢ = hᵢ + c ℓ'ᵢ aᵢ / (1 − c ℓ''ᵢ aᵢ)`` with ``aᵢ = g1ᵢᵀ H⁻¹ g1ᵢ`` and ``H`` the penalised
    Hessian at the fit (curvature clipped at 0 as in the Newton steps). Exact for ridge regression;
    columns in blocks so memory stays near ``_HESSIAN_BLOCK_BYTES``.
    """
    n, dim = G1.shape
    H = G1 @ B
    _, D = _loss_and_grad(kind, H, Y)
    C = _curvature(kind, H, Y)
    hessians = _Hessians(G1)
    a = np.empty_like(H)
    step = max(1, _HESSIAN_BLOCK_BYTES // (8 * dim * max(dim, n)))
    G1t = np.ascontiguousarray(G1.T)
    for j in range(0, H.shape[1], step):
        cols = slice(j, j + step)
        Hs = hessians(C[:, cols] * c[cols], pen[:, cols])
        try:  # aᵢ = ‖L⁻¹ g1ᵢ‖² with H = L Lᵀ: Cholesky and one triangular solve per column
            L = np.linalg.cholesky(Hs)
            for i, col in enumerate(range(cols.start, min(cols.stop, H.shape[1]))):
                Z = solve_triangular(L[i], G1t, lower=True, check_finite=False)
                a[:, col] = np.einsum("dn,dn->n", Z, Z)
        except np.linalg.LinAlgError:  # numerically singular (no penalty): the general solve
            sol = np.linalg.solve(Hs, np.broadcast_to(G1t, (Hs.shape[0], dim, n)))
            a[:, cols] = np.einsum("kdn,nd->nk", sol, G1)
    return H + (c * D) * a / (1.0 - (c * C) * a)


def _newton(objective, G1, pen, root, B, max_iter, tol):
    """Damped Newton per column with a backtracking (Armijo) line search, columns batched.

    ``objective(B, cols) → (value (k,), dℓ/dH (n, k), d²ℓ/dH² (n, k))`` of columns ``cols``
    (weights applied); ``G1 (n, d)`` the design with its intercept column, ``pen (d, m)`` the
    diagonal penalty, ``root (d, m)`` the gradient scaling of the stopping rule, ``B (d, m)`` the
    start (updated in place and returned). A column stops once ``max |grad / root| ≤ tol``, or when
    no step along its Newton direction decreases the objective (floating-point precision reached).
    A column's Hessian is rebuilt only after a step that cut its scaled gradient by less than
    ``_REBUILD_RATIO`` or needed backtracking; otherwise its inverse is reused (near the optimum,
    e.g. from a warm start, the steps then cost a gradient each). The stopping rule is unchanged.
    """
    active = np.arange(B.shape[1])
    f, D, C = objective(B, active)
    hessians = _Hessians(G1)
    Hinv = np.empty((0, G1.shape[1], G1.shape[1]))
    stale = np.ones(active.size, dtype=bool)  # needs a new Hessian
    last = np.full(active.size, np.inf)  # scaled gradient before the last step
    for _ in range(max_iter):
        grad = G1.T @ D + pen[:, active] * B[:, active]
        size = np.abs(grad / root[:, active]).max(0)
        going = size > tol
        if not going.any():
            break
        stale |= size > _REBUILD_RATIO * last
        active, grad, f, D, C = active[going], grad[:, going], f[going], D[:, going], C[:, going]
        stale, size = stale[going], size[going]
        if Hinv.shape[0] == going.size:
            Hinv = Hinv[going]
        new = np.flatnonzero(stale)
        if new.size:
            inv = np.linalg.inv(hessians(C[:, new], pen[:, active[new]]))
            if new.size == active.size:
                Hinv = inv
            else:
                Hinv[new] = inv
        step = np.einsum("kde,ek->dk", Hinv, grad)
        slope = (grad * step).sum(0)
        start = B[:, active]
        todo, t = np.arange(active.size), 1.0
        moved = np.zeros(active.size, dtype=bool)
        stale = np.zeros(active.size, dtype=bool)
        while todo.size and t > 1e-10:
            cand = start[:, todo] - t * step[:, todo]
            fc, Dc, Cc = objective(cand, active[todo])
            ok = fc <= f[todo] - 1e-4 * t * slope[todo]
            sel = todo[ok]
            B[:, active[sel]] = cand[:, ok]
            f[sel], D[:, sel], C[:, sel] = fc[ok], Dc[:, ok], Cc[:, ok]
            moved[sel] = True
            if t < 1.0:
                stale[sel] = True
            todo, t = todo[~ok], 0.5 * t
        # a column whose stale-Hessian step found no decrease gets a fresh Hessian and one more try
        fresh = np.zeros(active.size, dtype=bool)
        fresh[new] = True
        retry = ~moved & ~fresh
        keep = moved | retry
        stale = (stale | retry)[keep]
        last = size[keep]
        active, f, D, C, Hinv = active[keep], f[keep], D[:, keep], C[:, keep], Hinv[keep]
        if not active.size:
            break
    return B


def fit_glm(
    F: np.ndarray,
    Y: np.ndarray,
    alpha: np.ndarray,
    kind: str,
    B0: np.ndarray,
    weight: np.ndarray | None = None,
    max_iter: int = 500,
    tol: float = 1e-6,
    loo: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Penalised GLM for every column of ``Y`` at once (the columns are independent problems).

    Minimises ``Σ_t [weight_t/n · Σ_i ℓ(y_it, h_it) + α_t/2 · ‖B[1:, t]‖²]`` over ``B (p+1, m)``,
    ``h = B[0] + F·B[1:]`` (intercept unpenalised), from ``B0 (p+1, m)``. ``F (n, p)``,
    ``Y (n, m)``, ``alpha (m,)``, ``weight (m,)`` (default 1); ``kind`` as in
    :func:`_loss_and_grad`. The problem is solved in the whitened coordinates of the centred
    ``F`` (its principal components scaled to unit variance, where the ridge penalty is diagonal).
    With at most ``_NEWTON_MAX_DIM`` coordinates every column gets its own damped Newton method
    (exact Hessians, negative curvature clipped, batched; ``max_iter`` Newton steps) and stops when
    its gradient, scaled by the curvature of each coordinate, is at most ``tol``; above that, one
    L-BFGS-B run over all columns with the same scaling and ``gtol=tol``. Returns ``B (p+1, m)``,
    and with ``loo`` also the approximate leave-one-out pre-activations ``(n, m)``
    (:func:`_approximate_loo`).
    """
    n = F.shape[0]
    m = Y.shape[1]
    c = (np.ones(m) if weight is None else weight) / n
    f_mean = F.mean(0)
    U, s, Vt = np.linalg.svd(F - f_mean, full_matrices=False)
    keep = s > s[0] * 1e-10 if s.size else s > 0
    G, s, Vt = U[:, keep] * np.sqrt(n), s[keep], Vt[keep]
    to_w = Vt.T * (np.sqrt(n) / s)  # (p, r): W = to_w @ A
    pen = (n / s**2)[:, None] * alpha  # (r, m): α‖W‖² = Σ pen·A² (W in F's row space)
    r = G.shape[1]
    G1 = np.hstack([np.ones((n, 1)), G])
    pen1 = np.vstack([np.zeros((1, m)), pen])
    W0 = B0[1:]
    A0 = (s / np.sqrt(n))[:, None] * (Vt @ W0)
    start = np.vstack([B0[0] + f_mean @ W0, A0])
    # curvature of each coordinate: scales the gradient of the stopping rule (and of L-BFGS)
    curv = (0.25 if kind == "bernoulli" else 1.0) * c * n
    root = np.sqrt(np.vstack([curv[None, :], curv + pen]))
    if r + 1 <= _NEWTON_MAX_DIM:

        def columns(B, cols):
            H, Yc, cc = G1 @ B, Y[:, cols], c[cols]
            val, D = _loss_and_grad(kind, H, Yc)
            value = val * cc + 0.5 * (pen1[:, cols] * B**2).sum(0)
            return value, D * cc, _curvature(kind, H, Yc) * cc

        B = _newton(columns, G1, pen1, root, start, max_iter, tol)
    else:

        def objective(theta):
            B = theta.reshape(r + 1, m) / root
            A = B[1:]
            val, D = _loss_and_grad(kind, B[0] + G @ A, Y)
            D *= c
            grad = np.vstack([D.sum(0, keepdims=True), G.T @ D + pen * A]) / root
            return float(val @ c + 0.5 * (pen * A**2).sum()), grad.ravel()

        res = minimize(
            objective,
            (start * root).ravel(),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": max_iter, "gtol": tol, "ftol": 1e-13, "maxcor": 10},
        )
        B = res.x.reshape(r + 1, m) / root
    W = to_w @ B[1:]
    out = np.vstack([B[0] - f_mean @ W, W])
    return (out, _approximate_loo(G1, pen1, B, Y, c, kind)) if loo else out


def _ridge(F: np.ndarray, T: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Ridge of each column of ``T (n, m)`` on ``F (n, p)`` with its own penalty ``alpha (m,)``.

    Minimises ``1/(2n)·‖b + F·w − t‖² + α/2·‖w‖²`` (the scaling of :func:`fit_glm`); one SVD
    serves every column. Returns ``B (p+1, m)``, intercept first.
    """
    n = F.shape[0]
    fm, tm = F.mean(0), T.mean(0)
    U, s, Vt = np.linalg.svd(F - fm, full_matrices=False)
    W = Vt.T @ (s[:, None] / (s[:, None] ** 2 + n * alpha) * (U.T @ (T - tm)))
    return np.vstack([tm - fm @ W, W])


def _weighted_ridge(
    F: np.ndarray, Y: np.ndarray, mask: np.ndarray, alpha: np.ndarray, with_loo=False
):
    """Ridge of each ``Y`` column on ``F`` over the rows where ``mask`` holds (hurdle value part).

    ``F (n, p)``, ``Y, mask (n, q)``, ``alpha (k, q)`` → ``B (p+1, k·q)`` (block ``i`` holds
    ``alpha[i]``) minimising ``1/(2 n_t) Σ_{mask} (b + f·w − y)² + α/2 ‖w‖²``; a column with no
    rows gives zeros. The Gram matrix of each target serves every penalty. ``with_loo``: also the
    leave-one-out predictions ``(n, k·q)`` (a row outside ``mask`` is not fitted: its own).
    """
    n, p = F.shape
    F1 = np.hstack([np.ones((n, 1)), F])
    D = mask.astype(np.float64)
    n_t = np.maximum(D.sum(0), 1.0)
    G = np.stack([(F1 * d[:, None]).T @ F1 for d in D.T]) / n_t[:, None, None]  # (q, p+1, p+1)
    G[:, 0, 0] += _TINY
    rhs = ((F1.T @ (D * Y)) / n_t).T[:, :, None]  # (q, p+1, 1)
    diag = np.arange(1, p + 1)
    out, loo = [], []
    for a in alpha:
        A = G.copy()
        A[:, diag, diag] += a[:, None]
        out.append(np.linalg.solve(A, rhs)[:, :, 0].T)
        if with_loo:  # exact: LOO residual = residual / (1 − leverage) on the fitted rows
            sol = np.linalg.solve(A, np.broadcast_to(F1.T, (A.shape[0], p + 1, n)))
            lev = np.einsum("qdn,nd->nq", sol, F1) / n_t * D
            fit = F1 @ out[-1]
            loo.append(np.where(mask, Y - (Y - fit) / (1.0 - lev), fit))
    return (np.hstack(out), np.hstack(loo)) if with_loo else np.hstack(out)


_CONTROLLER: list[ThreadpoolController] = []


def _blas_controller() -> ThreadpoolController:
    """One controller for the process (building one scans every loaded library: slow per fit)."""
    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0]


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
            value = _weighted_ridge(F, Y, pos, alpha, with_loo=loo)
            # warm start: the linear probability model, rescaled to the logit's slope at 1/2
            if B0 is None:
                B0 = np.tile(
                    np.clip(4.0 * _ridge(F, pos - 0.5, a.reshape(k, -1).max(0)), -10.0, 10.0), k
                )
            Pk = np.tile(pos, k).astype(np.float64)
            gate = fit_glm(F, Pk, a, "bernoulli", B0, None, self.max_iter, tol, loo)
            if not loo:
                return gate, value
            (gate, gate_loo), (value, value_loo) = gate, value
            return (gate, value), expit(gate_loo) * value_loo
        top = Y.max(axis=0)
        if B0 is None:
            B0 = _ridge(F, np.tile(softplus_inverse(Y, 1e-6 * np.where(top > 0, top, 1.0)), k), a)
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
        with _blas_controller().limit(limits=self.n_threads, user_api="blas"):
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
