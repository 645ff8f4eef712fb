"""Synthetic populations: structure, reproducibility and the ground truth they promise."""

import numpy as np
import pytest
from scipy import stats

from neuroalign.data.synthetic import make_population
from neuroalign.errors import ConfigError, DataError
from neuroalign.reliability import split_half_reliability

SMALL = dict(
    n_subjects=3, n_areas=2, units_per_subject=20, n_stimuli=120, n_repeats=6, latent_dim=8
)


@pytest.fixture(scope="module")
def small():
    return make_population(**SMALL, seed=0)


@pytest.fixture(scope="module")
def one_area():
    # 2 subjects × 1 area × 40 units, 400 stimuli, 10 repeats (the default per-area design)
    return make_population(n_subjects=2, n_areas=1, n_stimuli=400, seed=1)


def test_shapes_and_columns(small):
    d, t = small.data, small.truth
    assert d.responses.shape == (120, 3 * 2 * 20, 6)
    assert list(d.units.columns) == ["unit_id", "subject", "area", "latent_unit", "gain", "offset"]
    assert d.subjects == ["S1", "S2", "S3"] and d.areas == ["area1", "area2"]
    assert d.units.groupby(["subject", "area"]).size().eq(20).all()
    # counts are non-negative integers
    assert np.all(d.responses >= 0) and np.array_equal(d.responses, np.round(d.responses))
    imgs = small.stimuli.images()
    assert imgs.shape == (120, 64, 64, 3) and imgs.dtype == np.uint8
    assert np.array_equal(small.stimuli.ids, d.stimulus_ids)
    assert set(small.stimuli.metadata["source"]) <= set(d.metadata["images"])
    assert small.features("area1").shape == (120, 3600)
    assert small.features("area2").shape == (120, 1152)
    assert t.rates.shape == (120, 120) and t.reliability.shape == (120,)
    assert t.params["n_latent"] == 60 and t.seed == 0


def test_truth_is_consistent(small):
    t, units = small.truth, small.data.units
    for area in small.areas:
        z = t.latents[area]
        assert z.shape == (120, 60)
        np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-10)
        np.testing.assert_allclose(z.std(axis=0), 1, atol=1e-10)
        assert np.linalg.matrix_rank(z) == 8  # latent_dim
        np.testing.assert_allclose(
            z, (small.features(area) - t.feature_mean[area]) @ t.readout[area]
        )
    # rates written out plainly from the unit table: softplus(gain * z + offset)
    for j in [0, 25, 119]:
        u = units.iloc[j]
        pre = u["gain"] * t.latents[u["area"]][:, u["latent_unit"]] + u["offset"]
        np.testing.assert_allclose(t.rates[:, j], np.log1p(np.exp(pre)), rtol=1e-12)
    lam = t.rates
    np.testing.assert_allclose(
        t.reliability, lam.var(axis=0) / (lam.var(axis=0) + lam.mean(axis=0) / 6)
    )
    mask = (units["subject"] == "S2") & (units["area"] == "area2")
    np.testing.assert_array_equal(small.subject_rates("S2", "area2"), t.rates[:, mask.to_numpy()])
    # the population's response function reproduces the truth on its own stimuli
    np.testing.assert_allclose(small.respond(small.inputs), t.rates, rtol=1e-9, atol=1e-12)


def test_reproducible_bit_for_bit():
    for drive in ("images", "random"):
        a = make_population(**SMALL, drive=drive, seed=5)
        b = make_population(**SMALL, drive=drive, seed=5)
        c = make_population(**SMALL, drive=drive, seed=6)
        assert a.data == b.data
        assert np.array_equal(a.truth.rates, b.truth.rates)
        assert np.array_equal(a.inputs, b.inputs)
        assert not np.array_equal(a.data.responses, c.data.responses)
        assert not np.array_equal(a.truth.rates, c.truth.rates)
    # more repeats: same stimuli, network and rates (separate random streams), other counts
    base = make_population(**SMALL, seed=5)
    more = make_population(**{**SMALL, "n_repeats": 8}, seed=5)
    assert np.array_equal(more.truth.rates, base.truth.rates)
    assert np.array_equal(more.data.stimulus_ids, base.data.stimulus_ids)


def test_random_drive():
    p = make_population(**SMALL, drive="random", seed=0)
    assert not p.stimuli.has_images and len(p.stimuli) == 120
    assert p.inputs.shape == (120, 128)
    assert [p.features(a).shape[1] for a in p.areas] == [512, 256]


