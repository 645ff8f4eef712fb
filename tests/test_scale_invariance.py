"""A score does not change when features or responses are multiplied by a constant: penalties and
units are chosen on each fold's training stimuli. Run on every registered transform class."""

from __future__ import annotations

import numpy as np
import pytest

from neuroalign.data import make_population
from neuroalign.metrics.predictivity import interanimal_ev
from neuroalign.transforms import registry

FAST = {"n_folds": 3, "n_draws": 2, "n_null": 0, "seed": 0}


@pytest.fixture(scope="module")
def pair():
    pop = make_population(n_subjects=2, n_areas=1, units_per_subject=6, n_stimuli=90,
                          n_repeats=4, seed=3)  # fmt: skip
    a, b = (pop.data.select(subject=s).responses for s in pop.data.subjects)
    return a, b


@pytest.mark.parametrize("name", sorted(registry()))
@pytest.mark.parametrize(("cs", "ct"), [(1e-4, 1.0), (1e4, 1.0), (1.0, 1e-4), (1.0, 1e4)])
def test_scaling_source_or_target_changes_no_ev(pair, name, cs, ct):
    cls = registry()[name]
    a, b = pair
    ref = interanimal_ev(a, b, cls(**cls.test_params), **FAST)
    scaled = interanimal_ev(a * cs, b * ct, cls(**cls.test_params), **FAST)
    ok = ref.valid & scaled.valid
    assert ok.sum() >= 4 and (ref.valid == scaled.valid).all()
    np.testing.assert_allclose(scaled.ev[ok], ref.ev[ok], atol=0.1, rtol=0)
