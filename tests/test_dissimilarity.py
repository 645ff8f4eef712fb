"""RDMs through Gram matrices: equal to scipy pdist in float64, close in float32, on numpy and torch,
blocked over features (memory maps included), exact for near-duplicate patterns."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform

from neuroalign.errors import ConfigError, DataError
from neuroalign.metrics.dissimilarity import feature_gram
from neuroalign.metrics.rsa import rdm
from neuroalign.solvers.compute import Compute

METRICS = ["correlation", "cosine", "euclidean", "sqeuclidean"]


def _features(rng, n=40, p=300, offset=0.0):
    return rng.normal(size=(n, p)) + offset


def _err(d, ref, metric):
    """Largest difference; relative to the largest entry for the unbounded Euclidean metrics."""
    scale = ref.max() if "euclidean" in metric else 1.0
    return np.abs(np.asarray(d, dtype=np.float64) - ref).max() / scale


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("backend", ["numpy", "torch:cpu"])
def test_equals_pdist_float64_and_float32(metric, backend):
    pytest.importorskip("torch") if backend.startswith("torch") else None
    x = _features(np.random.default_rng(0), offset=3.0)
    ref = squareform(pdist(x, metric))
    d64 = rdm(x, metric, compute=Compute(backend, "float64", block_size=64))
    d32 = rdm(x, metric, compute=Compute(backend, "float32", block_size=64))
    assert d64.dtype == np.float64 and d32.dtype == np.float32
    assert _err(d64, ref, metric) < 1e-12
    assert _err(d32, ref, metric) < 1e-6
    assert np.array_equal(d64, d64.T) and not np.diag(d64).any() and d64.min() >= 0


def test_float32_relu_features_stay_close():
    """Repeated values (ReLU zeros) must not be rounded the same way every time (it gave 1e-6)."""
    rng = np.random.default_rng(1)
    latent = rng.normal(size=(120, 10))
    x = np.maximum(latent @ rng.normal(size=(10, 20000)) / 3 + rng.normal(size=(120, 20000)), 0)
    ref = squareform(pdist(x, "correlation"))
    assert np.abs(rdm(x.astype(np.float32)) - ref).max() < 3e-7


def test_memory_mapped_features_are_read_in_blocks(tmp_path):
    x = _features(np.random.default_rng(2), n=30, p=1000).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    mm = np.load(tmp_path / "x.npy", mmap_mode="r")
    for metric in METRICS:
        whole = rdm(x, metric, compute=Compute(dtype="float64"))
        blocked = rdm(mm, metric, compute=Compute(dtype="float64", block_size=7))
        np.testing.assert_allclose(blocked, whole, rtol=0, atol=1e-12 * whole.max())


def test_near_duplicate_patterns_keep_their_small_distance():
    """‖a‖² + ‖b‖² − 2ab cancels for near-equal patterns; those pairs are recomputed exactly."""
    rng = np.random.default_rng(3)
    x = _features(rng, n=10, p=500, offset=100.0)
    x[1] = x[0] + 1e-9 * rng.normal(size=500)
    x[2] = x[0]
    ref = squareform(pdist(x, "euclidean"))
    for dtype in ("float64", "float32"):
        d = rdm(x, "euclidean", compute=Compute(dtype=dtype))
        assert d[0, 1] == pytest.approx(ref[0, 1], rel=1e-6)
        assert d[0, 2] == 0.0
    d2 = rdm(x, "sqeuclidean")
    assert d2[0, 1] == pytest.approx(ref[0, 1] ** 2, rel=1e-6)


def test_large_offsets_are_removed_before_the_product():
    rng = np.random.default_rng(4)
    x = _features(rng, n=25, p=200, offset=1e4)
    for metric in METRICS:
        ref = squareform(pdist(x, metric))
        assert _err(rdm(x, metric, compute=Compute(dtype="float32")), ref, metric) < 1e-6


def test_feature_gram_centring():
    x = _features(np.random.default_rng(5), n=15, p=40, offset=2.0)
    h = np.eye(15) - 1 / 15
    cols = feature_gram(x, "columns", Compute(block_size=9))
    rows = feature_gram(x, "rows", Compute(block_size=9))
    np.testing.assert_allclose(cols, h @ x @ x.T @ h, atol=1e-10)
    xr = x - x.mean(1, keepdims=True)
    np.testing.assert_allclose(rows, xr @ xr.T, atol=1e-10)
    with pytest.raises(ConfigError, match="centre"):
        feature_gram(x, "both")


def test_bad_features_raise():
    x = _features(np.random.default_rng(6), n=5, p=4)
    x[2] = 1.0
    with pytest.raises(DataError, match="constant feature pattern"):
        rdm(x, "correlation")
    x[2, 1] = np.nan
    with pytest.raises(DataError, match="NaN"):
        rdm(x, "euclidean")
    with pytest.raises(ConfigError, match="unknown RDM metric"):
        rdm(np.ones((4, 3)), "cityblock")
    with pytest.raises(DataError, match="at least 3 stimuli"):
        rdm(np.ones((2, 3)))
