"""Benchmarks, scores and resumable sweeps, checked against ground truth and independent maths."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from neuroalign import bench
from neuroalign.bench import runner
from neuroalign.data.synthetic import make_population
from neuroalign.datasets import cowley2023
from neuroalign.errors import ConfigError

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SMALL = {"n_draws": 2, "n_folds": 3, "n_stimuli": 120, "units_per_subject": 10, "n_subjects": 3}


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROALIGN_CACHE", str(tmp_path / "cache"))


def _pop(nonlinearity="softplus"):
    return make_population(
        n_subjects=3, n_areas=1, units_per_subject=10, n_stimuli=120, n_repeats=10,
        nonlinearity=nonlinearity, seed=0,
    )  # fmt: skip


def test_registry():
    names = bench.names()
    for s in cowley2023.SESSIONS:
        assert f"cowley2023_v4.{s}" in names
    for n in ("henaff2021_v1.iatc", "kriegeskorte2008_92.rsa", "synthetic.softplus", "synthetic.iatc"):  # fmt: skip
        assert n in names
    b = bench.get("cowley2023_v4.210325")
    assert (b.session, b.area, b.directions) == ("210325", "V4", ("forward", "reverse"))
    assert bench.get("henaff2021_v1.iatc").transform == "IATC"
    with pytest.raises(ConfigError, match="unknown benchmark"):
        bench.get("nope.nope")
    with pytest.raises(ConfigError, match="no parameter"):
        b.params({"bogus": 1})
    for name, bad in (("max_model_units", 0), ("n_folds", 1), ("n_boot", -1), ("n_draws", 2.5),
                      ("n_null", True), ("max_model_units", "all")):  # fmt: skip
        with pytest.raises(ConfigError, match=f"{name} must be a whole number >= "):
            b.params({name: bad})
    assert b.params({"max_model_units": None, "n_boot": 0})["max_model_units"] is None


def test_keys_are_deterministic_and_default_filled():
    k = bench.score_key("small_cnn", "synthetic.softplus", layers=["relu1"])
    assert k == bench.score_key("small_cnn", "synthetic.softplus", layers="relu1", n_draws=20)
    assert k != bench.score_key("small_cnn", "synthetic.softplus", layers=["relu1"], seed=1)
    assert k != bench.score_key("small_cnn", "synthetic.softplus", layers=["relu1"], model_seed=1)
    assert k != bench.score_key("small_cnn", "synthetic.relu", layers=["relu1"])


def test_true_features_score_high_random_features_do_not():
    """Ground truth: the network layer that drives the population is predicted well both ways;
    random features predict nothing (forward) and are not recovered from neurons (reverse)."""
    pop = _pop()
    rng = np.random.default_rng(0)
    feats = {"truth": pop.features("area1"), "random": rng.normal(size=(120, 50))}
    s = bench.score(feats, "synthetic.softplus", **SMALL)
    assert s.model.startswith("features:") and len(s.model) == 17
    assert s.layers == ["truth", "random"]
    assert s.value("forward", "truth") > 30 > 10 > abs(s.value("forward", "random"))
    assert s.value("reverse", "truth") > 3 * s.value("reverse", "random")
    # raw and ceiling are the medians of the per-unit parts in the unit table
    u = s.units[
        (s.units["layer"] == "truth") & (s.units["direction"] == "forward") & s.units["valid"]
    ]
    assert s.value("forward", "truth", "raw") == pytest.approx(100 * np.median(u["r"] ** 2))
    assert s.value("forward", "truth", "ceiling") == pytest.approx(
        100 * np.median(u["rho_target"] * u["rho_pred"])
    )
    # the population's headline is the median over subjects of each subject's median EV (the
    # statistic its masquerade percentile and bootstrap interval are about)
    per_subject = u.groupby("subject")["ev"].median()
    assert s.value("forward", "truth") == pytest.approx(np.median(per_subject))
    lo, hi = s.value("forward", "truth", "ci_low"), s.value("forward", "truth", "ci_high")
    assert lo < s.value("forward", "truth") < hi and s.bootstrap("forward", "truth").size == 200
    # the animal baseline comes along: masquerade ratio = model median / animal median
    row = s.summary.set_index(["layer", "direction"]).loc[("truth", "forward")]
    assert 0 <= row["percentile"] <= 100 and row["animal_median"] > 0
    assert s.comparison() is not None


def test_score_json_round_trip_and_provenance():
    s = bench.score("small_cnn", "synthetic.softplus", layers=["relu1"], **SMALL)
    back = bench.Score.from_json(s.to_json())
    pd.testing.assert_frame_equal(back.frame(), s.frame())
    pd.testing.assert_frame_equal(back.units, s.units, check_dtype=False)
    assert back.key == s.key == bench.score_key("small_cnn", "synthetic.softplus", layers=["relu1"], **SMALL)  # fmt: skip
    p = back.provenance
    assert p["neuroalign"] and p["seed"] == 0 and p["parameters"]["n_draws"] == 2
    assert len(p["data"]["responses_sha256"]) == 64
    assert len(p["model"]["model"]["weights_sha256"]) == 64
    assert list(s.frame().columns) == bench.FRAME_COLUMNS


def test_neural_only_and_model_checks():
    with pytest.raises(ConfigError, match="neural only"):
        bench.score("small_cnn", "synthetic.iatc")
    with pytest.raises(ConfigError, match="give one"):
        bench.score(None, "synthetic.softplus")
    with pytest.raises(ConfigError, match="unknown model"):
        bench.score("nope", "synthetic.softplus")


def test_iatc_benchmark_on_synthetic():
    s = bench.score(
        None, "synthetic.iatc", candidates=["one_to_one", "zippering"], n_boot=50,
        **(SMALL | {"n_subjects": 3}), n_areas=1,
    )  # fmt: skip
    res = s.iatc()
    assert s.model == "animals" and "zippering" in res.selected
    acc = res.accuracy.set_index("transform")
    assert s.value("iatc", column="raw") == pytest.approx(acc.loc[res.selected[0], "median_ev"])
    assert s.value("iatc") == pytest.approx(s.value("iatc", column="raw") / 100)


def test_sweep_is_resumable_and_never_double_counts(tmp_path, monkeypatch):
    store = bench.ResultsStore(tmp_path / "sweep.sqlite")
    kw = {"layers": ["relu1", "pool1", "relu2"], "seeds": [0], "params": SMALL}
    grid = bench.tasks(["small_cnn"], ["synthetic.softplus"], **kw)
    assert len(grid) == 3 and len({t.key for t in grid}) == 3
    real = runner.run_task
    calls = []

    def flaky(task, inputs=None):
        if len(calls) == 2:
            raise RuntimeError("node lost")
        calls.append(task.key)
        return real(task, inputs)

    monkeypatch.setattr(runner, "run_task", flaky)
    with pytest.raises(RuntimeError, match="node lost"):
        bench.run_sweep(["small_cnn"], ["synthetic.softplus"], store, **kw)
    assert set(store.keys()) == set(calls) and len(store) == 2  # finished work was kept

    monkeypatch.setattr(runner, "run_task", lambda t, i=None: (calls.append(t.key), real(t, i))[1])
    rep = bench.run_sweep(["small_cnn"], ["synthetic.softplus"], store, **kw)
    assert len(rep.done) == 1 and len(rep.skipped) == 2  # resumed where it stopped
    assert len(calls) == 3 and set(store.keys()) == {t.key for t in grid}

    rep = bench.run_sweep(["small_cnn"], ["synthetic.softplus"], store, **kw)
    assert rep.done == [] and len(rep.skipped) == 3 and len(calls) == 3  # no work at all
    df = store.frame()
    assert len(df) == 6 and not df.duplicated(["key", "layer", "direction"]).any()
    # each stored result equals what a direct score() gives (same key, same numbers)
    direct = bench.score("small_cnn", "synthetic.softplus", layers=["relu2"], **SMALL)
    pd.testing.assert_frame_equal(store.get(direct.key).summary, direct.summary, check_dtype=False)


def test_sweep_continue_on_error_records_failures(tmp_path, monkeypatch):
    store = bench.ResultsStore(tmp_path / "s.sqlite")

    def boom(task, inputs=None):
        raise ValueError("bad layer")

    monkeypatch.setattr(runner, "run_task", boom)
    rep = bench.run_sweep(["small_cnn"], ["synthetic.softplus"], store, layers=["relu1"],
                          params=SMALL, on_error="continue")  # fmt: skip
    assert len(rep.failed) == 1 and "bad layer" in next(iter(rep.failed.values()))
    assert len(store) == 0


def test_tasks_are_picklable():
    import pickle

    t = bench.tasks(["small_cnn"], ["synthetic.softplus"], layers=["relu1"], params=SMALL)[0]
    assert pickle.loads(pickle.dumps(t)) == t and pickle.loads(pickle.dumps(t)).key == t.key


@pytest.mark.skipif(not DATA.is_dir(), reason=f"real data not found at {DATA}")
def test_rsa_benchmark_matches_rsatoolbox_on_real_rdms():
    pytest.importorskip("rsatoolbox")
    from rsatoolbox.inference import boot_noise_ceiling
    from rsatoolbox.rdm import RDMs, compare

    from neuroalign import datasets
    from neuroalign.metrics.rsa import condensed, rdm

    ds = datasets.load("kriegeskorte2008_92", data_dir=DATA)
    x = np.random.default_rng(0).normal(size=(92, 40))
    s = bench.score({"feats": x}, "kriegeskorte2008_92.rsa", data_dir=DATA)
    hit = ds.rdms.select(kind="hIT")
    human = np.stack([hit.select(subject=k).rdms.mean(0) for k in ("BE", "KO", "SN", "TI")])
    model = RDMs(condensed(rdm(x)))
    ref = compare(model, RDMs(condensed(human)), method="spearman")[0]
    assert s.value("rsa", column="raw") == pytest.approx(ref.mean(), abs=1e-6)
    lo, _ = boot_noise_ceiling(RDMs(condensed(human)), method="spearman")
    assert s.value("rsa", column="ceiling") == pytest.approx(lo, abs=1e-6)
    mit = compare(model, RDMs(condensed(ds.rdms.rdm("mIT_674neurons"))), method="spearman")
    assert s.value("rsa_monkey", column="raw") == pytest.approx(mit[0, 0], abs=1e-6)
    assert set(s.summary["direction"]) == {"rsa", "cka", "rsa_monkey", "cka_monkey"}
    assert json.loads(s.to_json())["provenance"]["data"]["92_brainRDMs.mat"]


@pytest.mark.skipif(not DATA.is_dir(), reason=f"real data not found at {DATA}")
def test_cowley_benchmark_has_both_directions_with_ceilings():
    s = bench.score("small_cnn", "cowley2023_v4.210325", data_dir=DATA, layers=["pool2"],
                    n_draws=2, n_folds=3)  # fmt: skip
    rows = s.summary.set_index("direction")
    assert list(rows.index) == ["forward", "reverse"]
    assert rows["ceiling"].between(0, 100).all() and rows["n_valid"].gt(0).all()
    assert rows.loc["forward", "n_units"] == 50
    assert "responses_raw/responses_210325.npy" in s.provenance["data"]
