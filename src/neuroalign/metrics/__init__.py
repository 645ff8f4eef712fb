"""Predictivity (cross-validated prediction; forward, reverse and inter-animal noise-corrected EV),
RSA (RDMs, RDM comparison, noise ceilings) and CKA."""

from neuroalign.metrics.cka import (
    centre_gram,
    cka,
    cka_noise_ceiling,
    gram_from_rdm,
    linear_cka,
    rdm_cka,
)
from neuroalign.metrics.crossval import cross_val_predict, kfold_indices
from neuroalign.metrics.predictivity import (
    PredictivityResult,
    PredictivityWarning,
    default_transform,
    forward_ev,
    interanimal_ev,
    reverse_ev,
)
from neuroalign.metrics.rsa import (
    RSA_METHODS,
    compare_rdms,
    condensed,
    noise_ceiling,
    rdm,
    rdm_similarity,
)

__all__ = [
    "PredictivityResult",
    "PredictivityWarning",
    "RSA_METHODS",
    "centre_gram",
    "cka",
    "cka_noise_ceiling",
    "compare_rdms",
    "condensed",
    "cross_val_predict",
    "default_transform",
    "forward_ev",
    "gram_from_rdm",
    "interanimal_ev",
    "kfold_indices",
    "linear_cka",
    "noise_ceiling",
    "rdm",
    "rdm_cka",
    "rdm_similarity",
    "reverse_ev",
]
