"""HTML fragment for the report: pole images (base64 PNG) and the dual-selectivity table."""

from __future__ import annotations

import base64
import html

import numpy as np

from neuroalign.twin.plot import COLUMNS, _check, png_bytes

__all__ = ["poles_section"]

_FMT = "{:.3g}"


def _num(v) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return html.escape(str(v))
    return "–" if not np.isfinite(f) else _FMT.format(f)


def poles_section(result, images=None, *, max_neurons: int = 50, title: str | None = None) -> str:
    """A self-contained HTML ``<section>``: summary, then one table row per neuron with its MEI,
    MAI, LAI and LEI (inline base64 PNG, one shared grey scale, 0 = mean grey) and its numbers.

    ``images``: ``{"MEI"|"MAI"|"LAI"|"LEI": (n_neurons, H, W)}`` (default ``result.images``);
    at most ``max_neurons`` rows are shown (the table says how many were left out).
    """
    images = _check(result, images)
    t = result.table
    rows = list(range(min(len(t), max_neurons)))
    scale = max(float(np.max(np.abs(images[c][rows]))) for c in COLUMNS) if rows else 1.0
    h = images["MEI"].shape[1]
    up = max(1, int(np.ceil(96 / h)))
    p = result.parameters
    s = result.summary
    twin = p.get("twin", {})
    head = html.escape(title or f"Dual-feature selectivity: {twin.get('name', 'twin')}")
    summ = (
        f"{s['n_neurons']} neurons; bidirectional (dsi ≥ {p.get('dsi_threshold')}): "
        f"{s['fraction_bidirectional']:.0%}; median dsi {_num(s['median_dsi'])}; "
        f"MEI above best screened image: {s['fraction_mei_above_mai']:.0%}; LEI below worst "
        f"screened image: {s['fraction_lei_below_lai']:.0%}; LEI below grey baseline: "
        f"{s['fraction_lei_below_baseline']:.0%}; sparse (skewness > {p.get('sparse_threshold')}): "
        f"{s['fraction_sparse']:.0%}."
    )
    imgs = p.get("images", {})
    syn = p.get("synthesis", {})
    method = (
        f"Screened {imgs.get('n')} images ({html.escape(str(imgs.get('source')))}) and synthesised "
        f"with the {html.escape(str(syn.get('param')))} parametrisation ({syn.get('steps')} steps, "
        f"{syn.get('n_seeds')} seeds, seed {p.get('seed')}), all at contrast "
        f"‖x − mean(x)‖₂ = {_num(imgs.get('norm'))}. dsi = (b − r_LEI) / (r_MEI − r_LEI) "
        "(our dual-selectivity index: the share of the dynamic range below the grey baseline b)."
    )
    out = [
        '<section class="twin-poles">',
        f"<h2>{head}</h2>",
        f"<p>{html.escape(summ)}</p>",
        f"<p><small>{method}</small></p>",
        '<table class="twin-poles-table" style="border-collapse:collapse;text-align:right">',
        "<thead><tr><th>neuron</th>"
        + "".join(f"<th>{c}</th>" for c in COLUMNS)
        + "<th>baseline</th><th>r MEI</th><th>r MAI</th><th>r LAI</th><th>r LEI</th>"
        "<th>dsi</th><th>skewness</th><th>held-out r</th></tr></thead>",
        "<tbody>",
    ]
    for i in rows:
        rec = t.iloc[i]
        cells = []
        for c in COLUMNS:
            b64 = base64.b64encode(png_bytes(images[c][i], scale, up)).decode("ascii")
            cells.append(
                f'<td><img alt="{c} of {html.escape(str(rec["neuron_id"]))}" '
                f'src="data:image/png;base64,{b64}"/></td>'
            )
        nums = [
            rec["baseline"], rec["r_mei"], rec["r_mai"], rec["r_lai"], rec["r_lei"], rec["dsi"],
            rec["skewness"], rec["correlation"],
        ]  # fmt: skip
        out.append(
            f"<tr><td>{html.escape(str(rec['neuron_id']))}</td>"
            + "".join(cells)
            + "".join(f"<td>{_num(v)}</td>" for v in nums)
            + "</tr>"
        )
    out.append("</tbody></table>")
    if len(t) > len(rows):
        out.append(f"<p><small>{len(t) - len(rows)} more neurons not shown.</small></p>")
    out.append("</section>")
    return "\n".join(out)
