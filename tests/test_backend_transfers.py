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
