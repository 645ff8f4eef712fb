"""Out-of-fold ridge predictions of one :class:`~neuroalign.solvers.ridge.Design` for any targets.

A :class:`FoldPlan` prepares, once per design and k-fold split, the small per-fold operators; its
:meth:`FoldPlan.predict` then costs only large products on the targets, so a block of targets can
be pushed through many designs (one per split-half source) while it stays in cache.

Rows are taken in *fold order*: ``order (n,)`` lists fold 0's test rows, then fold 1's, ...; fold
``f`` occupies the contiguous rows ``bounds[f]:bounds[f+1]``. With ``Ỹ`` the targets in that order
and ``1`` a column of ones, a fold's training statistics come from totals minus its test rows:

- primal form (``p ≤ n``), ``X̃ = [Xc, 1]`` ``(n, p+1)``: ``C̃_f = X̃ᵀỸ − X̃_fᵀỸ_f`` holds
  ``X_trᵀ Y_tr`` and ``n_tr ȳ_tr`` (``p + 1`` rows); one α: ``pred_f = M̃_f C̃_f`` with
  ``M̃_f = [M_f, 1/n_tr − M_f x̄_tr]``, ``M_f = Q_f diag(1/(λ+α)) P_fᵀ`` ``(n_test, p+1)``, so the
  centring is folded into the products (``2 (p+1) n`` multiply-adds per target);
- dual form (``p > n``), or ``n ≤ 2 (p+1)``, one α: one ``(n, n)`` operator ``L`` (zero diagonal
  blocks) with ``pred = L Ỹ``;
- a grid of α: the spectral coordinates ``B_f = Ũ_fᵀ Ỹ_train`` (``P̃_fᵀ C̃_f`` in the primal form),
  the training sums of squares from totals, α per target from
  :meth:`~neuroalign.solvers.ridge.Design.select`, then ``pred_f = Q_f (B_f / (λ + α)) + ȳ_tr``.

Operators are formed in float64 and rounded once to the compute dtype.
"""

from __future__ import annotations

import numpy as np

__all__ = ["FoldPlan"]

_F64 = np.float64


