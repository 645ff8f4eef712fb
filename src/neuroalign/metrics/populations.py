"""The two sides of a predictivity computation: aligned on stimulus ids, their trial means, their
split halves per draw, and the target's split-half reliability.

A side is a model (deterministic features ``(n_stimuli, n_features)``: a bare array, a DataFrame
indexed by stimulus id, or activations with one layer) or a population of neurons (a
:class:`~neuroalign.data.NeuralData` or an array ``(n_stimuli, n_units, n_repeats)`` with NaN for a
missing repeat; a 2-D array of repeat-averaged responses when no ceiling is asked for).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata

from neuroalign._core.errors import DataError
from neuroalign._core.stats import columnwise_pearson, spearman_brown
from neuroalign.data.align import align_rows, take_rows
from neuroalign.data.splits import min_valid_repeats, slot_half_means, split_half_means

__all__ = ["Side", "prepare_sides", "draw_halves", "half_reliability"]


@dataclass
class Side:
    """One side: ``mean (n_stimuli, n_units)`` float, ``responses (n_stimuli, n_units,
    n_repeats)`` or None (deterministic, or no ceiling asked for), the stimulus ids or None."""

    mean: np.ndarray
    responses: np.ndarray | None
    ids: np.ndarray | None


def _values(x, name: str):
    """The numeric array behind ``x`` (float32 kept, float16 and integers widened)."""
    if hasattr(x, "layers") and hasattr(x, "stimulus_ids") and not hasattr(x, "responses"):
        if len(x.layers) != 1:
            raise DataError(
                f"{name} holds activations of {len(x.layers)} layers {x.layers}; pass one layer "
                "(acts.layer(name)) or score layer by layer (compare / bench.score take them all)."
            )
        x = x[x.layers[0]]
    resp = getattr(x, "responses", None)
    arr = np.asarray(resp if resp is not None else getattr(x, "to_numpy", lambda: x)())
    if arr.dtype.kind not in "biuf":
        raise DataError(f"{name} must be numeric, got dtype {arr.dtype}.")
    if arr.dtype.kind != "f" or arr.dtype == np.float16:
        arr = arr.astype(np.float32 if arr.dtype == np.float16 else np.float64)
    return arr


def _side(x, name: str, noisy: bool | None, ceiling: bool, ids) -> Side:
    arr = _values(x, name)
    if arr.ndim == 3 and arr.shape[2] == 1 and noisy is not False:
        arr = arr[:, :, 0]  # one repeat: repeat-averaged responses
        if ceiling and noisy:
            _too_few(name)
    if arr.ndim == 2:
        if noisy and ceiling:
            raise DataError(
                f"{name} must hold repeats, shape (n_stimuli, n_units, n_repeats) (or a "
                f"NeuralData); got a 2-D array {arr.shape}: a noise ceiling needs split halves of "
                "repeats. For repeat-averaged responses pass ceiling=None (uncorrected scores) or "
                "a per-unit reliability (ceiling=array)."
            )
        if not np.all(np.isfinite(arr)):
            raise DataError(f"{name} has NaN or infinite values; features must be finite.")
        return Side(arr, None, ids)
    if arr.ndim != 3:
        raise DataError(
            f"{name} must be 2-D or 3-D (n_stimuli, n_units, n_repeats), got {arr.shape}."
        )
    if noisy is False:
        raise DataError(f"{name} must be a 2-D (n_stimuli, n_features) matrix, got {arr.shape}.")
    if np.isinf(arr).any():
        raise DataError(f"{name} has infinite values; use NaN for a missing repeat.")
    if ceiling and min_valid_repeats(arr) < 2:
        _too_few(name)
    mean = arr.mean(axis=2) if not np.isnan(arr).any() else np.nanmean(arr, axis=2)
    if np.isnan(mean).any():
        raise DataError(f"{name} has a (stimulus, unit) cell with no valid repeat; drop it.")
    return Side(mean, arr if ceiling else None, ids)


def _too_few(name: str):
    raise DataError(
        f"{name}: some (stimulus, unit) cell has fewer than 2 valid repeats, so no split-half "
        "ceiling can be formed. Drop those stimuli or units, or score without a noise ceiling "
        "(ceiling=None) or with a given per-unit reliability (ceiling=array)."
    )


def prepare_sides(source, target, noisy: tuple, ceiling: bool) -> tuple[Side, Side]:
    """Both sides joined on their stimulus ids (bare arrays: positional, same number of rows).
    ``noisy``: (source, target) each True (neurons), False (a model) or None (either);
    ``ceiling``: whether split halves will be needed. The rows follow the recorded population's
    stimulus order (the target's when only the target is neural, else the source's), so the
    folds and split halves of a recording do not depend on how a model's rows are ordered."""
    al = align_rows(source, target, order="b" if noisy == (False, True) else "a")
    source, target = take_rows(source, al.index_a), take_rows(target, al.index_b)
    src = _side(source, "source", noisy[0], ceiling, al.ids)
    tgt = _side(target, "target", noisy[1], ceiling, al.ids)
    return src, tgt


def draw_halves(side: Side, rng, repeat_split: str, order=None):
    """Half means ``(A, B)`` of a side for one draw (the trial mean twice for a deterministic
    side). ``"per_cell"``: :func:`~neuroalign.data.splits.split_half_means` with ``rng``;
    ``"slots"``: :func:`~neuroalign.data.splits.slot_half_means` with ``order`` (default: a
    permutation of the slots drawn from ``rng``)."""
    if side.responses is None:
        return side.mean, side.mean
    if repeat_split == "per_cell":
        return split_half_means(side.responses, rng)
    if order is None:
        order = rng.permutation(side.responses.shape[2])
    return slot_half_means(side.responses, order)


def half_reliability(a: np.ndarray, b: np.ndarray, method: str) -> np.ndarray:
    """``SB(corr(a, b))`` per column ``(t,)`` of two half means ``(n_stimuli, t)``: Pearson, or
    Spearman (Pearson of the ranks across stimuli)."""
    if method == "spearman":
        a, b = rankdata(a, axis=0), rankdata(b, axis=0)
    return spearman_brown(columnwise_pearson(np.asarray(a, float), np.asarray(b, float)))
