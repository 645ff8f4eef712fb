"""Split-half reliability against brute-force enumeration, closed forms and scipy."""

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from neuroalign.data import NeuralData, split_half_means
from neuroalign.errors import ConfigError, DataError
from neuroalign.reliability import (
    noise_corrected_correlation,
    odd_even_reliability,
    reliability_table,
    split_half_reliability,
    summarize,
)


def _tiny():
    """5 stimuli × 2 units × 4 repeats; unit 1 misses one repeat at stimulus 2, unit 0 has 5 slots."""
    rng = np.random.default_rng(7)
    x = rng.poisson(3.0, size=(5, 2, 5)).astype(float) + np.arange(5)[:, None, None]
    x[:, :, 4] = np.nan  # 4 repeats everywhere ...
    x[1, 0, 4] = 9.0  # ... but 5 for unit 0 at stimulus 1 (odd count: halves of 2 and 3)
    x[2, 1, 3] = np.nan  # ... and 3 for unit 1 at stimulus 2
    return x


def _brute_force_mean_sb(values):
    """Mean of SB(r) over every split, written plainly: ``values`` is a list over stimuli of the
    unit's valid repeats; half A takes every subset of size n // 2, half B the rest."""
    per_stim = []
    for v in values:
        n = len(v)
        halves = []
        for a in itertools.combinations(range(n), n // 2):
            b = [i for i in range(n) if i not in a]
            halves.append((np.mean([v[i] for i in a]), np.mean([v[i] for i in b])))
        per_stim.append(halves)
    sbs = []
    for combo in itertools.product(*per_stim):
        ma = [c[0] for c in combo]
        mb = [c[1] for c in combo]
        r = np.corrcoef(ma, mb)[0, 1]
        sbs.append(2 * r / (1 + r))
    return np.mean(sbs), np.std(sbs), len(sbs)


def test_exact_enumeration_matches_brute_force_and_random_splits_converge():
    x = _tiny()
    exact = split_half_reliability(x, n_splits="all")
    for u in range(2):
        values = [x[s, u][~np.isnan(x[s, u])].tolist() for s in range(5)]
        mean, sd, n_splits = _brute_force_mean_sb(values)
        assert n_splits == (6**4 * 10 if u == 0 else 6**4 * 3)
        assert exact[u] == pytest.approx(mean, abs=1e-12)
        # random splits: unbiased for the same mean, within 4 Monte-Carlo standard errors
        for shared in (True, False):
            est = split_half_reliability(x, n_splits=3000, seed=1, shared_across_units=shared)
            assert abs(est[u] - mean) < 4 * sd / np.sqrt(3000)


def test_exact_enumeration_refuses_huge_problems():
    x = np.random.default_rng(0).normal(size=(12, 2, 8))
    with pytest.raises(ConfigError, match="integer n_splits"):
        split_half_reliability(x, n_splits="all")


@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_matches_scipy_split_by_split(method):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 1, 1)) + rng.normal(size=(30, 4, 6))
    x[3, 2, 5] = np.nan
    corr = stats.spearmanr if method == "spearman" else stats.pearsonr
    draws = np.random.default_rng(3)  # the seed's generator, consumed one split after another
    expected = np.zeros(4)
    for _ in range(3):
        a, b = split_half_means(x, draws)
        r = np.array([corr(a[:, u], b[:, u])[0] for u in range(4)])
        expected += 2 * r / (1 + r) / 3
    got = split_half_reliability(x, n_splits=3, seed=3, method=method)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_converges_to_signal_over_signal_plus_noise():
    # trial mean reliability = var_signal / (var_signal + var_noise / n_repeats)
    rng = np.random.default_rng(11)
    n_stim, n_rep, per_level = 2000, 4, 10
    noise_sd = np.repeat([2.0, 1.0, 0.5], per_level)  # truths 0.5, 0.8, 0.941
    signal = rng.normal(size=(n_stim, noise_sd.size))
    x = signal[:, :, None] + noise_sd[None, :, None] * rng.normal(
        size=(n_stim, noise_sd.size, n_rep)
    )
    truth = 1.0 / (1.0 + noise_sd**2 / n_rep)
    rel = split_half_reliability(x, n_splits=20, seed=0)
    level_mean = rel.reshape(3, per_level).mean(axis=1)
    np.testing.assert_allclose(level_mean, truth[::per_level], atol=0.02)
    assert np.all(np.abs(rel - truth) < 0.07)
    # odd/even: one split, same target
    oe = odd_even_reliability(x).reshape(3, per_level).mean(axis=1)
    np.testing.assert_allclose(oe, truth[::per_level], atol=0.02)


