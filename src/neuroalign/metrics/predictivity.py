"""Forward, reverse and inter-animal predictivity: noise-corrected explained variance per unit.

Definition (DESIGN.md, "The science, precisely"), for every target unit ``j``:

- ``r_j`` = Pearson(out-of-fold prediction of the trial-mean target from the trial-mean source,
  trial-mean target), with one seeded k-fold split of the stimuli (:func:`kfold_indices`) shared by
  every fit below.
- For each split draw ``d`` the valid repeats of every noisy population are split at random into
  halves A and B (:func:`~neuroalign.data.splits.split_half_means`; the source is split first,
  then the target, both with the draw's generator). A deterministic population (model features)
  is its own half A and half B. Then
  ``ρ_target,d = SB(Pearson(target_A, target_B))`` (1 for a deterministic target) and
  ``ρ_pred,d = SB(Pearson(oof(source_A → target_A), oof(source_B → target_B)))``.
  Forward (model → neurons): only the target is split. Reverse (neurons → model units): only the
  source is split. Inter-animal (neurons → neurons): both are split, A halves fitted to A halves,
  so ``ρ_pred`` carries the noise of both animals.
- ``ρ_target`` and ``ρ_pred`` are the means of the per-draw values over ``n_draws`` draws (the
  reliability is averaged, then EV is formed once: a mean of per-draw ratios would explode on a
  draw with ρ near 0); ``EV_j = 100 · r_j² / (ρ_target,j · ρ_pred,j)`` (may exceed 100 when the
  ceiling is underestimated; not clipped).
- Invalid units get ``EV = NaN``, a flag in ``result.flags`` and one warning with the counts:
  ``constant_target`` (the trial-mean target has zero range, e.g. a dead ReLU unit),
  ``constant_prediction`` (an out-of-fold prediction is constant, so a correlation is undefined),
  ``unreliable_target`` (``ρ_target ≤ 0``) and ``unreliable_prediction`` (``ρ_pred ≤ 0``).

Hyperparameters: a class that chooses hyperparameters by inner cross-validation (e.g.
:class:`~neuroalign.transforms.zippering.Zippering`'s penalty) chooses them per fold on the
trial-mean training stimuli; that fold's split-half fits reuse the choice
(:meth:`~neuroalign.transforms.base.Transform.frozen`), so the held-out fold never informs it and
the inner search runs once per fold, not once per fit.

Draws: ``rng = check_seed(seed)``; ``fold_rng, *draw_rngs = rng.spawn(1 + n_draws)``.
A :class:`~neuroalign.transforms.ridge.Ridge` (one α, or α per target) runs on the fast path: one
:class:`~neuroalign.solvers.oof.FoldPlan` (decompositions and per-fold operators) per distinct
source version, made once; the targets are streamed in blocks of ``block_size`` columns, each
block pushed through the fits of the trial mean and of every draw while it is in cache (blocks in
parallel on the BLAS's threads), and only per-target correlations are kept, so memory stays near
the size of the inputs.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from neuroalign._core.errors import ConfigError, DataError
from neuroalign._core.validation import check_seed
from neuroalign.data.splits import min_valid_repeats, split_half_means
from neuroalign.metrics.ceilings import columnwise_pearson, noise_corrected_ev, spearman_brown
from neuroalign.metrics.crossval import cross_val_predict, kfold_indices
from neuroalign.solvers.backend import get_backend
from neuroalign.solvers.oof import FoldPlan
from neuroalign.transforms.base import Transform

__all__ = [
    "PredictivityResult",
    "PredictivityWarning",
    "forward_ev",
    "reverse_ev",
    "interanimal_ev",
    "default_transform",
]

#: target columns per block on the Ridge fast path: a block and its per-fold products stay in cache
_DEFAULT_BLOCK = 512
#: on a GPU, blocks large enough to fill the device (a block of every fit of 1,320 stimuli and
#: 20 draws is about 2 GB in float32), small enough to fit beside the features
_DEVICE_BLOCK = 8192
_FLAGS = ("constant_target", "constant_prediction", "unreliable_target", "unreliable_prediction")


class PredictivityWarning(UserWarning):
    """Some units got no EV (NaN); ``result.flags`` says which and why."""


@dataclass(frozen=True)
class PredictivityResult:
    """Per-unit noise-corrected predictivity (arrays of length ``n_targets`` unless stated).

    ``ev`` (percent, NaN where not ``valid``), ``r``, ``rho_target``, ``rho_pred`` (means over
    draws of the Spearman–Brown-corrected values), ``rho_target_draws`` / ``rho_pred_draws``
    ``(n_draws, n_targets)``, ``flags`` (name → bool mask, see the module docstring), ``valid``,
    and the parameters: ``direction``, ``transform`` (name and parameters), ``n_folds``,
    ``n_draws``, ``seed``, ``dtype``; ``predictions`` ``(n_stimuli, n_targets)``: the out-of-fold
    predictions of the trial-mean fit when asked for (``return_predictions=True``), else None.
    """

    direction: str
    ev: np.ndarray
    r: np.ndarray
    rho_target: np.ndarray
    rho_pred: np.ndarray
    rho_target_draws: np.ndarray
    rho_pred_draws: np.ndarray
    flags: dict[str, np.ndarray]
    valid: np.ndarray
    transform: dict
    n_folds: int
    n_draws: int
    seed: object
    dtype: str
    params: dict = field(default_factory=dict)
    predictions: np.ndarray | None = None

    def summary(self) -> dict:
        """Median EV over valid units, the number of units and of invalid units per flag."""
        return {
            "direction": self.direction,
            "median_ev": float(np.median(self.ev[self.valid])) if self.valid.any() else np.nan,
            "n_units": int(self.ev.size),
            **{f"n_{k}": int(v.sum()) for k, v in self.flags.items()},
        }


def default_transform():
    """``Ridge(alphas=np.logspace(-2, 7, 10), cv="gcv")``: per-target α, cheap selection."""
    from neuroalign.transforms.ridge import Ridge

    return Ridge(alphas=np.logspace(-2, 7, 10), cv="gcv")


def _population(x, name: str, noisy: bool | None):
    """``(mean (n_stimuli, n_units), responses (n_stimuli, n_units, n_repeats) or None)``."""
    resp = getattr(x, "responses", x)
    arr = np.asarray(resp)
    if arr.dtype.kind not in "biuf":
        raise DataError(f"{name} must be numeric, got dtype {arr.dtype}.")
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    if arr.ndim == 2:
        if noisy:
            raise DataError(
                f"{name} must hold repeats, shape (n_stimuli, n_units, n_repeats) (or a NeuralData); "
                f"got a 2-D array {arr.shape}: a noise ceiling needs split halves of repeats."
            )
        if not np.all(np.isfinite(arr)):
            raise DataError(f"{name} has NaN or infinite values; model features must be finite.")
        return arr, None
    if arr.ndim != 3:
        raise DataError(
            f"{name} must be 2-D or 3-D (n_stimuli, n_units, n_repeats), got {arr.shape}."
        )
    if noisy is False:
        raise DataError(f"{name} must be a 2-D (n_stimuli, n_features) matrix, got {arr.shape}.")
    if np.isinf(arr).any():
        raise DataError(f"{name} has infinite values; use NaN for a missing repeat.")
    if min_valid_repeats(arr) < 2:
        raise DataError(
            f"{name}: some (stimulus, unit) cell has fewer than 2 valid repeats; split halves need "
            "at least 2 (drop those stimuli or units)."
        )
    mean = arr.mean(axis=2) if not np.isnan(arr).any() else np.nanmean(arr, axis=2)
    return mean, arr


def _transform(transform, backend):
    transform = default_transform() if transform is None else transform
    if not isinstance(transform, Transform):
        raise ConfigError(
            f"transform must be a Transform instance, got {type(transform).__name__}."
        )
    if backend is not None:
        if "backend" not in transform.get_params():
            raise ConfigError(f"transform {transform.name!r} has no backend option.")
        transform = transform.set_params(backend=backend)
    return transform


class _OOF:
    """Out-of-fold predictions of a generic transform; the hyperparameters chosen in the first
    (trial-mean) fit are frozen per fold for the split-half fits."""

    def __init__(self, transform, folds):
        self.t, self.folds = transform, folds
        self.fold_transforms = None

    def __call__(self, src: np.ndarray, tgt: np.ndarray) -> np.ndarray:
        if self.fold_transforms is None:  # the trial-mean fit: choose, then freeze
            pred, fitted = cross_val_predict(self.t, src, tgt, folds=self.folds, return_fitted=True)
            self.fold_transforms = [m.frozen() or self.t for m in fitted]
            return pred
        return cross_val_predict(
            self.t, src, tgt, folds=self.folds, fold_transforms=self.fold_transforms
        )


def _fast_ridge(transform) -> bool:
    from neuroalign.transforms.ridge import Ridge

    return type(transform) is Ridge and (
        transform.alpha_per_target or np.size(transform.alphas) == 1
    )


def _pearson(xp, dtype, a, b) -> np.ndarray:
    """Column-wise Pearson ``(t,)`` float64 of two ``(n, t)`` arrays of a backend (numpy dtype
    ``dtype``), from column sums and dot products: no centred copies, as the arrays are centred
    targets and their predictions, whose means are small against their spread. A column with no
    variance left once its mean is removed (to rounding) gives NaN."""
    n = a.shape[0]
    ones = xp.asarray(np.ones((1, n)), dtype)

    def f64(x):
        return xp.to_numpy(x).astype(np.float64).ravel()

    sa, sb = f64(ones @ a), f64(ones @ b)
    ab, aa, bb = f64(xp.coldot(a, b)), f64(xp.coldot(a, a)), f64(xp.coldot(b, b))
    tol = 4 * n * np.finfo(dtype).eps
    va, vb = aa - sa * sa / n, bb - sb * sb / n
    va[va <= tol * aa] = 0.0
    vb[vb <= tol * bb] = 0.0
    den = np.sqrt(va * vb)
    return np.divide(ab - sa * sb / n, den, out=np.full(den.shape, np.nan), where=den > 0)


def _ridge_scores(transform, folds, dtype, sources, targets, block, keep_predictions):
    """Fast Ridge path. ``sources`` / ``targets``: the trial-mean fit, then halves A and B of each
    draw (arrays ``(n_stimuli, ·)``; the same array object where a population is not split).
    ``block``: target columns per block (None: by device). Returns ``r (t,)``, ``raw ρ_pred
    (n_draws, t)`` (before Spearman–Brown), the trial-mean out-of-fold predictions
    ``(n_stimuli, t)`` (or None) and the block used."""
    n = sources[0].shape[0]
    alphas, cv = transform._check(n - max(f.size for f in folds))
    distinct = list({id(s): s for s in sources}.values())

    def make_plan(src):
        design = transform.design(src, dtype)
        with design.xp.serial():
            return FoldPlan(design, folds, alphas, cv, transform.alpha_per_target)

    xp = get_backend(transform.backend)
    plans = dict(zip(map(id, distinct), xp.map(make_plan, distinct), strict=True))
    job = _Job(
        plans=[plans[id(s)] for s in sources],
        groups={},
        sources=sources,
        targets=targets,
        dtype=np.dtype(dtype).type,
        grid=alphas.size > 1,
        derived=_derived_halves(sources, targets, plans),
        keep=keep_predictions,
    )
    for v, src in enumerate(sources):
        job.groups.setdefault(id(src), []).append(v)
    if block is None:
        on_device = getattr(getattr(xp, "device", None), "type", "cpu") != "cpu"
        block = _DEVICE_BLOCK if on_device else _DEFAULT_BLOCK
    n_t = targets[0].shape[1]
    slices = [slice(j, min(j + block, n_t)) for j in range(0, n_t, block)]
    out = xp.map(lambda sl: _BlockFits(job, sl).run(), slices)
    r = np.concatenate([o[0] for o in out])
    raw = np.concatenate([o[1] for o in out], axis=1)
    pred = np.concatenate([o[2] for o in out], axis=1) if keep_predictions else None
    return r, raw, pred, block


@dataclass
class _Job:
    """What every block of :func:`_ridge_scores` shares: one plan per fit, the fits of each
    source (``groups``: id → fit indices), the B halves derived from their A halves."""

    plans: list
    groups: dict
    sources: list
    targets: list
    dtype: type
    grid: bool
    derived: set
    keep: bool


class _BlockFits:
    """Every fit of the target columns ``sl``, in order: the trial mean, then each draw's halves
    A and B, keeping only per-column correlations. Fits that share a source (forward: all) run
    as one product; single fits write into arrays reused across draws, and a derived B half
    (:func:`_derived_halves`) takes its training statistics as ``2·C_mean − C_A``."""

    def __init__(self, job: _Job, sl: slice):
        self.job, self.sl, self.w = job, sl, sl.stop - sl.start
        self.order = job.plans[0].order
        self.tp: dict[int, list] = {}
        self.free: dict[type, list] = {}  # prediction arrays (n, w) of single fits, by dtype
        self.C = None  # (fit, array): the primal form's training statistics of one fit
        self.C0x2 = None  # 2·C of the trial-mean fit, when B halves are derived

    def target(self, v) -> list:
        """``[Ỹ (compute dtype), Ỹ (float64), column means, train stats or None]`` of fit ``v``'s
        target: fold order, centred."""
        key = id(self.job.targets[v])
        if key not in self.tp:
            y = self.job.targets[v][self.order, self.sl]
            mean = y.mean(axis=0, dtype=np.float64)
            y64 = y - mean
            self.tp[key] = [np.asarray(y64, self.job.dtype), y64, mean, None]
        return self.tp[key]

    def as_plan_dtype(self, v, dtype):
        """Fit ``v``'s target as :meth:`target` gives it in ``dtype`` (float64 kept when a plan
        switched to it)."""
        entry = self.target(v)
        return entry[1] if dtype == np.float64 else entry[0]

    def fit(self, v) -> dict:
        """Out-of-fold predictions of fit ``v`` and of the later fits of its source:
        index → ``(array, dtype, owned)``."""
        job, plan = self.job, self.job.plans[v]
        xp, exact = plan.xp, job.grid and job.dtype != np.float64
        vs = [u for u in job.groups[id(job.sources[v])] if u >= v]
        if len(vs) > 1:  # one source for many fits: their targets side by side
            Y = xp.asarray(np.hstack([self.as_plan_dtype(u, plan.dtype) for u in vs]), plan.dtype)
            Y64 = None
            if exact:
                Y64 = xp.asarray(np.hstack([self.target(u)[1] for u in vs]), np.float64)
            P = plan.predict(Y, Y64=Y64)[0]
            w = self.w
            return {u: (P[:, i * w : (i + 1) * w], plan.dtype, False) for i, u in enumerate(vs)}
        entry = self.target(v)
        Y = xp.asarray(self.as_plan_dtype(v, plan.dtype), plan.dtype)
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
        Y64 = xp.asarray(entry[1], np.float64) if job.grid else None
        if job.grid and entry[3] is None:
            entry[3] = plan.train_stats(Y64)
        pool = self.free.setdefault(plan.dtype, [])
        out = pool.pop() if pool else None
        P = plan.predict(Y, C, stats=entry[3], Y64=Y64 if exact else None, out=out)[0]
        if v == 0 and job.derived and C is not None:
            C *= 2
            self.C0x2, self.C = C, None
        return {v: (P, plan.dtype, True)}

    def run(self):
        """``r (w,)``, ``raw ρ_pred (n_draws, w)`` and the trial-mean predictions or None."""
        job = self.job
        xp = job.plans[0].xp
        raw = np.empty(((len(job.sources) - 1) // 2, self.w))
        preds: dict = {}
        r = pred0 = None
        for v in range(len(job.sources)):
            if v not in preds:
                preds.update(self.fit(v))
            if v == 0:
                done = [preds.pop(0)]
                p0, dt, _ = done[0]
                r = _pearson(xp, dt, p0, xp.asarray(self.as_plan_dtype(0, dt), dt))
                if job.keep:
                    pred0 = np.empty((self.order.size, self.w))
                    pred0[self.order] = xp.to_numpy(p0) + self.target(0)[2]
            elif v % 2 == 0:
                done = [preds.pop(v - 1), preds.pop(v)]
                (pa, da, _), (pb, db, _) = done
                if da != db:  # one half switched to float64 (ill-conditioned in float32)
                    pa, pb, da = xp.asarray(pa, np.float64), xp.asarray(pb, np.float64), np.float64
                raw[v // 2 - 1] = _pearson(xp, da, pa, pb)
            else:
                done = []
            for arr, dt, owned in done:
                if owned:
                    self.free.setdefault(dt, []).append(arr)
        return r, raw, pred0


def _derived_halves(sources, targets, plans) -> set[int]:
    """Indices ``v`` of B halves whose fits can take their training statistics from those of the
    trial mean and of their A half (:meth:`~neuroalign.solvers.oof.FoldPlan.complements`, linear
    in the predictors: ``C_B = 2·C_mean − C_A``): the target is shared by
    every fit (a deterministic target, as in reverse predictivity) and ``B = 2·mean − A`` to
    rounding, which holds when every cell's valid repeats split evenly (no NaN, even count).
    Saves a quarter of the reverse-direction arithmetic."""
    if not all(t is targets[0] for t in targets):
        return set()
    mean = sources[0]
    tol = 1e-12 * max(float(np.abs(mean).max()), np.finfo(np.float64).tiny)
    out = set()
    for v in range(2, len(sources), 2):
        a, b = sources[v - 1], sources[v]
        same_plan = {plans[id(s)].dtype for s in (mean, a, b)}
        if len(same_plan) == 1 and np.abs(2 * mean - a - b).max() <= tol:
            out.add(v)
    return out


def _predictivity(
    direction,
    source,
    target,
    transform,
    *,
    noisy,
    n_folds,
    n_draws,
    seed,
    dtype,
    backend,
    block_size,
    return_predictions=False,
):
    if n_draws < 1 or not isinstance(n_draws, (int, np.integer)):
        raise ConfigError(
            f"n_draws must be a positive int (20 or more recommended), got {n_draws!r}."
        )
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ConfigError(f"dtype must be 'float32' or 'float64', got {dtype}.")
    src_mean, src_rep = _population(source, "source", noisy[0])
    tgt_mean, tgt_rep = _population(target, "target", noisy[1])
    if src_mean.shape[0] != tgt_mean.shape[0]:
        raise DataError(
            f"source has {src_mean.shape[0]} stimuli but target has {tgt_mean.shape[0]}; align them "
            "on stimulus ids first (NeuralData.align)."
        )
    transform = _transform(transform, backend)
    rng = check_seed(seed)
    fold_rng, *draw_rngs = rng.spawn(1 + n_draws)
    folds = kfold_indices(src_mean.shape[0], n_folds, fold_rng)

    halves = []
    for g in draw_rngs:
        sa, sb = split_half_means(src_rep, g) if src_rep is not None else (src_mean, src_mean)
        ta, tb = split_half_means(tgt_rep, g) if tgt_rep is not None else (tgt_mean, tgt_mean)
        halves.append((sa, sb, ta, tb))

    n_t = tgt_mean.shape[1]
    predictions = None
    with np.errstate(invalid="ignore", divide="ignore"):
        if _fast_ridge(transform):
            sources = [src_mean] + [s for sa, sb, _, _ in halves for s in (sa, sb)]
            targets = [tgt_mean] + [t for _, _, ta, tb in halves for t in (ta, tb)]
            r, raw_pred, predictions, block = _ridge_scores(
                transform, folds, dtype, sources, targets, block_size, return_predictions
            )
        else:
            block = n_t
            oof = _OOF(transform, folds)
            pred = oof(src_mean, tgt_mean)
            r = columnwise_pearson(pred, tgt_mean)
            predictions = pred if return_predictions else None
            raw_pred = np.array(
                [columnwise_pearson(oof(sa, ta), oof(sb, tb)) for sa, sb, ta, tb in halves]
            )
        if tgt_rep is None:
            raw_tgt = np.ones((n_draws, n_t))
        else:
            raw_tgt = np.array([columnwise_pearson(ta, tb) for _, _, ta, tb in halves])
        rho_target_draws = spearman_brown(raw_tgt) if tgt_rep is not None else raw_tgt
        rho_pred_draws = spearman_brown(raw_pred)
        rho_target = rho_target_draws.mean(axis=0)
        rho_pred = rho_pred_draws.mean(axis=0)
        flags = {
            "constant_target": np.ptp(tgt_mean, axis=0) == 0,
            "constant_prediction": np.isnan(r) | np.isnan(rho_pred) | np.isnan(rho_target),
        }
        flags["constant_prediction"] &= ~flags["constant_target"]
        flags["unreliable_target"] = ~(rho_target > 0) & ~flags["constant_target"]
        flags["unreliable_prediction"] = (
            ~(rho_pred > 0) & ~flags["constant_target"] & ~flags["constant_prediction"]
        )
        valid = ~np.any([flags[k] for k in _FLAGS], axis=0)
        ev = np.where(valid, noise_corrected_ev(r, rho_target, rho_pred), np.nan)
    r = np.where(flags["constant_target"], np.nan, r)
    if not valid.all():
        counts = ", ".join(f"{k}: {int(v.sum())}" for k, v in flags.items() if v.any())
        warnings.warn(
            f"{direction} EV is NaN for {int((~valid).sum())} of {n_t} units ({counts}); "
            "see result.flags.",
            PredictivityWarning,
            stacklevel=3,
        )
    return PredictivityResult(
        direction=direction,
        ev=ev,
        r=r,
        rho_target=rho_target,
        rho_pred=rho_pred,
        rho_target_draws=rho_target_draws,
        rho_pred_draws=rho_pred_draws,
        flags=flags,
        valid=valid,
        transform={"name": transform.name, **transform.get_params()},
        n_folds=n_folds,
        n_draws=n_draws,
        seed=seed if isinstance(seed, (int, np.integer)) else repr(seed),
        dtype=str(dtype),
        params={"block_size": block},
        predictions=predictions,
    )


_DOC = """

    Parameters
    ----------
    transform : a :class:`~neuroalign.transforms.base.Transform` (default :func:`default_transform`).
    n_folds : k-fold over stimuli (default 10). n_draws : split-half draws (default 20).
    seed : int or np.random.Generator (required for reproducibility; default 0).
    dtype : ``"float64"`` (default) or ``"float32"`` compute precision of the Ridge fast path
        (correlations are always accumulated in float64; an ill-conditioned float32 solve runs in
        float64 with a :class:`~neuroalign.solvers.ridge.PrecisionWarning`).
    backend : ``None`` (the transform's), ``"numpy"``, ``"torch"``, ``"torch:cuda"``.
    block_size : target columns per block on the Ridge fast path (default 512 on the CPU: the
        block and its per-fold products stay in cache; memory is a few blocks per thread; 8192 on
        a GPU).
    return_predictions : keep the out-of-fold predictions of the trial-mean fit in
        ``result.predictions`` ``(n_stimuli, n_targets)`` (costs that memory).

    Returns a :class:`PredictivityResult`; see the module docstring for the exact definition.
    """


def forward_ev(
    features,
    neural,
    transform=None,
    *,
    n_folds=10,
    n_draws=20,
    seed=0,
    dtype="float64",
    backend=None,
    block_size=None,
    return_predictions=False,
) -> PredictivityResult:
    """Model → neurons: ``features (n_stimuli, n_features)`` predict every unit of ``neural``
    (``(n_stimuli, n_units, n_repeats)`` with NaN = missing repeat, or a NeuralData)."""
    return _predictivity(
        "forward",
        features,
        neural,
        transform,
        noisy=(False, True),
        n_folds=n_folds,
        n_draws=n_draws,
        seed=seed,
        dtype=dtype,
        backend=backend,
        block_size=block_size,
        return_predictions=return_predictions,
    )


def reverse_ev(
    neural,
    features,
    transform=None,
    *,
    n_folds=10,
    n_draws=20,
    seed=0,
    dtype="float64",
    backend=None,
    block_size=None,
    return_predictions=False,
) -> PredictivityResult:
    """Neurons → model: the units of ``neural`` (``(n_stimuli, n_units, n_repeats)`` or a
    NeuralData) predict every column of ``features (n_stimuli, n_features)``."""
    return _predictivity(
        "reverse",
        neural,
        features,
        transform,
        noisy=(True, False),
        n_folds=n_folds,
        n_draws=n_draws,
        seed=seed,
        dtype=dtype,
        backend=backend,
        block_size=block_size,
        return_predictions=return_predictions,
    )


def interanimal_ev(
    source,
    target,
    transform=None,
    *,
    n_folds=10,
    n_draws=20,
    seed=0,
    dtype="float64",
    backend=None,
    block_size=None,
    return_predictions=False,
) -> PredictivityResult:
    """Animal → animal: the units of ``source`` predict every unit of ``target`` (both
    ``(n_stimuli, n_units, n_repeats)`` or NeuralData, same stimuli in the same order)."""
    return _predictivity(
        "interanimal",
        source,
        target,
        transform,
        noisy=(True, True),
        n_folds=n_folds,
        n_draws=n_draws,
        seed=seed,
        dtype=dtype,
        backend=backend,
        block_size=block_size,
        return_predictions=return_predictions,
    )


for _f in (forward_ev, reverse_ev, interanimal_ev):
    _f.__doc__ += _DOC
