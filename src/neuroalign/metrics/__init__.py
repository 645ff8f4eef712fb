"""Predictivity: cross-validated prediction and forward, reverse and inter-animal noise-corrected EV."""

from neuroalign.metrics.crossval import cross_val_predict, kfold_indices
from neuroalign.metrics.predictivity import (
    PredictivityResult,
    PredictivityWarning,
    default_transform,
    forward_ev,
    interanimal_ev,
    reverse_ev,
)

__all__ = [
    "PredictivityResult",
    "PredictivityWarning",
    "cross_val_predict",
    "default_transform",
    "forward_ev",
    "interanimal_ev",
    "kfold_indices",
    "reverse_ev",
]