class FoldPlan:
    """Per-fold operators of ``design`` for the test folds ``folds``, penalties ``alphas``.

    ``folds``: test-index arrays partitioning ``range(n)``; ``alphas (n_alphas,)``; ``cv`` and
    ``per_target`` as in :meth:`~neuroalign.solvers.ridge.Design.select`. Switches ``design`` to
    float64 (with a :class:`~neuroalign.solvers.ridge.PrecisionWarning`) when a float32 solve
    would be ill-conditioned. Thread-safe once built.
    """

    def __init__(self, design, folds, alphas, cv, per_target=True):
        self.design, self.alphas, self.cv, self.per_target = design, alphas, cv, per_target
        n = design.n
        self.folds = [np.sort(np.asarray(te)) for te in folds]
        self.order = np.concatenate(self.folds)
        self.bounds = np.cumsum([0] + [te.size for te in self.folds])
        self.pos = np.empty(n, dtype=np.intp)
        self.pos[self.order] = np.arange(n)
        xp = self.xp = design.xp
        fixed = alphas.size == 1
        self.dense = fixed and (design.dual or n <= 2 * (design.p + 1))
        if self.dense and design.dual:  # one α in the dual form: Cholesky, no eigenvectors
            self.bases = None
            self.L = self._hat_operator(float(alphas[0]))
            return
        bases = design.bases(self.folds, float(alphas.min()))
        if design.check_precision(max(b.kappa for b in bases)):
            bases = design.bases(self.folds, float(alphas.min()))
        self.bases = bases
        self.dtype = design.dtype
        if self.dense:
            self.L = self._dense_operator(float(alphas[0]))
            return
        self.folds_ops = []
        for f, b in enumerate(bases):
            n_tr = b.train.size
            lam = xp.asarray(b.lam, _F64)
            if design.dual:
                Ut = xp.zeros((n, lam.shape[0]), _F64)  # centred U, rows in fold order
                U = b.U - b.U.mean(0)
                Ut[xp.index(self.pos[b.train])] = U
                self.folds_ops.append(
                    dict(Ut=xp.asarray(Ut.T, self.dtype), Q=self._c(b.Q), lam=lam, n_tr=n_tr)
                )
                continue
            x_bar = design.Xc64[xp.index(b.train)].mean(0)  # (p,)
            s, e = self.bounds[f], self.bounds[f + 1]
            x_te = design.Xc64[xp.index(self.order[s:e])]
            ones = xp.asarray(np.ones((e - s, 1)), _F64)
            op = dict(XtT=self._c(_hstack(xp, [x_te, ones]).T), n_tr=n_tr, lam=lam)
            if fixed:
                M = (b.Q / (lam + float(alphas[0]))[None, :]) @ b.P.T  # (n_test, p)
                op["Mt"] = self._c(_hstack(xp, [M, 1.0 / n_tr - (M @ x_bar)[:, None]]))
            else:
                Pt = _vstack(xp, [b.P, -(x_bar[None, :] @ b.P)])  # (p+1, k)
                op.update(PtT=self._c(Pt.T), Q=self._c(b.Q))
            self.folds_ops.append(op)

    def _c(self, a):
        return self.xp.asarray(a, self.dtype)

    def _hat_operator(self, alpha):
        """``L (n, n)`` as :meth:`_dense_operator`, from one Cholesky solve per training set of
        the dual form (:meth:`~neuroalign.solvers.ridge.Design.hat`)."""
        xp, d = self.xp, self.design
        splits = [(np.setdiff1d(np.arange(d.n), te), te) for te in self.folds]
        ops = xp.map(lambda s: d.hat(s[0], s[1], alpha), splits)
        if d.check_precision(max(kappa for _, kappa in ops)):
            ops = xp.map(lambda s: d.hat(s[0], s[1], alpha), splits)
        self.dtype = d.dtype
        L = xp.zeros((d.n, d.n), _F64)
        for f, ((train, _), (op, _)) in enumerate(zip(splits, ops, strict=True)):
            s, e = self.bounds[f], self.bounds[f + 1]
            L[s:e][:, xp.index(self.pos[train])] = op
        return self._c(L)

    def _dense_operator(self, alpha):
        """``L (n, n)``: ``pred = L Ỹ`` in fold order (the hat operator of each training set)."""
        xp, d = self.xp, self.design
        L = xp.zeros((d.n, d.n), _F64)
        for f, b in enumerate(self.bases):
            U = d.left(b, _F64)
            U = U - U.mean(0)
            op = (b.Q / (b.lam + alpha)[None, :]) @ U.T + 1.0 / b.train.size
            s, e = self.bounds[f], self.bounds[f + 1]
            L[s:e][:, xp.index(self.pos[b.train])] = op
        return self._c(L)

    def targets(self, Y):
        """``Y (n, t)`` (design row order) → targets in fold order, centred, compute dtype, and
        the column means ``(t,)`` float64 that were removed."""
        y_mean = Y.mean(axis=0, dtype=_F64)
        Yp = np.asarray(Y)[self.order] - y_mean
        return self.xp.asarray(Yp, self.dtype), y_mean

    @property
    def has_first_pass(self) -> bool:
        """True when :meth:`predict` starts from :meth:`first_pass` (primal form, no dense L)."""
        return not self.dense and not self.design.dual

    def first_pass(self, Yp):
        """``W (n_folds, p+1, t)``: each fold's ``X̃_fᵀ Ỹ_f`` (primal form), linear in the design's
        predictors, so a design ``2·X₁ − X₂`` has ``W = 2·W₁ − W₂`` (see :meth:`predict`)."""
        xp, b_ = self.xp, self.bounds
        W = xp.empty((len(self.folds), self.design.p + 1, Yp.shape[1]), self.dtype)
        for f, op in enumerate(self.folds_ops):
            xp.matmul(op["XtT"], Yp[b_[f] : b_[f + 1]], W[f])
        return W

    def predict(self, Yp, W=None):
        """Out-of-fold predictions ``(n, t)`` (compute dtype, fold order) of targets ``Yp (n, t)``
        given in fold order, and the α chosen per fold and target ``(n_folds, t)``.

        ``W``: this plan's :meth:`first_pass` of ``Yp`` when already known (it is overwritten)."""
        xp = self.xp
        t = Yp.shape[1]
        chosen = np.empty((len(self.folds), t))
        if self.dense:
            chosen[:] = self.alphas[0]
            return self.L @ Yp, chosen
        out = xp.empty((self.design.n, t), self.dtype)
        b_ = self.bounds
        if self.design.dual:
            sums, sq = Yp.sum(0), xp.coldot(Yp, Yp)
        else:
            W = self.first_pass(Yp) if W is None else W
            G = W.sum(0)
            if self.alphas.size > 1:
                sq = xp.coldot(Yp, Yp)
        for f, op in enumerate(self.folds_ops):
            s, e = b_[f], b_[f + 1]
            if self.design.dual:
                B = op["Ut"] @ Yp
                s_tr = xp.asarray(sums - Yp[s:e].sum(0), _F64)
            else:
                C = xp.rsub_(G, W[f])  # X̃_trainᵀ Ỹ_train (p+1, t)
                if self.alphas.size == 1:
                    chosen[f] = self.alphas[0]
                    xp.matmul(op["Mt"], C, out[s:e])
                    continue
                B = op["PtT"] @ C
                s_tr = xp.asarray(C[-1], _F64)
            y_tr = s_tr / op["n_tr"]
            yc_sq = xp.asarray(sq - xp.coldot(Yp[s:e], Yp[s:e]), _F64) - op["n_tr"] * y_tr**2
            Y_rows = None if self.cv == "gcv" else self._design_rows(Yp)
            chosen[f], _ = self.design.select(
                self.bases[f], B, Y_rows, self.alphas, self.cv, self.per_target, yc_sq
            )
            scale = 1.0 / (op["lam"][:, None] + xp.asarray(chosen[f], _F64)[None, :])
            out[s:e] = op["Q"] @ (B * self._c(scale)) + self._c(y_tr)
        return out, chosen

    def _design_rows(self, Yp):
        """The targets back in design row order (inner cross-validation needs them)."""
        return Yp[self.xp.index(self.pos)]


def _hstack(xp, arrays):
    return np.hstack(arrays) if xp.name == "numpy" else xp.torch.hstack(arrays)


def _vstack(xp, arrays):
    return np.vstack(arrays) if xp.name == "numpy" else xp.torch.vstack(arrays)
