"""Forward, reverse and inter-animal predictivity: noise-corrected explained variance per unit.

Definition (DESIGN.md, "The science, precisely"), for every target unit ``j``:

- ``r_j`` = Pearson(out-of-fold prediction of the trial-mean target from the trial-mean source,
  trial-mean target), one k-fold split of the stimuli shared by every fit below. ``r`` keeps its
  sign in every table.
- For each split draw ``d`` the repeats of every noisy population are split into halves A and B
  (:mod:`~neuroalign.metrics.conventions`: ``repeat_split``); a deterministic population (model
  features) is its own half A and half B. ``ρ_target,d = SB(corr(target_A, target_B))`` (1 for a
  deterministic target; Pearson or Spearman, on the same or a separate split) and
  ``ρ_pred,d = SB(Pearson(oof(source_A → target_A), oof(source_B → target_B)))``. Forward: only the
  target is split; reverse: only the source; inter-animal: both, A halves fitted to A halves.
- ``EV_j = 100 · max(r_j, 0)² / (ρ_target,j · ρ_pred,j)`` with the ρ averaged over ``n_draws``
  draws (``ev_average="pooled"``) or one EV per draw averaged (``"per_draw"``). A negative held-out
  correlation explains no variance: EV 0, never the square of a negative ``r``. EV may exceed 100
  when a ceiling is underestimated; it is not clipped.
- **Null.** The same pipeline on ``n_null`` permutations of the target's rows (the features of a
  model shuffled against the stimuli): ``null_r (n_null, t)``; ``null_ev`` the mean null EV per unit
  (same ceilings); ``p_unit = (1 + #(null_r ≥ r)) / (1 + n_null)`` per unit and ``p_null`` for the
  median ``r`` over valid units; ``flags["not_above_null"]`` marks units with ``p_unit > 0.05`` (a
  score, not an error: their EV stays). ``n_null=20`` reaches p < 0.05; 0 skips the null.
- **Bootstrap.** With ``n_boot > 0``, ``r_boot (n_boot, t)`` holds ``r`` on stimuli resampled with
  replacement (:func:`~neuroalign.metrics.resample.stimulus_resamples`: the draws depend only on the
  seed and the number of stimuli, so two models scored with one seed share them and can be compared
  pairwise); ceilings stay at their full-data values.
- **Ceilings.** ``ceiling="split_half"`` (default) as above; ``ceiling=None``: no noise correction
  (``EV = 100·max(r,0)²``, every ρ 1), the only choice for repeat-averaged data; ``ceiling=array``
  ``(n_target_units,)``: a given per-unit reliability used as ``ρ_target`` (``ρ_pred`` 1).
- **Alignment.** Inputs that carry stimulus ids (NeuralData, activations, DataFrames) are joined on
  them (:mod:`~neuroalign.data.align`); a bare array is taken in the other side's stimulus order and
  must have as many rows.
- Invalid units get ``EV = NaN``, a flag in ``result.flags`` and one warning with the counts:
  ``constant_target``, ``constant_prediction``, ``unreliable_target`` (``ρ_target ≤ 0``),
  ``unreliable_prediction`` (``ρ_pred ≤ 0``).

Hyperparameters are chosen per fold on the trial-mean training stimuli and reused for that fold's
split-half fits (:meth:`~neuroalign.transforms.base.Transform.frozen`); a transform with a fast path
(:meth:`~neuroalign.transforms.base.Transform.oof_plan`, e.g. Ridge) streams blocks of targets
through every fit (:mod:`~neuroalign.solvers.oof_fits`). Draws: ``rng = check_seed(seed)``;
``fold_rng, *draw_rngs, null_rng = rng.spawn(2 + n_draws)`` (the draws of a seed do not depend on ``n_null``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import clone

from neuroalign._core.errors import ConfigError
from neuroalign._core.stats import columnwise_pearson, spearman_brown
from neuroalign._core.validation import check_seed
from neuroalign.metrics.conventions import check_folds, resolve_conventions, reverse_pred_folds
from neuroalign.metrics.crossval import cross_val_predict, kfold_indices
from neuroalign.metrics.dimensionality import layer_population
from neuroalign.metrics.populations import draw_halves, half_reliability, prepare_sides
from neuroalign.metrics.resample import stimulus_resamples
from neuroalign.solvers.compute import Compute
from neuroalign.solvers.oof_fits import (
    Fit,
    block_for_memory,
    oof_correlations,
    resampled_pearson,
)
from neuroalign.transforms.base import Transform, resolve

__all__ = [
    "PredictivityResult",
    "PredictivityWarning",
    "forward_ev",
    "reverse_ev",
    "interanimal_ev",
    "default_transform",
]

#: target columns per block on a fast path: a block and its per-fold products stay in cache
#: (on a device, blocks are sized from its free memory: :func:`block_for_memory`)
_DEFAULT_BLOCK = 512
_FLAGS = ("constant_target", "constant_prediction", "unreliable_target", "unreliable_prediction")
_ALPHA = 0.05


class PredictivityWarning(UserWarning):
    """Some units got no EV (NaN); ``result.flags`` says which and why."""


@dataclass(frozen=True)
class PredictivityResult:
    """Per-unit noise-corrected predictivity (arrays of length ``n_targets`` unless stated).

    ``ev`` (percent, NaN where not ``valid``), signed ``r``, ``rho_target``, ``rho_pred`` (means over
    draws of the Spearman–Brown-corrected values), ``rho_target_draws`` / ``rho_pred_draws``
    ``(n_draws, n_targets)``, ``flags`` (name → bool mask, module docstring), ``valid``; the null:
    ``null_r (n_null, n_targets)``, ``null_ev``, ``p_unit`` and the layer's ``p_null``; the bootstrap
    ``r_boot (n_boot, n_targets)`` or None; ``population`` (reverse: the layer's population score
    and effective dimensionality, :func:`~neuroalign.metrics.dimensionality.layer_population`);
    the parameters ``direction``, ``transform``, ``n_folds``, ``n_draws``, ``n_null``, ``seed``,
    ``dtype``, ``ceiling``, ``conventions``; ``stimulus_ids`` (None for bare arrays);
    ``predictions (n_stimuli, n_targets)`` of the trial-mean fit when asked for.
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
    null_r: np.ndarray | None = None
    null_ev: np.ndarray | None = None
    p_unit: np.ndarray | None = None
    p_null: float = np.nan
    r_boot: np.ndarray | None = None
    population: dict | None = None
    ceiling: str = "split_half"
    conventions: dict = field(default_factory=dict)
    stimulus_ids: np.ndarray | None = None

    def summary(self) -> dict:
        """Median EV and median null EV over valid units, the layer's ``p_null``, the number of
        units and of invalid units per flag."""
        ok = self.valid
        out = {
            "direction": self.direction,
            "median_ev": float(np.median(self.ev[ok])) if ok.any() else np.nan,
            "median_r": float(np.median(self.r[ok])) if ok.any() else np.nan,
            "null_ev": float(np.median(self.null_ev[ok]))
            if self.null_ev is not None and ok.any()
            else np.nan,  # fmt: skip
            "p_null": self.p_null,
            "n_units": int(self.ev.size),
            **{f"n_{k}": int(v.sum()) for k, v in self.flags.items()},
        }
        if self.population:
            out.update(self.population)
        return out

    def to_frame(self, units=None) -> pd.DataFrame:
        """One row per target unit: ``unit`` (``units`` or the index), ``ev``, ``r``,
        ``rho_target``, ``rho_pred``, ``null_ev``, ``p_unit``, ``valid`` and one column per flag."""
        n = self.ev.size
        nan = np.full(n, np.nan)
        df = pd.DataFrame(
            {
                "unit": np.arange(n) if units is None else np.asarray(units),
                "ev": self.ev,
                "r": self.r,
                "rho_target": self.rho_target,
                "rho_pred": self.rho_pred,
                "null_ev": nan if self.null_ev is None else self.null_ev,
                "p_unit": nan if self.p_unit is None else self.p_unit,
                "valid": self.valid,
            }
        )
        for k, v in self.flags.items():
            df[k] = v
        return df


