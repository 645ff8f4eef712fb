"""Extending neuroalign from outside the package: a toy transform, a toy dataset and a toy benchmark
kind, each defined here and registered in one line, run through `score`, the store's leaderboard
and the transform property tests (docs/architecture.md, "Where does X go?")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

import test_transforms_properties as props
from neuroalign import bench, datasets
from neuroalign.bench.base import Benchmark
from neuroalign.bench.rows import empty_row
from neuroalign.bench.store import ResultsStore
from neuroalign.data import NeuralData, make_population
from neuroalign.datasets.base import Dataset, DatasetInfo
from neuroalign.metrics.predictivity import interanimal_ev
from neuroalign.report.summaries import leaderboard
from neuroalign.transforms import registry
from neuroalign.transforms.base import TRANSFORMS, Transform


def _define_toy_transform():
    class PrincipalRegression(Transform):
        """Least squares on the source's top principal components (scale-free)."""

        name = "toy_pcr"  # the one registration line: the class registers itself
        test_params: ClassVar[dict] = {"k": 2}

        def __init__(self, k: int = 2):
            self.k = k

        def fit(self, X, Y):
            from neuroalign._core.validation import check_xy

            X, Y = check_xy(X, Y)
            self.n_source_, self.mean_ = X.shape[1], X.mean(0)
            _, _, vt = np.linalg.svd(X - self.mean_, full_matrices=False)
            self.basis_ = vt[: self.k].T
            self.ols_ = LinearRegression().fit((X - self.mean_) @ self.basis_, Y)
            return self

        def predict(self, X):
            from neuroalign.transforms._common import check_source

            X = check_source(self, X)
            return self.ols_.predict((X - self.mean_) @ self.basis_)

    return PrincipalRegression


TOY_INFO = DatasetInfo(
    name="toy_population", title="A toy population", description="Three synthetic subjects.",
    citation="none", license="CC0", folder="toy", files={}, has_images=False,
    subjects="3 synthetic", areas=("V4",), how_to_obtain="generated",
)  # fmt: skip


def _load_toy(root):
    pop = make_population(n_subjects=3, n_areas=1, units_per_subject=8, n_stimuli=60,
                          n_repeats=4, seed=11)  # fmt: skip
    return Dataset(TOY_INFO, recordings={"all": pop.data}, checksums={"generated": "seed 11"})


@dataclass(frozen=True)
class BestFeatureBenchmark(Benchmark):
    """Toy kind: per layer, the median over neurons of the best single feature's correlation."""

    kind: ClassVar[str] = "toy_best_feature"

    def load(self, data_dir, params):
        ds = datasets.load("toy_population", data_dir)
        rec: NeuralData = ds.recordings["all"]
        return {"recording": rec, "stimuli": rec.stimulus_ids, "data": ds.checksums}

    def run(self, features, inputs, params, seed, progress=False):
        y = inputs["recording"].mean()
        rows = []
        for layer, f in features.items():
            fz = (f - f.mean(0)) / f.std(0)
            yz = (y - y.mean(0)) / y.std(0)
            best = np.abs(fz.T @ yz / len(y)).max(0)
            v = float(np.median(best))
            rows.append(empty_row(layer, "forward", raw=v, ceiling=1.0, normalised=v,
                                  n_units=y.shape[1], n_valid=y.shape[1]))  # fmt: skip
        return rows, [], {}


@pytest.fixture
def toys(tmp_path):
    cls = _define_toy_transform()
    datasets.register(TOY_INFO, _load_toy)  # one line
    bm = bench.register(BestFeatureBenchmark(  # one line
        identifier="toy_population.best_feature", version="1", dataset="toy_population",
        citation="none", description="toy", ceiling="none", directions=("forward",),
        transform="none",
    ))  # fmt: skip
    yield cls, bm, tmp_path
    TRANSFORMS.unregister("toy_pcr")
    datasets.DATASETS.unregister("toy_population")
    bench.BENCHMARKS.unregister("toy_population.best_feature")


def test_a_toy_benchmark_kind_scores_stores_and_ranks(toys):
    _, bm, tmp = toys
    assert "toy_population.best_feature" in bench.names()
    rec = _load_toy(None).recordings["all"]
    y = rec.mean()
    rng = np.random.default_rng(0)
    good = {"l1": y @ rng.normal(size=(y.shape[1], 5)) + 0.01 * rng.normal(size=(len(y), 5))}
    bad = {"l1": rng.normal(size=(len(y), 5))}
    store = ResultsStore(tmp / "r.sqlite")
    for feats in (good, bad):
        s = bench.score(feats, "toy_population.best_feature", data_dir=tmp, n_null=0, n_boot=0)
        store.put(s)
    frame = store.frame()
    assert set(frame["benchmark"]) == {"toy_population.best_feature"}
    board, _ = leaderboard(frame)
    assert len(board) == 2
    # the independent reference: best |Pearson r| per neuron from scipy
    from scipy.stats import pearsonr

    ref = np.median([max(abs(pearsonr(good["l1"][:, j], y[:, i])[0]) for j in range(5))
                     for i in range(y.shape[1])])  # fmt: skip
    assert board["mean"].max() == pytest.approx(ref, abs=1e-12)
    assert board["mean"].iloc[0] > board["mean"].iloc[1]


def test_a_toy_dataset_is_listed_and_loads(toys, tmp_path):
    assert "toy_population" in datasets.names()
    assert datasets.load("toy_population", tmp_path).recordings["all"].n_units == 24


def test_a_toy_transform_passes_the_property_tests(toys):
    cls, _, _ = toys
    assert registry()["toy_pcr"] is cls
    props.FACTORIES["toy_pcr"] = lambda: cls(**cls.test_params)
    try:
        props.test_sklearn_estimator_api("toy_pcr")
        props.test_bad_input_raises_clear_errors("toy_pcr")
    finally:
        del props.FACTORIES["toy_pcr"]
    pop = make_population(n_subjects=2, n_areas=1, units_per_subject=6, n_stimuli=90,
                          n_repeats=4, seed=3)  # fmt: skip
    a, b = (pop.data.select(subject=s).responses for s in pop.data.subjects)
    fast = {"n_folds": 3, "n_draws": 2, "n_null": 0, "seed": 0}
    ref = interanimal_ev(a, b, cls(), **fast)
    scaled = interanimal_ev(a * 1e-4, b * 1e4, cls(), **fast)
    np.testing.assert_allclose(scaled.ev, ref.ev, atol=1e-6)
    assert (ref.ev > 1).sum() >= 2  # not a vacuous equality of zeros
