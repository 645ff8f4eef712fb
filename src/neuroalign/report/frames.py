"""The tables a report derives from results: the IATC table, the model and animal points of the
forward-vs-reverse figure and the common/unique unit counts, one row per (model, layer, area)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from neuroalign.analysis.compare import ComparisonResult
from neuroalign.analysis.iatc import IATCResult

__all__ = ["animal_points", "iatc_table", "model_points", "stack", "unit_counts"]


def iatc_table(iatc: IATCResult) -> pd.DataFrame:
    """The IATC section's table: the accuracy table joined with specificity (``silhouette``, NaN
    without) and ``selected`` (the class is in the IATC), in the accuracy table's order."""
    acc = iatc.accuracy.copy()
    if iatc.specificity is not None and not iatc.specificity.empty:
        acc = acc.merge(iatc.specificity[["transform", "silhouette"]], on="transform", how="left")
    else:
        acc["silhouette"] = np.nan
    acc["selected"] = acc["transform"].isin(iatc.selected)
    return acc


def stack(comparisons: Mapping[str, ComparisonResult], attr: str) -> pd.DataFrame:
    parts = [getattr(c, attr).assign(model=name) for name, c in comparisons.items()]
    parts = [p for p in parts if not p.empty]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def model_points(comparisons: Mapping[str, ComparisonResult]) -> pd.DataFrame:
    """One row per (model, layer, area): the model's median ``forward`` and ``reverse`` EV (the
    summaries' ``model_median_ev``)."""
    s = stack(comparisons, "summary")
    if s.empty:
        return pd.DataFrame(columns=["model", "layer", "area", "forward", "reverse"])
    keys = ["model", "layer", "area"]
    p = s[keys].drop_duplicates()
    for d in ("forward", "reverse"):
        part = s.loc[s["direction"] == d, [*keys, "model_median_ev"]].drop_duplicates(keys)
        p = p.merge(part.rename(columns={"model_median_ev": d}), on=keys, how="left")
    return p[["model", "layer", "area", "forward", "reverse"]]


def animal_points(comparisons: Mapping[str, ComparisonResult]) -> pd.DataFrame:
    """One row per ordered animal pair (area, a, b): ``forward`` = EV a→b, ``reverse`` = EV b→a,
    from the comparisons' ``animals`` tables (duplicates across comparisons dropped)."""
    a = stack(comparisons, "animals")
    if a.empty:
        return pd.DataFrame(columns=["area", "source", "target", "forward", "reverse"])
    a = a.drop_duplicates(["area", "source", "target"])
    back = a.rename(columns={"source": "target", "target": "source", "median_ev": "reverse"})
    m = a.rename(columns={"median_ev": "forward"}).merge(
        back[["area", "source", "target", "reverse"]], on=["area", "source", "target"], how="inner"
    )
    return m[["area", "source", "target", "forward", "reverse"]]


def unit_counts(comparisons: Mapping[str, ComparisonResult]) -> pd.DataFrame:
    """Per (model, layer, area): ``n_units``, ``n_common``, ``n_unique``, ``n_intermediate``,
    ``n_invalid``, ``frac_common``, ``frac_unique`` (of the valid units) and the cut-offs
    ``cut_unique`` / ``cut_common`` (20th / 80th percentile of the finite mean reverse EV)."""
    units = stack(comparisons, "units")
    cols = ["model", "layer", "area", "n_units", "n_common", "n_unique", "n_intermediate"]
    cols += ["n_invalid", "frac_common", "frac_unique", "cut_unique", "cut_common"]
    if units.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for (m, la, ar), g in units.groupby(["model", "layer", "area"], sort=False):
        ev = g["mean_reverse_ev"].to_numpy(dtype=float)
        ok = np.isfinite(ev)
        cat = g["category"].to_numpy()
        lo, hi = np.percentile(ev[ok], [20, 80]) if ok.any() else (np.nan, np.nan)
        n_valid = int(ok.sum())
        counts = {c: int((cat == c).sum()) for c in ("common", "unique", "intermediate", "invalid")}
        rows.append(
            {
                "model": m,
                "layer": la,
                "area": ar,
                "n_units": len(g),
                **{f"n_{c}": v for c, v in counts.items()},
                "frac_common": counts["common"] / n_valid if n_valid else np.nan,
                "frac_unique": counts["unique"] / n_valid if n_valid else np.nan,
                "cut_unique": float(lo),
                "cut_common": float(hi),
            }
        )
    return pd.DataFrame(rows, columns=cols)