def default_transform() -> Transform:
    """``Ridge()``: a per-target penalty chosen by GCV on the training stimuli, relative to the
    features' scale (the meaning of ``"ridge"`` everywhere)."""
    return resolve("ridge")


def _transform(transform, conv, dtype, backend, block_size) -> Transform:
    """The caller's transform, resolved and cloned (never changed in place), with the
    call's compute overrides applied."""
    if transform is None and conv.transform is not None:
        transform = conv.transform()
    tr = resolve(transform)
    over = {k: v for k, v in (("dtype", dtype), ("backend", backend), ("block_size", block_size)) if v is not None}  # fmt: skip
    if over:
        if "compute" not in tr.get_params():
            if set(over) - {"dtype"}:
                raise ConfigError(
                    f"transform {tr.name!r} has no compute option (backend, block size)."
                )
            return tr
        c = tr.compute_() if hasattr(tr, "compute_") else Compute()
        fields = {"backend": c.backend, "dtype": c.dtype, "block_size": c.block_size, **over}
        tr = clone(tr).set_params(compute=Compute(**fields), **({"backend": None} if "backend" in tr.get_params() else {}))  # fmt: skip
    return tr


def _folds(conv, n: int, n_folds: int, fold_rng) -> list[np.ndarray]:
    if conv.folds is None:
        return kfold_indices(n, n_folds, fold_rng)
    if isinstance(conv.folds, str):
        if conv.folds != "reverse_pred":
            raise ConfigError(
                f"unknown fold rule {conv.folds!r}; use 'reverse_pred' or explicit folds."
            )
        return reverse_pred_folds(n, n_folds)
    return check_folds(conv.folds, n)


