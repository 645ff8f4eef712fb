"""Identity, OneToOne and SoftMatching: recovery of known permutations, gains and plans."""

import numpy as np
import ot
import pytest
from scipy.optimize import linear_sum_assignment

from neuroalign.errors import ConfigError, DataError
from neuroalign.transforms.identity import Identity
from neuroalign.transforms.one_to_one import OneToOne, match_units
from neuroalign.transforms.soft_matching import SoftMatching, matching_cost, transport_plan


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng, rng.normal(size=(80, 12))


def test_identity_copies_and_refuses_unequal_counts(data):
    _, X = data
    assert np.array_equal(Identity().fit(X, X + 1).predict(X), X)
    with pytest.raises(DataError, match="OneToOne or SoftMatching"):
        Identity().fit(X, X[:, :5])
    with pytest.raises(DataError, match="source units"):
        Identity().fit(X, X).predict(X[:, :5])


def test_one_to_one_recovers_permutation_with_gains(data):
    rng, X = data
    perm = rng.permutation(12)
    gain, offset = rng.uniform(0.5, 3, 12), rng.normal(size=12)
    Y = X[:, perm] * gain + offset + 0.01 * rng.normal(size=(80, 12))
    m = OneToOne().fit(X, Y)
    assert np.array_equal(m.assignment_, perm)
    np.testing.assert_allclose(m.scale_, gain, rtol=0.02)
    np.testing.assert_allclose(m.offset_, offset, atol=0.02)
    X_new = rng.normal(size=(5, 12))
    np.testing.assert_allclose(m.predict(X_new), X_new[:, perm] * gain + offset, atol=0.1)
    plain = OneToOne(affine=False).fit(X, Y)
    assert np.array_equal(plain.predict(X_new), X_new[:, perm])


def test_one_to_one_is_the_hungarian_optimum_on_fewer_targets(data):
    rng, X = data
    Y = rng.normal(size=(80, 5)) + X[:, :5]
    r = np.corrcoef(X.T, Y.T)[:12, 12:]
    _, cols = linear_sum_assignment(-r.T)
    assert np.array_equal(OneToOne().fit(X, Y).assignment_, cols)
    assert len(set(match_units(r))) == 5


def test_one_to_one_reuses_sources_evenly_when_targets_outnumber_them():
    rng = np.random.default_rng(1)
    sim = rng.normal(size=(3, 8))
    source = match_units(sim)
    assert np.bincount(source, minlength=3).max() == 3  # ceil(8 / 3)
    # brute force over assignments with each source used at most 3 times
    best = max(
        (sim[np.array(s), np.arange(8)].sum(), tuple(s))
        for s in np.ndindex(*(3,) * 8)
        if np.bincount(np.array(s), minlength=3).max() <= 3
    )
    assert sim[source, np.arange(8)].sum() == pytest.approx(best[0])


def test_soft_matching_equals_permutation_solution(data):
    rng, X = data
    perm = rng.permutation(12)
    Y = X[:, perm] * 2.0 + 1.0
    for cost in ("correlation", "sqeuclidean"):
        m = SoftMatching(cost=cost).fit(X, Y)
        np.testing.assert_allclose(m.plan_ * 12, np.eye(12)[:, perm], atol=1e-12)
        np.testing.assert_allclose(m.predict(X), OneToOne().fit(X, Y).predict(X), atol=1e-10)
    ent = SoftMatching(method="sinkhorn", reg=0.01).fit(X, Y)
    np.testing.assert_allclose(ent.predict(X), Y, atol=1e-3)


def test_soft_matching_plan_matches_pot_and_marginals():
    rng = np.random.default_rng(2)
    X, Y = rng.normal(size=(50, 7)), rng.normal(size=(50, 4))
    m = SoftMatching().fit(X, Y)
    C = 1 - np.corrcoef(X.T, Y.T)[:7, 7:]
    ref = ot.emd(np.full(7, 1 / 7), np.full(4, 1 / 4), C)
    assert np.sum(m.plan_ * C) == pytest.approx(np.sum(ref * C), abs=1e-12)
    np.testing.assert_allclose(m.plan_.sum(1), 1 / 7)
    np.testing.assert_allclose(m.weights_.sum(0), 1.0)
    xc = X - X.mean(0)
    yc = Y - Y.mean(0)
    d = ((xc[:, :, None] - yc[:, None, :]) ** 2).mean(0)
    np.testing.assert_allclose(matching_cost(X, Y, "sqeuclidean"), d, atol=1e-12)
    sk = transport_plan(C, "sinkhorn", reg=0.05)
    np.testing.assert_allclose(sk.sum(0), 1 / 4, atol=1e-6)


def test_matching_bad_configuration():
    X = np.random.default_rng(0).normal(size=(10, 3))
    with pytest.raises(ConfigError, match="cost"):
        SoftMatching(cost="cosine").fit(X, X)
    with pytest.raises(ConfigError, match="method"):
        SoftMatching(method="greedy").fit(X, X)
    with pytest.raises(ConfigError, match="reg"):
        SoftMatching(method="sinkhorn", reg=0).fit(X, X)
    with pytest.raises(ConfigError, match="affine"):
        OneToOne(affine="yes").fit(X, X)


def test_constant_units_give_finite_predictions():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(30, 4))
    X[:, 1] = 2.0
    Y = rng.normal(size=(30, 4))
    for m in (OneToOne(), SoftMatching()):
        assert np.isfinite(m.fit(X, Y).predict(X)).all()
