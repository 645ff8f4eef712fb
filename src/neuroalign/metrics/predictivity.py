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

from neuroalign._validation import check_seed
from neuroalign.data.splits import min_valid_repeats, split_half_means
from neuroalign.errors import ConfigError, DataError
from neuroalign.metrics.crossval import cross_val_predict, kfold_indices
from neuroalign.reliability import columnwise_pearson, noise_corrected_ev, spearman_brown
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


def _pearson(xp, a, b) -> np.ndarray:
    """Column-wise Pearson ``(t,)`` float64 of two ``(n, t)`` arrays of a backend."""
    a = a - a.mean(0)
    b = b - b.mean(0)
    num = xp.to_numpy(xp.coldot(a, b)).astype(np.float64)
    den = xp.to_numpy(xp.coldot(a, a)).astype(np.float64)
    den *= xp.to_numpy(xp.coldot(b, b))
    return num / np.sqrt(den)


def _ridge_scores(transform, folds, dtype, sources, targets, block, keep_predictions):
    """Fast Ridge path. ``sources`` / ``targets``: the trial-mean fit, then halves A and B of each
    draw (arrays ``(n_stimuli, ·)``; the same array object where a population is not split).
    ``block``: target columns per block (None: by device). Returns ``r (t,)``, ``raw ρ_pred
    (n_draws, t)`` (before Spearman–Brown), the trial-mean out-of-fold predictions
    ``(n_stimuli, t)`` (or None) and the block used."""
    n = sources[0].shape[0]
    alphas, cv = transform._check(n - max(f.size for f in folds))
    plans, groups = {}, {}
    for v, src in enumerate(sources):
        if id(src) not in plans:
            design = transform.design(src, dtype)
            with design.xp.serial():
                plans[id(src)] = FoldPlan(design, folds, alphas, cv, transform.alpha_per_target)
        groups.setdefault(id(src), []).append(v)
    order = plans[id(sources[0])].order
    n_t, n_draws = targets[0].shape[1], (len(sources) - 1) // 2
    derived = _derived_halves(sources, targets, plans)

    def run(sl):
        tp = {}  # target block per array: fold order, centred, float64 or float32

        def tgt(v):
            key = id(targets[v])
            if key not in tp:
                y = targets[v][order, sl]
                mean = y.mean(axis=0, dtype=np.float64)
                tp[key] = (np.asarray(y - mean, dtype=dtype), mean)
            return tp[key][0]

        preds: dict[int, object] = {}
        first: dict[int, object] = {}  # first passes kept for the derived B halves
        raw = np.empty((n_draws, sl.stop - sl.start))
        for v in range(len(sources)):
            if v not in preds:  # every fit of this source at once, targets side by side
                vs = groups[id(sources[v])]
                vs = [u for u in vs if u >= v]
                plan = plans[id(sources[v])]
                xp = plan.xp
                Y = tgt(vs[0]) if len(vs) == 1 else np.hstack([tgt(u) for u in vs])
                Y = xp.asarray(Y, plan.dtype)
                W = first.pop(v, None)
                if W is None and derived and plan.has_first_pass and len(vs) == 1:
                    W = plan.first_pass(Y)
                    if v == 0:
                        first[0] = xp.copy(W)
                    elif v % 2 == 1 and v + 1 in derived:  # W_B = 2·W_mean − W_A, by linearity
                        first[v + 1] = 2 * first[0] - W
                P = plan.predict(Y, W)[0]
                w = sl.stop - sl.start
                for i, u in enumerate(vs):
                    preds[u] = (plan, P[:, i * w : (i + 1) * w])
            if v == 0:
                plan, p0 = preds[0]
                xp = plan.xp
                r = _pearson(xp, p0, xp.asarray(tgt(0), plan.dtype))
                pred0 = None
                if keep_predictions:
                    pred0 = np.empty((n, sl.stop - sl.start))
                    pred0[order] = xp.to_numpy(p0) + tp[id(targets[0])][1]
                del preds[0]
            elif v % 2 == 0:
                (plan, pa), (_, pb) = preds.pop(v - 1), preds.pop(v)
                raw[v // 2 - 1] = _pearson(plan.xp, pa, pb)
        return r, raw, pred0

    xp = next(iter(plans.values())).xp
    if block is None:
        on_device = getattr(getattr(xp, "device", None), "type", "cpu") != "cpu"
        block = _DEVICE_BLOCK if on_device else _DEFAULT_BLOCK
    slices = [slice(j, min(j + block, n_t)) for j in range(0, n_t, block)]
    out = xp.map(run, slices)
    r = np.concatenate([o[0] for o in out])
    raw = np.concatenate([o[1] for o in out], axis=1)
    pred = np.concatenate([o[2] for o in out], axis=1) if keep_predictions else None
    return r, raw, pred, block


def _derived_halves(sources, targets, plans) -> set[int]:
    """Indices ``v`` of B halves whose fits can reuse the first passes of the trial mean and of
    their A half (:meth:`~neuroalign.solvers.oof.FoldPlan.first_pass`): the target is shared by
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
