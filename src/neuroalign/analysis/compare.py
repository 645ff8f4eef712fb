"""Bidirectional comparison of a model with a population of subjects, judged against the animals.

For each layer and area: **forward** EV (model features → every neuron), **reverse** EV (each
subject's neurons → every model unit; model units are deterministic, so ``ρ_target = 1``), each with
its null (row-permuted features; reverse: the median over subjects of each subject's null EV, and
the largest of their ``p_null``) and bootstrap, and the **animal → animal** EV of every ordered pair
of distinct subjects (:func:`~neuroalign.analysis.pairs.map_pairs`). Subject ``a`` as a model of
subject ``b`` gives an animal score; the model's score for subject ``b`` is the median forward EV on
``b``'s neurons, or the median reverse EV from ``b``'s neurons.

**Masquerade**, per direction: the ratio of the model's median score to the animals' median, and
the model's percentile among the animal scores, with a hierarchical bootstrap (subjects, then
stimuli, drawn with replacement; :mod:`~neuroalign.metrics.resample`) giving intervals for both.
The model **can be told apart** from the animals in a direction when its percentile interval lies
at 0 or at 100 (outside every animal score in ≥ 97.5 % of the resamples, on one side); without a
bootstrap, when the point percentile is 0 or 100. ``p_value`` is a two-sided Mann–Whitney U test of
the model's per-subject scores against the animal scores (approximate: animal pairs share subjects).
The joint verdict ``masquerades`` needs all of: indistinguishable in both directions, above its null
in both (when a null was computed: with ``n_null=0``, ``above_null`` is NaN and the verdict rests on
the rest), and an effective dimensionality (:mod:`~neuroalign.metrics.dimensionality`) at least
``DIM_COLLAPSE`` (½) of the smallest animal's, so a collapsed (rank-1) layer cannot pass while a
held-out animal, whose dimensionality varies like the animals', does (an animal of the demo has 5.1
against the others' 6.2–7.0). **Common / unique** model units: above
the 80th / below the 20th percentile of reverse EV (averaged over subjects). With one subject there
is no animal baseline: the model's scores are reported alone and ``params["baseline"]`` is False.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.stats import mannwhitneyu
from tqdm.auto import tqdm

from neuroalign._core.errors import DataError
from neuroalign._core.jsonio import JsonResult, jsonable, package_version
from neuroalign._core.stats import nanmean, nanmedian
from neuroalign.analysis.iatc import as_population
from neuroalign.analysis.pairs import animal_pairs, map_pairs, subjects_in
from neuroalign.data.align import align_rows, take_rows
from neuroalign.data.neural_data import NeuralData
from neuroalign.data.splits import split_half_means
from neuroalign.metrics.dimensionality import effective_dimensionality, signal_dimensionality
from neuroalign.metrics.predictivity import (
    PredictivityWarning,
    forward_ev,
    interanimal_ev,
    reverse_ev,
)
from neuroalign.metrics.resample import subject_resamples
from neuroalign.transforms.base import resolve

__all__ = ["ComparisonResult", "compare"]

_ALPHA = 0.05
#: a layer whose effective dimensionality is below this share of the smallest animal's has collapsed
DIM_COLLAPSE = 0.5


@dataclass
class ComparisonResult(JsonResult):
    """What :func:`compare` found (all tables are pandas DataFrames).

    ``forward``: per (layer, area, subject, unit_id) the forward EV and its parts
    (:meth:`~neuroalign.metrics.predictivity.PredictivityResult.to_frame`). ``reverse``: per
    (layer, area, subject, model_unit). ``animals``: per (area, source, target) the median
    animal→animal EV. ``subjects``: per (area, subject) the effective dimensionality of its
    stimulus-driven responses. ``summary``: per (layer, area, direction) the model's median score
    and interval, the animals' median, range, ``masquerade_ratio``, ``percentile`` and interval,
    ``p_value``, ``distinguishable``, the null (``null_ev``, ``p_null``, ``above_null``), the
    layer's ``population_ev`` (reverse) and ``effective_dim``, the animals' smallest
    ``animal_effective_dim`` and the joint verdict ``masquerades``. ``units``: per (layer,
    model_unit) the mean reverse EV over subjects and its ``category``. ``bootstrap``: per (layer,
    area, direction, replicate) the model's median and percentile (pairs with every comparison of
    the same seed and stimuli). ``params``: transform, folds, draws, seed, version, baseline.
    """

    forward: pd.DataFrame
    reverse: pd.DataFrame
    animals: pd.DataFrame
    summary: pd.DataFrame
    units: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)
    subjects: pd.DataFrame = field(default_factory=pd.DataFrame)
    bootstrap: pd.DataFrame = field(default_factory=pd.DataFrame)
    kind: ClassVar[str] = "neuroalign.ComparisonResult/1"


def _layers(model_features, population: NeuralData):
    """``(layers: name → array aligned to the returned population, population)``; features that
    carry stimulus ids (activations, DataFrames) are joined on them."""
    if isinstance(model_features, pd.DataFrame) or not (
        isinstance(model_features, Mapping) or hasattr(model_features, "layers")
    ):
        model_features = {"features": model_features}
    names = list(getattr(model_features, "layers", None) or model_features)
    al = align_rows(model_features if hasattr(model_features, "stimulus_ids") else
                    _Rows(model_features[names[0]]), population, ("model features", "population"))  # fmt: skip
    population = take_rows(population, al.index_b)
    out = {}
    for name in names:
        feats = np.asarray(model_features[name].to_numpy() if isinstance(model_features[name], pd.DataFrame) else model_features[name])  # fmt: skip
        if feats.ndim not in (2, 3):
            raise DataError(
                f"model features of layer {name!r} must be (n_stimuli, n_features) or, for a "
                f"stochastic model, (n_stimuli, n_units, n_repeats); got {feats.shape}."
            )
        out[str(name)] = feats if al.index_a is None else feats[al.index_a]
    return out, population


class _Rows:
    """A bare array standing for a mapping of layers (or a DataFrame's index) in alignment."""

    def __init__(self, a):
        if isinstance(a, pd.DataFrame) and type(a.index).__name__ != "RangeIndex":
            self.stimulus_ids = a.index.astype(str).to_numpy()
        self.n_stimuli = np.shape(a)[0]


def _medians(res, groups, n_boot) -> tuple[dict, dict]:
    """Per group (name → unit mask) the median EV over valid units, and per replicate ``(B,)``."""
    point, boot = {}, {}
    ev_b = None
    if n_boot and res.r_boot is not None:
        ceil = res.rho_target * res.rho_pred
        ev_b = np.where(res.valid, 100.0 * np.maximum(res.r_boot, 0.0) ** 2 / ceil, np.nan)
    for g, mask in groups.items():
        ok = mask & res.valid
        point[g] = float(np.median(res.ev[ok])) if ok.any() else np.nan
        if ev_b is not None:
            boot[g] = nanmedian(ev_b[:, ok], axis=1) if ok.any() else np.full(n_boot, np.nan)
    return point, boot


def compare(
    model_features,
    population: NeuralData,
    transform="ridge",
    *,
    n_folds: int = 10,
    n_draws: int = 20,
    seed: int = 0,
    n_null: int = 20,
    n_boot: int = 200,
    dtype: str | None = None,
    show_progress: bool = True,
) -> ComparisonResult:
    """Compare a model with every subject of ``population``, in both directions.

    ``model_features``: ``(n_stimuli, n_features)``, a mapping layer → array, or activations /
    DataFrames with stimulus ids (joined on the population's ids; bare arrays must be in the
    population's stimulus order); ``transform``: a name (default ``"ridge"``), Transform or
    :class:`~neuroalign.analysis.iatc.IATCResult` (:func:`~neuroalign.transforms.resolve`).
    A stochastic model (or a held-out subject) given as ``(n_stimuli, n_units, n_repeats)`` is
    scored exactly like an animal. ``n_null``: permutations of each model score's null; ``n_boot``:
    bootstrap resamples (0: no intervals). A noise-free model of the area can score above the
    animals: animal→animal maps are fitted on noisy sources, which the split-half correction of
    ``ρ_pred`` does not fully undo (a masquerade ratio > 1).
    """
    population = as_population(population)
    layers, population = _layers(model_features, population)
    tr = resolve(transform)
    kw = {"n_folds": n_folds, "n_draws": n_draws, "seed": seed}
    subs_by_area = {a: subjects_in(population, a) for a in population.areas}
    baseline = all(len(s) >= 2 for s in subs_by_area.values())
    n_jobs = sum(len(s) * (len(s) - 1) + len(layers) * (1 + len(s)) for s in subs_by_area.values())
    bar = tqdm(total=n_jobs, desc="compare", disable=not show_progress, leave=False)
    tables: dict[str, list] = {k: [] for k in ("fwd", "rev", "animals", "subjects", "summary", "units", "boot")}  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PredictivityWarning)
        for area, subs in subs_by_area.items():
            _compare_area(area, subs, population, layers, tr, kw, n_null, n_boot, dtype, tables, bar)  # fmt: skip
    bar.close()
    params = {
        "transform": {"name": tr.name, **{k: jsonable(v) for k, v in tr.get_params().items()}},
        "n_folds": n_folds,
        "n_draws": n_draws,
        "n_null": n_null,
        "n_boot": n_boot,
        "seed": seed,
        "dtype": dtype,
        "layers": list(layers),
        "areas": population.areas,
        "subjects": population.subjects,
        "baseline": baseline,
        "metadata": population.metadata,
        "version": package_version(),
    }

    def cat(k):
        return pd.concat(tables[k], ignore_index=True) if tables[k] else pd.DataFrame()

    return ComparisonResult(
        forward=cat("fwd"),
        reverse=cat("rev"),
        animals=pd.DataFrame(tables["animals"]),
        summary=pd.DataFrame(tables["summary"]),
        units=cat("units"),
        params=params,
        subjects=pd.DataFrame(tables["subjects"]),
        bootstrap=cat("boot"),
    )


