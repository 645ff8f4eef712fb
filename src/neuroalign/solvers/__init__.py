"""Pure solver functions under the estimators: ridge through shared decompositions, array backends."""

from neuroalign.solvers.backend import NumpyBackend, TorchBackend, get_backend
from neuroalign.solvers.compute import Compute, as_compute, default_compute, using_compute
from neuroalign.solvers.ridge import (
    Design,
    FoldBasis,
    PrecisionWarning,
    check_alphas,
    check_cv,
    fit_full,
)

__all__ = [
    "Compute",
    "Design",
    "FoldBasis",
    "NumpyBackend",
    "PrecisionWarning",
    "TorchBackend",
    "as_compute",
    "check_alphas",
    "check_cv",
    "default_compute",
    "fit_full",
    "get_backend",
    "using_compute",
]
