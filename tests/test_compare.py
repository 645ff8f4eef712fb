"""Bidirectional comparison: masquerade, the reverse-predictivity asymmetry, common/unique units."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neuroalign import DataError
from neuroalign.compare import ComparisonResult, compare
from neuroalign.data import make_population
from neuroalign.metrics.predictivity import default_transform, forward_ev, reverse_ev

FAST = {"n_folds": 5, "n_draws": 4, "show_progress": False}


@pytest.fixture(scope="module")
def comparison():
    pop = make_population(
        n_subjects=4, n_areas=1, units_per_subject=25, n_stimuli=240, n_repeats=10, seed=0
    )
    rng = np.random.default_rng(1)
    feats = pop.features("area1")
    models = {
        # a held-out animal from the same network, given with its repeats (a stochastic model)
        "heldout": pop.extra_subject("M", seed=5).data.responses,
        # the true features plus twice as many unrelated units of the same scale
        "true+random": np.hstack([feats, feats.std() * rng.normal(size=(240, 2 * feats.shape[1]))]),
        "true": feats,
        "random": rng.normal(size=(240, 300)),
    }
    return pop, compare(models, pop.data, default_transform(), seed=0, **FAST)


def _row(res, layer, direction):
    s = res.summary
    return s[(s["layer"] == layer) & (s["direction"] == direction)].iloc[0]


def test_heldout_subject_masquerades(comparison):
    _, res = comparison
    for direction in ("forward", "reverse"):
        row = _row(res, "heldout", direction)
        assert row["animal_min_ev"] <= row["model_median_ev"] <= row["animal_max_ev"]
        assert not row["distinguishable"]
        assert 0.8 < row["masquerade_ratio"] < 1.25


def test_unrelated_units_keep_forward_but_lose_reverse(comparison):
    _, res = comparison
    fwd = _row(res, "true+random", "forward")["model_median_ev"]
    rev = _row(res, "true+random", "reverse")["model_median_ev"]
    true_rev = _row(res, "true", "reverse")["model_median_ev"]
    assert fwd > 3 * rev
    assert rev < true_rev / 3
    assert _row(res, "true+random", "reverse")["distinguishable"]


def test_random_features_fail_both_directions(comparison):
    _, res = comparison
    for direction in ("forward", "reverse"):
        row = _row(res, "random", direction)
        assert row["masquerade_ratio"] < 0.2 and row["percentile"] == 0 and row["distinguishable"]


def test_common_units_are_the_true_ones(comparison):
    _, res = comparison
    units = res.units[res.units["layer"] == "true+random"]
    n_true = units.shape[0] // 3
    common = units.loc[units["category"] == "common", "model_unit"].to_numpy()
    unique = units.loc[units["category"] == "unique", "model_unit"].to_numpy()
    assert len(common) == pytest.approx(0.2 * len(units), abs=2)
    # nearly every common unit is a true feature, nearly every unique one an unrelated unit
    assert np.mean(common < n_true) > 0.9
    assert np.mean(unique >= n_true) > 0.9


def test_forward_table_matches_forward_ev_and_json_round_trip(comparison):
    pop, res = comparison
    direct = forward_ev(
        pop.features("area1"), pop.data, default_transform(), n_folds=5, n_draws=4, seed=0
    )
    fwd = res.forward[res.forward["layer"] == "true"]
    np.testing.assert_allclose(fwd["ev"].to_numpy(), direct.ev, rtol=1e-12, equal_nan=True)
    back = ComparisonResult.from_json(res.to_json())
    pd.testing.assert_frame_equal(back.summary, res.summary)
    pd.testing.assert_frame_equal(back.reverse, res.reverse)


def test_both_directions_stand_beside_their_null(comparison):
    """Forward: the layer's null EV; reverse: the median over subjects of each subject's reverse
    null EV, computed here with reverse_ev."""
    pop, res = comparison
    feats = pop.features("area1")
    nulls = [
        reverse_ev(pop.data.select(subject=s), feats, default_transform(), n_folds=5, n_draws=4,
                   seed=0).summary()["null_ev"]
        for s in pop.data.subjects
    ]  # fmt: skip
    row = _row(res, "true", "reverse")
    assert row["null_ev"] == pytest.approx(np.median(nulls), rel=1e-12)
    assert row["null_ev"] < 5 < row["model_median_ev"]  # row-shuffled features explain ~nothing
    fwd = _row(res, "true", "forward")
    assert np.isfinite(fwd["null_ev"]) and fwd["null_ev"] < 5 < fwd["model_median_ev"]


def test_without_a_null_the_verdict_rests_on_the_rest(comparison):
    pop, res = comparison
    heldout = {"heldout": pop.extra_subject("M", seed=5).data.responses}
    bare = compare(heldout, pop.data, default_transform(), seed=0, n_null=0, **FAST)
    rows = bare.summary.set_index("direction")
    assert rows["above_null"].isna().all() and rows["p_null"].isna().all()  # unknown, not False
    assert rows["masquerades"].all() == _row(res, "heldout", "forward")["masquerades"]


def test_rows_must_match_stimuli():
    pop = make_population(n_subjects=2, n_areas=1, units_per_subject=8, n_stimuli=60, seed=4)
    with pytest.raises(DataError, match="60 stimuli"):
        compare(np.ones((59, 5)), pop.data, "ridge", **FAST)
    # one subject: the model's scores alone, no animal baseline (said so in params and summary)
    one = compare(pop.features(pop.areas[0]), pop.data.select(subject="S1"), "ridge", **FAST)
    assert one.params["baseline"] is False and one.animals.empty
    assert one.summary["animal_median_ev"].isna().all() and not one.summary["masquerades"].any()
    assert (one.summary["model_median_ev"] > 0).all()


def test_constant_model_unit_is_invalid_not_a_warning():
    pop = make_population(n_subjects=2, n_areas=1, units_per_subject=8, n_stimuli=60, seed=4)
    feats = pop.features(pop.areas[0])[:, :6].copy()
    feats[:, 2] = 1.5  # a dead unit: no reverse EV in any subject
    res = compare(feats, pop.data, "ridge", **FAST)  # RuntimeWarnings are errors in the suite
    units = res.units.set_index("model_unit")
    assert np.isnan(units.loc[2, "mean_reverse_ev"]) and units.loc[2, "category"] == "invalid"
    assert np.isfinite(units.drop(index=2)["mean_reverse_ev"]).all()
