"""Layer commitment: pick each brain area's best model layer on training stimuli only, then report
its score on held-out stimuli.

The stimuli are split once (seeded) into train and test. For every layer, the selection score is
the mean of ``scorer`` over ``n_folds`` cross-validation folds *inside the training stimuli*; the
committed layer is the best of these (the earliest layer wins ties). Its reported score fits on
all training stimuli and scores the test stimuli, which never influenced the choice. Held-out
scores of the other layers are returned for plotting only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from neuroalign._core.errors import ConfigError, DataError
from neuroalign._core.validation import check_seed
from neuroalign.data.neural_data import NeuralData
from neuroalign.models.activations import Activations

__all__ = ["Scorer", "LayerCommitment", "Commitment", "commit_layers"]

Scorer = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], float]
"""``scorer(features_train, responses_train, features_test, responses_test) -> float``."""


@dataclass(frozen=True)
class LayerCommitment:
    """One area's committed layer.

    ``train_curve[layer]``: mean inner-CV score on training stimuli (the selection criterion);
    ``test_curve[layer]``: held-out score of every layer (for plots; never used to select);
    ``test_score``: held-out score of the committed ``layer``.
    """

    area: str
    layer: str
    test_score: float
    train_curve: dict[str, float]
    test_curve: dict[str, float]
    train_ids: tuple[str, ...]
    test_ids: tuple[str, ...]
    seed: int | None
    n_folds: int | None  # None: selection_scorer chose the layer


@dataclass(frozen=True)
class Commitment:
    """Committed layer per area (``results[area]``)."""

    results: dict[str, LayerCommitment]

    @property
    def layers(self) -> dict[str, str]:
        """Area → committed layer."""
        return {a: r.layer for a, r in self.results.items()}

    def to_frame(self) -> pd.DataFrame:
        """Long table: area, layer, split (``train_cv`` / ``test``), score, committed."""
        rows = [
            {"area": a, "layer": layer, "split": split, "score": s, "committed": layer == r.layer}
            for a, r in self.results.items()
            for split, curve in (("train_cv", r.train_curve), ("test", r.test_curve))
            for layer, s in curve.items()
        ]
        return pd.DataFrame(rows)


def _responses_by_area(responses, repeats: str) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """Area → array with stimuli on axis 0, and the stimulus ids when known."""
    if repeats not in ("mean", "keep"):
        raise ConfigError(f"repeats must be 'mean' or 'keep', got {repeats!r}.")
    if isinstance(responses, NeuralData):
        out = {}
        for area in responses.areas:
            sub = responses.select(area=area)
            out[area] = sub.mean() if repeats == "mean" else sub.responses
        return out, responses.stimulus_ids
    if isinstance(responses, Mapping):
        return {str(a): np.asarray(r) for a, r in responses.items()}, None
    return {"all": np.asarray(responses)}, None


def _split(n: int, ids, split, test_fraction: float, rng) -> tuple[np.ndarray, np.ndarray]:
    if split is not None:
        train, test = (np.asarray(s) for s in split)
        pos = {s: i for i, s in enumerate(ids)}
        idx = []
        for part in (train, test):
            if part.dtype.kind in "iu":
                idx.append(part.astype(np.int64))
            else:
                missing = [s for s in part if str(s) not in pos]
                if missing:
                    raise DataError(f"split names unknown stimulus ids, e.g. {missing[:3]}.")
                idx.append(np.array([pos[str(s)] for s in part], dtype=np.int64))
        train, test = idx
        if np.intersect1d(train, test).size:
            raise DataError("train and test stimuli overlap; a held-out score needs disjoint sets.")
        return train, test
    if not 0 < test_fraction < 1:
        raise ConfigError(f"test_fraction must lie in (0, 1), got {test_fraction}.")
    perm = rng.permutation(n)
    n_test = max(1, int(round(test_fraction * n)))
    return np.sort(perm[n_test:]), np.sort(perm[:n_test])


def _score(scorer, Xtr, Ytr, Xte, Yte, layer, area) -> float:
    s = scorer(Xtr, Ytr, Xte, Yte)
    try:
        s = float(s)
    except (TypeError, ValueError):
        raise ConfigError(f"scorer must return a float, got {type(s).__name__}.") from None
    if not np.isfinite(s):
        raise DataError(
            f"scorer returned {s} for layer {layer!r}, area {area!r}; check for constant "
            "responses or features in a fold (no NaN score is passed on silently)."
        )
    return s


def commit_layers(
    activations: Activations | Mapping[str, np.ndarray],
    responses,
    scorer: Scorer,
    *,
    seed: int | np.random.Generator,
    test_fraction: float = 0.2,
    n_folds: int = 5,
    split=None,
    repeats: str = "mean",
    selection_scorer: Callable[[np.ndarray, np.ndarray], float] | None = None,
) -> Commitment:
    """Commit each area to the model layer that best predicts it on training stimuli.

    Parameters
    ----------
    activations : :class:`Activations` or mapping layer → ``(n_stimuli, n_features)``
    responses : :class:`NeuralData` (areas from its unit table; stimuli aligned by id), a mapping
        area → array with stimuli on axis 0, or one such array (area ``"all"``).
    scorer : ``scorer(features_train, responses_train, features_test, responses_test) -> float``,
        e.g. a wrapper around ``neuroalign.metrics.predictivity.forward_ev``; higher is better.
    seed : seeds the train/test split and the inner folds (recorded in the result).
    test_fraction : share of stimuli held out (ignored when ``split`` is given).
    n_folds : inner cross-validation folds over the training stimuli for the selection score.
    split : optional ``(train, test)`` stimulus ids or row indices, instead of a random split.
    repeats : for NeuralData, ``"mean"`` passes trial means ``(n, units)``, ``"keep"`` passes
        ``(n, units, repeats)`` with NaN for missing repeats.
    selection_scorer : optional ``f(features_train, responses_train) -> float`` that replaces the
        inner folds as the selection criterion; it sees only training stimuli and must
        cross-validate within them itself (e.g. the median of ``forward_ev(...).ev``).
    """
    if not callable(scorer):
        raise ConfigError(
            "scorer must be callable (features_train, responses_train, features_test, responses_test)."
        )
    if not isinstance(n_folds, int) or n_folds < 2:
        raise ConfigError(f"n_folds must be an int >= 2, got {n_folds!r}.")
    rng = check_seed(seed)
    seed_record = int(seed) if isinstance(seed, int | np.integer) else None
    by_area, neural_ids = _responses_by_area(responses, repeats)
    act_ids = getattr(activations, "stimulus_ids", None)
    if neural_ids is not None:
        if act_ids is None:
            raise DataError(
                "NeuralData responses need Activations with stimulus ids to align rows."
            )
        activations = activations.select(neural_ids)
        act_ids = activations.stimulus_ids
    layers = list(activations)
    if not layers:
        raise DataError("no layers in the activations.")
    n = np.asarray(activations[layers[0]]).shape[0]
    for name in layers:
        if np.asarray(activations[name]).shape[0] != n:
            raise DataError(f"layer {name!r} has a different number of stimuli than {layers[0]!r}.")
    for area, r in by_area.items():
        if r.shape[0] != n:
            raise DataError(
                f"responses of area {area!r} have {r.shape[0]} stimuli, activations {n}."
            )
    ids = np.asarray(act_ids if act_ids is not None else [str(i) for i in range(n)], dtype=object)
    train, test = _split(n, ids, split, test_fraction, rng)
    if len(train) < 2 * n_folds:
        raise DataError(
            f"{len(train)} training stimuli are too few for {n_folds} inner folds; lower n_folds "
            "or test_fraction."
        )
    folds = np.array_split(rng.permutation(train), n_folds)

    results = {}
    for area, R in by_area.items():
        train_curve, test_curve = {}, {}
        for layer in layers:
            X = np.asarray(activations[layer])
            if selection_scorer is not None:
                train_curve[layer] = _score(
                    lambda a, b, _c, _d: selection_scorer(a, b),
                    X[train],
                    R[train],
                    None,
                    None,
                    layer,
                    area,
                )
            else:
                cv = [
                    _score(
                        scorer,
                        X[np.setdiff1d(train, f)],
                        R[np.setdiff1d(train, f)],
                        X[np.sort(f)],
                        R[np.sort(f)],
                        layer,
                        area,
                    )
                    for f in folds
                ]
                train_curve[layer] = float(np.mean(cv))
            test_curve[layer] = _score(scorer, X[train], R[train], X[test], R[test], layer, area)
        best = max(layers, key=lambda name: (train_curve[name], -layers.index(name)))
        results[area] = LayerCommitment(
            area=area,
            layer=best,
            test_score=test_curve[best],
            train_curve=train_curve,
            test_curve=test_curve,
            train_ids=tuple(ids[train]),
            test_ids=tuple(ids[test]),
            seed=seed_record,
            n_folds=n_folds if selection_scorer is None else None,
        )
    return Commitment(results)
