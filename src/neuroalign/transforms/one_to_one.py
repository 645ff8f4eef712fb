"""One-to-one matching: each target unit is predicted by one source unit (Hungarian assignment)."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from neuroalign._core.errors import ConfigError
from neuroalign._core.validation import check_xy
from neuroalign.transforms._common import check_source, cross_correlation, gain_offset
from neuroalign.transforms.base import Transform

__all__ = ["OneToOne", "match_units"]


def match_units(similarity: np.ndarray) -> np.ndarray:
    """Assignment of a source to every target maximising the summed similarity.

    ``similarity (n_source, n_target)`` → ``source_index (n_target,)``. Targets get distinct
    sources when ``n_target ≤ n_source``. With more targets than sources every source serves at
    most ``⌈n_target / n_source⌉`` targets (the source set is repeated that many times and one
    optimal assignment is solved): sources are reused only as much as the counts force.
    """
    n_source, n_target = similarity.shape
    reps = -(-n_target // n_source)
    rows, cols = linear_sum_assignment(np.tile(similarity, (reps, 1)).T, maximize=True)
    source = np.empty(n_target, dtype=np.intp)
    source[rows] = cols % n_source
    return source


class OneToOne(Transform):
    """``ŷ_j = a_j · x_{π(j)} + c_j``: each target copies one source unit, with optional gain.

    ``π`` maximises the summed train-set Pearson correlation (signed) over assignments
    (:func:`match_units`; distinct sources when ``n_target ≤ n_source``, balanced reuse otherwise).
    ``affine=True`` fits a per-target gain ``a_j`` and offset ``c_j`` by least squares (units differ
    in gain); ``affine=False`` copies the source unit as it is (``a = 1, c = 0``).

    Fitted: ``assignment_ (n_target,)`` source index per target, ``scale_``, ``offset_ (n_target,)``.
    """

    name = "one_to_one"
    contains = ("identity",)

    def __init__(self, affine: bool = True):
        self.affine = affine

    def fit(self, X, Y):
        """``X (n_stimuli, n_source)``, ``Y (n_stimuli, n_target)`` → ``self``."""
        if not isinstance(self.affine, (bool, np.bool_)):
            raise ConfigError(f"affine must be True or False, got {self.affine!r}.")
        X, Y = check_xy(X, Y)
        self.n_source_, self.n_target_ = X.shape[1], Y.shape[1]
        self.assignment_ = match_units(cross_correlation(X, Y))
        self.scale_, self.offset_ = gain_offset(X[:, self.assignment_], Y, self.affine)
        return self

    def predict(self, X) -> np.ndarray:
        """``X (n_stimuli, n_source)`` → ``(n_stimuli, n_target)``."""
        X = check_source(self, X)
        return (X[:, self.assignment_] * self.scale_ + self.offset_).astype(X.dtype, copy=False)
