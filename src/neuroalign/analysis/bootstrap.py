"""Paired bootstrap over units and stimuli of per-unit noise-corrected EV.

Every candidate (transform class, model, ...) is scored on the same target units and stimuli, so one
set of resamples serves all of them and their differences are paired. A replicate draws stimuli with
replacement (the Pearson ``r`` between out-of-fold prediction and mean target is recomputed on them)
and target-unit clusters with replacement (all columns of one target unit travel together, e.g. the
same neuron predicted from several source subjects); the ceilings ``ρ_target``, ``ρ_pred`` stay at
their full-data values. The statistic is the median EV over the drawn columns.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from neuroalign._core.errors import DataError
from neuroalign._core.validation import check_seed
from neuroalign.metrics.ceilings import columnwise_pearson, noise_corrected_ev

__all__ = ["paired_bootstrap_median_ev"]


def paired_bootstrap_median_ev(
    predictions: Mapping[str, np.ndarray],
    target: np.ndarray,
    rho_target: np.ndarray,
    rho_pred: Mapping[str, np.ndarray],
    clusters: np.ndarray,
    *,
    n_boot: int = 1000,
    seed=0,
) -> dict[str, np.ndarray]:
    """Bootstrap distribution of the median EV of each candidate: name → ``(n_boot,)``.

    ``predictions[name]``: out-of-fold predictions ``(n_stimuli, n_columns)``; ``target``: the mean
    targets ``(n_stimuli, n_columns)``; ``rho_target (n_columns,)``; ``rho_pred[name] (n_columns,)``;
    ``clusters (n_columns,)``: the target-unit label of each column. Columns whose EV is not finite in
    the full data for any candidate must be removed before calling (all candidates must share columns).
    """
    rng = check_seed(seed)
    n_stim, n_col = target.shape
    clusters = np.asarray(clusters)
    if clusters.shape != (n_col,):
        raise DataError(f"clusters must have one label per column ({n_col}), got {clusters.shape}.")
    for name, p in predictions.items():
        if p.shape != target.shape:
            raise DataError(f"predictions[{name!r}] has shape {p.shape}, target {target.shape}.")
    if n_boot < 1:
        raise DataError(f"n_boot must be >= 1, got {n_boot}.")
    labels, members = np.unique(clusters, return_inverse=True)
    groups = [np.nonzero(members == k)[0] for k in range(labels.size)]
    out = {name: np.empty(n_boot) for name in predictions}
    for b in range(n_boot):
        s = rng.integers(0, n_stim, n_stim)
        picked = rng.integers(0, len(groups), len(groups))
        cols = np.concatenate([groups[k] for k in picked])
        t = target[np.ix_(s, cols)]
        for name, p in predictions.items():
            r = columnwise_pearson(p[np.ix_(s, cols)], t)
            ev = noise_corrected_ev(r, rho_target[cols], rho_pred[name][cols])
            out[name][b] = np.nanmedian(ev)
    return out