def test_odd_even_split_by_repeat_order():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(8, 3, 1)) + rng.normal(size=(8, 3, 5))
    x[0, 1, 0] = np.nan  # valid order at (0, 1): slots 1, 2, 3, 4 -> A = {1, 3}, B = {2, 4}
    x[4, 2, 2] = np.nan  # valid order at (4, 2): slots 0, 1, 3, 4 -> A = {0, 3}, B = {1, 4}
    a = np.empty((8, 3))
    b = np.empty((8, 3))
    for s in range(8):
        for u in range(3):
            valid = [v for v in x[s, u] if not np.isnan(v)]
            a[s, u] = np.mean(valid[0::2])
            b[s, u] = np.mean(valid[1::2])
    assert a[0, 1] == pytest.approx((x[0, 1, 1] + x[0, 1, 3]) / 2)
    assert b[4, 2] == pytest.approx((x[4, 2, 1] + x[4, 2, 4]) / 2)
    for method, corr in (("pearson", stats.pearsonr), ("spearman", stats.spearmanr)):
        r = np.array([corr(a[:, u], b[:, u])[0] for u in range(3)])
        np.testing.assert_allclose(odd_even_reliability(x, method), 2 * r / (1 + r), atol=1e-12)


def test_seeded_and_accepts_neural_data():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(20, 1, 1)) + rng.normal(size=(20, 3, 4))
    units = pd.DataFrame({"unit_id": ["a", "b", "c"], "subject": "m1", "area": "V1"})
    data = NeuralData(x, [f"s{i}" for i in range(20)], units)
    r1 = split_half_reliability(data, seed=4)
    assert np.array_equal(r1, split_half_reliability(x, seed=4))
    assert np.array_equal(r1, split_half_reliability(x, seed=np.random.default_rng(4)))
    assert not np.array_equal(r1, split_half_reliability(x, seed=5))
    assert split_half_reliability(x, n_splits=1, seed=0).shape == (3,)


def test_bad_input_raises():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10, 3, 4))
    with pytest.raises(DataError, match="too few repeats"):
        split_half_reliability(x[:, :, :1])
    nan_unit = x.copy()
    nan_unit[:, 1] = np.nan
    with pytest.raises(DataError, match="too few repeats"):
        split_half_reliability(nan_unit)
    with pytest.raises(DataError, match="too few repeats"):
        odd_even_reliability(nan_unit)
    flat = x.copy()
    flat[:, 2] = 1.5
    with pytest.raises(DataError, match="unit index 2"):
        split_half_reliability(flat)
    with pytest.raises(DataError, match="unit index 2"):
        split_half_reliability(flat, n_splits="all")
    with pytest.raises(DataError, match="unit index 2"):
        odd_even_reliability(flat)
    units = pd.DataFrame({"unit_id": ["a", "b", "c"], "subject": "m", "area": "V1"})
    with pytest.raises(DataError, match="unit 'c'"):
        split_half_reliability(NeuralData(flat, [str(i) for i in range(10)], units))
    sparse = np.zeros((10, 1, 2))  # trial mean varies, but one half is always 0 -> undefined
    sparse[3, 0, 0] = 1.0
    with pytest.raises(DataError, match="constant half-mean"):
        split_half_reliability(sparse, n_splits=5)
    for bad in (x[:, :, 0], x[..., None]):
        with pytest.raises(DataError, match="n_stimuli, n_units, n_repeats"):
            split_half_reliability(bad)
    with pytest.raises(DataError, match="at least 3 stimuli"):
        split_half_reliability(x[:2])
    with pytest.raises(ConfigError, match="n_splits"):
        split_half_reliability(x, n_splits=0)
    with pytest.raises(ConfigError, match="method"):
        split_half_reliability(x, method="kendall")
    with pytest.raises(DataError, match="seed"):
        split_half_reliability(x, seed=None)


