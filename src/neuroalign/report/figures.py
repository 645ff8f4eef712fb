"""The report's figures: small functions from result tables to a :class:`Figure` (PNG data URI).

Every function takes plain pandas tables (the results' own), draws with matplotlib's object API
(``matplotlib.figure.Figure``, rendered by Agg; pyplot and its global state are never touched) and
returns a :class:`Figure` holding a base64 PNG ``data:`` URI, an alt text and a caption, or ``None``
when its input holds nothing to draw. Strings from data are escaped for matplotlib's mathtext here;
HTML escaping happens in the template.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure as _MplFigure

__all__ = [
    "Figure",
    "accuracy_figure",
    "forward_reverse_figure",
    "png_data_uri",
    "predictivity_specificity_figure",
    "reverse_histograms_figure",
]

_DPI = 100
_MAX_PANELS = 12
_CATEGORY_COLOURS = {"unique": "#d95f02", "intermediate": "#bdbdbd", "common": "#1b9e77"}


@dataclass(frozen=True)
class Figure:
    """One rendered figure: ``src`` (a ``data:image/png;base64,…`` URI), ``alt`` and ``caption``
    (plain text; the template escapes them)."""

    src: str
    alt: str
    caption: str


def _text(s) -> str:
    """``s`` as matplotlib text: ``$`` escaped so data strings never trigger mathtext."""
    return str(s).replace("$", r"\$")


def png_data_uri(fig: _MplFigure) -> str:
    """Render ``fig`` with Agg to PNG and return it as a ``data:image/png;base64,…`` URI."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _new(n_panels: int = 1, *, width: float = 6.4, height: float = 4.0):
    ncols = min(n_panels, 3)
    nrows = -(-n_panels // ncols)
    fig = _MplFigure(
        figsize=(width if n_panels == 1 else 4.2 * ncols, height if n_panels == 1 else 3.4 * nrows),
        layout="constrained",
    )
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig, list(axes[:n_panels])


def model_colours(models: list[str]) -> dict[str, tuple]:
    """One colour per model: tab10 up to 10 models, tab20 beyond (cycling after 20)."""
    import matplotlib

    cmap = matplotlib.colormaps["tab10" if len(models) <= 10 else "tab20"]
    return {m: cmap(i % cmap.N) for i, m in enumerate(models)}


def _finite(v) -> bool:
    try:
        return bool(np.isfinite(float(v)))
    except (TypeError, ValueError):
        return False


# --------------------------------------------------------------------------------------------- IATC
def accuracy_figure(accuracy: pd.DataFrame, selected: list[str], best: str) -> Figure | None:
    """Median held-out EV of every transform class with its bootstrap CI.

    In: an :class:`~neuroalign.analysis.iatc.IATCResult` ``accuracy`` table (``transform``, ``median_ev``,
    ``ci_low``, ``ci_high``), the selected classes and the best class. Out: a point-range chart
    (selected classes filled, the best one starred) or ``None`` for an empty table.
    """
    if accuracy is None or accuracy.empty:
        return None
    acc = accuracy.reset_index(drop=True)
    fig, (ax,) = _new(height=max(2.2, 0.45 * len(acc) + 1.2))
    y = np.arange(len(acc))[::-1]
    for yi, row in zip(y, acc.itertuples(index=False), strict=True):
        sel = row.transform in selected
        ax.errorbar(
            row.median_ev,
            yi,
            xerr=[[row.median_ev - row.ci_low], [row.ci_high - row.median_ev]]
            if _finite(row.ci_low) and _finite(row.ci_high)
            else None,
            fmt="o",
            color="#1b9e77" if sel else "#555555",
            mfc="#1b9e77" if sel else "white",
            capsize=3,
        )
        if row.transform == best:
            ax.plot(row.median_ev, yi, marker="*", ms=14, color="#d95f02", zorder=3)
    ax.set_yticks(y, [_text(t) for t in acc["transform"]])
    ax.set_xlabel("median held-out noise-corrected EV (%)")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title("Inter-animal mapping accuracy per transform class")
    alt = "Point-range chart of median EV per transform class: " + "; ".join(
        f"{t} {v:.1f}%" for t, v in zip(acc["transform"], acc["median_ev"], strict=True)
    )
    caption = (
        "Median noise-corrected EV of every animal→animal map (held-out stimuli) per transform "
        "class, with its bootstrap confidence interval. Filled: the selected IATC; star: the most "
        f"accurate class ({best})."
    )
    return Figure(png_data_uri(fig), alt, caption)


def predictivity_specificity_figure(
    accuracy: pd.DataFrame, specificity: pd.DataFrame | None, selected: list[str]
) -> Figure | None:
    """Predictivity (median EV with CI) against specificity (area silhouette) per class.

    In: the IATC ``accuracy`` and ``specificity`` tables (joined on ``transform``) and the selected
    classes. Out: a labelled scatter, or ``None`` when either table is missing or empty.
    """
    if accuracy is None or accuracy.empty or specificity is None or specificity.empty:
        return None
    t = accuracy.merge(specificity, on="transform", how="inner")
    if t.empty:
        return None
    fig, (ax,) = _new()
    for row in t.itertuples(index=False):
        sel = row.transform in selected
        colour = "#1b9e77" if sel else "#555555"
        ax.errorbar(
            row.silhouette,
            row.median_ev,
            yerr=[[row.median_ev - row.ci_low], [row.ci_high - row.median_ev]]
            if _finite(row.ci_low) and _finite(row.ci_high)
            else None,
            fmt="o",
            color=colour,
            mfc=colour if sel else "white",
            capsize=3,
        )
        ax.annotate(
            _text(row.transform),
            (row.silhouette, row.median_ev),
            xytext=(5, 4),
            textcoords="offset points",
            fontsize=9,
        )
    ax.set_xlabel("specificity (area silhouette)")
    ax.set_ylabel("predictivity: median EV (%)")
    ax.grid(alpha=0.3)
    ax.set_title("Predictivity vs specificity per transform class")
    alt = "Scatter of specificity (x) vs median EV (y) per class: " + "; ".join(
        f"{r.transform} ({r.silhouette:.2f}, {r.median_ev:.1f}%)" for r in t.itertuples()
    )
    caption = (
        "Each point is a transform class: how well it maps one animal onto another (y, median EV "
        "with its CI) against how well those maps tell brain areas apart (x, mean silhouette of "
        "the area labels under the mapping distance). Filled: the selected IATC."
    )
    return Figure(png_data_uri(fig), alt, caption)


# ----------------------------------------------------------------------------------- comparisons
def forward_reverse_figure(points: pd.DataFrame, animals: pd.DataFrame) -> Figure | None:
    """Forward vs reverse median EV of every model layer over the animal→animal cloud.

    In: ``points`` with ``model, layer, area, forward, reverse`` (one row per model layer and area)
    and ``animals`` with ``area, forward, reverse`` (one row per ordered animal pair: EV a→b and
    b→a). Out: one panel per area (at most 12), or ``None`` when both tables are empty.
    """
    if (points is None or points.empty) and (animals is None or animals.empty):
        return None
    areas = list(dict.fromkeys([*points.get("area", []), *animals.get("area", [])]))[:_MAX_PANELS]
    models = list(dict.fromkeys(points.get("model", [])))
    colours = model_colours(models)
    fig, axes = _new(len(areas))
    for ax, area in zip(axes, areas, strict=True):
        a = animals[animals["area"] == area] if not animals.empty else animals
        if not a.empty:
            ax.scatter(
                a["forward"],
                a["reverse"],
                s=28,
                color="#9e9e9e",
                alpha=0.7,
                label="animal → animal",
            )
        p = points[points["area"] == area] if not points.empty else points
        for m in models:
            pm = p[p["model"] == m]
            if pm.empty:
                continue
            ax.scatter(
                pm["forward"],
                pm["reverse"],
                s=40,
                color=colours[m],
                edgecolor="black",
                lw=0.5,
                label=_text(m),
            )
            if pm["layer"].nunique() > 1:
                for r in pm.itertuples(index=False):
                    ax.annotate(
                        _text(r.layer),
                        (r.forward, r.reverse),
                        xytext=(4, 3),
                        textcoords="offset points",
                        fontsize=7,
                    )
        vals = np.concatenate(
            [
                np.asarray(d[c], dtype=float)
                for d in (a, p)
                if not d.empty
                for c in ("forward", "reverse")
            ]
            or [np.zeros(1)]
        )
        vals = vals[np.isfinite(vals)]
        lo = min(0.0, float(vals.min())) if vals.size else 0.0
        hi = max(1.0, float(vals.max())) * 1.05 if vals.size else 100.0
        ax.plot([lo, hi], [lo, hi], ":", color="black", lw=0.8)
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_xlabel("forward: median EV (%)")
        ax.set_ylabel("reverse: median EV (%)")
        ax.set_title(_text(area))
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    for ax in axes[1:]:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    ncol = 1 if len(handles) <= 16 else 2
    fig.legend(handles, labels, loc="outside right upper", fontsize=7, ncol=ncol, frameon=False)
    n_pairs = 0 if animals.empty else len(animals)
    alt = (
        f"Scatter of forward (x) vs reverse (y) median EV for {len(points)} model layer points "
        f"of {len(models)} models and {n_pairs} animal pairs, in areas {', '.join(map(str, areas))}"
    )
    caption = (
        "Each coloured point is a model layer: median EV from the model to the neurons (forward, x) "
        "and from the neurons to the model's units (reverse, y). Grey points: each ordered animal "
        "pair a, b at (EV a→b, EV b→a), the cloud a model must land in to masquerade as an animal. "
        "Dotted: forward = reverse."
    )
    return Figure(png_data_uri(fig), alt, caption)


def cutoffs_row(cutoffs: pd.DataFrame, model, layer, area) -> pd.Series:
    """The row of ``cutoffs`` for one (model, layer, area)."""
    sel = (cutoffs["model"] == model) & (cutoffs["layer"] == layer) & (cutoffs["area"] == area)
    return cutoffs[sel].iloc[0]


def _robust_top(ev: np.ndarray, floor: float) -> float:
    """Upper end of a histogram axis: Q3 + 3 IQR, at least ``floor``, at most the maximum."""
    if not ev.size:
        return 1.0
    q1, q3 = np.percentile(ev, [25, 75])
    top = min(float(ev.max()), float(q3 + 3 * (q3 - q1)))
    return max(top, floor) if np.isfinite(floor) else top


def reverse_histograms_figure(units: pd.DataFrame, cutoffs: pd.DataFrame) -> Figure | None:
    """Histogram of mean reverse EV of the model units, per (model, layer, area), at most 12 panels.

    In: ``units`` with ``model, layer, area, mean_reverse_ev, category`` and ``cutoffs`` with
    ``model, layer, area, cut_unique, cut_common`` (20th / 80th percentiles). Bars are stacked by
    category (unique / intermediate / common); dashed lines mark the cut-offs. Out: chart or None.
    """
    if units is None or units.empty:
        return None
    keys = list(cutoffs[["model", "layer", "area"]].itertuples(index=False, name=None))
    shown = keys[:_MAX_PANELS]
    fig, axes = _new(len(shown))
    for ax, (m, la, ar) in zip(axes, shown, strict=True):
        u = units[(units["model"] == m) & (units["layer"] == la) & (units["area"] == ar)]
        ev = u["mean_reverse_ev"].to_numpy(dtype=float)
        ok = np.isfinite(ev)
        # a few exploding EVs (near-zero ceilings) would squash the histogram: the axis stops at
        # Q3 + 3 IQR (never below the 80th percentile cut-off) and the units beyond it are
        # counted in the last bin
        top = _robust_top(ev[ok], float(cutoffs_row(cutoffs, m, la, ar)["cut_common"]))
        n_beyond = int((ev[ok] > top).sum())
        low = float(ev[ok].min()) if ok.any() else 0.0
        edges = np.linspace(low, top if top > low else low + 1.0, 21)
        cats = ["unique", "intermediate", "common"]
        shown_ev = np.minimum(ev, edges[-1])
        data = [shown_ev[ok & (u["category"].to_numpy() == c)] for c in cats]
        ax.hist(
            data,
            bins=edges,
            stacked=True,
            color=[_CATEGORY_COLOURS[c] for c in cats],
            label=cats,
        )
        c = cutoffs_row(cutoffs, m, la, ar)
        for col, name, dx, ha in (
            ("cut_unique", "20th pct", -2, "right"),
            ("cut_common", "80th pct", 2, "left"),
        ):
            v = float(c[col])
            if np.isfinite(v):
                ax.axvline(v, ls="--", color="black", lw=0.9)
                ax.annotate(
                    name,
                    (v, 1.0),
                    xycoords=("data", "axes fraction"),
                    xytext=(dx, -10),
                    textcoords="offset points",
                    fontsize=7,
                    ha=ha,
                )
        if n_beyond:
            ax.annotate(
                f"{n_beyond} unit{'s' if n_beyond > 1 else ''} > {top:.3g} in last bin",
                (0.98, 0.62),
                xycoords="axes fraction",
                ha="right",
                fontsize=7,
            )
        ax.set_xlabel("mean reverse EV (%)")
        ax.set_ylabel("model units")
        ax.set_title(_text(" · ".join(str(x) for x in (m, la, ar) if str(x) != "-")), fontsize=9)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right upper", fontsize=7, frameon=False)
    more = f" (the first {len(shown)} of {len(keys)} shown)" if len(keys) > len(shown) else ""
    alt = (
        f"Histograms of the mean reverse EV of model units for {len(shown)} model layers{more}, "
        "split into unique, intermediate and common units"
    )
    caption = (
        "Reverse EV (neurons → model unit, averaged over subjects) of every model unit. Units below "
        "the 20th percentile (left dashed line) are unique to the model, units above the 80th "
        f"(right dashed line) are common with the brain; units beyond Q3 + 3 IQR are counted in the last bin{more}."
    )
    return Figure(png_data_uri(fig), alt, caption)
