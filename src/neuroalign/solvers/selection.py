"""Choosing a penalty from a table of cross-validation errors, and finding near ties.

A float32 error table is within ~1e-6 (relative) of the float64 one once the sums of squares are
accumulated in float64, unless the targets' part outside the basis is a small difference of large
sums (primal form, p close to n), which magnifies the rounding by a known factor. A target whose two
best penalties are closer than :data:`FLOAT32_TIE` (widened by that factor) could have them swapped
by rounding, which can move its prediction a lot, so callers re-decide those targets from float64
statistics.
"""

from __future__ import annotations

import numpy as np

__all__ = ["FLOAT32_TIE", "choose", "near_ties"]

#: relative gap between the two smallest errors below which a float32 choice is re-decided: ten
#: times the largest float32 error measured on the paper-shaped workload (1.05e-6, primal and dual)
FLOAT32_TIE = 1e-5


def near_ties(errors: np.ndarray, per_target: bool, amplification=None) -> np.ndarray:
    """Columns of ``errors`` ``(n_alphas, t)`` whose two smallest values are within
    :data:`FLOAT32_TIE` (relative) of each other, which float32 rounding could swap; with one α
    for all targets (``per_target=False``) the test is on the mean error and a near tie returns
    every column. ``amplification (t,)``: how much the float32 error of a column's errors exceeds
    float32 rounding (:meth:`~neuroalign.solvers.ridge.Design.cancellation`); it widens that
    column's tolerance by ``16 · eps32 · amplification``."""
    tol = FLOAT32_TIE
    if amplification is not None:
        tol = tol + 16 * np.finfo(np.float32).eps * np.asarray(amplification, np.float64)
    e = errors if per_target else errors.mean(axis=1, keepdims=True)
    if not per_target:
        tol = np.max(tol)
    two = np.partition(e, 1, axis=0)[:2]
    near = np.flatnonzero(two[1] - two[0] <= tol * np.abs(two[0]))
    return near if per_target or near.size == 0 else np.arange(errors.shape[1])


def choose(errors: np.ndarray, alphas: np.ndarray, per_target: bool) -> np.ndarray:
    """The α of least error per target ``(t,)``, or the α of least mean error for all targets."""
    if per_target:
        return alphas[np.argmin(errors, axis=0)]
    return np.full(errors.shape[1], alphas[np.argmin(errors.mean(axis=1))])
