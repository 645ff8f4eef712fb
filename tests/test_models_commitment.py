"""Layer commitment: selection on training stimuli only, held-out report (sklearn Ridge scorer)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score

from neuroalign.data import NeuralData
from neuroalign.errors import ConfigError, DataError
from neuroalign.models import Activations, commit_layers


def ridge_r2(Xtr, Ytr, Xte, Yte) -> float:
    """Reference scorer: ridge fit on train, mean R² over units on test."""
    pred = Ridge(alpha=1.0).fit(Xtr, Ytr).predict(Xte)
    return float(r2_score(Yte, pred, multioutput="uniform_average"))


def _world(n=120, seed=0):
    """Three layers of random features; area V1 reads layer 'early', area IT reads 'late'."""
    rng = np.random.default_rng(seed)
    layers = {name: rng.standard_normal((n, 15)) for name in ("early", "mid", "late")}
    ids = [f"s{i}" for i in range(n)]
    W = rng.standard_normal((15, 6))
    v1 = layers["early"] @ W + 0.5 * rng.standard_normal((n, 6))
    it = layers["late"] @ W + 0.5 * rng.standard_normal((n, 6))
    return Activations(layers, ids), {"V1": v1, "IT": it}, ids


def test_commits_the_generating_layer_and_reports_held_out_score():
    acts, resp, ids = _world()
    res = commit_layers(acts, resp, ridge_r2, seed=1)
    assert res.layers == {"V1": "early", "IT": "late"}
    it = res.results["IT"]
    train = [ids.index(s) for s in it.train_ids]
    test = [ids.index(s) for s in it.test_ids]
    assert len(test) == 24 and not set(train) & set(test) and len(train) + len(test) == 120
    X = acts["late"]
    expect = ridge_r2(X[train], resp["IT"][train], X[test], resp["IT"][test])
    assert it.test_score == pytest.approx(expect, rel=1e-12)
    assert it.test_score > 0.7 and it.test_curve["early"] < 0.1
    assert it.train_curve["late"] == max(it.train_curve.values())
    # same seed, same split and scores; another seed, another split
    again = commit_layers(acts, resp, ridge_r2, seed=1).results["IT"]
    assert again.test_ids == it.test_ids and again.train_curve == it.train_curve
    assert commit_layers(acts, resp, ridge_r2, seed=2).results["IT"].test_ids != it.test_ids
    frame = res.to_frame()
    assert set(frame["split"]) == {"train_cv", "test"} and frame["committed"].sum() == 4


def test_selection_never_sees_test_stimuli():
    acts, resp, ids = _world()
    # tag each stimulus row: column 0 of every layer is the stimulus index
    tagged = Activations({k: np.column_stack([np.arange(120.0), v]) for k, v in acts.items()}, ids)
    seen_train, seen_eval = [], []

    def spy(Xtr, Ytr, Xte, Yte):
        seen_train.append(set(Xtr[:, 0].astype(int)))
        seen_eval.append(set(Xte[:, 0].astype(int)))
        return ridge_r2(Xtr[:, 1:], Ytr, Xte[:, 1:], Yte)

    res = commit_layers(tagged, {"IT": resp["IT"]}, spy, seed=3, n_folds=4).results["IT"]
    test = {ids.index(s) for s in res.test_ids}
    # per layer: 4 inner folds (selection) + 1 held-out call (report)
    selection = [i for i in range(len(seen_eval)) if i % 5 != 4]
    for i in selection:
        assert not (seen_train[i] | seen_eval[i]) & test
    for i in range(4, len(seen_eval), 5):
        assert seen_eval[i] == test and not seen_train[i] & test


def test_selection_scorer_replaces_inner_folds_and_sees_training_stimuli_only():
    from sklearn.model_selection import cross_val_score

    acts, resp, ids = _world()
    tagged = Activations({k: np.column_stack([np.arange(120.0), v]) for k, v in acts.items()}, ids)
    seen = []

    def cv_r2(X, R):
        seen.append(set(X[:, 0].astype(int)))
        return cross_val_score(Ridge(alpha=1.0), X[:, 1:], R, cv=5, scoring="r2").mean()

    def held_out(Xtr, Ytr, Xte, Yte):
        return ridge_r2(Xtr[:, 1:], Ytr, Xte[:, 1:], Yte)

    res = commit_layers(tagged, resp, held_out, seed=4, selection_scorer=cv_r2)
    assert res.layers == {"V1": "early", "IT": "late"}
    test = {ids.index(s) for s in res.results["IT"].test_ids}
    assert len(seen) == 6 and all(not s & test and len(s) == 96 for s in seen)
    assert res.results["IT"].n_folds is None


def test_neural_data_areas_aligned_by_stimulus_id():
    acts, resp, ids = _world()
    order = np.random.default_rng(0).permutation(120)
    units = pd.DataFrame(
        {"unit_id": [f"u{i}" for i in range(12)], "subject": "m1", "area": ["V1"] * 6 + ["IT"] * 6}
    )
    r = np.concatenate([resp["V1"], resp["IT"]], axis=1)[order]
    reps = np.stack([r + 0.1, r - 0.1], axis=2)  # two repeats whose mean is r
    nd = NeuralData(reps, [ids[i] for i in order], units)
    res = commit_layers(acts, nd, ridge_r2, seed=0)
    assert res.layers == {"V1": "early", "IT": "late"}

    shapes = []

    def keep(Xtr, Ytr, Xte, Yte):
        shapes.append(Ytr.shape[1:])
        return ridge_r2(Xtr, Ytr.mean(axis=2), Xte, Yte.mean(axis=2))

    assert commit_layers(acts, nd, keep, seed=0, repeats="keep").layers["IT"] == "late"
    assert set(shapes) == {(6, 2)}


def test_explicit_split_and_errors():
    acts, resp, ids = _world()
    res = commit_layers(acts, resp, ridge_r2, seed=0, split=(ids[:90], ids[90:]))
    assert res.results["V1"].test_ids == tuple(ids[90:])
    with pytest.raises(DataError, match="overlap"):
        commit_layers(acts, resp, ridge_r2, seed=0, split=(ids[:90], ids[80:]))
    with pytest.raises(DataError, match="returned nan"):
        commit_layers(acts, resp, lambda *a: float("nan"), seed=0)
    with pytest.raises(DataError, match="seed is required"):
        commit_layers(acts, resp, ridge_r2, seed=None)
    with pytest.raises(DataError, match="too few"):
        commit_layers(acts, resp, ridge_r2, seed=0, split=(ids[:6], ids[6:]))
    with pytest.raises(ConfigError, match="n_folds"):
        commit_layers(acts, resp, ridge_r2, seed=0, n_folds=1)
    with pytest.raises(DataError, match="stimuli"):
        commit_layers(acts, {"IT": resp["IT"][:50]}, ridge_r2, seed=0)
