"""The animal-pair loop shared by the IATC, the model comparison and specificity.

A :class:`Pair` names a source population (one or more subjects, pooled) and a target subject,
each in an area. :func:`map_pairs` maps every pair with every transform class through
:func:`~neuroalign.metrics.predictivity.interanimal_ev` (same folds, split draws and bootstrap
resamples for all, since they derive from one seed) and returns one :class:`PairResult` each;
:func:`pairs_frame` turns them into one table with a row per (pair, transform, target unit).
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd
from tqdm.auto import tqdm

from neuroalign.data.neural_data import NeuralData
from neuroalign.metrics.predictivity import PredictivityResult, PredictivityWarning, interanimal_ev

__all__ = ["Pair", "PairResult", "animal_pairs", "map_pairs", "pairs_frame", "subjects_in"]


@dataclass(frozen=True)
class Pair:
    """``source`` subjects (pooled) → ``target`` subject; ``area`` of the target, and of the
    source unless ``source_area`` says otherwise (specificity maps across areas)."""

    source: tuple[str, ...]
    target: str
    area: str
    source_area: str | None = None

    @property
    def label(self) -> str:
        return "+".join(self.source)


@dataclass
class PairResult:
    """One mapped pair: the pair, the transform's name, the result, the target's unit ids."""

    pair: Pair
    transform: str
    result: PredictivityResult
    unit_ids: object


def subjects_in(population: NeuralData, area: str) -> list[str]:
    """Subjects recorded in ``area``, in order of first appearance."""
    units = population.units
    return list(dict.fromkeys(units.loc[units["area"] == area, "subject"]))


def animal_pairs(population: NeuralData, area: str, pairing: str = "pairwise") -> list[Pair]:
    """Every ordered pair of distinct subjects of ``area`` (``"pairwise"``), or every subject
    predicted from all the others pooled (``"pooled"``)."""
    subjects = subjects_in(population, area)
    if pairing == "pairwise":
        return [Pair((a,), b, area) for a, b in itertools.permutations(subjects, 2)]
    return [Pair(tuple(s for s in subjects if s != b), b, area) for b in subjects]


def map_pairs(
    population: NeuralData,
    transforms: Mapping[str, object],
    pairs: Iterable[Pair],
    *,
    desc: str = "mapping",
    show_progress: bool = False,
    **options,
) -> list[PairResult]:
    """Map every pair with every transform (name → Transform); ``options`` go to
    :func:`~neuroalign.metrics.predictivity.interanimal_ev` (``n_folds``, ``n_draws``, ``seed``,
    ``n_null``, ``n_boot``, ``return_predictions``, ...). Warnings about units without an EV are
    left to the callers' tables (``valid`` and the flags)."""
    pairs = list(pairs)
    out = []
    bar = tqdm(
        total=len(pairs) * len(transforms), desc=desc, disable=not show_progress, leave=False
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PredictivityWarning)
        for pair in pairs:
            src = population.select(subject=list(pair.source), area=pair.source_area or pair.area)
            tgt = population.select(subject=pair.target, area=pair.area)
            for name, tr in transforms.items():
                res = interanimal_ev(src, tgt, tr, **options)
                out.append(PairResult(pair, name, res, tgt.unit_ids))
                bar.update()
    bar.close()
    return out


def pairs_frame(results: Iterable[PairResult], pairing: str = "pairwise") -> pd.DataFrame:
    """One row per (pair, transform, target unit): ``area, pairing, source, target, transform,
    unit_id`` and the per-unit columns of :meth:`PredictivityResult.to_frame`."""
    frames = []
    for m in results:
        df = m.result.to_frame(units=m.unit_ids).rename(columns={"unit": "unit_id"})
        head = {"area": m.pair.area, "pairing": pairing, "source": m.pair.label,
                "target": m.pair.target, "transform": m.transform}  # fmt: skip
        for i, (k, v) in enumerate(head.items()):
            df.insert(i, k, v)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)
