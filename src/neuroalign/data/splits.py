"""Seeded random split of each stimulus's valid repeats into two halves (pure array functions)."""

from __future__ import annotations

import numpy as np

from neuroalign._core.errors import DataError
from neuroalign._core.validation import check_seed

__all__ = ["split_half_masks", "split_half_means", "slot_half_means", "min_valid_repeats"]


def min_valid_repeats(responses: np.ndarray) -> int:
    """Smallest number of valid (non-NaN) repeats over all (stimulus, unit) cells.

    ``responses``: ``(n_stimuli, n_units, n_repeats)``.
    """
    return int(np.min(np.sum(~np.isnan(responses), axis=2))) if responses.size else 0


def split_half_masks(
    responses: np.ndarray, seed, *, shared_across_units: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks ``(n_stimuli, n_units, n_repeats)`` of two random halves of the valid repeats.

    For every (stimulus, unit) the valid repeats are shuffled and the first ``n // 2`` go to half A,
    the remaining ``n - n // 2`` to half B. With ``shared_across_units`` one random order of repeat
    slots is drawn per stimulus and applied to every unit, so units recorded on the same trials are
    split by trial (noise correlations are kept); units whose valid slots differ still get valid halves.

    Raises :class:`DataError` when a cell has fewer than 2 valid repeats.
    """
    rng = check_seed(seed)
    valid = ~np.isnan(responses)
    n_valid = valid.sum(axis=2)
    if responses.shape[2] < 2 or n_valid.min(initial=2) < 2:
        s, u = np.unravel_index(int(np.argmin(n_valid)), n_valid.shape) if n_valid.size else (0, 0)
        raise DataError(
            f"too few repeats to split into halves: stimulus index {s}, unit index {u} has "
            f"{int(n_valid[s, u]) if n_valid.size else 0} valid repeat(s); a split-half ceiling "
            "needs at least 2 valid repeats per stimulus and unit. Drop those stimuli or units, or "
            "score without a noise ceiling (forward_ev(..., ceiling=None), or a given per-unit "
            "reliability: ceiling=array)."
        )
    n_stim, n_units, n_rep = responses.shape
    key_shape = (n_stim, 1, n_rep) if shared_across_units else (n_stim, n_units, n_rep)
    keys = rng.random(key_shape)
    if shared_across_units and valid.all():
        # every unit has every slot: rank the shared keys once per stimulus and broadcast
        half_a = np.broadcast_to(_slots_from_keys(keys[:, 0])[:, None], responses.shape).copy()
        return half_a, ~half_a
    keys = np.where(valid, np.broadcast_to(keys, responses.shape), np.inf)
    rank = np.argsort(np.argsort(keys, axis=2, kind="stable"), axis=2, kind="stable")
    half_a = rank < (n_valid // 2)[:, :, None]
    half_b = valid & ~half_a
    return half_a, half_b


def split_half_means(
    responses: np.ndarray, seed, *, shared_across_units: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Means of two random halves of the valid repeats: two arrays ``(n_stimuli, n_units)``.

    See :func:`split_half_masks` for how the halves are drawn.
    """
    n_rep = responses.shape[2]
    fast = responses.dtype.kind == "f" and n_rep >= 2 and not np.isnan(responses).any()
    if shared_across_units and fast:
        # one split of the repeat slots per stimulus: a batched product with the slot masks
        slots = _shared_slots(check_seed(seed), responses.shape[0], n_rep)
        weights = np.stack([slots / (n_rep // 2), ~slots / (n_rep - n_rep // 2)], axis=2)
        means = np.matmul(responses, weights.astype(responses.dtype))  # (n_stim, n_units, 2)
        return np.ascontiguousarray(means[:, :, 0]), np.ascontiguousarray(means[:, :, 1])
    half_a, half_b = split_half_masks(responses, seed, shared_across_units=shared_across_units)
    filled = np.where(np.isnan(responses), 0.0, responses)
    mean_a = (filled * half_a).sum(axis=2) / half_a.sum(axis=2)
    mean_b = (filled * half_b).sum(axis=2) / half_b.sum(axis=2)
    return mean_a.astype(responses.dtype, copy=False), mean_b.astype(responses.dtype, copy=False)


def slot_half_means(responses: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Means ``(n_stimuli, n_units)`` of two halves of the repeat *slots*: half A holds the first
    ``⌈R/2⌉`` slots of ``order`` (a permutation of ``range(R)``), half B the others, for every
    stimulus and unit alike (as the published reverse-predictivity code splits repeats); missing
    repeats (NaN) are left out of each half's mean.

    Raises :class:`DataError` when a cell has no valid repeat in one half.
    """
    n_rep = responses.shape[2]
    order = np.asarray(order)
    if order.shape != (n_rep,) or not np.array_equal(np.sort(order), np.arange(n_rep)):
        raise DataError(f"a slot order must be a permutation of range({n_rep}), got {order!r}.")
    k = (n_rep + 1) // 2
    out = []
    for slots in (order[:k], order[k:]):
        part = responses[:, :, slots]
        valid = ~np.isnan(part)
        count = valid.sum(axis=2)
        if (count == 0).any():
            s, u = np.argwhere(count == 0)[0]
            raise DataError(
                f"splitting repeat slots leaves stimulus index {s}, unit index {u} with no valid "
                "repeat in one half; use repeat_split='per_cell' (splits each cell's valid "
                "repeats evenly)."
            )
        out.append(np.where(valid, part, 0.0).sum(axis=2) / count)
    return out[0].astype(responses.dtype, copy=False), out[1].astype(responses.dtype, copy=False)


def _slots_from_keys(keys: np.ndarray) -> np.ndarray:
    """Half A of the repeat slots ``(n_stimuli, n_repeats)`` bool: the ``n // 2`` smallest keys."""
    rank = np.argsort(np.argsort(keys, axis=1), axis=1)
    return rank < keys.shape[1] // 2


def _shared_slots(rng, n_stim: int, n_rep: int) -> np.ndarray:
    """The slots of half A when every unit has every repeat, drawn exactly as
    :func:`split_half_masks` draws them (same generator calls, so the same halves)."""
    return _slots_from_keys(rng.random((n_stim, 1, n_rep))[:, 0])
