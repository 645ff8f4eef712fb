"""Penalised GLMs for many targets at once: the solver under the zippering transform.

Losses ``gaussian`` (σ = softplus link), ``poisson`` and ``bernoulli`` (the hurdle's gate), each
column of ``Y`` its own problem with its own penalty; small problems get a batched damped Newton
method with exact Hessians, large ones one L-BFGS-B run over all columns. Ridge helpers fit the
hurdle's linear value part and the starting points.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_triangular
from scipy.optimize import minimize

__all__ = ["fit_glm", "ridge_columns", "softplus", "softplus_inverse", "weighted_ridge"]

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


def ridge_columns(F: np.ndarray, T: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Ridge of each column of ``T (n, m)`` on ``F (n, p)`` with its own penalty ``alpha (m,)``.

    Minimises ``1/(2n)·‖b + F·w − t‖² + α/2·‖w‖²`` (the scaling of :func:`fit_glm`); one SVD
    serves every column. Returns ``B (p+1, m)``, intercept first.
    """
    n = F.shape[0]
    fm, tm = F.mean(0), T.mean(0)
    U, s, Vt = np.linalg.svd(F - fm, full_matrices=False)
    W = Vt.T @ (s[:, None] / (s[:, None] ** 2 + n * alpha) * (U.T @ (T - tm)))
    return np.vstack([tm - fm @ W, W])


def weighted_ridge(
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