def _oof_generic(transform, folds, fits, keep, boot):
    """Out-of-fold fits of a transform with no fast path (cloned per fold; hyperparameters chosen
    on the trial mean are frozen per fold for the split halves, chosen anew for the null)."""
    n_t = fits[0].target.shape[1]
    frozen = held = pred = r = r_boot = None
    halves, nulls = [], []
    for f in fits:
        y = f.target if f.rows is None else f.target[f.rows]
        if f.role == "mean":
            pred, fitted = cross_val_predict(
                transform, f.source, y, folds=folds, return_fitted=True
            )
            frozen = [m.frozen() or transform for m in fitted]
            r = columnwise_pearson(pred, y)
            r_boot = None if boot is None else resampled_pearson(boot, pred, y)
        elif f.role == "null":
            nulls.append(
                columnwise_pearson(cross_val_predict(transform, f.source, y, folds=folds), y)
            )
        elif f.role == "a":
            held = cross_val_predict(transform, f.source, y, folds=folds, fold_transforms=frozen)
        else:
            p = cross_val_predict(transform, f.source, y, folds=folds, fold_transforms=frozen)
            halves.append(columnwise_pearson(held, p))
    raw = np.array(halves).reshape(len(halves), n_t)
    r_null = np.array(nulls).reshape(len(nulls), n_t)
    return r, raw, r_null, r_boot, (pred if keep else None)


def _run_fits(transform, folds, fits, dtype, block, keep, boot):
    """``(r, raw ρ_pred, r_null, r_boot, predictions, block)`` through the transform's fast path
    when it has one (one plan per distinct source, built in parallel), else fold by fold."""
    first = transform.oof_plan(fits[0].source, folds, dtype)
    if first is None:
        return (*_oof_generic(transform, folds, fits, keep, boot), fits[0].target.shape[1])
    sources = {id(f.source): f.source for f in fits}
    rest = [s for k, s in sources.items() if k != id(fits[0].source)]
    built = first.xp.map(lambda s: transform.oof_plan(s, folds, dtype), rest)
    by_id = {id(fits[0].source): first, **{id(s): p for s, p in zip(rest, built, strict=True)}}
    plans = [by_id[id(f.source)] for f in fits]
    if block is None:
        free = first.xp.free_memory()
        block = _DEFAULT_BLOCK if free is None else block_for_memory(plans, fits, free)
    out = oof_correlations(
        plans, fits, block=block, keep_predictions=keep,
        boot_weights=boot,
    )  # fmt: skip
    return out.r, out.raw_pred, out.r_null, out.r_boot, out.predictions, out.block


