"""Assemble the HTML report: results → sections (tables, figures, notes) → one self-contained file.

The page is rendered from the jinja2 template ``templates/report.html.j2`` (shipped as package data)
with autoescaping on, so every string that comes from data (model, layer, area, class names,
parameters, section titles) is HTML-escaped. Figures are embedded as base64 PNG ``data:`` URIs and
the CSS is inline: the file loads nothing from anywhere.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd

from neuroalign._core.errors import ConfigError, DataError
from neuroalign.analysis.compare import ComparisonResult
from neuroalign.analysis.iatc import IATCResult
from neuroalign.report import figures as F
from neuroalign.report import provenance as P
from neuroalign.report import score_figures as S
from neuroalign.report.frames import animal_points, iatc_table, model_points, stack, unit_counts
from neuroalign.report.summaries import NULL_COLUMNS
from neuroalign.report.tables import Table, table_from_frame

__all__ = ["SCORE_COLUMNS", "Section", "build_sections", "render_report", "write_report"]

SCORE_COLUMNS = (
    "model",
    "layer",
    "benchmark",
    "direction",
    "raw",
    "ceiling",
    "normalised",
    "error",
    "seed",
    "key",
    "created",
)
# an attribute or CSS url() that would make the browser fetch something from elsewhere
_EXTERNAL = re.compile(
    r"""(?:\b(?:src|href|srcset|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//)|(?:url\(\s*["']?\s*(?:https?:)?//)|@import""",
    re.IGNORECASE,
)


@dataclass
class Section:
    """One report section: ``id`` (anchor), ``title``, optional ``intro`` text, ``notes`` (shown
    as "not computed" style remarks), ``tables``, ``figures`` and, for caller-provided sections
    only, trusted ``html``."""

    id: str
    title: str
    intro: str = ""
    notes: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[F.Figure] = field(default_factory=list)
    html: str | None = None


# ------------------------------------------------------------------------------------ validation
def _check_inputs(iatc, comparisons, scores, sections) -> tuple[dict, pd.DataFrame | None, list]:
    if iatc is not None and not isinstance(iatc, IATCResult):
        raise ConfigError(f"iatc must be an IATCResult or None, got {type(iatc).__name__}.")
    comparisons = dict(comparisons or {})
    for name, c in comparisons.items():
        if not isinstance(c, ComparisonResult):
            raise ConfigError(
                f"comparisons[{name!r}] must be a ComparisonResult, got {type(c).__name__}; "
                "pass a mapping model name → compare(...) result."
            )
    if scores is not None:
        if not isinstance(scores, pd.DataFrame):
            raise ConfigError(f"scores must be a pandas DataFrame, got {type(scores).__name__}.")
        missing = [c for c in ("model", "layer", "benchmark", "direction") if c not in scores]
        if missing:
            raise DataError(
                f"the scores frame lacks columns {missing}; expected a results-store frame with "
                f"columns {list(SCORE_COLUMNS)}."
            )
        scores = scores.copy()
        for c in SCORE_COLUMNS:
            if c not in scores:
                scores[c] = np.nan
    extra = []
    for i, item in enumerate(sections):
        if not (isinstance(item, (tuple, list)) and len(item) == 2):
            raise ConfigError(
                f"sections[{i}] must be a (title, html or DataFrame) pair, got {item!r:.80}."
            )
        title, fragment = item
        if not isinstance(title, str) or not isinstance(fragment, (str, pd.DataFrame)):
            raise ConfigError(
                f"sections[{i}]: the title must be a string and the content an HTML string or a "
                "pandas DataFrame."
            )
        if isinstance(fragment, str) and _EXTERNAL.search(fragment):
            raise ConfigError(
                f"section {title!r} refers to an external resource "
                f"({_EXTERNAL.search(fragment).group(0)!r}); the report must be self-contained: "
                "embed images as data: URIs and drop external links."
            )
        extra.append((title, fragment))
    return comparisons, scores, extra


# ---------------------------------------------------------------------------------------- IATC
_IATC_COLUMNS = [
    ("transform", "transform class"),
    ("median_ev", "median EV (%)"),
    ("ci_low", "CI low"),
    ("ci_high", "CI high"),
    ("indistinguishable", "≈ best"),
    ("silhouette", "specificity"),
    ("selected", "selected (IATC)"),
]


def _iatc_sections(iatc: IATCResult | None) -> list[Section]:
    table = Section("iatc", "Inter-animal transform class")
    scatter = Section("predictivity-specificity", "Predictivity vs specificity")
    if iatc is None or iatc.accuracy.empty:
        table.notes.append("Not computed: no IATC result was given.")
        scatter.notes.append("Not computed: no IATC result was given.")
        return [table, scatter]
    t = iatc_table(iatc)
    ci = iatc.params.get("ci", 0.95)
    table.intro = (
        f"IATC = {', '.join(iatc.selected)} (most accurate: {iatc.best}). Median held-out, "
        f"noise-corrected EV of every animal→animal map per class with its {100 * float(ci):g}% "
        "bootstrap CI; ≈ best: statistically indistinguishable from the most accurate class; "
        "selected: the minimal such classes in the strictness order."
    )
    table.tables.append(
        table_from_frame(
            t,
            "iatc-table",
            "Transform classes",
            _IATC_COLUMNS,
            highlight={i for i, s in enumerate(t["selected"]) if s},
        )
    )
    fig = F.accuracy_figure(iatc.accuracy, iatc.selected, iatc.best)
    if fig is not None:
        table.figures.append(fig)
    fig = F.predictivity_specificity_figure(iatc.accuracy, iatc.specificity, iatc.selected)
    if fig is None:
        scatter.notes.append(
            "Not computed: specificity needs populations in at least 2 brain areas."
        )
    else:
        scatter.figures.append(fig)
    return [table, scatter]


# -------------------------------------------------------------------------------- comparisons
_SUMMARY_COLUMNS = [  # the verdict first, then what it rests on
    ("model", "model"),
    ("layer", "layer"),
    ("area", "area"),
    ("direction", "direction"),
    ("masquerades", "masquerades"),
    ("model_median_ev", "median EV (%)"),
    ("model_ci_low", "CI low"),
    ("model_ci_high", "CI high"),
    ("null_ev", "null EV"),
    ("animal_median_ev", "animals' EV"),
    ("percentile", "percentile"),
    ("p_value", "p (MWU)"),
    ("masquerade_ratio", "ratio"),
    ("distinguishable", "distin­guishable"),
    ("above_null", "above null"),
    ("effective_dim", "dim."),
    ("animal_effective_dim", "animals' min dim."),
]


def _comparison_sections(comparisons: Mapping[str, ComparisonResult]) -> list[Section]:
    fr = Section("forward-reverse", "Forward vs reverse: models among the animals")
    if not comparisons:
        fr.notes.append("Not computed: no model comparison was given.")
        return [fr]
    summary = stack(comparisons, "summary")
    fig = F.forward_reverse_figure(model_points(comparisons), animal_points(comparisons))
    if fig is None:
        fr.notes.append("Not computed: the comparisons hold no scores.")
    else:
        fr.figures.append(fig)
    if not summary.empty:
        fr.intro = (
            "A model masquerades as a typical animal when its forward and reverse scores fall inside "
            "the animal→animal distribution. masquerades: indistinguishable from the animals and "
            "above the null in both directions, with an effective dimensionality (dim.) at least "
            "half the smallest animal's; CI: 95 % bootstrap interval of the model's median EV; "
            "null EV: the same pipeline on row-shuffled features; percentile: share of animal "
            "pairs at or below the model; p (MWU): two-sided Mann–Whitney U test of the model's "
            "per-subject scores against the animal pairs; ratio: model median / animals' median."
        )
        fr.tables.append(
            table_from_frame(
                summary,
                "masquerade-table",
                "Masquerade per layer, area and direction",
                _SUMMARY_COLUMNS,
            )
        )
    return [fr]


def _layer_section(
    comparisons: Mapping[str, ComparisonResult], scores: pd.DataFrame | None
) -> Section:
    sec = Section("layers", "Scores by layer")
    summary = stack(comparisons, "summary")
    order = {
        name: [str(x) for x in c.params.get("layers", [])]
        or list(dict.fromkeys(c.summary.get("layer", [])))
        for name, c in comparisons.items()
    }
    for fig in (
        S.layer_curves_figure(summary, order) if not summary.empty else None,
        S.score_curves_figure(scores) if scores is not None and not scores.empty else None,
    ):
        if fig is not None:
            sec.figures.append(fig)
    if not sec.figures:
        given = bool(comparisons) or (scores is not None and not scores.empty)
        sec.notes.append(
            "Not computed: every model was scored at a single layer; the forward vs reverse "
            "figure and the stored scores compare the models."
            if given
            else "Not computed: neither model comparisons nor stored scores were given."
        )
    return sec


_UNIT_COLUMNS = [
    ("model", "model"),
    ("layer", "layer"),
    ("area", "area"),
    ("n_units", "units"),
    ("n_common", "common"),
    ("n_unique", "unique"),
    ("n_intermediate", "intermediate"),
    ("n_invalid", "invalid"),
    ("frac_common", "fraction common"),
    ("frac_unique", "fraction unique"),
    ("cut_unique", "20th pct EV"),
    ("cut_common", "80th pct EV"),
]


def _units_section(comparisons: Mapping[str, ComparisonResult]) -> Section:
    sec = Section("units", "Common vs unique model units")
    counts = unit_counts(comparisons)
    if counts.empty:
        sec.notes.append("Not computed: no model comparison was given.")
        return sec
    sec.intro = (
        "Model units whose reverse EV (averaged over subjects) is at or above the 80th percentile "
        "of their layer are common with the brain; those at or below the 20th are unique to the "
        "model. Fractions are of the units with a valid EV."
    )
    sec.tables.append(table_from_frame(counts, "units-table", "Units per layer", _UNIT_COLUMNS))
    fig = F.reverse_histograms_figure(stack(comparisons, "units"), counts)
    if fig is not None:
        sec.figures.append(fig)
    return sec


# ------------------------------------------------------------------------------------ scores
def score_table_columns(scores: pd.DataFrame) -> list[str]:
    """The stored-scores table's columns: :data:`SCORE_COLUMNS` with the null and the interval
    (:data:`~neuroalign.report.summaries.NULL_COLUMNS`, when present and not all NaN) right after
    the score, then any other column."""
    nulls = [c for c in NULL_COLUMNS if c in scores and scores[c].notna().any()]
    at = SCORE_COLUMNS.index("error") + 1
    head = [*SCORE_COLUMNS[:at], *nulls, *SCORE_COLUMNS[at:]]
    return head + [c for c in scores.columns if c not in head and c not in NULL_COLUMNS]


def _scores_section(scores: pd.DataFrame | None) -> Section:
    sec = Section("scores", "Stored scores")
    if scores is None or scores.empty:
        sec.notes.append("Not computed: no stored scores were given.")
        return sec
    cols = score_table_columns(scores)
    has_null = any(c in cols for c in NULL_COLUMNS)
    sec.intro = (
        f"{len(scores)} stored scores (one row per direction): raw score, noise ceiling, "
        "normalised score (noise-corrected) and its error"
        + ("; beside them the same pipeline on row-permuted features (null) and the score's "
           "interval." if has_null else ".")
    )  # fmt: skip
    fig = S.score_ranking_figure(scores)
    if fig is not None:
        sec.figures.append(fig)
    sec.tables.append(
        table_from_frame(
            scores.reset_index(drop=True), "scores-table", "Scores", [(c, c) for c in cols]
        )
    )
    return sec


# --------------------------------------------------------------------------------- provenance
def _provenance_section(
    iatc: IATCResult | None,
    comparisons: Mapping[str, ComparisonResult],
    scores: pd.DataFrame | None,
    provenance: Mapping[str, Any] | None,
) -> Section:
    sec = Section("provenance", "Provenance")
    sources: dict[str, Mapping[str, Any]] = {}
    if iatc is not None:
        sources["IATC"] = iatc.params
    for name, c in comparisons.items():
        sources[f"comparison: {name}"] = c.params
    if provenance:
        sources["provided"] = dict(provenance)
    env = P.environment_rows()
    env.loc[len(env)] = [
        "report written (UTC)",
        _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    ]
    sec.tables.append(table_from_frame(env, "environment-table", "Software"))
    seeds = P.seed_rows(sources, scores)
    checks = P.checksum_rows(sources)
    params = P.params_frame(sources)
    for df, tid, cap, empty in (
        (seeds, "seeds-table", "Seeds", "No seed recorded."),
        (checks, "checksums-table", "Data checksums", "No data checksum recorded."),
        (params, "parameters-table", "Parameters", "No parameters recorded."),
    ):
        if df.empty:
            sec.notes.append(empty)
        else:
            sec.tables.append(table_from_frame(df, tid, cap, collapsed=tid == "parameters-table"))
    return sec


# ------------------------------------------------------------------------------------ render
def build_sections(
    *,
    iatc: IATCResult | None = None,
    comparisons: Mapping[str, ComparisonResult] | None = None,
    scores: pd.DataFrame | None = None,
    sections: Sequence[tuple[str, str | pd.DataFrame]] = (),
    provenance: Mapping[str, Any] | None = None,
) -> list[Section]:
    """The report's sections, in order: IATC table, predictivity vs specificity, forward vs
    reverse, scores by layer, common vs unique units, stored scores, the extra ``sections``,
    provenance. Empty inputs give sections with a "Not computed" note. Raises
    :class:`ConfigError`/:class:`DataError` on inputs of the wrong type or shape."""
    comparisons, scores, extra = _check_inputs(iatc, comparisons, scores, sections)
    out = [
        *_iatc_sections(iatc),
        *_comparison_sections(comparisons),
        _layer_section(comparisons, scores),
        _units_section(comparisons),
        _scores_section(scores),
    ]
    for i, (title, content) in enumerate(extra, start=1):
        if isinstance(content, pd.DataFrame):
            table = table_from_frame(content.reset_index(drop=True), f"extra-{i}-table", title)
            out.append(Section(f"extra-{i}", title, tables=[table]))
        else:
            out.append(Section(f"extra-{i}", title, html=content))
    out.append(_provenance_section(iatc, comparisons, scores, provenance))
    return out


def _template() -> jinja2.Template:
    def load(name: str) -> str:
        return resources.files("neuroalign.report").joinpath("templates", name).read_text("utf-8")

    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(load),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("report.html.j2")


def render_report(
    *,
    title: str = "neuroalign report",
    iatc: IATCResult | None = None,
    comparisons: Mapping[str, ComparisonResult] | None = None,
    scores: pd.DataFrame | None = None,
    sections: Sequence[tuple[str, str | pd.DataFrame]] = (),
    provenance: Mapping[str, Any] | None = None,
) -> str:
    """The report as one HTML string (see :func:`write_report` for the arguments)."""
    from neuroalign._core.version import package_version

    secs = build_sections(
        iatc=iatc, comparisons=comparisons, scores=scores, sections=sections, provenance=provenance
    )
    return _template().render(title=str(title), sections=secs, version=package_version())


def write_report(
    path: str | os.PathLike,
    *,
    title: str = "neuroalign report",
    iatc: IATCResult | None = None,
    comparisons: Mapping[str, ComparisonResult] | None = None,
    scores: pd.DataFrame | None = None,
    sections: Sequence[tuple[str, str | pd.DataFrame]] = (),
    provenance: dict | None = None,
) -> Path:
    """Write one self-contained HTML report to ``path`` and return the path.

    In: ``iatc`` (an :class:`~neuroalign.analysis.iatc.IATCResult`), ``comparisons`` (model name →
    :class:`~neuroalign.analysis.compare.ComparisonResult`), ``scores`` (a results-store frame with columns
    ``model, layer, benchmark, direction, raw, ceiling, normalised, error, seed, key, created``;
    optional ``null``, ``p_null``, ``above_null``, ``ci_low``, ``ci_high`` are shown beside the
    score), ``sections`` (extra ``(title, content)`` pairs, appended before the provenance: a
    DataFrame becomes a table; an HTML fragment is trusted and must not load anything external)
    and ``provenance`` (extra
    key → value facts, e.g. dataset checksums). Every input may be empty: its sections then say
    "Not computed". Out: the path of the written file (parent folders are created; the file is
    written to a temporary name and renamed, so a half-written report never appears).
    """
    html = render_report(
        title=title,
        iatc=iatc,
        comparisons=comparisons,
        scores=scores,
        sections=sections,
        provenance=provenance,
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(html)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
