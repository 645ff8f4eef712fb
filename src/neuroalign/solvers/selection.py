"""Choosing a penalty from a table of cross-validation errors, and finding near ties.

A float32 error table is within ~1e-6 (relative) of the float64 one once the sums of squares are
accumulated in float64, unless the targets' part outside the basis is a small difference of large
sums (primal form, p close to n), which magnifies the rounding by a known factor. A target whose two
best penalties are closer than :data:`FLOAT32_TIE` (widened by that factor) could have them swapped
by rounding, which can move its prediction a lot, so callers re-decide those targets from float64
statistics.

Both functions work on the arrays of any backend (numpy, or torch on the device) and return arrays
of that backend, so a choice made on the device stays there.
"""

from __future__ import annotations

import numpy as np

from neuroalign.solvers.backend import NumpyBackend

__all__ = ["FLOAT32_TIE", "choose", "near_ties"]

#: relative gap between the two smallest errors below which a float32 choice is re-decided: ten
#: times the largest float32 error measured on the paper-shaped workload (1.05e-6, primal and dual)
FLOAT32_TIE = 1e-5


_NUMPY = NumpyBackend()


def near_ties(errors, per_target: bool, amplification=None, xp=None):
    """Mask ``(t,)`` (bool, ``xp``'s array) of the columns of ``errors`` ``(n_alphas, t)`` whose two
    smallest values are within :data:`FLOAT32_TIE` (relative) of each other, which float32
    rounding could swap; with one α for all targets (``per_target=False``) the test is on the mean
    error and a near tie marks every column. ``amplification (t,)``: how much the float32 error of
    a column's errors exceeds float32 rounding
    (:meth:`~neuroalign.solvers.ridge.Design.cancellation`); it widens that column's tolerance by
    ``16 · eps32 · amplification``. ``xp``: the arrays' backend (default numpy)."""
    xp = xp or _NUMPY
    tol = FLOAT32_TIE
    if amplification is not None:
        tol = tol + 16 * float(np.finfo(np.float32).eps) * amplification
    if per_target:
        two = xp.two_smallest(errors)
        return two[1] - two[0] <= tol * abs(two[0])
    two = xp.two_smallest(errors.mean(1)[:, None])
    tol = tol if amplification is None else tol.max()
    return xp.expand(two[1] - two[0] <= tol * abs(two[0]), (errors.shape[1],))


def choose(errors, alphas, per_target: bool, xp=None):
    """The α of least error per target ``(t,)``, or the α of least mean error for all targets;
    ``alphas (n_alphas,)`` float64 of ``errors``' backend ``xp`` (default numpy). The first
    least error wins a tie, as in ``np.argmin``."""
    xp = xp or _NUMPY
    if per_target:
        return alphas[errors.argmin(0)]
    return alphas[xp.expand(errors.mean(1)[:, None].argmin(0), (errors.shape[1],))]