def _ceiling(ceiling, n_t: int):
    """``("split_half" | "none" | "given", given reliability (t,) or None)``."""
    if isinstance(ceiling, str) and ceiling == "split_half":
        return "split_half", None
    if ceiling is None:
        return "none", None
    rel = np.asarray(ceiling, dtype=float)
    if rel.shape != (n_t,) or not np.all(np.isfinite(rel)):
        raise ConfigError(
            f"ceiling must be 'split_half', None or a finite per-unit reliability of shape "
            f"({n_t},), got {np.shape(ceiling) if not isinstance(ceiling, str) else ceiling!r}."
        )
    return "given", rel


def _predictivity(direction, source, target, transform, *, noisy, n_folds, folds, n_draws, seed,
                  n_null, n_boot, ceiling, conventions, target_reliability, repeat_split,
                  ev_average, split_draws, dtype, backend, block_size, return_predictions,
                  population=False):  # fmt: skip
    for name, v, lo in (("n_draws", n_draws, 1), ("n_null", n_null, 0), ("n_boot", n_boot, 0)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise ConfigError(f"{name} must be an int >= {lo}, got {v!r}.")
    if dtype is not None and np.dtype(dtype) not in (np.float32, np.float64):
        raise ConfigError(f"dtype must be 'float32' or 'float64', got {dtype}.")
    conv = resolve_conventions(
        conventions, folds=folds, target_reliability=target_reliability,
        repeat_split=repeat_split, ev_average=ev_average,
    )  # fmt: skip
    split_ceiling = isinstance(ceiling, str) and ceiling == "split_half"
    src, tgt = prepare_sides(source, target, noisy, split_ceiling)
    n, n_t = tgt.mean.shape
    kind, given = _ceiling(ceiling, n_t)
    tr = _transform(transform, conv, dtype, backend, block_size)
    rng = check_seed(seed)
    fold_rng, *draw_rngs, null_rng = rng.spawn(2 + n_draws)
    fold_idx = _folds(conv, n, n_folds, fold_rng)
    if kind != "split_half":
        draw_rngs = []
    elif split_draws is not None:
        if conv.repeat_split != "slots":
            raise ConfigError("split_draws (explicit slot orders) need repeat_split='slots'.")
        draw_rngs = [None] * len(split_draws)
    sep = conv.target_reliability[1] == "separate_split"
    source_only = direction == "interanimal" and conv.interanimal_split == "source"
    fits = [Fit(src.mean, tgt.mean, "mean")]
    rel_draws = []
    for d, g in enumerate(draw_rngs):
        given_d = split_draws[d] if split_draws is not None else {}
        sa, sb = draw_halves(src, g, conv.repeat_split, given_d.get("source"))
        if source_only:
            ta, tb = tgt.mean, tgt.mean
        else:
            ta, tb = draw_halves(tgt, g, conv.repeat_split, given_d.get("target"))
        if tgt.responses is not None:
            ra, rb = (ta, tb) if not (sep or source_only) else draw_halves(tgt, g, conv.repeat_split, given_d.get("reliability"))  # fmt: skip
            rel_draws.append(half_reliability(ra, rb, conv.target_reliability[0]))
        fits += [Fit(sa, ta, "a", d), Fit(sb, tb, "b", d)]
    perms = [null_rng.permutation(n) for _ in range(n_null)]
    fits += [Fit(src.mean, tgt.mean, "null", k, rows=p) for k, p in enumerate(perms)]
    boot = stimulus_resamples(n, n_boot, seed) if n_boot else None
    eng_dtype = dtype or getattr(tr, "compute_", lambda: Compute())().dtype or "float64"
    with np.errstate(invalid="ignore", divide="ignore"):
        r, raw_pred, r_null, r_boot, predictions, block = _run_fits(
            tr, fold_idx, fits, np.dtype(eng_dtype).type, block_size, return_predictions, boot
        )
        n_d = len(draw_rngs)
        if rel_draws:
            rho_t_draws = np.array(rel_draws)
        elif kind == "given":
            rho_t_draws = np.broadcast_to(given, (max(n_d, 1), n_t)).copy()
        else:
            rho_t_draws = np.ones((max(n_d, 1), n_t))
        rho_p_draws = spearman_brown(raw_pred) if n_d else np.ones((1, n_t))
        rho_target, rho_pred = rho_t_draws.mean(axis=0), rho_p_draws.mean(axis=0)
        ev, flags = _ev(r, tgt.mean, rho_t_draws, rho_p_draws, conv.ev_average)
        valid = ~np.any([flags[k] for k in _FLAGS], axis=0)
        null_ev, p_unit, p_null = _null(r, r_null, rho_target, rho_pred, valid)
        if n_null:
            flags["not_above_null"] = valid & (p_unit > _ALPHA)
    r = np.where(flags["constant_target"], np.nan, r)
    if not valid.all():
        counts = ", ".join(f"{k}: {int(v.sum())}" for k, v in flags.items() if k in _FLAGS and v.any())  # fmt: skip
        warnings.warn(
            f"{direction} EV is NaN for {int((~valid).sum())} of {n_t} units ({counts}); "
            "see result.flags.",
            PredictivityWarning,
            stacklevel=3,
        )
    pop = None
    if population:
        pop = layer_population(tgt.mean, r, rho_target * rho_pred, valid)
    return PredictivityResult(
        direction=direction, ev=ev, r=r, rho_target=rho_target, rho_pred=rho_pred,
        rho_target_draws=rho_t_draws, rho_pred_draws=rho_p_draws, flags=flags, valid=valid,
        transform={"name": tr.name, **tr.get_params()}, n_folds=len(fold_idx), n_draws=n_d,
        seed=seed if isinstance(seed, (int, np.integer)) else repr(seed), dtype=str(np.dtype(eng_dtype)),
        params={"block_size": block, "n_null": n_null, "n_boot": n_boot},
        predictions=predictions, null_r=r_null, null_ev=null_ev, p_unit=p_unit, p_null=p_null,
        r_boot=r_boot, population=pop, ceiling=kind, conventions=conv.to_dict(),
        stimulus_ids=tgt.ids,
    )  # fmt: skip


def _ev(r, tgt_mean, rho_t_draws, rho_p_draws, average):
    """Floored noise-corrected EV ``(t,)`` and the validity flags."""
    r_pos = np.maximum(r, 0.0)
    rho_t, rho_p = rho_t_draws.mean(axis=0), rho_p_draws.mean(axis=0)
    flags = {
        "constant_target": np.ptp(tgt_mean, axis=0) == 0,
        "constant_prediction": np.isnan(r) | np.isnan(rho_p) | np.isnan(rho_t),
    }
    flags["constant_prediction"] &= ~flags["constant_target"]
    if average == "per_draw":
        ok = (rho_t_draws > 0) & (rho_p_draws > 0)
        per = np.where(ok, 100.0 * r_pos**2 / (rho_t_draws * rho_p_draws), np.nan)
        has = ok.any(axis=0)
        ev = np.where(has, np.nansum(per, axis=0) / np.maximum(ok.sum(axis=0), 1), np.nan)
        flags["unreliable_target"] = ~(rho_t_draws > 0).any(axis=0) & ~flags["constant_target"]
        flags["unreliable_prediction"] = ~has & ~flags["unreliable_target"]
    else:
        ev = 100.0 * r_pos**2 / (rho_t * rho_p)
        flags["unreliable_target"] = ~(rho_t > 0) & ~flags["constant_target"]
        flags["unreliable_prediction"] = ~(rho_p > 0)
    flags["unreliable_prediction"] &= ~flags["constant_target"] & ~flags["constant_prediction"]
    flags["unreliable_target"] &= ~flags["constant_prediction"]
    valid = ~np.any([flags[k] for k in _FLAGS], axis=0)
    return np.where(valid, ev, np.nan), flags


def _null(r, r_null, rho_t, rho_p, valid):
    """``null_ev (t,)``, ``p_unit (t,)`` and the layer's ``p_null`` (module docstring)."""
    k = r_null.shape[0]
    if k == 0:
        return None, None, np.nan
    null_ev = np.mean(100.0 * np.maximum(r_null, 0.0) ** 2, axis=0) / (rho_t * rho_p)
    null_ev = np.where(valid, null_ev, np.nan)
    p_unit = (1.0 + np.sum(r_null >= r[None, :], axis=0)) / (1.0 + k)
    if not valid.any():
        return null_ev, p_unit, np.nan
    stat = np.median(r[valid])
    null_stats = np.median(r_null[:, valid], axis=1)
    return null_ev, p_unit, float((1.0 + np.sum(null_stats >= stat)) / (1.0 + k))


_DOC = """

    Parameters
    ----------
    transform : a name (``"ridge"``), a Transform class or instance, or an IATCResult (default
        ``"ridge"``: :func:`default_transform`); never changed in place.
    n_folds : k-fold over stimuli (default 10). n_draws : split-half draws (default 20).
    seed : int or np.random.Generator (default 0).
    n_null : permutations of the null (default 20; 0: none). n_boot : bootstrap resamples of the
        stimuli (default 0).
    ceiling : ``"split_half"`` (default), None (uncorrected; repeat-averaged data) or a per-unit
        reliability ``(n_target_units,)``.
    conventions : None or a preset name (``"reverse_pred"``); ``folds``, ``target_reliability``,
        ``repeat_split``, ``ev_average`` override it one by one
        (:mod:`~neuroalign.metrics.conventions`); ``split_draws``: explicit slot orders per draw
        (``[{"source": order, "target": order, "reliability": order}, ...]``, with
        ``repeat_split="slots"``).
    dtype, backend, block_size : override the transform's
        :class:`~neuroalign.solvers.compute.Compute` for this call (default: the transform's;
        float64 unless it says otherwise).
    return_predictions : keep the trial-mean out-of-fold predictions ``(n_stimuli, n_targets)``.

    Returns a :class:`PredictivityResult`; see the module docstring for the exact definition.
    """


def forward_ev(features, neural, transform=None, *, n_folds=10, folds=None, n_draws=20, seed=0,
               n_null=20, n_boot=0, ceiling="split_half", conventions=None,
               target_reliability=None, repeat_split=None, ev_average=None, split_draws=None,
               dtype=None, backend=None, block_size=None,
               return_predictions=False) -> PredictivityResult:  # fmt: skip
    """Model → neurons: ``features (n_stimuli, n_features)`` (an array, a DataFrame indexed by
    stimulus id, or one layer's activations) predict every unit of ``neural`` (a NeuralData or
    ``(n_stimuli, n_units, n_repeats)`` with NaN = missing repeat)."""
    return _predictivity("forward", features, neural, transform, noisy=(False, True), **_kw(locals()))  # fmt: skip


def reverse_ev(neural, features, transform=None, *, n_folds=10, folds=None, n_draws=20, seed=0,
               n_null=20, n_boot=0, ceiling="split_half", conventions=None,
               target_reliability=None, repeat_split=None, ev_average=None, split_draws=None,
               dtype=None, backend=None, block_size=None,
               return_predictions=False) -> PredictivityResult:  # fmt: skip
    """Neurons → model: the units of ``neural`` predict every column of ``features``; also the
    layer's population score and effective dimensionality (``result.population``)."""
    return _predictivity("reverse", neural, features, transform, noisy=(True, False), population=True, **_kw(locals()))  # fmt: skip


def interanimal_ev(source, target, transform=None, *, n_folds=10, folds=None, n_draws=20, seed=0,
                   n_null=20, n_boot=0, ceiling="split_half", conventions=None,
                   target_reliability=None, repeat_split=None, ev_average=None, split_draws=None,
                   dtype=None, backend=None, block_size=None,
                   return_predictions=False) -> PredictivityResult:  # fmt: skip
    """Animal → animal: the units of ``source`` predict every unit of ``target`` (NeuralData, or
    arrays ``(n_stimuli, n_units, n_repeats)`` of the same stimuli in the same order)."""
    return _predictivity("interanimal", source, target, transform, noisy=(True, True), **_kw(locals()))  # fmt: skip


_OPTIONS = ("n_folds", "folds", "n_draws", "seed", "n_null", "n_boot", "ceiling", "conventions",
            "target_reliability", "repeat_split", "ev_average", "split_draws", "dtype", "backend",
            "block_size", "return_predictions")  # fmt: skip


def _kw(scope: dict) -> dict:
    return {k: scope[k] for k in _OPTIONS}


for _f in (forward_ev, reverse_ev, interanimal_ev):
    _f.__doc__ += _DOC
