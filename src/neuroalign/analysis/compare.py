"""Bidirectional comparison of a model with a population of subjects, judged against the animals.

For each layer and area: **forward** EV (model features → every neuron), **reverse** EV (each
subject's neurons → every model unit; model units are deterministic, so ``ρ_target = 1``) and the
**animal → animal** EV of every ordered pair of distinct subjects. Treating subject ``a`` as a model
of subject ``b`` gives the animal point ``(forward, reverse) = (median EV a→b, median EV b→a)``; the
model's point for subject ``b`` is ``(median forward EV on b's neurons, median reverse EV from b's
neurons)``. **Masquerade** (per direction): the ratio of the model's median score to the median
animal score, and the model's percentile among the animal scores. Whether the model **can be told
apart** from the animals: a two-sided Mann–Whitney U test of the model's per-subject scores against
the animal pair scores, per direction (animal pairs share subjects, so the test is approximate; it
is reported with its p-value, not as a verdict alone). **Common / unique** model units: above the
80th / below the 20th percentile of reverse EV (averaged over subjects).
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import mannwhitneyu
from tqdm.auto import tqdm

from neuroalign._core.errors import ConfigError, DataError
from neuroalign._core.jsonio import JsonResult, frame, jsonable, load_json, package_version
from neuroalign.analysis.iatc import IATCResult, as_population
from neuroalign.data.neural_data import NeuralData
from neuroalign.metrics.predictivity import (
    PredictivityWarning,
    forward_ev,
    interanimal_ev,
    reverse_ev,
)
from neuroalign.transforms.base import Transform, get

__all__ = ["ComparisonResult", "compare"]

_KIND = "neuroalign.ComparisonResult/1"


@dataclass
class ComparisonResult(JsonResult):
    """What :func:`compare` found (all tables are pandas DataFrames).

    ``forward``: per (layer, area, subject, unit_id) forward EV and its parts. ``reverse``: per
    (layer, area, subject, model_unit) reverse EV. ``animals``: per (area, source, target) the median
    animal→animal EV. ``summary``: per (layer, area, direction) the model's median score, the
    animals' median, ``masquerade_ratio``, ``percentile``, ``p_value`` and ``distinguishable``.
    ``units``: per (layer, model_unit) the mean reverse EV over subjects and its ``category``
    (common / unique / intermediate). ``params``: transform, folds, draws, seed, version.
    """

    forward: pd.DataFrame
    reverse: pd.DataFrame
    animals: pd.DataFrame
    summary: pd.DataFrame
    units: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": _KIND,
            "params": self.params,
            **{
                name: getattr(self, name).to_dict(orient="list")
                for name in ("forward", "reverse", "animals", "summary", "units")
            },
        }

    @classmethod
    def from_json(cls, text_or_path: str | Path) -> ComparisonResult:
        """Inverse of :meth:`to_json` (a JSON string or a path)."""
        d = load_json(text_or_path, _KIND)
        tables = {n: frame(d[n]) for n in ("forward", "reverse", "animals", "summary", "units")}
        return cls(**tables, params=d["params"])


def _layers(model_features, population: NeuralData) -> dict[str, np.ndarray]:
    ids = getattr(model_features, "stimulus_ids", None)
    if isinstance(model_features, Mapping) or hasattr(model_features, "layers"):
        layers = {
            str(k): model_features[k]
            for k in (getattr(model_features, "layers", None) or model_features)
        }
    else:
        layers = {"features": model_features}
    out = {}
    for name, feats in layers.items():
        feats = np.asarray(feats)
        if feats.ndim not in (2, 3):
            raise DataError(
                f"model features of layer {name!r} must be (n_stimuli, n_features) or, for a "
                f"stochastic model, (n_stimuli, n_units, n_repeats); got {feats.shape}."
            )
        if ids is not None:
            pos = pd.Index(np.asarray(ids).astype(str)).get_indexer(population.stimulus_ids)
            if (pos < 0).any():
                raise DataError(
                    f"{int((pos < 0).sum())} of the population's stimuli have no model activations; "
                    "extract activations for the same stimulus set."
                )
            feats = feats[pos]
        elif feats.shape[0] != population.n_stimuli:
            raise DataError(
                f"model features of layer {name!r} have {feats.shape[0]} rows but the population has "
                f"{population.n_stimuli} stimuli; rows must be the population's stimuli in order "
                "(pass activations with stimulus_ids to align them)."
            )
        out[name] = feats
    return out


def _transform(transform) -> Transform:
    if isinstance(transform, IATCResult):
        return transform.transform()
    if isinstance(transform, Transform):
        return transform
    if transform is None:
        raise ConfigError("give a transform: a class name, a Transform, or an IATCResult.")
    return get(transform)()


def _median(ev: np.ndarray) -> float:
    return float(np.nanmedian(ev)) if np.isfinite(ev).any() else np.nan


def compare(
    model_features,
    population: NeuralData,
    transform,
    *,
    n_folds: int = 10,
    n_draws: int = 20,
    seed: int = 0,
    dtype: str = "float64",
    show_progress: bool = True,
) -> ComparisonResult:
    """Compare a model with every subject of ``population``, in both directions.

    ``model_features``: ``(n_stimuli, n_features)``, or a mapping layer → array, or activations with
    ``stimulus_ids`` (aligned to the population's stimuli); ``transform``: a class name, Transform
    or :class:`~neuroalign.analysis.iatc.IATCResult` (its strictest selected class). A deterministic model's
    units get ``ρ_target = 1`` in the reverse direction. A stochastic model (or a held-out subject)
    given as ``(n_stimuli, n_units, n_repeats)`` is scored exactly like an animal
    (:func:`~neuroalign.metrics.predictivity.interanimal_ev` both ways). Note that a noise-free
    model of the area can score above the animals: animal→animal maps are fitted on noisy sources,
    which the split-half correction of ``ρ_pred`` does not fully undo (a masquerade ratio > 1).
    """
    population = as_population(population)
    layers = _layers(model_features, population)
    tr = _transform(transform)
    kw = {"n_folds": n_folds, "n_draws": n_draws, "seed": seed}
    fwd_rows, rev_rows, animal_rows, summary_rows, unit_rows = [], [], [], [], []
    areas = population.areas
    subjects_by_area = {
        a: list(dict.fromkeys(population.units.loc[population.units["area"] == a, "subject"]))
        for a in areas
    }
    for a, subs in subjects_by_area.items():
        if len(subs) < 2:
            raise DataError(
                f"area {a!r} has one subject; comparing with the animal baseline needs at least 2."
            )
    n_jobs = sum(
        len(s) * (len(s) - 1) + len(layers) * (1 + len(s)) for s in subjects_by_area.values()
    )
    bar = tqdm(total=n_jobs, desc="compare", disable=not show_progress, leave=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PredictivityWarning)
        for area, subs in subjects_by_area.items():
            data = {s: population.select(subject=s, area=area) for s in subs}
            animal = {}
            for a, b in itertools.permutations(subs, 2):
                res = interanimal_ev(data[a], data[b], tr, **kw)
                animal[a, b] = _median(res.ev)
                animal_rows.append(
                    {"area": area, "source": a, "target": b, "median_ev": animal[a, b]}
                )
                bar.update()
            animal_scores = np.array(list(animal.values()))
            area_pop = population.select(area=area)
            for layer, feats in layers.items():
                noisy = feats.ndim == 3
                if noisy:
                    fwd = interanimal_ev(feats, area_pop, tr, **kw)
                else:
                    fwd = forward_ev(feats, area_pop, tr, dtype=dtype, **kw)
                bar.update()
                fwd_rows.append(
                    pd.DataFrame(
                        {
                            "layer": layer,
                            "area": area,
                            "subject": area_pop.units["subject"].to_numpy(),
                            "unit_id": area_pop.unit_ids,
                            "ev": fwd.ev,
                            "r": fwd.r,
                            "rho_target": fwd.rho_target,
                            "rho_pred": fwd.rho_pred,
                            "valid": fwd.valid,
                        }
                    )
                )
                rev_ev = []
                model_fwd, model_rev = [], []
                for s in subs:
                    if noisy:
                        rev = interanimal_ev(data[s], feats, tr, **kw)
                    else:
                        rev = reverse_ev(data[s], feats, tr, dtype=dtype, **kw)
                    bar.update()
                    rev_ev.append(rev.ev)
                    rev_rows.append(
                        pd.DataFrame(
                            {
                                "layer": layer,
                                "area": area,
                                "subject": s,
                                "model_unit": np.arange(feats.shape[1]),
                                "ev": rev.ev,
                                "r": rev.r,
                                "rho_pred": rev.rho_pred,
                                "valid": rev.valid,
                            }
                        )
                    )
                    model_fwd.append(_median(fwd.ev[area_pop.units["subject"].to_numpy() == s]))
                    model_rev.append(_median(rev.ev))
                for direction, model_scores in (("forward", model_fwd), ("reverse", model_rev)):
                    summary_rows.append(
                        _judge(layer, area, direction, np.array(model_scores), animal_scores)
                    )
                rev_arr = np.array(rev_ev)  # (n_subjects, n_units); NaN: no EV for that unit
                valid = np.isfinite(rev_arr).sum(axis=0)
                mean_rev = np.where(
                    valid > 0, np.nansum(rev_arr, axis=0) / np.maximum(valid, 1), np.nan
                )
                unit_rows.append(_categorise(layer, area, mean_rev))
    bar.close()
    params = {
        "transform": {"name": tr.name, **{k: jsonable(v) for k, v in tr.get_params().items()}},
        "n_folds": n_folds,
        "n_draws": n_draws,
        "seed": seed,
        "dtype": dtype,
        "layers": list(layers),
        "areas": areas,
        "subjects": population.subjects,
        "metadata": population.metadata,
        "version": package_version(),
    }
    return ComparisonResult(
        forward=pd.concat(fwd_rows, ignore_index=True),
        reverse=pd.concat(rev_rows, ignore_index=True),
        animals=pd.DataFrame(animal_rows),
        summary=pd.DataFrame(summary_rows),
        units=pd.concat(unit_rows, ignore_index=True),
        params=params,
    )


def _judge(layer, area, direction, model_scores: np.ndarray, animal_scores: np.ndarray) -> dict:
    m = np.nanmedian(model_scores) if np.isfinite(model_scores).any() else np.nan
    ref = np.nanmedian(animal_scores)
    ok_m = model_scores[np.isfinite(model_scores)]
    ok_a = animal_scores[np.isfinite(animal_scores)]
    p = (
        float(mannwhitneyu(ok_m, ok_a, alternative="two-sided").pvalue)
        if ok_m.size and ok_a.size
        else np.nan
    )
    return {
        "layer": layer,
        "area": area,
        "direction": direction,
        "model_median_ev": float(m),
        "animal_median_ev": float(ref),
        "masquerade_ratio": float(m / ref) if ref > 0 else np.nan,
        "percentile": float(100.0 * np.mean(ok_a <= m)) if ok_a.size else np.nan,
        "animal_min_ev": float(ok_a.min()) if ok_a.size else np.nan,
        "animal_max_ev": float(ok_a.max()) if ok_a.size else np.nan,
        "p_value": p,
        "distinguishable": bool(p < 0.05) if np.isfinite(p) else False,
    }


def _categorise(layer, area, mean_rev: np.ndarray) -> pd.DataFrame:
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