def _compare_area(area, subs, population, layers, tr, kw, n_null, n_boot, dtype, tables, bar):
    data = {s: population.select(subject=s, area=area) for s in subs}
    area_pop = population.select(area=area)
    animal, animal_boot = {}, {}
    pairs = animal_pairs(population, area) if len(subs) >= 2 else []
    for m in map_pairs(population, {tr.name: tr}, pairs, n_null=0, n_boot=n_boot, **kw):
        key = (m.pair.source[0], m.pair.target)
        point, boot = _medians(m.result, {"all": np.ones(m.result.ev.size, bool)}, n_boot)
        animal[key], animal_boot[key] = point["all"], boot.get("all")
        tables["animals"].append({"area": area, "source": key[0], "target": key[1], "median_ev": point["all"]})  # fmt: skip
        bar.update()
    animal_ed = {}
    for s in subs:
        ha, hb = split_half_means(data[s].responses, kw["seed"]) if data[s].n_repeats > 1 else (None, None)  # fmt: skip
        animal_ed[s] = signal_dimensionality(ha, hb) if ha is not None else np.nan
        tables["subjects"].append({"area": area, "subject": s, "effective_dim": animal_ed[s]})
    resamples = subject_resamples(subs, n_boot, kw["seed"]) if n_boot else None
    unit_subject = area_pop.units["subject"].to_numpy()
    for layer, feats in layers.items():
        noisy = feats.ndim == 3
        opts = {**kw, "n_null": n_null, "n_boot": n_boot}
        if noisy:
            fwd = interanimal_ev(feats, area_pop, tr, **opts)
            ha, hb = split_half_means(feats, kw["seed"])
            layer_ed = signal_dimensionality(ha, hb)
        else:
            fwd = forward_ev(feats, area_pop, tr, dtype=dtype, **opts)
            layer_ed = effective_dimensionality(feats)
        bar.update()
        df = fwd.to_frame(units=area_pop.unit_ids).rename(columns={"unit": "unit_id"})
        df.insert(0, "subject", unit_subject)
        tables["fwd"].append(_head(df, layer, area))
        fwd_point, fwd_boot = _medians(fwd, {s: unit_subject == s for s in subs}, n_boot)
        rev_point, rev_boot, rev_ev, rev_p, rev_null, pops = {}, {}, [], [], [], []
        for s in subs:
            if noisy:
                rev = interanimal_ev(data[s], feats, tr, **opts)
            else:
                rev = reverse_ev(data[s], feats, tr, dtype=dtype, **opts)
            bar.update()
            df = rev.to_frame().rename(columns={"unit": "model_unit"})
            df.insert(0, "subject", s)
            tables["rev"].append(_head(df, layer, area))
            p, b = _medians(rev, {s: np.ones(rev.ev.size, bool)}, n_boot)
            rev_point.update(p)
            rev_boot.update(b)
            rev_ev.append(rev.ev)
            rev_p.append(rev.p_null)
            rev_null.append(rev.summary()["null_ev"])
            pops.append((rev.population or {}).get("population_ev", np.nan))
        eds = np.array(list(animal_ed.values()), dtype=float)
        min_animal_ed = float(eds[np.isfinite(eds)].min()) if np.isfinite(eds).any() else np.nan
        rows = {}
        for direction, point, boot, p_null, null_ev in (
            ("forward", fwd_point, fwd_boot, fwd.p_null, fwd.summary()["null_ev"]),
            ("reverse", rev_point, rev_boot, max(rev_p), float(nanmedian(rev_null))),
        ):
            rows[direction] = _judge(layer, area, direction, point, boot, animal, animal_boot,
                                     resamples, n_boot)  # fmt: skip
            rows[direction].update(
                null_ev=null_ev,
                p_null=p_null,
                # not computed (n_null=0): unknown, not False
                above_null=(bool(p_null <= _ALPHA) if np.isfinite(p_null) else False)
                if n_null
                else np.nan,
                population_ev=float(nanmean(pops)) if direction == "reverse" else np.nan,
                effective_dim=layer_ed,
                animal_effective_dim=min_animal_ed,
            )
            tables["boot"].append(rows[direction].pop("_boot"))
        ok_dim = not np.isfinite(min_animal_ed) or layer_ed >= DIM_COLLAPSE * min_animal_ed
        verdict = bool(
            len(subs) >= 2
            and ok_dim
            and all(
                not r["distinguishable"] and (not n_null or r["above_null"]) for r in rows.values()
            )
        )
        for r in rows.values():
            r["masquerades"] = verdict
            tables["summary"].append(r)
        tables["units"].append(_categorise(layer, area, np.array(rev_ev)))


