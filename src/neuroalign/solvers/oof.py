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
  the training sums of squares from totals (accumulated in float64), the errors of every α and
  the α per target (:mod:`~neuroalign.solvers.selection`), then
  ``pred_f = Q_f (B_f / (λ + α)) + ȳ_tr``. In float32, a target whose two best α nearly tie is
  re-decided from float64 products.

On a device every step stays there: the errors, the choice and the chosen α are device arrays,
and nothing comes back to the host but, in float32, one mask per call of the targets to re-decide.

Operators are formed in float64 and rounded once to the compute dtype.
"""

from __future__ import annotations

import numpy as np

from neuroalign.solvers.selection import choose, near_ties

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
        self._set_alphas([alphas * b.unit for b in bases])
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
            op = dict(XtT=self._c(xp.hstack([x_te, ones]).T), n_tr=n_tr, lam=lam, x_bar=x_bar)
            if fixed:
                M = (b.Q / (lam + float(self.fold_alphas[f][0]))[None, :]) @ b.P.T  # (n_test, p)
                op["Mt"] = self._c(xp.hstack([M, 1.0 / n_tr - (M @ x_bar)[:, None]]))
            else:
                Pt = xp.vstack([b.P, -(x_bar[None, :] @ b.P)])  # (p+1, k)
                op.update(PtT=self._c(Pt.T), Q=self._c(b.Q))
            self.folds_ops.append(op)

    def _set_alphas(self, fold_alphas):
        """Each fold's absolute penalties (the grid times the fold's penalty unit): ``fold_alphas``
        (numpy), ``fold_alphas_b`` (the backend's, to choose among) and ``first_alphas
        (n_folds, 1)`` (the backend's; the one α of a fixed penalty)."""
        xp = self.xp
        self.fold_alphas = fold_alphas
        self.fold_alphas_b = [xp.asarray(a, _F64) for a in fold_alphas]
        self.first_alphas = xp.asarray(np.array([a[:1] for a in fold_alphas]), _F64)

    def _c(self, a):
        return self.xp.asarray(a, self.dtype)

    def _hat_operator(self, alpha):
        """``L (n, n)`` as :meth:`_dense_operator`, from one Cholesky solve per training set of
        the dual form (:meth:`~neuroalign.solvers.ridge.Design.hat`)."""
        xp, d = self.xp, self.design
        splits = [(np.setdiff1d(np.arange(d.n), te), te) for te in self.folds]
        ops = xp.map(lambda s: d.hat(s[0], s[1], alpha), splits)
        if d.check_precision(max(kappa for _, kappa, _ in ops)):
            ops = xp.map(lambda s: d.hat(s[0], s[1], alpha), splits)
        self.dtype = d.dtype
        self._set_alphas([np.array([a]) for _, _, a in ops])
        L = xp.zeros((d.n, d.n), _F64)
        for f, ((train, _), (op, _, _)) in enumerate(zip(splits, ops, strict=True)):
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
            op = (b.Q / (b.lam + alpha * b.unit)[None, :]) @ U.T + 1.0 / b.train.size
            s, e = self.bounds[f], self.bounds[f + 1]
            L[s:e][:, xp.index(self.pos[b.train])] = op
        return self._c(L)

    def targets(self, Y, dtype=None):
        """``Y (n, t)`` (design row order) → targets in fold order, centred, in ``dtype`` (default:
        the compute dtype), and the column means ``(t,)`` float64 that were removed."""
        y_mean = Y.mean(axis=0, dtype=_F64)
        Yp = np.asarray(Y)[self.order] - y_mean
        return self.xp.asarray(Yp, dtype or self.dtype), y_mean

    def cross_val_predict(self, Y):
        """Out-of-fold predictions ``(n, t)`` float64 of ``Y (n, t)`` (design row order) and the
        α chosen per fold and target ``(n_folds, t)`` float64, both numpy."""
        xp = self.xp
        with xp.serial():
            Yp, y_mean = self.targets(Y)
            Y64 = None if self.dtype == _F64 else self.targets(Y, _F64)[0]
            pred, chosen = self.predict(Yp, Y64=Y64)
        out = np.empty((self.design.n, Yp.shape[1]), dtype=_F64)
        out[self.order] = xp.to_numpy(xp.asarray(pred, _F64)) + y_mean
        return out, np.array(xp.to_numpy(chosen))

    @property
    def has_first_pass(self) -> bool:
        """True when :meth:`predict` starts from :meth:`first_pass` (primal form, no dense L)."""
        return not self.dense and not self.design.dual

    def first_pass(self, Yp, out=None):
        """``W (n_folds, p+1, t)``: each fold's ``X̃_fᵀ Ỹ_f`` (primal form), written into ``out``
        when given. Linear in the design's predictors, as are :meth:`complements`."""
        xp, b_ = self.xp, self.bounds
        shape = (len(self.folds), self.design.p + 1, Yp.shape[1])
        W = xp.empty(shape, self.dtype) if out is None else out
        for f, op in enumerate(self.folds_ops):
            xp.matmul(op["XtT"], Yp[b_[f] : b_[f + 1]], W[f])
        return W

    def complements(self, W):
        """``C (n_folds, p+1, t)``, each fold's training statistics ``X̃_trainᵀ Ỹ_train = Σ W −
        W_f``, in place of ``W``. Linear in the predictors: for a design ``2·X₁ − X₂`` they are
        ``2·C₁ − C₂``, which is how a split half's B half reuses its A half."""
        G = W.sum(0)
        for f in range(W.shape[0]):
            self.xp.rsub_(G, W[f])
        return W

    def train_stats(self, Y64):
        """Training-row means and centred sums of squares (two lists of ``n_folds`` float64 ``(t,)``),
        of targets ``Y64 (n, t)`` in fold order, accumulated in float64 (float32 sums would
        decide near-tied penalties by rounding). The same for every plan on these folds."""
        xp, b_ = self.xp, self.bounds
        Y64 = xp.asarray(Y64, _F64)
        tot, sq = Y64.sum(0), xp.coldot(Y64, Y64)
        means, ss = [], []
        for f in range(len(self.folds)):
            y = Y64[b_[f] : b_[f + 1]]
            n_tr = self.design.n - y.shape[0]
            mean = (tot - y.sum(0)) / n_tr
            means.append(mean)
            ss.append(sq - xp.coldot(y, y) - n_tr * mean**2)
        return means, ss

    def predict(self, Yp, C=None, *, stats=None, Y64=None, out=None):
        """Out-of-fold predictions ``(n, t)`` (compute dtype, fold order) of targets ``Yp (n, t)``
        given in fold order, and the α chosen per fold and target ``(n_folds, t)`` float64
        (absolute: the grid value times the fold's penalty unit); both arrays of the backend.

        ``C``: this plan's :meth:`complements` for ``Yp`` when already known (primal form);
        ``stats``: :meth:`train_stats` of the targets when already known (an α grid);
        ``Y64``: the targets in float64 when computing in float32 (an α grid: exact training
        sums and near ties re-decided exactly; default ``Yp`` upcast); ``out``: the result array.
        """
        xp = self.xp
        t = Yp.shape[1]
        if self.dense:
            pred = self.L @ Yp if out is None else xp.matmul(self.L, Yp, out)
            return pred, xp.expand(self.first_alphas, (len(self.folds), t))
        out = xp.empty((self.design.n, t), self.dtype) if out is None else out
        b_ = self.bounds
        if not self.design.dual and C is None:
            C = self.complements(self.first_pass(Yp))
        if self.alphas.size == 1:  # primal form, one α
            for f, op in enumerate(self.folds_ops):
                xp.matmul(op["Mt"], C[f], out[b_[f] : b_[f + 1]])
            return out, xp.expand(self.first_alphas, (len(self.folds), t))
        if Y64 is None:
            Y64 = Yp
        means, ss = self.train_stats(Y64) if stats is None else stats
        Y_rows = None if self.cv == "gcv" else self._design_rows(Yp)
        chosen, tables, masks = [], [], []
        for f, op in enumerate(self.folds_ops):
            B = op["Ut"] @ Yp if self.design.dual else op["PtT"] @ C[f]
            errors = self.design.alpha_errors(
                self.bases[f], B, Y_rows, self.fold_alphas[f], self.cv, ss[f]
            )
            if self.dtype != _F64:  # float32: the columns whose α rounding could flip
                amp = self.design.cancellation(self.bases[f], B, Y_rows, ss[f])
                masks.append(near_ties(errors, self.per_target, amp, xp))
                tables.append(errors)
            chosen.append(choose(errors, self.fold_alphas_b[f], self.per_target, xp))
            self._predict_fold(f, B, chosen[f], means[f], out, slice(None))
        if masks:  # one transfer of every fold's mask
            hits = xp.to_numpy(xp.stack(masks))
            near = {f: (np.flatnonzero(h), tables[f]) for f, h in enumerate(hits) if h.any()}
            if near:
                self._settle(near, Yp, C, Y64, ss, means, chosen, out)
        return out, xp.stack(chosen)

    def _predict_fold(self, f, B, alpha, mean, out, cols):
        """``out[fold f rows, cols] = Q_f (B / (λ + α)) + ȳ_train`` for coordinates ``B``."""
        op, xp = self.folds_ops[f], self.xp
        scale = 1.0 / (op["lam"][:, None] + xp.asarray(alpha, _F64)[None, :])
        rows = slice(self.bounds[f], self.bounds[f + 1])
        pred = op["Q"] @ (B * self._c(scale)) + self._c(mean)
        if isinstance(cols, slice):
            out[rows] = pred
        else:
            out[rows, cols] = pred

    def _settle(self, near, Yp, C, Y64, ss, means, chosen, out):
        """Re-decide the nearly tied α of ``near`` (fold → (columns, error table)) from float64
        products, and predict those few columns again. One pass over the design serves every
        fold."""
        xp, d = self.xp, self.design
        union = np.unique(np.concatenate([cols for cols, _ in near.values()]))
        y = xp.asarray(Y64[:, xp.index(union)], _F64)[xp.index(self.pos)]  # design row order
        Z = None if d.dual else d.Xc64.T @ y  # (p, m)
        total = y.sum(0)
        for f, (cols, errors) in near.items():
            b, op = self.bases[f], self.folds_ops[f]
            j = xp.index(np.searchsorted(union, cols))
            yf = y[:, j]
            tr, te = xp.index(b.train), xp.index(b.test)
            s_y = total[j] - yf[te].sum(0)  # training sums
            if d.dual:  # Ũᵀ ỹ with Ũ = U − 1ūᵀ
                B = b.U.T @ yf[tr] - b.U.mean(0)[:, None] * s_y[None, :]
            else:  # Pᵀ (X_trᵀ y_tr − x̄_tr 1ᵀy_tr)
                x_te = d.Xc64[te]
                B = b.P.T @ (Z[:, j] - x_te.T @ yf[te] - op["x_bar"][:, None] * s_y[None, :])
            rows = None if self.cv == "gcv" else yf
            errors[:, xp.index(cols)] = d.alpha_errors(
                b, B, rows, self.fold_alphas[f], self.cv, ss[f][xp.index(cols)], dtype=_F64
            )
            chosen[f] = choose(errors, self.fold_alphas_b[f], self.per_target, xp)
            k = xp.index(cols)  # predicted again whether or not the choice moved: no transfer
            B = op["Ut"] @ Yp[:, k] if d.dual else op["PtT"] @ C[f][:, k]
            self._predict_fold(f, B, chosen[f][k], means[f][k], out, k)

    def _design_rows(self, Yp):
        """The targets back in design row order (inner cross-validation needs them)."""
        return Yp[self.xp.index(self.pos)]
