"""IATC estimation: ground truth on simulated populations, selection logic, JSON, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neuroalign import ConfigError, DataError, NeuralData
from neuroalign.bootstrap import paired_bootstrap_median_ev
from neuroalign.data import make_population
from neuroalign.iatc import IATCResult, estimate_iatc
from neuroalign.reliability import columnwise_pearson
from neuroalign.transforms import Ridge

FAST = {"n_folds": 5, "n_draws": 3, "n_boot": 300, "show_progress": False}


@pytest.fixture(scope="module")
def softplus_result():
    # 3 simulated animals x 2 areas; units are softplus(gain * latent + offset) with Poisson noise
    pop = make_population(
        n_subjects=3, n_areas=2, units_per_subject=20, n_stimuli=200, n_repeats=10, seed=0
    )
    return pop, estimate_iatc(pop.data, ["one_to_one", "ridge", "zippering"], seed=0, **FAST)


def test_softplus_population_has_a_zippering_iatc(softplus_result):
    _, res = softplus_result
    acc = res.accuracy.set_index("transform")["median_ev"]
    # the class matching the generative nonlinearity is selected, the permutation is not
    assert "zippering" in res.selected
    assert "one_to_one" not in res.selected
    # the IATC paper's pattern: one-to-one far less predictive, ridge high but below zippering
    assert acc["one_to_one"] < acc["zippering"] - 25
    assert acc["ridge"] > 60
    assert acc["zippering"] > acc["ridge"]
    spec = res.specificity.set_index("transform")["silhouette"]
    assert spec["zippering"] > spec["ridge"] + 0.03
    assert spec["ridge"] > spec["one_to_one"]


def test_scores_table_and_json_round_trip(softplus_result, tmp_path):
    pop, res = softplus_result
    n_pairs = 2 * 3 * 2  # areas x ordered pairs of 3 subjects
    assert len(res.scores) == n_pairs * 20 * 3
    assert set(res.scores["transform"]) == {"one_to_one", "ridge", "zippering"}
    assert res.params["seed"] == 0 and res.params["n_draws"] == 3
    back = IATCResult.from_json(res.to_json(tmp_path / "iatc.json"))
    assert back.selected == res.selected and back.best == res.best
    pd.testing.assert_frame_equal(back.accuracy, res.accuracy)
    pd.testing.assert_frame_equal(back.scores, res.scores)
    assert back.transform().name == res.selected[0]


def test_same_seed_same_numbers():
    pop = make_population(n_subjects=2, n_areas=1, units_per_subject=12, n_stimuli=80, seed=3)
    kw = {**FAST, "n_boot": 50}
    a = estimate_iatc(pop.data, [Ridge(alphas=[0.5, 5.0]), "one_to_one"], seed=7, **kw)
    b = estimate_iatc(pop.data, [Ridge(alphas=[0.5, 5.0]), "one_to_one"], seed=7, **kw)
    pd.testing.assert_frame_equal(a.accuracy, b.accuracy)
    pd.testing.assert_frame_equal(a.scores, b.scores)
    # the selected class comes back with the parameters it was estimated with
    assert a.selected == ["ridge"]
    assert list(a.transform().alphas) == [0.5, 5.0]
    assert list(IATCResult.from_json(a.to_json()).transform().alphas) == [0.5, 5.0]


def test_pooled_pairing_maps_all_others_onto_each_subject():
    pop = make_population(n_subjects=3, n_areas=1, units_per_subject=12, n_stimuli=80, seed=1)
    res = estimate_iatc(pop.data, ["ridge"], pairing="pooled", **{**FAST, "n_boot": 20})
    pairs = res.scores[["source", "target"]].drop_duplicates()
    assert sorted(pairs["target"]) == ["S1", "S2", "S3"]
    assert set(pairs.loc[pairs["target"] == "S1", "source"]) == {"S2+S3"}


def test_bootstrap_without_resampling_reproduces_the_point_estimate():
    rng = np.random.default_rng(0)
    target = rng.normal(size=(40, 6))
    pred = target + rng.normal(size=(40, 6))
    rho_t, rho_p = np.full(6, 0.8), np.full(6, 0.9)
    boot = paired_bootstrap_median_ev(
        {"a": pred}, target, rho_t, {"a": rho_p}, np.arange(6), n_boot=400, seed=0
    )
    point = np.median(100 * columnwise_pearson(pred, target) ** 2 / (0.8 * 0.9))
    # the bootstrap distribution is centred on the point estimate
    assert abs(np.median(boot["a"]) - point) < 0.1 * point


def test_bad_input():
    pop = make_population(n_subjects=2, n_areas=1, units_per_subject=10, n_stimuli=60, seed=2)
    one = pop.data.select(subject="S1")
    with pytest.raises(DataError, match="at least 2 subjects"):
        estimate_iatc(one, ["ridge"], **FAST)
    uneven = pop.data.select(units=list(pop.data.unit_ids[:-1]))
    with pytest.raises(ConfigError, match="equal unit counts"):
        estimate_iatc(uneven, ["identity", "ridge"], **FAST)
    with pytest.raises(ConfigError, match="unknown transform"):
        estimate_iatc(pop.data, ["nope"], **FAST)
    with pytest.raises(ConfigError, match="pairing"):
        estimate_iatc(pop.data, ["ridge"], pairing="all", **FAST)
    s1 = pop.data.select(subject="S1")
    s2 = pop.data.select(subject="S2")
    s2 = NeuralData(s2.responses, [f"other{i}" for i in range(s2.n_stimuli)], s2.units)
    with pytest.raises(DataError, match="share no stimulus"):
        estimate_iatc([s1, s2], ["ridge"], **FAST)
