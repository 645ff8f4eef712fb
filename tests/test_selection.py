"""Choosing α from an error table: against a plain numpy reference, on numpy and on torch."""

from __future__ import annotations

import numpy as np
import pytest

from neuroalign.solvers.backend import NumpyBackend, TorchBackend
from neuroalign.solvers.selection import FLOAT32_TIE, choose, near_ties

pytest.importorskip("torch")
BACKENDS = [NumpyBackend(), TorchBackend("cpu")]


def _table(seed=0):
    """Errors ``(6, 50)`` with exact ties (two first-minima) and near ties built in."""
    rng = np.random.default_rng(seed)
    e = rng.uniform(1.0, 2.0, size=(6, 50))
    e[3, :10] = e[1, :10] = e[:, :10].min(0) - 0.5  # exact tie: the first (row 1) wins
    e[4, 10:20] = e[:, 10:20].min(0) * (1 - FLOAT32_TIE / 4)  # within the tie tolerance
    e[2, 10:20] = e[4, 10:20] * (1 + FLOAT32_TIE / 4)
    return e


@pytest.mark.parametrize("xp", BACKENDS, ids=lambda b: b.name)
def test_choose_is_argmin_with_the_first_of_a_tie(xp):
    e, alphas = _table(), np.logspace(-2, 3, 6)
    got = xp.to_numpy(choose(xp.asarray(e, np.float64), xp.asarray(alphas, np.float64), True, xp))
    np.testing.assert_array_equal(got, alphas[np.argmin(e, axis=0)])
    assert (got[:10] == alphas[1]).all()
    one = choose(xp.asarray(e, np.float64), xp.asarray(alphas, np.float64), False, xp)
    np.testing.assert_array_equal(xp.to_numpy(one), np.full(50, alphas[np.argmin(e.mean(1))]))


@pytest.mark.parametrize("xp", BACKENDS, ids=lambda b: b.name)
def test_near_ties_marks_the_columns_rounding_could_flip(xp):
    e = _table()
    two = np.sort(e, axis=0)[:2]
    amp = np.random.default_rng(1).uniform(0, 50, size=50)
    tol = FLOAT32_TIE + 16 * np.finfo(np.float32).eps * amp
    mask = xp.to_numpy(near_ties(xp.asarray(e, np.float64), True, xp.asarray(amp, np.float64), xp))
    np.testing.assert_array_equal(mask, two[1] - two[0] <= tol * two[0])
    assert mask[:20].all()  # the exact and the built-in near ties
    mean = np.sort(e.mean(1))[:2]
    expect = mean[1] - mean[0] <= tol.max() * mean[0]
    every = xp.to_numpy(
        near_ties(xp.asarray(e, np.float64), False, xp.asarray(amp, np.float64), xp)
    )
    np.testing.assert_array_equal(every, np.full(50, expect))
    tied = e.copy()
    tied[0] = tied[1] = e.min(0)  # the two least mean errors tie: every column is re-decided
    assert xp.to_numpy(near_ties(xp.asarray(tied, np.float64), False, None, xp)).all()