def _head(df: pd.DataFrame, layer: str, area: str) -> pd.DataFrame:
    df.insert(0, "area", area)
    df.insert(0, "layer", layer)
    return df


def _judge(layer, area, direction, point, boot, animal, animal_boot, resamples, n_boot) -> dict:
    """One summary row (module docstring); ``_boot``: the replicate table."""
    model_scores = np.array(list(point.values()), dtype=float)
    m = float(nanmedian(model_scores)) if np.isfinite(model_scores).any() else np.nan
    ok_a = np.array([v for v in animal.values() if np.isfinite(v)])
    ref = float(np.median(ok_a)) if ok_a.size else np.nan
    ok_m = model_scores[np.isfinite(model_scores)]
    p = float(mannwhitneyu(ok_m, ok_a, alternative="two-sided").pvalue) if ok_m.size and ok_a.size else np.nan  # fmt: skip
    pct = float(100.0 * np.mean(ok_a <= m)) if ok_a.size else np.nan
    b_model, b_pct = _replicates(boot, animal_boot, resamples, n_boot)
    q = (2.5, 97.5)
    pct_lo, pct_hi = np.nanpercentile(b_pct, q) if np.isfinite(b_pct).any() else (np.nan,) * 2
    m_lo, m_hi = np.nanpercentile(b_model, q) if np.isfinite(b_model).any() else (np.nan,) * 2
    if np.isfinite(pct_lo):
        distinct = bool(pct_hi <= 0.0 or pct_lo >= 100.0)
    else:
        distinct = bool(pct in (0.0, 100.0)) if np.isfinite(pct) else False
    return {
        "layer": layer,
        "area": area,
        "direction": direction,
        "model_median_ev": m,
        "model_ci_low": float(m_lo),
        "model_ci_high": float(m_hi),
        "animal_median_ev": ref,
        "masquerade_ratio": float(m / ref) if ref > 0 else np.nan,
        "percentile": pct,
        "percentile_ci_low": float(pct_lo),
        "percentile_ci_high": float(pct_hi),
        "animal_min_ev": float(ok_a.min()) if ok_a.size else np.nan,
        "animal_max_ev": float(ok_a.max()) if ok_a.size else np.nan,
        "p_value": p,
        "distinguishable": distinct,
        "_boot": pd.DataFrame(
            {
                "layer": layer,
                "area": area,
                "direction": direction,
                "replicate": np.arange(b_model.size),
                "model_median_ev": b_model,
                "percentile": b_pct,
            }
        ),  # fmt: skip
    }


