"""The report's figures of scores: layer profiles (which layer matches best?) and the ranking of
stored models (how do the models compare, and do they beat their null?).

A layer profile joins the layers *of one model* only: a model compared at a single layer has no
profile (the forward-vs-reverse scatter and the ranking show it), and models with different layer
lists share an axis of relative depth. Legends sit outside the plotting area; colours name
models, line styles and markers name directions, so a figure stays legible with many series.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from neuroalign.report.figures import (
    _MAX_PANELS,
    Figure,
    _new,
    _text,
    model_colours,
    png_data_uri,
)
from neuroalign.report.summaries import best_layers

__all__ = ["layer_curves_figure", "score_curves_figure", "score_ranking_figure"]

_DIRECTION_COLOURS = {"forward": "#1b9e77", "reverse": "#7570b3"}
_MARKER = {"forward": "o", "reverse": "s"}
_MAX_ROWS = 40  # models per ranking panel


def _legend(fig, handles: list) -> None:
    """One legend outside the axes, on the right."""
    ncol = 1 if len(handles) <= 18 else 2
    fig.legend(handles=handles, loc="outside right upper", fontsize=7, ncol=ncol, frameon=False)


def _model_handles(colours: Mapping[str, tuple]) -> list:
    return [
        Line2D([], [], color=c, lw=2, marker="o", ms=4, label=_text(m)) for m, c in colours.items()
    ]


def multi_layer(orders: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """The models of ``orders`` (model → its layers in order) that have at least two layers."""
    return {m: o for m, o in orders.items() if len(o) >= 2}


def _draw_profiles(ax, rows: pd.DataFrame, orders: Mapping[str, list[str]], colours) -> None:
    """Draw on ``ax`` one line per model along its own layers.

    ``rows``: ``model, layer, value, lo, hi`` of one direction (``lo``/``hi`` an interval, NaN for
    none). x is the layer's index when every model has the same layers, else its relative depth
    (0 = first layer compared, 1 = last)."""
    shared = len({tuple(o) for o in orders.values()}) == 1
    for m, order in orders.items():
        pos = {la: (i if shared else i / (len(order) - 1)) for i, la in enumerate(order)}
        g = rows[(rows["model"] == m) & rows["layer"].isin(pos)]
        g = g.assign(x=g["layer"].map(pos)).sort_values("x")
        if g.empty:
            continue
        x = g["x"].to_numpy(dtype=float)
        ax.plot(x, g["value"].to_numpy(dtype=float), "-", marker="o", ms=4, color=colours[m])
        lo, hi = g["lo"].to_numpy(dtype=float), g["hi"].to_numpy(dtype=float)
        if np.isfinite(lo).any() and np.isfinite(hi).any():
            ax.fill_between(x, lo, hi, color=colours[m], alpha=0.12, lw=0)
    if shared:
        order = next(iter(orders.values()))
        ax.set_xticks(range(len(order)), [_text(la) for la in order], rotation=30, ha="right")
        ax.set_xlabel("layer")
    else:
        ax.set_xticks([0, 0.5, 1], ["first", "middle", "last"])
        ax.set_xlabel("relative depth (first → last layer compared)")
    ax.grid(alpha=0.3)


def layer_curves_figure(summary: pd.DataFrame, layer_order: dict[str, list[str]]) -> Figure | None:
    """Which layer of each model matches the brain best? Median EV along each model's layers, one
    panel per (area, direction) (at most 12), against the animals' median (dotted) and range
    (band).

    In: ``summary`` with ``model, layer, area, direction, model_median_ev, animal_median_ev,
    animal_min_ev, animal_max_ev`` and each model's layer order. Models compared at fewer than two
    layers are left out. Out: the figure, or ``None`` when no model has two layers.
    """
    if summary is None or summary.empty:
        return None
    orders = multi_layer(
        {
            m: layer_order.get(m) or list(dict.fromkeys(g["layer"]))
            for m, g in summary.groupby("model", sort=False)
        }
    )
    if not orders:
        return None
    s = summary[summary["model"].isin(orders)]
    s = s.assign(value=s["model_median_ev"], lo=np.nan, hi=np.nan)
    panels = list(s.groupby(["area", "direction"], sort=False))[:_MAX_PANELS]
    colours = model_colours(list(orders))
    fig, axes = _new(len(panels))
    for ax, ((area, direction), a) in zip(axes, panels, strict=True):
        _draw_profiles(ax, a, orders, colours)
        r = a.iloc[0]
        ax.axhline(r["animal_median_ev"], ls=":", color="black", lw=0.9)
        if np.isfinite(r["animal_min_ev"]) and np.isfinite(r["animal_max_ev"]):
            ax.axhspan(r["animal_min_ev"], r["animal_max_ev"], color="#9e9e9e", alpha=0.15, lw=0)
        ax.set_ylabel("median EV (%)")
        ax.set_title(_text(f"{area} · {direction}"))
    _legend(fig, _model_handles(colours))
    alt = (
        f"Line charts of median EV along the layers of {len(orders)} models "
        f"({', '.join(map(str, orders))}), one panel per area and direction"
    )
    caption = (
        "Which layer matches the brain best? Median EV along each model's own layers (a line never "
        "joins two models), forward (model → neurons) and reverse (neurons → model units) in "
        "separate panels. Dotted line and grey band: the animal→animal median and range."
    )
    return Figure(png_data_uri(fig), alt, caption)


def _panel_column(b: pd.DataFrame) -> str:
    """``normalised`` when any is finite in ``b``, else ``raw``."""
    norm = pd.to_numeric(b["normalised"], errors="coerce")
    return "normalised" if np.isfinite(norm).any() else "raw"


def _interval(b: pd.DataFrame, col: str) -> tuple[pd.Series, pd.Series]:
    """The score interval of each row: ``ci_low``/``ci_high`` where given, else ± ``error``."""
    v = pd.to_numeric(b[col], errors="coerce")
    e = pd.to_numeric(b.get("error", np.nan), errors="coerce")
    lo, hi = v - e, v + e
    if "ci_low" in b and "ci_high" in b:
        cl = pd.to_numeric(b["ci_low"], errors="coerce")
        ch = pd.to_numeric(b["ci_high"], errors="coerce")
        both = cl.notna() & ch.notna()
        lo, hi = lo.where(~both, cl), hi.where(~both, ch)
    return lo, hi


def score_curves_figure(scores: pd.DataFrame) -> Figure | None:
    """Which layer scores best on each benchmark? Stored scores along each model's layers, one
    panel per (benchmark, direction) (at most 12), with the score's interval as a band.

    In: a results-store frame. A panel plots ``normalised`` where any is finite for its benchmark,
    else ``raw``; repeated rows of a (model, layer, direction) (several seeds) are averaged.
    Only models with at least two stored layers on a benchmark are drawn. Out: figure or None.
    """
    if scores is None or scores.empty:
        return None
    panels = []
    for bench, b in scores.groupby(scores["benchmark"].astype(str), sort=False):
        col = _panel_column(b)
        lo, hi = _interval(b, col)
        rows = pd.DataFrame(
            {
                "model": b["model"].astype(str),
                "layer": b["layer"].astype(str),
                "direction": b["direction"].astype(str),
                "value": pd.to_numeric(b[col], errors="coerce"),
                "lo": lo,
                "hi": hi,
            }
        ).dropna(subset=["value"])
        rows = rows.groupby(["model", "layer", "direction"], sort=False, as_index=False).mean()
        for direction, d in rows.groupby("direction", sort=False):
            orders = multi_layer(
                {m: list(dict.fromkeys(g["layer"])) for m, g in d.groupby("model", sort=False)}
            )
            if orders:
                panels.append((f"{bench} · {direction}", col, d, orders))
    if not panels:
        return None
    panels = panels[:_MAX_PANELS]
    colours = model_colours(list(dict.fromkeys(m for *_, o in panels for m in o)))
    fig, axes = _new(len(panels))
    for ax, (title, col, d, orders) in zip(axes, panels, strict=True):
        _draw_profiles(ax, d, orders, colours)
        ax.set_ylabel(f"{col} score")
        ax.set_title(_text(title))
    _legend(fig, _model_handles(colours))
    alt = (
        f"Line charts of stored scores along the layers of {len(colours)} models, panels "
        f"{', '.join(t for t, *_ in panels)}"
    )
    caption = (
        "Which layer scores best on each benchmark? Stored scores along each model's own layers "
        "(a line never joins two models; normalised by the ceiling where available, else raw; "
        "band: the score's interval, or ± its error; several seeds averaged). Models scored at "
        "one layer only are in the ranking under Stored scores."
    )
    return Figure(png_data_uri(fig), alt, caption)


def score_ranking_figure(scores: pd.DataFrame) -> Figure | None:
    """How do the stored models rank, and does each beat its null? Each model's best-layer score
    per direction, one panel per benchmark (at most 12), models sorted best first.

    In: a results-store frame (optionally with ``null``, ``above_null``, ``ci_low``/``ci_high``,
    on the score's scale). Bars: the interval (``ci_low``–``ci_high``, else ± ``error``); grey
    ``|``: the null; an open marker: not above its null. At most 40 models per panel (the best).
    Out: the figure, or None when no score is finite.
    """
    if scores is None or scores.empty:
        return None
    best = best_layers(scores)
    panels = []
    for bench, b in best.groupby(best["benchmark"].astype(str), sort=False):
        b = b.assign(value=pd.to_numeric(b[_panel_column(b)], errors="coerce"))
        if b["value"].notna().any():  # rows without a score on the panel's scale are left out
            panels.append((bench, b[b["value"].notna()]))
    if not panels:
        return None
    panels = panels[:_MAX_PANELS]
    directions = list(dict.fromkeys(d for _, b in panels for d in b["direction"].astype(str)))
    heights = [min(b["model"].nunique(), _MAX_ROWS) for _, b in panels]
    fig = _ranking_canvas(heights)
    axes = fig.axes
    cut = False
    for ax, (bench, b) in zip(axes, panels, strict=True):
        col = _panel_column(b)
        rank = b.groupby("model", sort=False)["value"].mean().sort_values(ascending=False)
        cut |= len(rank) > _MAX_ROWS
        models = list(rank.index[:_MAX_ROWS])
        y = {m: len(models) - 1 - i for i, m in enumerate(models)}
        lo, hi = _interval(b, col)
        offsets = np.linspace(-0.2, 0.2, len(directions)) if len(directions) > 1 else [0.0]
        for k, d in enumerate(directions):
            sel = (b["direction"].astype(str) == d) & b["model"].isin(models)
            g = b[sel]
            yy = g["model"].map(y).to_numpy(dtype=float) + offsets[k]
            v = g["value"].to_numpy(dtype=float)
            err = np.vstack([v - lo[sel].to_numpy(dtype=float), hi[sel].to_numpy(dtype=float) - v])
            err = np.where(np.isfinite(err), np.maximum(err, 0), 0)
            marker = _MARKER.get(d, "^")
            ax.errorbar(v, yy, xerr=err, fmt="none", ecolor="#555555", elinewidth=1, capsize=2)
            below = _not_above_null(g)
            colour = _DIRECTION_COLOURS.get(d, "#e7298a")
            ax.scatter(v[~below], yy[~below], marker=marker, color=colour, zorder=3, s=30)
            ax.scatter(v[below], yy[below], marker=marker, facecolor="white", edgecolor=colour, zorder=3, s=30)  # fmt: skip
            if "null" in g:
                ax.scatter(pd.to_numeric(g["null"], errors="coerce"), yy, marker="|", color="#9e9e9e", s=80, zorder=2, gid="null")  # fmt: skip
        ax.set_yticks(list(y.values()), [_text(m) for m in y])
        ax.set_ylim(-0.7, len(models) - 0.3)
        ax.set_xlabel(f"{col} score at the model's best layer")
        ax.set_title(_text(bench))
        ax.grid(axis="x", alpha=0.3)
    handles = [
        Line2D([], [], ls="none", marker=_MARKER.get(d, "^"), color=_DIRECTION_COLOURS.get(d, "#e7298a"), label=d)
        for d in directions
    ]  # fmt: skip
    if any(c in best for c in ("null", "above_null")):
        handles += [
            Line2D([], [], ls="none", marker="|", color="#9e9e9e", ms=10, label="null (permuted)"),
            Line2D([], [], ls="none", marker="o", mfc="white", mec="#555555", label="not above null"),
        ]  # fmt: skip
    _legend(fig, handles)
    more = f" (the best {_MAX_ROWS} models per benchmark shown)" if cut else ""
    alt = (
        f"Dot plot of each model's best-layer score per direction in benchmarks "
        f"{', '.join(b for b, _ in panels)}{more}"
    )
    caption = (
        "How do the stored models rank? Each model at its best layer (chosen on the same data, so "
        "optimistic), best first; bars: the score's interval (or ± its error); grey |: the same "
        f"pipeline on row-permuted features, where stored; open marker: not above it{more}."
    )
    return Figure(png_data_uri(fig), alt, caption)


def _not_above_null(g: pd.DataFrame) -> np.ndarray:
    if "above_null" not in g:
        return np.zeros(len(g), dtype=bool)
    return g["above_null"].map(lambda v: not pd.isna(v) and not bool(v)).to_numpy(dtype=bool)


def _ranking_canvas(rows_per_panel: list[int]):
    """One column of panels, each as tall as its number of models."""
    from matplotlib.figure import Figure as MplFigure

    heights = [max(1.6, 0.32 * n + 0.9) for n in rows_per_panel]
    fig = MplFigure(figsize=(8.0, sum(heights)), layout="constrained")
    fig.subplots(len(heights), 1, squeeze=False, gridspec_kw={"height_ratios": heights})
    return fig
