"""One compute setting, honoured by every caller: a transform resolved by name takes the default
compute (using_compute, $NEUROALIGN_COMPUTE, the CLI's --device); a transform given with its own
keeps it; the caller's object is never changed; results equal numpy's."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from typer.testing import CliRunner

from neuroalign import ConfigError
from neuroalign.cli import app
from neuroalign.compare import compare
from neuroalign.data import make_population
from neuroalign.metrics.predictivity import forward_ev
from neuroalign.solvers.compute import ENV, Compute, as_compute, default_compute, using_compute
from neuroalign.transforms import Ridge
from neuroalign.transforms.base import resolve

pytest.importorskip("torch")
FAST = {"n_folds": 3, "n_draws": 2, "seed": 0}


@pytest.fixture(autouse=True)
def _no_env(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)


@pytest.fixture(scope="module")
def pop():
    return make_population(n_subjects=2, n_stimuli=120, units_per_subject=10, n_repeats=4, seed=0)


def test_a_name_resolves_to_the_default_compute(monkeypatch):
    assert default_compute() is None and resolve("ridge").compute is None
    with using_compute("torch:cpu") as c:
        assert c == Compute("torch:cpu") and resolve("ridge").compute == c
        assert resolve(Ridge).compute == c
        mine = Ridge(compute=Compute("numpy", "float32"))
        assert resolve(mine).compute == Compute("numpy", "float32")  # its own compute stays
        assert resolve(Ridge(backend="numpy")).compute is None  # so does its own backend
        plain = Ridge()
        assert resolve(plain).compute == c and plain.compute is None  # the caller's is untouched
        with using_compute("numpy"):
            assert resolve("ridge").compute == Compute("numpy")  # the innermost block wins
    assert resolve("ridge").compute is None
    monkeypatch.setenv(ENV, "torch:cpu")
    assert resolve("ridge").compute == Compute("torch:cpu")
    with using_compute("numpy"):
        assert resolve("ridge").compute == Compute("numpy")
    monkeypatch.setenv(ENV, "tpu")
    with pytest.raises(ConfigError, match="unknown backend"):
        resolve("ridge")
    assert resolve("identity").get_params() == {}  # no compute to give: the setting is not read
    monkeypatch.setenv(ENV, '{"backend": "torch:cpu", "dtype": "float32"}')
    assert resolve("ridge").compute == Compute("torch:cpu", "float32")


def test_device_names():
    assert as_compute("cuda") == as_compute("gpu") == Compute("torch:cuda")
    assert as_compute("cuda:1") == Compute("torch:cuda:1")
    assert as_compute("cpu") == Compute("numpy")


def test_using_compute_reaches_spawned_workers_and_is_undone():
    import multiprocessing as mp

    with using_compute(Compute("torch:cpu", "float32")):
        with mp.get_context("spawn").Pool(1) as pool:
            seen = pool.apply(_resolved_compute)
    assert seen == Compute("torch:cpu", "float32")
    assert default_compute() is None and ENV not in os.environ


def _resolved_compute():
    return resolve("ridge").compute


@pytest.mark.filterwarnings("ignore::neuroalign.metrics.predictivity.PredictivityWarning")
def test_every_caller_runs_on_the_default_compute_with_equal_results(pop):
    data = pop.data.select(area="area1")
    x = pop.features("area1")
    ref = forward_ev(x, data, "ridge", **FAST)
    cmp_ref = compare({"L": x}, data, "ridge", n_boot=20, show_progress=False, **FAST)
    with using_compute("torch:cpu"):
        got = forward_ev(x, data, "ridge", **FAST)
        cmp_got = compare({"L": x}, data, "ridge", n_boot=20, show_progress=False, **FAST)
    np.testing.assert_allclose(got.ev, ref.ev, atol=1e-7, equal_nan=True)
    assert not np.array_equal(got.r, ref.r)  # computed by torch, not numpy
    cols = ["model_median_ev", "animal_median_ev", "percentile"]
    np.testing.assert_allclose(cmp_got.summary[cols], cmp_ref.summary[cols], atol=1e-6)


def test_the_cli_device_option(tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROALIGN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv(ENV, "")  # restored after the test: --device sets it for the workers
    runner = CliRunner()
    args = ["score", "small_cnn", "synthetic.softplus", "--layer", "relu1", "--no-store", "--json",
            "--n-draws", "2", "--n-folds", "3", "--param", "n_stimuli=120",
            "--param", "units_per_subject=10", "--param", "n_subjects=3"]  # fmt: skip
    plain = runner.invoke(app, args)
    on_torch = runner.invoke(app, [*args, "--device", "torch:cpu"])
    assert plain.exit_code == on_torch.exit_code == 0, plain.output + on_torch.output
    assert resolve("ridge").compute is None  # --device held for its command only
    a, b = (json.loads(r.stdout)["summary"] for r in (plain, on_torch))
    for ra, rb in zip(a, b, strict=True):
        assert rb["raw"] == pytest.approx(ra["raw"], abs=1e-6)
        assert rb["normalised"] == pytest.approx(ra["normalised"], abs=1e-6)
    import torch

    if not torch.cuda.is_available():
        res = runner.invoke(app, [*args, "--device", "cuda"])
        assert res.exit_code == 2 and "needs a CUDA GPU" in res.stderr
        assert len([ln for ln in res.stderr.splitlines() if ln.strip()]) == 1
