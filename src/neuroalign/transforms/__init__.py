"""Transform classes: one fit/predict API for every mapping between populations, and their order.

Strictness (derived from each class's ``contains``): identity ⊂ one_to_one ⊂ {soft_matching,
procrustes, zippering}; procrustes ⊂ ridge; pls ⊂ ridge; ridge, zippering ⊂ mlp.
"""

from neuroalign.transforms.base import (
    TRANSFORMS,
    Transform,
    contains,
    get,
    minimal,
    registry,
    resolve,
    strictness_order,
)
from neuroalign.transforms.identity import Identity
from neuroalign.transforms.mlp import MLP
from neuroalign.transforms.one_to_one import OneToOne
from neuroalign.transforms.pls import PLS
from neuroalign.transforms.procrustes import Procrustes
from neuroalign.transforms.ridge import Ridge
from neuroalign.transforms.soft_matching import SoftMatching
from neuroalign.transforms.zippering import Zippering

__all__ = [
    "MLP",
    "PLS",
    "Identity",
    "OneToOne",
    "Procrustes",
    "TRANSFORMS",
    "Ridge",
    "SoftMatching",
    "Transform",
    "Zippering",
    "contains",
    "get",
    "minimal",
    "registry",
    "resolve",
    "strictness_order",
]
