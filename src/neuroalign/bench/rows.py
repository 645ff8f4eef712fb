"""The rows of a score: one per (layer, direction), and the per-unit tables behind them.

For predictivity every row holds

- ``raw``: median over valid units of ``100·max(r, 0)²`` (uncorrected; a negative held-out
  correlation explains nothing); ``ceiling``: median per-unit ``100·ρ_target·ρ_pred``;
  ``normalised``: median per-unit noise-corrected EV (NaN with no ceiling: ``ceiling_kind`` says
  ``"none"``, the headline is then ``raw``); ``null``: median null EV on the headline's scale,
  ``p_null`` and ``above_null`` (p ≤ 0.05);
- ``error``, ``ci_low``, ``ci_high``: standard deviation and 2.5/97.5 percentiles of the headline
  over a hierarchical bootstrap — units (neurons, or model units) drawn with replacement, then
  held-out correlations recomputed on stimuli drawn with replacement
  (:mod:`~neuroalign.metrics.resample`), so two models scored with one seed share every resample;
- reverse rows also ``population`` (the layer's population reverse score) and ``effective_dim``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from neuroalign._core.stats import nanmedian

__all__ = [
    "FRAME_COLUMNS",
    "SUMMARY_COLUMNS",
    "bootstrap_headline",
    "empty_row",
    "predictivity_row",
    "unit_rows",
]

_SCORE = ["raw", "ceiling", "normalised", "error", "ci_low", "ci_high", "null", "p_null", "above_null"]  # fmt: skip
_DETAIL = [
    "area",
    "transform",
    "ceiling_kind",
    "n_units",
    "n_valid",
    "population",
    "effective_dim",
    "animal_median",
    "masquerade_ratio",
    "percentile",
    "masquerades",
]
#: columns of ``Score.summary``: one row per (layer, direction)
SUMMARY_COLUMNS = ["layer", "direction", *_SCORE, *_DETAIL]
#: columns of ``Score.frame()`` and ``ResultsStore.frame()`` (stable; the report builds on them)
FRAME_COLUMNS = ["model", "layer", "benchmark", "benchmark_version", "direction", *_SCORE, "seed", "key", "created", *_DETAIL]  # fmt: skip
_ALPHA = 0.05


def empty_row(layer, direction, **values) -> dict:
    """A summary row of NaN with ``values`` set."""
    row = dict.fromkeys(SUMMARY_COLUMNS, np.nan)
    row.update(layer=layer, direction=direction, **values)
    return row


def bootstrap_headline(res, seed: int) -> np.ndarray:
    """Replicates ``(n_boot,)`` of a result's headline (median noise-corrected EV, or median
    ``100·max(r, 0)²`` without a ceiling): units drawn with replacement (seeded by ``seed`` and
    the number of units), correlations from ``res.r_boot`` (stimuli drawn with replacement)."""
    if res.r_boot is None or res.r_boot.shape[0] == 0:
        return np.empty(0)
    n_boot, n_units = res.r_boot.shape
    rng = np.random.default_rng([int(seed), int(n_units), 0xB0B])
    drawn = rng.integers(0, n_units, size=(n_boot, n_units))
    ev = 100.0 * np.maximum(res.r_boot, 0.0) ** 2 / (res.rho_target * res.rho_pred)
    ev = np.where(res.valid, ev, np.nan)
    return nanmedian(np.take_along_axis(ev, drawn, axis=1), axis=1)


def predictivity_row(layer, direction, res, seed: int, **extra) -> tuple[dict, np.ndarray]:
    """The summary row of a :class:`~neuroalign.metrics.predictivity.PredictivityResult` and the
    bootstrap replicates of its headline."""
    ok = res.valid & np.isfinite(res.r)
    corrected = res.ceiling != "none"
    row = empty_row(layer, direction, n_units=int(res.r.size), n_valid=int(ok.sum()),
                    ceiling_kind=res.ceiling, p_null=res.p_null, **extra)  # fmt: skip
    row["above_null"] = bool(res.p_null <= _ALPHA) if np.isfinite(res.p_null) else np.nan
    if res.population:
        row["population"] = res.population.get("population_ev", np.nan)
        row["effective_dim"] = res.population.get("effective_dim", np.nan)
    boot = bootstrap_headline(res, seed)
    if ok.any():
        row["raw"] = float(100.0 * np.median(np.maximum(res.r[ok], 0.0) ** 2))
        if corrected:
            row["ceiling"] = float(100.0 * np.median(res.rho_target[ok] * res.rho_pred[ok]))
            row["normalised"] = float(np.median(res.ev[ok]))
        if res.null_ev is not None:
            row["null"] = float(np.median(res.null_ev[ok]))
    if np.isfinite(boot).sum() > 1:
        row["error"] = float(np.nanstd(boot, ddof=1))
        row["ci_low"], row["ci_high"] = (float(q) for q in np.nanpercentile(boot, [2.5, 97.5]))
    return row, boot


def unit_rows(layer, direction, units, res=None, *, subject=None, value=None) -> pd.DataFrame:
    """Per-unit table: ``layer, direction, subject, unit, value`` and, from a result, ``ev, r,
    rho_target, rho_pred, null_ev, p_unit, valid`` (columns that do not apply hold NaN)."""
    n = len(units)
    nan = np.full(n, np.nan)
    df = pd.DataFrame(
        {
            "layer": layer,
            "direction": direction,
            "subject": subject if subject is not None else "",
            "unit": [str(u) for u in units],
            "value": nan if value is None else value,
        }
    )
    cols = ("ev", "r", "rho_target", "rho_pred", "null_ev", "p_unit")
    frame = res.to_frame() if res is not None else None
    for c in cols:
        df[c] = nan if frame is None else frame[c].to_numpy(float)
    df["valid"] = np.ones(n, bool) if frame is None else frame["valid"].to_numpy(bool)
    return df
