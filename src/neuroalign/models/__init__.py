"""Activations from PyTorch models, the model zoo, caching and layer commitment.

Importing this package does not import torch; torch (and model packages) load when a model is
built or activations are extracted.
"""

from neuroalign.models.activations import Activations
from neuroalign.models.adapters import (
    from_timm,
    from_torchvision,
    load_weights,
    read_state_dict,
    wrap,
)
from neuroalign.models.cache import ActivationCache, default_cache_dir
from neuroalign.models.commitment import Commitment, LayerCommitment, commit_layers
from neuroalign.models.extract import extract, layer_names
from neuroalign.models.preprocess import Preprocessing
from neuroalign.models.reduce import PCA, RandomProjection
from neuroalign.models.zoo import ZooModel, info, load, names, register

__all__ = [
    "Activations",
    "ActivationCache",
    "Commitment",
    "LayerCommitment",
    "PCA",
    "Preprocessing",
    "RandomProjection",
    "ZooModel",
    "commit_layers",
    "default_cache_dir",
    "extract",
    "from_timm",
    "from_torchvision",
    "info",
    "layer_names",
    "load",
    "load_weights",
    "names",
    "read_state_dict",
    "register",
    "wrap",
]