def test_noise_corrected_correlation_recovers_true_correlation():
    # two units share one signal (true correlation 1) with different noise levels
    rng = np.random.default_rng(3)
    signal = rng.normal(size=(3000, 1, 1))
    x = signal + np.array([1.0, 2.0])[None, :, None] * rng.normal(size=(3000, 2, 6))
    rel = split_half_reliability(x, n_splits=20, seed=0)
    mean = x.mean(axis=2)
    r = np.corrcoef(mean[:, 0], mean[:, 1])[0, 1]
    assert r < 0.8
    assert noise_corrected_correlation(r, rel[0], rel[1]) == pytest.approx(1.0, abs=0.03)
    np.testing.assert_allclose(
        noise_corrected_correlation([0.3, 0.4], [0.9, 0.5], 0.4), [0.3 / 0.6, 0.4 / np.sqrt(0.2)]
    )
    with pytest.raises(DataError, match="reliability_b"):
        noise_corrected_correlation(0.3, 0.5, [0.2, -0.1])
    with pytest.raises(DataError, match="reliability_a"):
        noise_corrected_correlation(0.3, np.nan, 0.5)


def test_reliability_table_and_summary():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(15, 1, 1)) + rng.normal(size=(15, 4, 6))
    x[0, 3, 4:] = np.nan
    x[1, 3, 5] = np.nan
    units = pd.DataFrame(
        {"unit_id": list("abcd"), "subject": ["m1", "m1", "m2", "m2"], "area": "IT", "depth": 1.0}
    )
    data = NeuralData(x, [f"s{i}" for i in range(15)], units)
    table = reliability_table(data, n_splits=5, seed=2)
    assert list(table.columns) == [
        "unit_id", "subject", "area", "reliability", "n_valid_min", "n_valid_median",
    ]  # fmt: skip
    np.testing.assert_array_equal(table["reliability"], split_half_reliability(data, 5, 2))
    assert table["n_valid_min"].tolist() == [6, 6, 6, 4]
    assert table["n_valid_median"].tolist() == [6.0, 6.0, 6.0, 6.0]
    assert table.attrs["seed"] == 2 and table.attrs["n_splits"] == 5
    oe = reliability_table(data, split="odd_even", method="spearman")
    np.testing.assert_array_equal(oe["reliability"], odd_even_reliability(data, "spearman"))
    with pytest.raises(ConfigError, match="split"):
        reliability_table(data, split="halves")
    with pytest.raises(DataError, match="NeuralData"):
        reliability_table(x)

    # summary of a hand-made table: quartiles by linear interpolation
    hand = pd.DataFrame(
        {
            "subject": ["m1"] * 4 + ["m2"] * 3,
            "area": "V4",
            "reliability": [0.2, 0.4, 0.6, 0.8, 0.1, 0.9, 0.5],
        }
    )
    s = summarize(hand)
    assert s["subject"].tolist() == ["m1", "m2"]
    assert s["n_units"].tolist() == [4, 3]
    np.testing.assert_allclose(s["median"], [0.5, 0.5])
    np.testing.assert_allclose(s["mean"], [0.5, 0.5])
    np.testing.assert_allclose(s["q25"], [0.35, 0.3])
    np.testing.assert_allclose(s["iqr"], [0.3, 0.4])
    np.testing.assert_allclose(s["fraction_above_0.5"], [0.5, 1 / 3])
    whole = summarize(hand, by=())
    assert len(whole) == 1 and whole["n_units"].iloc[0] == 7
    assert summarize(hand, by="area", threshold=0.3)["fraction_above_0.3"].iloc[0] == 5 / 7
    with pytest.raises(DataError, match="lacks column"):
        summarize(hand, by="depth")
