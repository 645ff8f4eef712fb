"""Predictivity (cross-validated prediction; forward, reverse and inter-animal noise-corrected EV),
RSA (RDMs, RDM comparison, noise ceilings), CKA and shape distances between populations."""

from neuroalign.metrics.ceilings import cka_noise_ceiling, noise_ceiling
from neuroalign.metrics.cka import (
    centre_gram,
    cka,
    gram_from_rdm,
    linear_cka,
    rbf_cka,
    rdm_cka,
    u_centre_gram,
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
    rdm,
    rdm_similarity,
)
from neuroalign.metrics.shape_metrics import (
    one_to_one_distance,
    procrustes_distance,
    shape_distances,
    soft_matching_distance,
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
    "one_to_one_distance",
    "procrustes_distance",
    "rbf_cka",
    "rdm",
    "rdm_cka",
    "rdm_similarity",
    "reverse_ev",
    "shape_distances",
    "soft_matching_distance",
    "u_centre_gram",
]
