"""Paired bootstrap tests and rank stability (neuroalign.bench.uncertainty), checked against the
replicates themselves and against a population whose truth orders the models."""

from __future__ import annotations

import numpy as np
import pytest

from neuroalign import ConfigError, bench
from neuroalign.bench import paired_test, rank_stability
from neuroalign.data import make_population
from neuroalign.models import Activations

PARAMS = {"n_folds": 4, "n_draws": 2, "n_null": 5, "n_boot": 200, "max_model_units": 60}


@pytest.fixture(scope="module")
def scored():
    """Three models of one population, known order: its true layer, the layer drowned in noise,
    random features."""
    pop = make_population(n_subjects=2, n_stimuli=160, units_per_subject=25, n_repeats=4, seed=3)
    data = pop.data.select(area=pop.data.units["area"].iloc[0])
    feats = pop.features(data.units["area"].iloc[0])
    rng = np.random.default_rng(0)
    models = {
        "truth": feats,
        "noisy": feats + 2.0 * feats.std() * rng.normal(size=feats.shape),
        "random": rng.normal(size=(feats.shape[0], 60)),
    }
    bm = bench.from_data(data, name="pop", **PARAMS)
    ids = list(data.stimulus_ids)
    out = {}
    for name, x in models.items():
        acts = Activations({"L": x[: len(ids)]}, ids, {"model": name})
        out[name] = bench.score(acts, bm, seed=1)
    return out


def test_a_score_against_itself_differs_by_nothing(scored):
    t = paired_test(scored["truth"], scored["truth"], "forward")
    assert t.difference == 0 and t.ci_low == t.ci_high == 0 and t.p_value == 1.0
    assert t.verdict == "indistinguishable" and t.n_boot == PARAMS["n_boot"]


@pytest.mark.parametrize("direction", ["forward", "reverse"])
def test_paired_test_is_the_replicate_differences(scored, direction):
    a, b = scored["truth"], scored["noisy"]
    t = paired_test(a, b, direction)
    d = a.bootstrap(direction, "L") - b.bootstrap(direction, "L")
    assert d.size == PARAMS["n_boot"] and np.isfinite(d).all()
    lo, hi = np.percentile(d, [2.5, 97.5])
    assert (t.ci_low, t.ci_high) == pytest.approx((lo, hi), abs=1e-12)
    below, above = (1 + np.sum(d <= 0)) / (1 + d.size), (1 + np.sum(d >= 0)) / (1 + d.size)
    assert t.p_value == pytest.approx(min(1.0, 2 * min(below, above)), abs=1e-12)
    assert t.difference == pytest.approx(
        bench.headline(a, direction, "L") - bench.headline(b, direction, "L")
    )
    back = paired_test(b, a, direction)  # antisymmetric
    assert back.difference == pytest.approx(-t.difference)
    assert (back.ci_low, back.ci_high) == pytest.approx((-t.ci_high, -t.ci_low), abs=1e-12)
    assert back.p_value == pytest.approx(t.p_value)


def test_the_truth_beats_noise_and_random_features(scored):
    t = paired_test(scored["truth"], scored["random"], "forward")
    assert t.difference > 0 and t.ci_low > 0 and t.p_value < 0.05 and t.verdict == t.model_a
    assert (t.layer_a, t.layer_b) == ("L", "L")


def test_rank_stability_orders_by_the_truth(scored):
    board = rank_stability([scored["random"], scored["noisy"], scored["truth"]], "forward")
    assert [m.split(":")[0] for m in board["model"]] == [
        scored[k].model.split(":")[0] for k in ("truth", "noisy", "random")
    ]
    assert list(board["rank"]) == [1, 2, 3]
    assert board["value"].is_monotonic_decreasing
    assert ((board["rank_holds"] >= 0) & (board["rank_holds"] <= 1)).all()
    # the whole order holds no more often than its least stable rank
    assert board.attrs["order_holds"] <= board["rank_holds"].min() + 1e-12
    # each margin is the paired test against the next model down
    order = [scored[k] for k in ("truth", "noisy", "random")]
    for i in range(2):
        t = paired_test(order[i], order[i + 1], "forward")
        row = board.iloc[i]
        assert (row["margin"], row["margin_ci_low"], row["margin_ci_high"], row["p_vs_next"]) == (
            pytest.approx((t.difference, t.ci_low, t.ci_high, t.p_value))
        )
    assert board.iloc[-1][["margin", "p_vs_next"]].isna().all()
    # the replicates themselves: how often the first model stays first
    reps = np.array([s.bootstrap("forward", "L") for s in order])
    assert board.iloc[0]["rank_holds"] == pytest.approx(np.mean(reps.argmax(axis=0) == 0))


def test_scores_that_do_not_pair_are_refused(scored):
    other = scored["truth"].__class__.from_dict({**scored["noisy"].to_dict(), "seed": 2})
    with pytest.raises(ConfigError, match="do not share their bootstrap resamples"):
        paired_test(scored["truth"], other, "forward")
    with pytest.raises(ConfigError, match="at least two"):
        rank_stability([scored["truth"]], "forward")


def test_repr_flags_rows_not_above_their_null(scored):
    flagged = 0
    for s in scored.values():
        below = int((~s.summary["above_null"].astype(bool)).sum())
        assert repr(s).count("✗") == below + (below > 0)
        flagged += below
    assert flagged  # random features sit at their null somewhere


def test_a_tie_is_not_a_rank_that_holds(scored):
    twin = scored["truth"].__class__.from_dict({**scored["truth"].to_dict(), "model": "twin"})
    board = rank_stability([scored["truth"], twin], "forward")
    assert list(board["rank_holds"]) == [0.0, 0.0] and board.attrs["order_holds"] == 0.0
    assert board["margin"].iloc[0] == 0.0 and board["p_vs_next"].iloc[0] == 1.0


def test_without_replicates_the_margins_remain_and_the_intervals_go(scored):
    bare = []
    for k in ("random", "truth"):
        d = scored[k].to_dict()
        bare.append(scored[k].__class__.from_dict({**d, "attachments": {}}))
    board = rank_stability(bare, "forward")
    values = board["value"].to_numpy()
    assert board["margin"].iloc[0] == pytest.approx(values[0] - values[1])
    assert board[["rank_holds", "margin_ci_low", "margin_ci_high", "p_vs_next"]].isna().all().all()
    assert np.isnan(board.attrs["order_holds"])


def test_repr_does_not_flag_rows_without_a_null(scored):
    d = scored["random"].to_dict()
    s = scored["random"].__class__.from_dict(d)
    s.summary["p_null"] = np.nan  # no null computed: nothing to be below
    s.summary["above_null"] = False
    assert "✗" not in repr(s)
