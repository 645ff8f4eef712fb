"""Estimate the Inter-Animal Transform Class (IATC) of a population of subjects.

For every candidate transform class and every ordered pair of distinct subjects within an area
(``pairing="pairwise"``), or every subject predicted from all other subjects pooled
(``pairing="pooled"``), the held-out noise-corrected EV of each target unit is computed with
:func:`~neuroalign.metrics.predictivity.interanimal_ev` (same folds and split draws for every class).
A class's accuracy is the median EV over all (pair, target unit) columns, with a paired bootstrap over
stimuli and target units (:mod:`neuroalign.analysis.bootstrap`). A class is *indistinguishable from the best*
when the bootstrap interval of ``accuracy(best) − accuracy(class)`` reaches 0; the IATC is the set of
minimal classes (in the strictness order) among the indistinguishable ones. With ≥ 2 areas each
class also gets a specificity (:mod:`neuroalign.analysis.specificity`): populations of different subjects are
mapped across areas too, distance = 1 − symmetrised median EV / 100, label = area.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from neuroalign._core.errors import ConfigError, DataError
from neuroalign._core.jsonio import JsonResult, jsonable, package_version
from neuroalign.analysis.bootstrap import paired_bootstrap_median_ev
from neuroalign.analysis.pairs import Pair, animal_pairs, map_pairs, pairs_frame
from neuroalign.analysis.specificity import population_silhouette, symmetrised_distance
from neuroalign.data.neural_data import NeuralData
from neuroalign.transforms.base import Transform, get, minimal, resolve

__all__ = ["IATCResult", "as_population", "default_candidates", "estimate_iatc"]

_DEFAULT_CANDIDATES = ("one_to_one", "soft_matching", "procrustes", "zippering", "pls", "ridge")


def default_candidates() -> list[str]:
    """The classes tried when none are given (every built-in one that maps unequal unit counts,
    except the MLP, which is costly: pass it explicitly)."""
    return list(_DEFAULT_CANDIDATES)


@dataclass
class IATCResult(JsonResult):
    """What :func:`estimate_iatc` found.

    ``scores``: one row per (area, pairing, source, target, transform, unit) with ``ev``, ``r``,
    ``rho_target``, ``rho_pred``, ``valid``. ``accuracy``: one row per transform with ``median_ev``,
    bootstrap ``ci_low``/``ci_high``, ``diff_ci_low``/``diff_ci_high`` (best minus this class) and
    ``indistinguishable``. ``specificity``: one row per transform (``silhouette``) or None with one
    area. ``selected``: the IATC (minimal indistinguishable classes); ``best``: the most accurate
    class; ``params``: every parameter and the seed.
    """

    scores: pd.DataFrame
    accuracy: pd.DataFrame
    specificity: pd.DataFrame | None
    selected: list[str]
    best: str
    params: dict[str, Any] = field(default_factory=dict)
    kind: ClassVar[str] = "neuroalign.IATCResult/1"

    def transform(self) -> Transform:
        """A fresh instance of the first selected class, with the parameters it was estimated with."""
        name = self.selected[0]
        cls = get(name)
        params = self.params.get("transforms", {}).get(name, {})
        known = cls().get_params()
        return cls(**{k: v for k, v in params.items() if k in known})


def as_population(population) -> NeuralData:
    """A NeuralData as is, or a sequence of NeuralData joined on their shared stimuli.

    Raises :class:`DataError` when the parts share no stimulus id.
    """
    if isinstance(population, NeuralData):
        return population
    if isinstance(population, (list, tuple)) and all(isinstance(p, NeuralData) for p in population):
        return NeuralData.concat(population, align=True)
    raise DataError(
        "population must be a NeuralData (unit table with subject and area) or a list of them."
    )


def _candidates(candidates, counts: dict[tuple[str, str], int], explicit: bool) -> list[str]:
    names = [get(c).name for c in candidates]
    if len(set(names)) != len(names):
        raise ConfigError(f"candidate classes repeat: {names}.")
    unequal = len(set(counts.values())) > 1
    kept = []
    for n in names:
        if get(n).requires_equal_units and unequal:
            if explicit:
                raise ConfigError(
                    f"transform class {n!r} needs equal unit counts but the populations have "
                    f"{sorted(set(counts.values()))} units; drop it from the candidates or subsample "
                    "units to a common count."
                )
            continue
        kept.append(n)
    return kept


def estimate_iatc(
    population: NeuralData,
    candidates=None,
    pairing: str = "pairwise",
    *,
    n_folds: int = 10,
    n_draws: int = 20,
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
    show_progress: bool = True,
) -> IATCResult:
    """Find the IATC of ``population`` (a NeuralData of ≥ 2 subjects with repeats, or a list of
    NeuralData joined on their shared stimuli).

    ``candidates``: transform classes (names, classes or instances; default
    :func:`default_candidates`, leaving out classes that need equal unit counts when counts differ);
    ``pairing``: ``"pairwise"`` (every ordered pair of distinct subjects) or ``"pooled"`` (all other
    subjects → one); ``n_folds``/``n_draws``: held-out folds and split-half draws of the EV;
    ``n_boot``, ``ci``: the paired bootstrap; ``seed``: every random choice derives from it.
    """
    if pairing not in ("pairwise", "pooled"):
        raise ConfigError(f"pairing must be 'pairwise' or 'pooled', got {pairing!r}.")
    population = as_population(population)
    units = population.units
    areas = population.areas
    counts = {
        (s, a): int(((units["subject"] == s) & (units["area"] == a)).sum())
        for s in population.subjects
        for a in areas
    }
    counts = {k: v for k, v in counts.items() if v}
    for a in areas:
        if len({s for s, aa in counts if aa == a}) < 2:
            raise DataError(
                f"area {a!r} has one subject; the IATC needs at least 2 subjects recorded in an area."
            )
    explicit = candidates is not None
    instances = {}
    for c in candidates if explicit else default_candidates():
        inst = resolve(c)
        instances[inst.name] = inst
    names = _candidates(list(instances.values()), counts, explicit)
    instances = {n: instances[n] for n in names}
    if not names:
        raise ConfigError("no candidate transform class can map these populations.")

    _check_stimuli(population.n_stimuli, n_folds)
    pairs = [p for area in areas for p in animal_pairs(population, area, pairing)]
    kw = {"n_folds": n_folds, "n_draws": n_draws, "seed": seed, "n_null": 0}
    mapped = map_pairs(
        population, instances, pairs, desc="IATC: mapping", show_progress=show_progress,
        return_predictions=True, **kw,
    )  # fmt: skip
    scores = pairs_frame(mapped, pairing)
    preds = {n: [m.result.predictions for m in mapped if m.transform == n] for n in names}
    rho_p = {n: [m.result.rho_pred for m in mapped if m.transform == n] for n in names}
    first = [m for m in mapped if m.transform == names[0]]
    targets = [population.select(subject=m.pair.target, area=m.pair.area).mean() for m in first]
    rho_t = [m.result.rho_target for m in first]
    clusters = [m.unit_ids for m in first]

    # paired bootstrap on the columns valid for every class
    target = np.concatenate(targets, axis=1)
    valid = np.all(
        [scores.loc[scores["transform"] == n, "valid"].to_numpy() for n in names], axis=0
    )
    if not valid.any():
        raise DataError(
            "no target unit has a valid EV for every candidate class; check the ceilings."
        )
    pred_all = {n: np.concatenate(preds[n], axis=1)[:, valid] for n in names}
    rho_pred_all = {n: np.concatenate(rho_p[n])[valid] for n in names}
    boot = paired_bootstrap_median_ev(
        pred_all,
        target[:, valid],
        np.concatenate(rho_t)[valid],
        rho_pred_all,
        np.concatenate(clusters)[valid],
        n_boot=n_boot,
        seed=seed,
    )
    point = {
        n: float(np.median(scores.loc[scores["transform"] == n, "ev"].to_numpy()[valid]))
        for n in names
    }
    best = max(names, key=lambda n: point[n])
    lo_q, hi_q = (1 - ci) / 2, 1 - (1 - ci) / 2
    acc = []
    for n in names:
        diff = boot[best] - boot[n]
        acc.append(
            {
                "transform": n,
                "median_ev": point[n],
                "n_columns": int(valid.sum()),
                "ci_low": float(np.quantile(boot[n], lo_q)),
                "ci_high": float(np.quantile(boot[n], hi_q)),
                "diff_ci_low": float(np.quantile(diff, lo_q)),
                "diff_ci_high": float(np.quantile(diff, hi_q)),
                "indistinguishable": bool(n == best or np.quantile(diff, lo_q) <= 0.0),
            }
        )
    accuracy = pd.DataFrame(acc)
    selected = minimal(accuracy.loc[accuracy["indistinguishable"], "transform"].tolist())
    selected.sort(key=lambda n: -point[n])

    specificity = None
    if len(areas) >= 2:
        specificity = _specificity(population, instances, counts, kw, show_progress)
    params = {
        "candidates": names,
        "pairing": pairing,
        "n_folds": n_folds,
        "n_draws": n_draws,
        "n_boot": n_boot,
        "ci": ci,
        "seed": seed,
        "subjects": population.subjects,
        "areas": areas,
        "transforms": {
            n: {k: jsonable(v) for k, v in t.get_params().items()} for n, t in instances.items()
        },
        "metadata": population.metadata,
        "version": package_version(),
    }
    return IATCResult(scores, accuracy, specificity, selected, best, params)


def _check_stimuli(n_stimuli: int, n_folds: int) -> None:
    """Held-out EV needs every training set and every held-out correlation to rest on enough
    stimuli: at least ``max(10, 2·n_folds)``."""
    need = max(10, 2 * n_folds)
    if n_stimuli < need:
        raise DataError(
            f"the population has {n_stimuli} shared stimuli; held-out EV with {n_folds} folds "
            f"needs at least {need} (fewer folds lower the need to max(10, 2·n_folds)). Record or "
            "align more stimuli."
        )


def _specificity(population, instances, counts, kw, show_progress) -> pd.DataFrame:
    points = sorted(counts, key=lambda k: (k[1], k[0]))
    index = {p: i for i, p in enumerate(points)}
    pairs = [
        Pair((si,), sj, area=aj, source_area=ai)
        for (si, ai), (sj, aj) in itertools.permutations(points, 2)
        if si != sj
    ]
    mapped = map_pairs(
        population, instances, pairs, desc="IATC: specificity", show_progress=show_progress, **kw
    )
    rows = []
    for n in instances:
        score = np.full((len(points), len(points)), np.nan)
        for m in (m for m in mapped if m.transform == n):
            res, p = m.result, m.pair
            i, j = index[(p.source[0], p.source_area)], index[(p.target, p.area)]
            score[i, j] = np.nanmedian(res.ev) / 100.0 if res.valid.any() else 0.0
        mean, _ = population_silhouette(
            symmetrised_distance(score), [p[0] for p in points], [p[1] for p in points]
        )
        rows.append({"transform": n, "silhouette": mean})
    return pd.DataFrame(rows)