def test_empirical_reliability_matches_analytic_truth(one_area):
    est = split_half_reliability(one_area.data, n_splits=20, seed=0)
    truth = one_area.truth.reliability
    assert truth.min() < 0.7 < truth.max()  # a spread of reliabilities, not all at the ceiling
    assert np.mean(np.abs(est - truth)) < 0.03
    assert np.max(np.abs(est - truth)) < 0.15
    assert stats.pearsonr(est, truth)[0] > 0.95


def test_subjects_relate_by_zippering_not_permutation(one_area):
    t, units = one_area.truth, one_area.data.units
    rates_a = one_area.subject_rates("S1")
    rates_b = one_area.subject_rates("S2")
    b = units[units["subject"] == "S2"]
    pre_b = b["gain"].to_numpy() * t.latents["area1"][:, b["latent_unit"]] + b["offset"].to_numpy()
    # inverse softplus of A's rates, plus an intercept, predicts B's pre-activations linearly
    x = np.column_stack([np.log(np.expm1(rates_a)), np.ones(len(rates_a))])
    coef, *_ = np.linalg.lstsq(x, pre_b, rcond=None)
    resid = pre_b - x @ coef
    r2 = 1 - (resid**2).sum(axis=0) / ((pre_b - pre_b.mean(axis=0)) ** 2).sum(axis=0)
    assert r2.min() > 0.99
    # ... and softplus of that prediction is B's rates: the zippering transform
    np.testing.assert_allclose(np.log1p(np.exp(x @ coef)), rates_b, atol=1e-6)
    # but most of B's units have no counterpart in A (a permutation cannot map them)
    rho = np.abs(stats.spearmanr(rates_a, rates_b).statistic[:40, 40:])
    assert np.mean(rho.max(axis=0) < 0.95) > 0.5


def test_relu_has_exact_zeros_softplus_is_positive():
    soft = make_population(**SMALL, nonlinearity="softplus", seed=2)
    relu = make_population(**SMALL, nonlinearity="relu", seed=2)
    assert soft.truth.rates.min() > 0
    assert np.mean(relu.truth.rates == 0) > 0.05
    assert np.all((relu.truth.rates > 0).mean(axis=0) >= 0.1)  # no dead unit
    # same units, only σ differs: relu(pre) where pre > 0 and softplus(pre) > relu(pre)
    assert soft.data.units.equals(relu.data.units)
    assert np.all(soft.truth.rates > relu.truth.rates)
    pre = np.log(np.expm1(soft.truth.rates))
    np.testing.assert_allclose(relu.truth.rates, np.maximum(pre, 0), atol=1e-9)
    assert split_half_reliability(relu.data, n_splits=2).shape == (120,)


def test_extra_subject(small):
    extra = small.extra_subject("model", seed=9)
    again = small.extra_subject("model", seed=9)
    assert extra.data == again.data
    assert extra.data.subjects == ["model"] and extra.data.areas == ["area1", "area2"]
    assert np.array_equal(extra.data.stimulus_ids, small.data.stimulus_ids)
    assert extra.data.responses.shape == (120, 40, 6)
    assert extra.truth.latents is small.truth.latents
    u = extra.data.units.iloc[30]
    pre = u["gain"] * small.truth.latents[u["area"]][:, u["latent_unit"]] + u["offset"]
    np.testing.assert_allclose(extra.truth.rates[:, 30], np.log1p(np.exp(pre)), rtol=1e-12)
    other = small.extra_subject("model", seed=10, units_per_subject=5, n_repeats=3)
    assert other.data.responses.shape == (120, 10, 3)
    with pytest.raises(ConfigError, match="already exists"):
        small.extra_subject("S1", seed=0)


def test_bad_parameters():
    with pytest.raises(ConfigError, match="n_areas"):
        make_population(**{**SMALL, "n_areas": 5})
    with pytest.raises(ConfigError, match="drive"):
        make_population(drive="video")
    with pytest.raises(ConfigError, match="nonlinearity"):
        make_population(nonlinearity="tanh")
    with pytest.raises(ConfigError, match="n_latent"):
        make_population(**SMALL, n_latent=10)
    with pytest.raises(ConfigError, match="n_stimuli"):
        make_population(**{**SMALL, "n_stimuli": 8})
    with pytest.raises(ConfigError, match="seed"):
        make_population(seed=None)
    p = make_population(**SMALL, drive="random", seed=0)
    with pytest.raises(DataError, match="unknown area"):
        p.features("V1")
    with pytest.raises(DataError, match="unknown subject"):
        p.subject_rates("S9")