def _replicates(boot, animal_boot, resamples, n_boot):
    """Per replicate: the model's median over the drawn subjects and its percentile among the
    animal scores of the drawn subjects' pairs ``(n_boot,)`` each (NaN without a bootstrap)."""
    if not n_boot or resamples is None or not boot:
        return np.full(0, np.nan), np.full(0, np.nan)
    b_model, b_pct = np.full(n_boot, np.nan), np.full(n_boot, np.nan)
    for b, drawn in enumerate(resamples):
        vals = [boot[s][b] for s in drawn if s in boot]
        b_model[b] = nanmedian(vals) if np.isfinite(vals).any() else np.nan
        scores = [animal_boot[(x, y)][b] for x, y in itertools.product(drawn, drawn)
                  if x != y and (x, y) in animal_boot]  # fmt: skip
        scores = np.array([v for v in scores if np.isfinite(v)])
        if scores.size and np.isfinite(b_model[b]):
            b_pct[b] = 100.0 * np.mean(scores <= b_model[b])
    return b_model, b_pct


def _categorise(layer, area, rev_ev: np.ndarray) -> pd.DataFrame:
    """Mean reverse EV over subjects per model unit, and its category."""
    valid = np.isfinite(rev_ev).sum(axis=0)
    mean_rev = np.where(valid > 0, np.nansum(rev_ev, axis=0) / np.maximum(valid, 1), np.nan)
    finite = np.isfinite(mean_rev)
    cat = np.full(mean_rev.shape, "intermediate", dtype=object)
    if finite.any():
        hi, lo = np.percentile(mean_rev[finite], [80, 20])
        cat[finite & (mean_rev >= hi)] = "common"
        cat[finite & (mean_rev <= lo)] = "unique"
    cat[~finite] = "invalid"
    return pd.DataFrame(
        {
            "layer": layer,
            "area": area,
            "model_unit": np.arange(mean_rev.size),
            "mean_reverse_ev": mean_rev,
            "category": cat,
        }
    )
