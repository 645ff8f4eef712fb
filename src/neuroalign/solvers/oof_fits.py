"""Many out-of-fold fits through fold plans, streamed over blocks of target columns.

A predictivity computation fits one kind of map many times over the same stimuli: the trial means,
the two split halves of every draw, and the trial means with permuted target rows (the null).
:func:`oof_correlations` pushes each block of target columns through all of them while it is in
cache and keeps only per-column correlations (and, when asked, bootstrap correlations over
resampled stimuli), so memory stays near the size of the inputs. Fits that share a source run as
one product; single fits write into arrays reused across draws; a B half whose source is
``2·mean − A`` (every cell's repeats split evenly) takes its training statistics as
``2·C_mean − C_A`` (:meth:`~neuroalign.solvers.oof.FoldPlan.complements`), a quarter less work.
On a device a block of targets crosses from the host once per precision and stays there for every
fit (a null's permuted rows are gathered on the device), and each fit's correlation sums come back
in one transfer.
The plans follow :class:`~neuroalign.solvers.oof.FoldPlan`'s protocol (``order``, ``xp``,
``dtype``, ``predict``, ``has_first_pass``, ``first_pass``, ``complements``, ``train_stats``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "Fit",
    "OOFOutput",
    "block_for_memory",
    "oof_correlations",
    "pearson_from_sums",
    "resampled_pearson",
]


@dataclass
class Fit:
    """One out-of-fold fit: ``source (n, p)`` → ``target (n, t)``; ``rows``: a permutation of the
    target's rows (the null) or None; ``role``: ``"mean"`` (exactly one, first), ``"a"`` / ``"b"``
    (the halves of draw ``index``, a right before its b) or ``"null"`` (permutation ``index``)."""

    source: object
    target: object
    role: str
    index: int = 0
    rows: np.ndarray | None = None


@dataclass
class OOFOutput:
    """``r (t,)`` of the trial-mean fit, raw ``ρ_pred (n_draws, t)`` (before Spearman–Brown),
    ``r_null (n_null, t)``, ``r_boot (n_boot, t)`` or None, the trial-mean out-of-fold predictions
    ``(n, t)`` or None, and the block size used."""

    r: np.ndarray
    raw_pred: np.ndarray
    r_null: np.ndarray
    r_boot: np.ndarray | None
    predictions: np.ndarray | None
    block: int


def pearson_from_sums(xp, dtype, a, b) -> np.ndarray:
    """Column-wise Pearson ``(t,)`` float64 of two ``(n, t)`` arrays of a backend (numpy dtype
    ``dtype``), from column sums and dot products: no centred copies, as the arrays are centred
    targets and their predictions, whose means are small against their spread. A column with no
    variance left once its mean is removed (to rounding) gives NaN."""
    n, t = a.shape
    ones = xp.ones((1, n), dtype)
    parts = [ones @ a, ones @ b, xp.coldot(a, b), xp.coldot(a, a), xp.coldot(b, b)]
    sums = xp.to_numpy(xp.hstack([x.reshape(-1) for x in parts])).astype(np.float64)
    sa, sb, ab, aa, bb = (sums[i * t : (i + 1) * t] for i in range(5))  # one transfer back
    tol = 4 * n * np.finfo(dtype).eps
    va, vb = aa - sa * sa / n, bb - sb * sb / n
    va[va <= tol * aa] = 0.0
    vb[vb <= tol * bb] = 0.0
    den = np.sqrt(va * vb)
    return np.divide(ab - sa * sb / n, den, out=np.full(den.shape, np.nan), where=den > 0)


def resampled_pearson(weights: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Column-wise Pearson of ``a``, ``b`` ``(n, t)`` on resampled rows: ``weights (n_boot, n)``
    counts how often each row is drawn (rows summing to ``n``). Returns ``(n_boot, t)`` float32;
    NaN where a resample leaves a column constant. Five products of the weights with the
    column-wise moments, so the cost does not grow with repeated rows."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    a = a - a.mean(0)  # centring first keeps the moments well conditioned
    b = b - b.mean(0)
    n_tot = weights.sum(axis=1, keepdims=True)
    t = a.shape[1]
    m = weights @ np.hstack([a, b, a * b, a * a, b * b])
    sa, sb, sab, saa, sbb = (m[:, i * t : (i + 1) * t] for i in range(5))
    cov = sab - sa * sb / n_tot
    va = np.maximum(saa - sa * sa / n_tot, 0.0)
    vb = np.maximum(sbb - sb * sb / n_tot, 0.0)
    den = np.sqrt(va * vb)
    out = np.divide(cov, den, out=np.full(den.shape, np.nan), where=den > 1e-300)
    return out.astype(np.float32)


#: the fewest target columns in a block sized from device memory
MIN_DEVICE_BLOCK = 256


def block_for_memory(plans: list, fits: list[Fit], free_bytes: int) -> int:
    """Target columns per block whose working arrays fill at most half of ``free_bytes`` (a
    device's free memory), at least :data:`MIN_DEVICE_BLOCK`. Per column of ``n`` stimuli it
    counts, in the compute dtype, the targets and the predictions of the largest group of fits
    run together (the nulls and the trial mean) and two sets of each fold's training statistics
    (``width`` rows: the predictors and the intercept, or ``n`` in the dual form); in float64,
    the targets, their sums, and each fold's error table."""
    n = fits[0].target.shape[0]
    item = np.dtype(plans[0].dtype).itemsize
    group = sum(f.role == "null" for f in fits) + 1
    widths = [n if getattr(p, "design", None) is None or p.design.dual else p.design.p + 1
              for p in plans]  # fmt: skip
    n_folds, n_alphas = len(plans[0].folds), int(np.size(plans[0].alphas))
    per_col = item * (2 * group * n + 2 * n_folds * max(widths))
    per_col += 8 * (2 * n + n_folds * (n_alphas + 4))
    return int(max(MIN_DEVICE_BLOCK, free_bytes // 2 // per_col))


def oof_correlations(
    plans: list,
    fits: list[Fit],
    *,
    block: int,
    keep_predictions: bool = False,
    boot_weights: np.ndarray | None = None,
) -> OOFOutput:
    """Run every fit of ``fits`` (``plans[v]``: the plan of fit ``v``'s source) over blocks of
    ``block`` target columns; see :class:`OOFOutput` for what comes back. ``boot_weights
    (n_boot, n)``: stimulus resampling counts for bootstrap correlations of the trial-mean fit."""
    n_draws = sum(f.role == "a" for f in fits)
    n_null = sum(f.role == "null" for f in fits)
    job = _Job(plans, fits, _derived_halves(fits, plans), keep_predictions)
    if boot_weights is not None:
        job.boot = np.ascontiguousarray(np.asarray(boot_weights, np.float64)[:, plans[0].order])
    for v in range(len(fits)):
        job.groups.setdefault(job.group_key(v), []).append(v)
    n_t = fits[0].target.shape[1]
    slices = [slice(j, min(j + block, n_t)) for j in range(0, n_t, block)]
    out = plans[0].xp.map(lambda sl: _BlockFits(job, sl).run(), slices)

    def cat(i, rows):
        return np.concatenate([o[i] for o in out], axis=1) if out else np.empty((rows, 0))

    r = np.concatenate([o[0] for o in out]) if out else np.empty(0)
    return OOFOutput(
        r=r,
        raw_pred=cat(1, n_draws),
        r_null=cat(2, n_null),
        r_boot=cat(3, 0) if boot_weights is not None else None,
        predictions=cat(4, 0) if keep_predictions else None,
        block=block,
    )


@dataclass
class _Job:
    """What every block shares: one plan per fit, the fits, the B halves derived from their A
    halves, the fits grouped by source (``groups``: key → fit indices), the bootstrap weights in
    fold order."""

    plans: list
    fits: list
    derived: set
    keep: bool
    groups: dict = field(default_factory=dict)
    boot: np.ndarray | None = None

    def group_key(self, v: int):
        """Fits run together when they share a source; the null fits form their own group."""
        return id(self.fits[v].source), self.fits[v].role == "null"

    @property
    def dtype(self):
        return np.dtype(self.plans[0].dtype).type

    @property
    def grid(self) -> bool:
        return np.size(self.plans[0].alphas) > 1


class _BlockFits:
    """Every fit of the target columns ``sl``, in order, keeping only per-column statistics."""

    def __init__(self, job: _Job, sl: slice):
        self.job, self.sl, self.w = job, sl, sl.stop - sl.start
        self.order = job.plans[0].order
        self.pos = np.empty_like(self.order)  # design row → its place in fold order
        self.pos[self.order] = np.arange(self.order.size)
        self.tp: dict = {}
        self.on_backend: dict = {}  # (target, dtype) → the unpermuted target as a backend array
        self.free: dict[type, list] = {}  # prediction arrays (n, w) of single fits, by dtype
        self.C = None  # (fit, array): the primal form's training statistics of one fit
        self.C0x2 = None  # 2·C of the trial-mean fit, when B halves are derived

    def target(self, v) -> list:
        """``[Ỹ (compute dtype), Ỹ (float64), column means, train stats or None]`` of fit ``v``'s
        target: fold order (rows permuted for a null fit), centred."""
        fit = self.job.fits[v]
        key = (id(fit.target), None if fit.rows is None else id(fit.rows))
        if key not in self.tp:
            rows = self.order if fit.rows is None else fit.rows[self.order]
            y = np.asarray(fit.target[rows, self.sl], dtype=np.float64)
            mean = y.mean(axis=0)
            y64 = y - mean
            self.tp[key] = [np.asarray(y64, self.job.dtype), y64, mean, None]
        return self.tp[key]

    def as_plan_dtype(self, v, dtype):
        entry = self.target(v)
        return entry[1] if dtype == np.float64 else entry[0]

    def backend_target(self, v, dtype):
        """Fit ``v``'s target as :meth:`target` gives it, as a backend array in ``dtype``: an
        unpermuted target is made once per block and dtype (on a GPU each block of targets
        crosses to the device once); a null fit's permuted rows are gathered, when asked, from
        the unpermuted target where it already is (not kept: one per permutation would hold
        ``n_null`` copies of the block)."""
        fit, xp = self.job.fits[v], self.job.plans[0].xp
        if fit.rows is not None:  # fold order of target[rows]: rows of the fold-ordered target
            base = self.backend_target(self._unpermuted(v), dtype)
            return base[xp.index(self.pos[fit.rows[self.order]])]
        key = (id(fit.target), np.dtype(dtype).str)
        if key not in self.on_backend:
            self.on_backend[key] = xp.asarray(self.as_plan_dtype(v, dtype), dtype)
        return self.on_backend[key]

    def _unpermuted(self, v) -> int:
        """The fit with fit ``v``'s target and no row permutation (the trial-mean fit)."""
        target = self.job.fits[v].target
        return next(u for u, f in enumerate(self.job.fits) if f.target is target and f.rows is None)

    def fit(self, v) -> dict:
        """Out-of-fold predictions of fit ``v`` and of the later fits of its group:
        index → ``(array, dtype, owned)``."""
        job, plan = self.job, self.job.plans[v]
        xp, exact = plan.xp, job.grid and job.dtype != np.float64
        vs = [u for u in job.groups[job.group_key(v)] if u >= v]
        if len(vs) > 1:  # one source for many fits: their targets side by side
            Y = xp.hstack([self.backend_target(u, plan.dtype) for u in vs])
            Y64 = xp.hstack([self.backend_target(u, np.float64) for u in vs]) if exact else None
            P = plan.predict(Y, Y64=Y64)[0]
            w = self.w
            return {u: (P[:, i * w : (i + 1) * w], plan.dtype, False) for i, u in enumerate(vs)}
        entry = self.target(v)
        Y = self.backend_target(v, plan.dtype)
        C = None
        if plan.has_first_pass:
            fit_c, buf = self.C or (None, None)
            if buf is not None and buf.dtype != Y.dtype:
                buf = None
            if v in job.derived and fit_c == v - 1 and self.C0x2 is not None and buf is not None:
                C = xp.rsub_(self.C0x2, buf)  # B half: 2·C_mean − C_A, by linearity
            else:
                C = plan.complements(plan.first_pass(Y, out=buf))
            self.C = (v, C)
        Y64 = self.backend_target(v, np.float64) if job.grid else None
        if job.grid and entry[3] is None:
            entry[3] = plan.train_stats(Y64)
        pool = self.free.setdefault(plan.dtype, [])
        out = pool.pop() if pool else None
        P = plan.predict(Y, C, stats=entry[3], Y64=Y64 if exact else None, out=out)[0]
        if job.fits[v].role == "mean" and job.derived and C is not None:
            C *= 2
            self.C0x2, self.C = C, None
        return {v: (P, plan.dtype, True)}

    def run(self):
        """``r (w,)``, raw ``ρ_pred (n_draws, w)``, ``r_null (n_null, w)``, ``r_boot`` or None and
        the trial-mean predictions or None."""
        job = self.job
        xp = job.plans[0].xp
        n_draws = sum(f.role == "a" for f in job.fits)
        n_null = sum(f.role == "null" for f in job.fits)
        raw = np.empty((n_draws, self.w))
        r_null = np.empty((n_null, self.w))
        preds: dict = {}
        r = pred0 = boot = None
        held = None  # the A half waiting for its B half
        for v, fit in enumerate(job.fits):
            if v not in preds:
                preds.update(self.fit(v))
            p, dt, owned = preds.pop(v)
            done = [(p, dt, owned)]
            if fit.role == "mean":
                y = self.backend_target(v, dt)
                r = pearson_from_sums(xp, dt, p, y)
                if job.keep or job.boot is not None:
                    p_np = xp.to_numpy(xp.asarray(p, np.float64))
                if job.boot is not None:
                    boot = resampled_pearson(job.boot, p_np, self.target(v)[1])
                if job.keep:
                    pred0 = np.empty((self.order.size, self.w))
                    pred0[self.order] = p_np + self.target(v)[2]
            elif fit.role == "null":
                y = self.backend_target(v, dt)
                r_null[fit.index] = pearson_from_sums(xp, dt, p, y)
            elif fit.role == "a":
                held, done = (p, dt, owned), []
            else:
                (pa, da, _), (pb, db, _) = held, (p, dt, owned)
                if da != db:  # one half switched to float64 (ill-conditioned in float32)
                    pa, pb, da = xp.asarray(pa, np.float64), xp.asarray(pb, np.float64), np.float64
                raw[fit.index] = pearson_from_sums(xp, da, pa, pb)
                done, held = [held, (p, dt, owned)], None
            for arr, d, own in done:
                if own:
                    self.free.setdefault(d, []).append(arr)
        return r, raw, r_null, boot, pred0


def _derived_halves(fits: list[Fit], plans: list) -> set[int]:
    """Indices of B halves whose fits can take their training statistics from those of the trial
    mean and of their A half (``C_B = 2·C_mean − C_A``): every draw fit and the mean share one
    target array (a deterministic target, as in reverse predictivity) and ``B = 2·mean − A`` to
    rounding, which holds when every cell's valid repeats split evenly (no NaN, even count)."""
    main = [f for f in fits if f.role != "null"]
    if not all(f.target is main[0].target and f.rows is None for f in main):
        return set()
    mean = main[0].source
    tol = 1e-12 * max(float(np.abs(mean).max()), np.finfo(np.float64).tiny)
    out = set()
    for v, f in enumerate(fits):
        if f.role != "b" or fits[v - 1].role != "a":
            continue
        a, b = fits[v - 1].source, f.source
        same_plan = {np.dtype(plans[i].dtype) for i in (0, v - 1, v)}
        if len(same_plan) == 1 and np.abs(2 * mean - a - b).max() <= tol:
            out.add(v)
    return out
