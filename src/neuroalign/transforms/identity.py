"""The identity transform: each target unit is the source unit in the same position."""

from __future__ import annotations

import numpy as np

from neuroalign._core.errors import DataError
from neuroalign._core.validation import check_xy
from neuroalign.transforms._common import check_source
from neuroalign.transforms.base import Transform

__all__ = ["Identity"]


class Identity(Transform):
    """``ŷ = x``: no parameters, source unit ``i`` predicts target unit ``i``.

    Needs ``n_source == n_target`` (e.g. a model compared with itself, or a re-recorded array).
    """

    name = "identity"
    contains = ()
    requires_equal_units = True

    def fit(self, X, Y):
        """Check ``X (n_stimuli, n_units)`` and ``Y (n_stimuli, n_units)``; returns ``self``."""
        X, Y = check_xy(X, Y)
        if X.shape[1] != Y.shape[1]:
            raise DataError(
                f"Identity needs as many source as target units, got {X.shape[1]} source and "
                f"{Y.shape[1]} target units; use OneToOne or SoftMatching to match unequal populations."
            )
        self.n_source_ = X.shape[1]
        self.n_target_ = Y.shape[1]
        return self

    def predict(self, X) -> np.ndarray:
        """``X (n_stimuli, n_units)`` → a copy of ``X``."""
        return check_source(self, X).copy()
