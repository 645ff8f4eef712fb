"""Summaries of a scores frame: each model's best layer and the leaderboard, score beside its null.

A scores frame is the results store's (:data:`~neuroalign.bench.FRAME_COLUMNS`): one row per
(model, layer, benchmark, direction). Its **score** is ``normalised`` where finite, else ``raw``
(data without repeats have no ceiling). Optional columns, carried along when present:
:data:`NULL_COLUMNS` — ``null`` (the same pipeline on row-permuted features), ``p_null``,
``above_null``, and the score's interval ``ci_low``/``ci_high``, all on the score's scale.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["NULL_COLUMNS", "best_layers", "leaderboard", "score_values"]

NULL_COLUMNS = ("null", "p_null", "above_null", "ci_low", "ci_high")
_GROUP = ["model", "benchmark", "direction"]


def score_values(df: pd.DataFrame) -> pd.Series:
    """The score of every row: ``normalised`` where finite, else ``raw`` (floats, NaN if neither)."""
    norm = pd.to_numeric(df.get("normalised"), errors="coerce")
    raw = pd.to_numeric(df.get("raw"), errors="coerce")
    if norm is None:
        return raw.astype(float)
    return norm.where(np.isfinite(norm), raw).astype(float)


def best_layers(df: pd.DataFrame) -> pd.DataFrame:
    """Per (model, benchmark, direction) the row of the layer with the highest score (see the
    module docstring); groups without any score are left out. Chosen on the data scored, so an
    optimistic estimate of a model's standing."""
    if df.empty:
        return df.copy()
    d = df.assign(_score=score_values(df))
    d = d[d["_score"].notna()]
    if d.empty:
        return d.drop(columns="_score")
    idx = d.groupby(_GROUP, sort=True)["_score"].idxmax()
    return d.loc[idx].drop(columns="_score").reset_index(drop=True)


def leaderboard(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(board, best)``: ``best`` = :func:`best_layers` of ``df``; ``board`` one row per model,
    best mean first: ``model``, ``mean`` (of its scores) and per ``"<benchmark> <direction>"``
    the score, followed, when ``df`` has them, by that column's ``null``, ``ci_low``,
    ``ci_high`` and ``above_null`` (as ``"<benchmark> <direction> null"``, ...)."""
    best = best_layers(df)
    if best.empty:
        return pd.DataFrame(columns=["model", "mean"]), best
    best = best.assign(
        column=best["benchmark"].astype(str) + " " + best["direction"].astype(str),
        score=score_values(best),
    )
    extra = [c for c in ("null", "ci_low", "ci_high", "above_null") if c in best]
    wide = best.pivot_table(
        index="model", columns="column", values=["score", *extra], aggfunc="first", dropna=False
    )
    columns = list(dict.fromkeys(best.sort_values(["benchmark", "direction"])["column"]))
    board = pd.DataFrame(index=wide.index)
    board["mean"] = wide["score"].mean(axis=1)
    for col in columns:
        board[col] = wide["score"][col]
        for e in extra:
            if col in wide[e] and wide[e][col].notna().any():
                board[f"{col} {e}"] = wide[e][col]
    board = board.sort_values("mean", ascending=False, kind="stable").reset_index()
    return board, best.drop(columns=["column", "score"])
