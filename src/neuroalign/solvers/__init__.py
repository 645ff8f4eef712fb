"""Pure solver functions under the estimators: ridge through shared decompositions, array backends."""

from neuroalign.solvers.backend import NumpyBackend, TorchBackend, get_backend
from neuroalign.solvers.ridge import (
    Design,
    FoldBasis,
    PrecisionWarning,
    check_alphas,
    check_cv,
    fit_full,
)

__all__ = [
    "Design",
    "FoldBasis",
    "NumpyBackend",
    "PrecisionWarning",
    "TorchBackend",
    "check_alphas",
    "check_cv",
    "fit_full",
    "get_backend",
]
