"""On a device, each block of targets crosses from the host once per precision, however many
fits (trial means, split halves of every draw, null permutations) use it; checked on torch:cpu by
counting the host arrays handed to the backend."""

from __future__ import annotations

import numpy as np
import pytest

from neuroalign.data import make_population
from neuroalign.metrics.predictivity import reverse_ev
from neuroalign.solvers import backend
from neuroalign.transforms import Ridge

pytest.importorskip("torch")


@pytest.mark.filterwarnings("ignore::neuroalign.metrics.predictivity.PredictivityWarning")
@pytest.mark.parametrize("alphas", [0.1, np.logspace(-2, 3, 6)], ids=["one alpha", "grid"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_targets_cross_to_the_backend_once(monkeypatch, alphas, dtype):
    pop = make_population(n_subjects=1, n_areas=1, units_per_subject=30, n_stimuli=160,
                          n_repeats=6, seed=0)  # fmt: skip
    model = np.random.default_rng(0).normal(size=(160, 400))  # the targets of reverse EV
    sent = []
    to_backend = backend.TorchBackend.asarray

    def spy(self, a, dt):
        if isinstance(a, np.ndarray) and a.ndim == 2 and a.shape[0] == 160 and a.shape[1] >= 100:
            sent.append(a.size * np.dtype(dt).itemsize)
        return to_backend(self, a, dt)

    monkeypatch.setattr(backend.TorchBackend, "asarray", spy)
    kw = {"n_folds": 5, "n_draws": 3, "n_null": 4, "n_boot": 10, "seed": 0, "dtype": dtype}
    res = reverse_ev(pop.data, model, Ridge(alphas), backend="torch:cpu", **kw)
    # the compute dtype, and float64 for the α grid's exact sums in float32
    precisions = 2 if dtype == "float32" and np.size(alphas) > 1 else 1
    itemsize = np.dtype(dtype).itemsize
    assert sum(sent) <= model.size * (itemsize + 8 * (precisions - 1)), (len(sent), sum(sent))
    monkeypatch.undo()
    ref = reverse_ev(pop.data, model, Ridge(alphas), backend="numpy", **kw)
    np.testing.assert_allclose(res.ev, ref.ev, atol=1e-3 if dtype == "float32" else 1e-8,
                               equal_nan=True)  # fmt: skip
    np.testing.assert_allclose(res.null_r, ref.null_r, atol=1e-3 if dtype == "float32" else 1e-8)


def _count_transfers(monkeypatch, block, dtype, alphas):
    """Tensors read back to the host and host arrays sent to the backend during one reverse EV
    of 400 targets in blocks of ``block``."""
    import torch

    pop = make_population(n_subjects=1, n_areas=1, units_per_subject=30, n_stimuli=160,
                          n_repeats=6, seed=0)  # fmt: skip
    model = np.random.default_rng(0).normal(size=(160, 400))
    counts = {"back": 0, "sent": 0}
    to_host, to_backend = backend.TorchBackend.to_numpy, backend.TorchBackend.asarray

    def back(self, a):
        counts["back"] += isinstance(a, torch.Tensor)
        return to_host(self, a)

    def sent(self, a, dt):
        counts["sent"] += not isinstance(a, torch.Tensor)
        return to_backend(self, a, dt)

    monkeypatch.setattr(backend.TorchBackend, "to_numpy", back)
    monkeypatch.setattr(backend.TorchBackend, "asarray", sent)
    kw = {"n_folds": 5, "n_draws": 3, "n_null": 4, "seed": 0, "dtype": dtype, "block_size": block}
    reverse_ev(pop.data, model, Ridge(alphas), backend="torch:cpu", **kw)
    monkeypatch.undo()
    return counts


@pytest.mark.filterwarnings("ignore::neuroalign.metrics.predictivity.PredictivityWarning")
@pytest.mark.parametrize("alphas", [0.1, np.logspace(-2, 3, 6)], ids=["one alpha", "grid"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_block_reads_back_only_its_correlations(monkeypatch, alphas, dtype):
    """Choosing α stays on the device: each further block of targets costs one read-back per
    correlation (trial mean, 3 draws, 4 nulls), plus in float32 with a grid one near-tie mask per
    fit call (trial mean, 6 halves, the nulls together), and sends only its targets."""
    one = _count_transfers(monkeypatch, 400, dtype, alphas)
    four = _count_transfers(monkeypatch, 100, dtype, alphas)
    per_block = {k: (four[k] - one[k]) / 3 for k in one}
    masks = 8 if dtype == "float32" and np.size(alphas) > 1 else 0
    assert per_block["back"] == 1 + 3 + 4 + masks, per_block
    precisions = 2 if dtype == "float32" and np.size(alphas) > 1 else 1
    assert per_block["sent"] == precisions, per_block


@pytest.mark.filterwarnings("ignore::neuroalign.metrics.predictivity.PredictivityWarning")
@pytest.mark.parametrize(("free_cols", "block"), [(300, 300), (10, 256)])
def test_device_blocks_are_sized_from_free_memory(monkeypatch, free_cols, block):
    """On a device the block is as many target columns as half its free memory holds. Reverse
    EV of 30 units (primal, 31 rows with the intercept) from 400 targets, 160 stimuli, 5 folds,
    6 penalties, 4 nulls, float64: per column 8·(2·5·160 + 2·5·31) + 8·(2·160 + 5·(6 + 4))
    = 18,240 bytes; never below 256 columns."""
    pop = make_population(n_subjects=1, n_areas=1, units_per_subject=30, n_stimuli=160,
                          n_repeats=6, seed=0)  # fmt: skip
    model = np.random.default_rng(0).normal(size=(160, 400))
    monkeypatch.setattr(backend.TorchBackend, "free_memory", lambda self: 2 * 18_240 * free_cols)
    kw = {"n_folds": 5, "n_draws": 2, "n_null": 4, "seed": 0}
    res = reverse_ev(pop.data, model, Ridge(np.logspace(-2, 3, 6)), backend="torch:cpu", **kw)
    assert res.params["block_size"] == block
    ref = reverse_ev(pop.data, model, Ridge(np.logspace(-2, 3, 6)), backend="numpy", **kw)
    assert ref.params["block_size"] == 512  # on the host: blocks sized for cache
    np.testing.assert_allclose(res.ev, ref.ev, atol=1e-8, equal_nan=True)
