"""Is model A more brain-like than model B on this benchmark, and how often does a ranking hold?

Scores of one benchmark made with one seed share their bootstrap resamples (subjects or units,
then stimuli; :mod:`neuroalign.bench.rows`), so their replicates pair: the difference of two
models' headlines is computed replicate by replicate. :func:`paired_test` gives its interval and a
two-sided bootstrap p-value; :func:`rank_stability` ranks models by their best layer, counts over
the replicates how often each model keeps its rank and how often the whole order holds, and tests
each model against the next one down.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from neuroalign._core.errors import ConfigError

__all__ = ["PairedTest", "best_layer", "headline", "paired_test", "rank_stability"]


def headline(score, direction: str, layer: str | None = None) -> float:
    """A row's headline: ``normalised``, or ``raw`` where the benchmark has no ceiling."""
    v = score.value(direction, layer, "normalised")
    return v if np.isfinite(v) else score.value(direction, layer, "raw")


def best_layer(score, direction: str) -> str | None:
    """The layer with the highest finite headline in ``direction`` (None when there is none)."""
    layers = [lay for lay in score.layers if np.isfinite(headline(score, direction, lay))]
    return max(layers, key=lambda lay: headline(score, direction, lay)) if layers else None


@dataclass(frozen=True)
class PairedTest:
    """``difference = A − B`` of the headlines (at ``layer_a`` and ``layer_b``), its 95 %
    bootstrap interval, the two-sided p-value ``2·min(P(Δ ≤ 0), P(Δ ≥ 0))`` (with one added to
    each count) and ``n_boot``."""

    model_a: str
    model_b: str
    layer_a: str
    layer_b: str
    benchmark: str
    direction: str
    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    n_boot: int

    @property
    def verdict(self) -> str:
        """Which model is more brain-like here (at p < 0.05), or that they cannot be told apart."""
        if self.p_value >= 0.05:
            return "indistinguishable"
        return self.model_a if self.difference > 0 else self.model_b


def _paired(a, b) -> None:
    same = (a.benchmark, a.benchmark_version, a.seed, a.params.get("n_boot"))
    if same != (b.benchmark, b.benchmark_version, b.seed, b.params.get("n_boot")):
        raise ConfigError(
            "the two scores do not share their bootstrap resamples; score both on the same "
            f"benchmark version with the same seed and n_boot (got {a.benchmark} v"
            f"{a.benchmark_version} seed {a.seed} and {b.benchmark} v{b.benchmark_version} seed "
            f"{b.seed})."
        )


def paired_test(a, b, direction: str, layer_a: str | None = None, layer_b: str | None = None) -> PairedTest:  # fmt: skip
    """Paired bootstrap comparison of two :class:`~neuroalign.bench.Score` objects, one layer
    each: ``layer_a`` / ``layer_b``, by default each score's :func:`best_layer`."""
    _paired(a, b)
    layer_a = best_layer(a, direction) if layer_a is None else layer_a
    layer_b = best_layer(b, direction) if layer_b is None else layer_b
    if layer_a is None or layer_b is None:
        raise ConfigError(f"both scores need a finite {direction!r} score to be compared.")
    ra, rb = a.bootstrap(direction, layer_a), b.bootstrap(direction, layer_b)
    if ra.size == 0 or ra.size != rb.size:
        raise ConfigError("both scores need bootstrap replicates (n_boot > 0) to be compared.")
    diff = ra - rb
    ok = np.isfinite(diff)
    d = diff[ok]
    p = min(1.0, 2 * min((1 + np.sum(d <= 0)) / (1 + d.size), (1 + np.sum(d >= 0)) / (1 + d.size)))
    lo, hi = np.percentile(d, [2.5, 97.5]) if d.size else (np.nan, np.nan)
    return PairedTest(
        model_a=a.model, model_b=b.model, layer_a=layer_a, layer_b=layer_b,
        benchmark=a.benchmark, direction=direction,
        difference=headline(a, direction, layer_a) - headline(b, direction, layer_b),
        ci_low=float(lo), ci_high=float(hi), p_value=float(p), n_boot=int(d.size),
    )  # fmt: skip


def rank_stability(scores: Sequence, direction: str) -> pd.DataFrame:
    """Rank the models of ``scores`` (one benchmark, one seed) by their best layer's headline.

    Returns one row per model, best first: ``model``, ``layer``, ``value``, ``rank`` (1 = best),
    ``rank_holds`` (share of replicates in which it keeps that rank strictly, a tie with a
    neighbour not counting; layers fixed at the point estimate's best), and against the next
    model down (NaN on the last row) its ``margin`` (difference of the values), the margin's 95 %
    interval ``margin_ci_low`` / ``margin_ci_high`` and ``p_vs_next`` (:func:`paired_test`; NaN
    without replicates). ``attrs["order_holds"]``: the share of replicates in which the whole
    order holds strictly (NaN without replicates).
    """
    scores = list(scores)
    if len(scores) < 2:
        raise ConfigError("rank_stability needs at least two scores.")
    for s in scores[1:]:
        _paired(scores[0], s)
    ranked = [(s, lay) for s in scores if (lay := best_layer(s, direction)) is not None]
    if len(ranked) < 2:
        raise ConfigError(f"fewer than two of the scores have a finite {direction!r} score.")
    ranked.sort(key=lambda p: -headline(p[0], direction, p[1]))  # stable: ties keep their order
    values = np.array([headline(s, direction, lay) for s, lay in ranked])
    table = pd.DataFrame(
        {
            "model": [s.model for s, _ in ranked],
            "layer": [lay for _, lay in ranked],
            "value": values,
        }
    )
    R = np.array([s.bootstrap(direction, lay) for s, lay in ranked])  # (n_models, n_boot)
    R = R[:, np.isfinite(R).all(axis=0)]
    place = np.arange(1, len(table) + 1)[:, None]
    kept = (rankdata(-R, "min", axis=0) == place) & (rankdata(-R, "max", axis=0) == place)
    table["rank"] = place[:, 0]
    table["rank_holds"] = kept.mean(axis=1) if R.shape[1] else np.nan
    table["margin"] = np.append(values[:-1] - values[1:], np.nan)
    nexts = np.full((len(table), 3), np.nan)
    if R.shape[1]:  # without replicates there is no interval to give
        for i, ((a, la), (b, lb)) in enumerate(pairwise(ranked)):
            t = paired_test(a, b, direction, la, lb)
            nexts[i] = (t.ci_low, t.ci_high, t.p_value)
    for j, col in enumerate(("margin_ci_low", "margin_ci_high", "p_vs_next")):
        table[col] = nexts[:, j]
    table.attrs["order_holds"] = float(kept.all(axis=0).mean()) if R.shape[1] else np.nan
    return table
