"""Every noise ceiling in one place: split-half reliability, Spearman–Brown and noise-corrected
scores of recordings; the RSA and CKA noise ceilings of a group of subject RDMs.

RDM ceilings (rsatoolbox ``boot_noise_ceiling``): the *lower* bound is the mean over subjects of
the similarity between a subject's RDM and the pooled RDM of the *other* subjects; the *upper*
bound uses the pooled RDM of *all* subjects. Pooling is the average that is optimal for the
method: ranks for the rank methods, z-scored RDMs for Pearson, RMS-normalised RDMs for cosine;
for CKA the mean RDM (classical scaling is linear).

Formulas: ../shared/DESIGN.md ("The science, precisely").
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from neuroalign._core.errors import ConfigError, DataError
from neuroalign._core.stats import columnwise_pearson, spearman_brown
from neuroalign._core.validation import check_seed
from neuroalign.data.neural_data import NeuralData
from neuroalign.data.splits import split_half_masks, split_half_means
from neuroalign.metrics.cka import gram_from_rdm
from neuroalign.metrics.ranks import rank_rows
from neuroalign.metrics.rsa import _method, _paired, _prepare, _similarity, condensed

__all__ = [
    "spearman_brown",
    "noise_corrected_ev",
    "columnwise_pearson",
    "split_half_reliability",
    "odd_even_reliability",
    "noise_corrected_correlation",
    "reliability_table",
    "summarize",
    "noise_ceiling",
    "cka_noise_ceiling",
]


def noise_corrected_ev(r, rho_target, rho_pred):
    """Noise-corrected explained variance in percent: ``100 · (r / sqrt(ρ_target · ρ_pred))²``.

    ``r``: Pearson between the out-of-fold prediction and the mean target; ``ρ_target``: SB-corrected
    split-half reliability of the target (1 for a deterministic model unit); ``ρ_pred``: SB-corrected
    correlation between predictions fitted from the two split halves. Arrays broadcast.
    """
    r = np.asarray(r, dtype=float)
    denom = np.asarray(rho_target, dtype=float) * np.asarray(rho_pred, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 100.0 * r**2 / denom


# ---------------------------------------------------------------------------- split-half reliability
_METHODS = ("pearson", "spearman")
_MAX_EXACT_SPLITS = 1_000_000


def _check_responses(data) -> tuple[np.ndarray, list[str]]:
    """``(responses (n_stimuli, n_units, n_repeats), unit labels)`` from a NeuralData or an array."""
    if isinstance(data, NeuralData):
        return data.responses, [f"unit {u!r}" for u in data.unit_ids]
    r = np.asarray(data)
    if r.dtype.kind not in "biuf":
        raise DataError(f"responses must be numeric, got dtype {r.dtype}.")
    if r.ndim != 3:
        raise DataError(
            f"responses must have shape (n_stimuli, n_units, n_repeats), got {r.shape}; reliability "
            "needs single-trial repeats (a 2-D trial-mean array has none)."
        )
    if np.isinf(r).any():
        raise DataError("responses contain infinite values; NaN (not inf) marks a missing repeat.")
    return r, [f"unit index {u}" for u in range(r.shape[1])]


def _check_options(n_splits, method: str, *, allow_all: bool) -> None:
    if method not in _METHODS:
        raise ConfigError(f"method must be one of {_METHODS}, got {method!r}.")
    if allow_all and isinstance(n_splits, str) and n_splits == "all":
        return
    if isinstance(n_splits, bool) or not isinstance(n_splits, (int, np.integer)) or n_splits < 1:
        raise ConfigError(
            f"n_splits must be an int >= 1 (20 or more recommended) or 'all', got {n_splits!r}."
        )


def _split_sb(
    a: np.ndarray, b: np.ndarray, method: str, labels: list[str], where: str
) -> np.ndarray:
    """SB-corrected correlation of half-means ``a``, ``b``: ``(n_stimuli, n_draws, n_units)`` →
    ``(n_draws, n_units)``. Constant halves and perfectly anti-correlated halves raise DataError."""
    n_stim, n_draws, n_units = a.shape
    if n_stim < 3:
        raise DataError(
            f"split-half reliability needs at least 3 stimuli (correlation across 2 is always ±1), "
            f"got {n_stim}."
        )
    a = a.reshape(n_stim, -1).astype(np.float64, copy=False)
    b = b.reshape(n_stim, -1).astype(np.float64, copy=False)
    const = (np.ptp(a, axis=0) == 0) | (np.ptp(b, axis=0) == 0)
    if const.any():
        u = int(np.nonzero(const)[0][0]) % n_units
        raise DataError(
            f"{labels[u]} has a constant half-mean across stimuli ({where}), so its split-half "
            "correlation is undefined: the unit has (almost) no stimulus-driven variance or too few "
            "spikes. Drop it (e.g. data.select(units=...)) before computing reliability."
        )
    if method == "spearman":
        a = rankdata(a, axis=0)
        b = rankdata(b, axis=0)
    r = columnwise_pearson(a, b).reshape(n_draws, n_units)
    anti = r <= -1.0 + 1e-12
    if anti.any():
        u = int(np.nonzero(anti)[1][0])
        raise DataError(
            f"{labels[u]} has perfectly anti-correlated halves ({where}); Spearman–Brown is undefined "
            "at r = -1. Use more stimuli or drop the unit."
        )
    return spearman_brown(r)


def _check_variance(responses: np.ndarray, labels: list[str]) -> None:
    mean = np.nanmean(responses, axis=2)
    flat = np.ptp(mean, axis=0) == 0
    if flat.any():
        bad = [labels[u] for u in np.nonzero(flat)[0][:5]]
        raise DataError(
            f"{int(flat.sum())} unit(s) have zero variance across stimuli in their trial mean "
            f"({', '.join(bad)}); their reliability is undefined. Drop them before computing "
            "reliability."
        )


def split_half_reliability(
    data,
    n_splits: int | str = 20,
    seed=0,
    method: str = "pearson",
    *,
    shared_across_units: bool = True,
) -> np.ndarray:
    """Spearman–Brown-corrected split-half reliability of each unit's trial mean, ``(n_units,)``.

    Per split, each (stimulus, unit) cell's valid repeats are divided at random into two halves
    (:func:`neuroalign.data.splits.split_half_means`), the two half-means are correlated across
    stimuli per unit (``method`` ``"pearson"`` or ``"spearman"``), and ``SB(r) = 2r/(1+r)`` is
    applied; the result is the mean of ``SB(r)`` over splits.

    Parameters
    ----------
    data : NeuralData or array ``(n_stimuli, n_units, n_repeats)``
        NaN marks a missing repeat; every cell needs ≥ 2 valid repeats.
    n_splits : int ≥ 1 or ``"all"``
        Random splits to average (≥ 20 recommended; 20 by default). ``"all"`` averages over every
        possible split exactly (each cell's halves are uniform over subsets of size
        ``n_valid // 2``); meant for tiny problems, :class:`ConfigError` above 10⁶ splits.
    seed : int or np.random.Generator
        Draws the splits (unused with ``"all"``); same seed, same numbers.
    shared_across_units : bool
        One random order of repeat slots per stimulus for all units (keeps noise correlations).

    Raises :class:`DataError` for cells with < 2 valid repeats, fewer than 3 stimuli, or a unit
    whose (half-)means are constant across stimuli (named in the message).
    """
    responses, labels = _check_responses(data)
    _check_options(n_splits, method, allow_all=True)
    if isinstance(n_splits, str):
        return _exact_reliability(responses, method, labels)
    rng = check_seed(seed)
    total = np.zeros(responses.shape[1])
    for k in range(int(n_splits)):
        a, b = split_half_means(responses, rng, shared_across_units=shared_across_units)
        if k == 0:
            _check_variance(responses, labels)
        total += _split_sb(a[:, None], b[:, None], method, labels, f"split {k}")[0]
    return total / n_splits


def _exact_reliability(responses: np.ndarray, method: str, labels: list[str]) -> np.ndarray:
    """Mean of SB(r) over every possible split (units grouped by their valid-repeat counts)."""
    split_half_masks(responses, 0)  # the shared "too few repeats" check
    _check_variance(responses, labels)
    n_stim, n_units, _ = responses.shape
    counts = (~np.isnan(responses)).sum(axis=2)  # (n_stimuli, n_units)
    patterns, group = np.unique(counts.T, axis=0, return_inverse=True)
    group = group.ravel()
    out = np.empty(n_units)
    for g, pattern in enumerate(patterns):
        units = np.nonzero(group == g)[0]
        sub = responses[:, units]
        # valid repeats first, in slot order
        vals = np.take_along_axis(sub, np.argsort(np.isnan(sub), axis=2, kind="stable"), axis=2)
        n_total = 1
        for n in pattern:  # counted before any split is built: 40 repeats are 1.4e11 splits
            n_total *= math.comb(int(n), int(n) // 2)
            if n_total > _MAX_EXACT_SPLITS:
                raise ConfigError(
                    f"n_splits='all' would enumerate more than {_MAX_EXACT_SPLITS:.0e} splits "
                    f"({n_stim} stimuli with up to {int(pattern.max())} valid repeats); use an "
                    "integer n_splits (random splits) for a problem this size."
                )
        cand_a, cand_b = [], []
        for s, n in enumerate(pattern):
            k = n // 2
            combos = np.array(list(itertools.combinations(range(n), k)))
            in_a = np.zeros((len(combos), n), dtype=bool)
            in_a[np.arange(len(combos))[:, None], combos] = True
            v = vals[s, :, :n].T  # (n, n_group_units)
            cand_a.append(in_a @ v / k)
            cand_b.append(~in_a @ v / (n - k))
        sizes = [len(c) for c in cand_a]
        sub_labels = [labels[u] for u in units]
        total = np.zeros(len(units))
        chunk = max(1, 2_000_000 // (n_stim * len(units)))
        for start in range(0, n_total, chunk):
            idx = np.unravel_index(np.arange(start, min(start + chunk, n_total)), sizes)
            a = np.stack([cand_a[s][idx[s]] for s in range(n_stim)])
            b = np.stack([cand_b[s][idx[s]] for s in range(n_stim)])
            total += _split_sb(a, b, method, sub_labels, "in the exact enumeration").sum(axis=0)
        out[units] = total / n_total
    return out


def odd_even_reliability(data, method: str = "pearson") -> np.ndarray:
    """Split-half reliability from the odd/even split of each cell's valid repeats, ``(n_units,)``.

    Half A holds the 1st, 3rd, 5th, … valid repeat (in slot order), half B the 2nd, 4th, …; one
    deterministic split, Spearman–Brown corrected. Same input and errors as
    :func:`split_half_reliability`.
    """
    responses, labels = _check_responses(data)
    _check_options(1, method, allow_all=False)
    split_half_masks(responses, 0)  # the shared "too few repeats" check
    _check_variance(responses, labels)
    valid = ~np.isnan(responses)
    order = np.cumsum(valid, axis=2) - 1  # position among the cell's valid repeats
    half_a = valid & (order % 2 == 0)
    half_b = valid & (order % 2 == 1)
    filled = np.where(valid, responses, 0.0)
    a = (filled * half_a).sum(axis=2) / half_a.sum(axis=2)
    b = (filled * half_b).sum(axis=2) / half_b.sum(axis=2)
    return _split_sb(a[:, None], b[:, None], method, labels, "odd/even split")[0]


def noise_corrected_correlation(r, reliability_a, reliability_b):
    """Correlation corrected for measurement noise: ``r / sqrt(ρ_a · ρ_b)`` (Spearman's correction).

    ``r``: correlation between two noisy measures; ``ρ_a``, ``ρ_b``: their reliabilities (e.g.
    :func:`split_half_reliability`). Arrays broadcast. Reliabilities must be finite and > 0
    (:class:`DataError` otherwise: drop unreliable units first).
    """
    r = np.asarray(r, dtype=float)
    rel = np.broadcast_arrays(np.asarray(reliability_a, float), np.asarray(reliability_b, float))
    for name, x in zip(("reliability_a", "reliability_b"), rel, strict=True):
        bad = ~(np.isfinite(x) & (x > 0))
        if bad.any():
            where = np.argwhere(bad)[0].tolist() if x.ndim else "scalar"
            raise DataError(
                f"{name} has {int(bad.sum())} value(s) that are not finite and > 0 (first at "
                f"{where}: {x[bad].ravel()[0]}); the noise-corrected correlation is undefined there. "
                "Keep only units with positive reliability."
            )
    return r / np.sqrt(rel[0] * rel[1])


# ------------------------------------------------------------------------------------------ tables
def reliability_table(
    data: NeuralData,
    n_splits: int | str = 20,
    seed=0,
    method: str = "pearson",
    *,
    split: str = "random",
    shared_across_units: bool = True,
) -> pd.DataFrame:
    """One row per unit: ``unit_id, subject, area, reliability, n_valid_min, n_valid_median``.

    ``reliability`` is :func:`split_half_reliability` (``split="random"``) or
    :func:`odd_even_reliability` (``split="odd_even"``); ``n_valid_min`` / ``n_valid_median`` are
    the minimum / median over stimuli of the unit's valid repeats. The parameters (and the seed
    when it is an int) are recorded in ``table.attrs``.
    """
    if not isinstance(data, NeuralData):
        raise DataError(
            "reliability_table needs a NeuralData (for unit_id, subject, area); wrap arrays with "
            "NeuralData(responses, stimulus_ids, units) or call split_half_reliability."
        )
    if split == "random":
        rel = split_half_reliability(
            data, n_splits, seed, method, shared_across_units=shared_across_units
        )
        params = {
            "split": split,
            "n_splits": n_splits,
            "method": method,
            "shared_across_units": shared_across_units,
            "seed": seed if isinstance(seed, (int, np.integer)) else repr(seed),
        }
    elif split == "odd_even":
        rel = odd_even_reliability(data, method)
        params = {"split": split, "method": method}
    else:
        raise ConfigError(f"split must be 'random' or 'odd_even', got {split!r}.")
    n_valid = data.n_valid_repeats()
    table = data.units[["unit_id", "subject", "area"]].copy()
    table["reliability"] = rel
    table["n_valid_min"] = n_valid.min(axis=0)
    table["n_valid_median"] = np.median(n_valid, axis=0)
    table.attrs.update(params)
    return table


def summarize(
    table: pd.DataFrame, by=("subject", "area"), *, threshold: float = 0.5
) -> pd.DataFrame:
    """Per-group ceiling summary of a :func:`reliability_table`.

    Columns: the ``by`` columns, ``n_units``, ``median``, ``mean``, ``q25``, ``q75``, ``iqr``
    (``q75 − q25``, linear interpolation) and ``fraction_above_<threshold>`` (share of units with
    reliability > ``threshold``). ``by=()`` summarises the whole table in one row. Groups keep
    their order of first appearance.
    """
    by = [by] if isinstance(by, str) else list(by or ())
    missing = [c for c in [*by, "reliability"] if c not in table.columns]
    if missing:
        raise DataError(f"table lacks column(s) {missing}; pass a reliability_table(...) result.")
    frac = f"fraction_above_{threshold:g}"

    def stats(rel: pd.Series) -> pd.Series:
        x = rel.to_numpy(dtype=float)
        q25, q75 = np.percentile(x, [25, 75])
        return pd.Series(
            {
                "n_units": len(x),
                "median": np.median(x),
                "mean": x.mean(),
                "q25": q25,
                "q75": q75,
                "iqr": q75 - q25,
                frac: float(np.mean(x > threshold)),
            }
        )

    if not by:
        out = stats(table["reliability"]).to_frame().T
    else:
        out = table.groupby(by, sort=False)["reliability"].apply(stats).unstack().reset_index()
    out["n_units"] = out["n_units"].astype(int)
    return out.reset_index(drop=True)


def _pool_terms(v: np.ndarray, method: str) -> np.ndarray:
    """Per-subject terms whose mean is the RDM optimal under ``method`` (rsatoolbox ``pool_rdm``):
    RMS-normalised RDMs (cosine), z-scored RDMs (Pearson), ranks (rank methods)."""
    if method == "cosine":
        return v / np.sqrt(np.mean(v**2, axis=1, keepdims=True))
    if method == "pearson":
        return (v - v.mean(axis=1, keepdims=True)) / v.std(axis=1, keepdims=True)
    return rank_rows(v).ranks


def noise_ceiling(subject_rdms, method: str = "spearman") -> tuple[float, float]:
    """``(lower, upper)`` noise ceiling of ``k >= 2`` subject RDMs under ``method``.

    ``subject_rdms``: ``(k, n, n)``, ``(k, m)`` or an RDMCollection, one RDM per subject (average
    a subject's sessions first). Lower bound: mean similarity of each subject with the pooled RDM
    of the others (leave one out); upper bound: with the pooled RDM of all subjects. Every
    leave-one-out pool comes from one sum, and all ``2k`` comparisons run as one batch.
    """
    m = _method(method)
    v = condensed(subject_rdms)
    k = v.shape[0]
    if k < 2:
        raise DataError("a noise ceiling needs RDMs of at least 2 subjects.")
    v, _ = _paired(v, v)
    terms = _pool_terms(v, m)
    total = terms.sum(axis=0)
    pools = np.vstack([(total - terms) / (k - 1), total / k])
    sims = _similarity(
        _prepare(v, m),
        _prepare(pools, m),
        m,
        pairs=np.concatenate([np.c_[np.arange(k), np.arange(k)], np.c_[np.arange(k), [k] * k]]),
    )
    return float(sims[:k].mean()), float(sims[k:].mean())


def cka_noise_ceiling(subject_rdms) -> tuple[float, float]:
    """``(lower, upper)`` CKA noise ceiling of ``k >= 2`` subject RDMs ``(k, n, n)`` / ``(k, m)``.

    Lower: mean CKA of each subject's RDM with the mean RDM of the others; upper: with the mean
    of all (the mean Gram matrix is the mean RDM's, as classical scaling is linear). Every CKA
    comes from the ``k × k`` inner products of the subjects' Gram matrices, computed once.
    """
    v = condensed(subject_rdms)
    k = v.shape[0]
    if k < 2:
        raise DataError("a noise ceiling needs RDMs of at least 2 subjects.")
    grams = np.stack([gram_from_rdm(r).ravel() for r in v])
    m = grams @ grams.T
    own, row, tot = np.diag(m), m.sum(axis=1), m.sum()
    if (own <= 0).any():
        raise DataError("a subject RDM is constant; CKA is undefined.")
    lower = (row - own) / np.sqrt(own * np.maximum(tot - 2 * row + own, 0.0))
    upper = row / np.sqrt(own * tot)
    return float(lower.mean()), float(upper.mean())
