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
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from neuroalign._core.errors import ConfigError, DataError
from neuroalign._core.jsonio import JsonResult, frame, jsonable, load_json, package_version
from neuroalign.analysis.bootstrap import paired_bootstrap_median_ev
from neuroalign.analysis.specificity import population_silhouette, symmetrised_distance
from neuroalign.data.neural_data import NeuralData
from neuroalign.metrics.predictivity import PredictivityWarning, interanimal_ev
from neuroalign.transforms.base import Transform, get, minimal

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

    def transform(self) -> Transform:
        """A fresh instance of the first selected class, with the parameters it was estimated with."""
        name = self.selected[0]
        return get(name)(**self.params.get("transforms", {}).get(name, {}))

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "neuroalign.IATCResult/1",
            "selected": self.selected,
            "best": self.best,
            "params": self.params,
            "accuracy": self.accuracy.to_dict(orient="list"),
            "specificity": None
            if self.specificity is None
            else self.specificity.to_dict(orient="list"),
            "scores": self.scores.to_dict(orient="list"),
        }

    @classmethod
    def from_json(cls, text_or_path: str | Path) -> IATCResult:
        """Inverse of :meth:`to_json` (a JSON string or a path)."""
        d = load_json(text_or_path, "neuroalign.IATCResult/1")
        spec = d["specificity"]
        return cls(
            scores=frame(d["scores"]),
            accuracy=frame(d["accuracy"]),
            specificity=None if spec is None else frame(spec),
            selected=list(d["selected"]),
            best=d["best"],
            params=d["params"],
        )


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


def _pairs(population: NeuralData, area: str, pairing: str):
    subjects = list(
        dict.fromkeys(population.units.loc[population.units["area"] == area, "subject"])
    )
    if pairing == "pairwise":
        for a, b in itertools.permutations(subjects, 2):
            yield (a,), b
    else:
        for b in subjects:
            yield tuple(s for s in subjects if s != b), b


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
        inst = c if isinstance(c, Transform) else get(c)()
        instances[inst.name] = inst
    names = _candidates(list(instances.values()), counts, explicit)
    instances = {n: instances[n] for n in names}
    if not names:
        raise ConfigError("no candidate transform class can map these populations.")

    rows = []
    preds: dict[str, list[np.ndarray]] = {n: [] for n in names}
    rho_p: dict[str, list[np.ndarray]] = {n: [] for n in names}
    targets, rho_t, clusters = [], [], []
    jobs = [(area, src, tgt) for area in areas for src, tgt in _pairs(population, area, pairing)]
    task = tqdm(
        total=len(jobs) * len(names), desc="IATC: mapping", disable=not show_progress, leave=False
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PredictivityWarning)
        for area, src, tgt in jobs:
            s_data = population.select(subject=list(src), area=area)
            t_data = population.select(subject=tgt, area=area)
            for n in names:
                res = interanimal_ev(
                    s_data,
                    t_data,
                    instances[n],
                    n_folds=n_folds,
                    n_draws=n_draws,
                    seed=seed,
                    return_predictions=True,
                )
                preds[n].append(res.predictions)
                rho_p[n].append(res.rho_pred)
                rows.append(
                    pd.DataFrame(
                        {
                            "area": area,
                            "pairing": pairing,
                            "source": "+".join(src),
                            "target": tgt,
                            "transform": n,
                            "unit_id": t_data.unit_ids,
                            "ev": res.ev,
                            "r": res.r,
                            "rho_target": res.rho_target,
                            "rho_pred": res.rho_pred,
                            "valid": res.valid,
                        }
                    )
                )
                task.update()
            targets.append(t_data.mean())
            rho_t.append(res.rho_target)
            clusters.append(t_data.unit_ids)
    task.close()
    scores = pd.concat(rows, ignore_index=True)

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
        specificity = _specificity(
            population, instances, counts, n_folds, n_draws, seed, show_progress
        )
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


def _specificity(
    population, instances, counts, n_folds, n_draws, seed, show_progress
) -> pd.DataFrame:
    points = sorted(counts, key=lambda k: (k[1], k[0]))
    pairs = [
        (i, j)
        for i, j in itertools.permutations(range(len(points)), 2)
        if points[i][0] != points[j][0]
    ]
    task = tqdm(
        total=len(pairs) * len(instances),
        desc="IATC: specificity",
        disable=not show_progress,
        leave=False,
    )
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PredictivityWarning)
        for n, inst in instances.items():
            score = np.full((len(points), len(points)), np.nan)
            for i, j in pairs:
                (si, ai), (sj, aj) = points[i], points[j]
                res = interanimal_ev(
                    population.select(subject=si, area=ai),
                    population.select(subject=sj, area=aj),
                    inst,
                    n_folds=n_folds,
                    n_draws=n_draws,
                    seed=seed,
                )
                score[i, j] = np.nanmedian(res.ev) / 100.0 if res.valid.any() else 0.0
                task.update()
            mean, _ = population_silhouette(
                symmetrised_distance(score), [p[0] for p in points], [p[1] for p in points]
            )
            rows.append({"transform": n, "silhouette": mean})
    task.close()
    return pd.DataFrame(rows)
