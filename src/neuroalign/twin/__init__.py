"""Digital twins and dual-feature selectivity (Franke, Karantzas et al. 2025).

A :class:`Twin` maps grey images ``(n, H, W)`` (standardised pixels) to per-neuron responses,
differentiably. This package loads the paper's macaque V1 twin (:func:`load_v1_twin`), builds twins
from model layers (:func:`fit_model_twin`, :func:`model_units`), screens image sets for most / least
activating images (:func:`screen`), synthesises most / least exciting images (:func:`synthesize`,
:func:`synthesize_poles`) and measures each neuron's dual selectivity (:func:`dual_selectivity`). Importing it imports torch.
"""

from neuroalign.twin.analysis import POLES, DualSelectivityResult, dual_selectivity
from neuroalign.twin.base import FunctionTwin, Twin, check_neurons, project_norm
from neuroalign.twin.images import ImageSet, bundled_crops, load_images, prepare
from neuroalign.twin.model import ModelTwin, UnitTwin, fit_model_twin, model_units
from neuroalign.twin.screen import Screen, screen
from neuroalign.twin.synthesis import Synthesis, amplitude_spectrum, synthesize, synthesize_poles
from neuroalign.twin.v1 import V1Twin, load_v1_twin

__all__ = [
    "POLES",
    "DualSelectivityResult",
    "FunctionTwin",
    "ImageSet",
    "ModelTwin",
    "Screen",
    "Synthesis",
    "Twin",
    "UnitTwin",
    "V1Twin",
    "amplitude_spectrum",
    "bundled_crops",
    "check_neurons",
    "dual_selectivity",
    "fit_model_twin",
    "load_images",
    "load_v1_twin",
    "model_units",
    "prepare",
    "project_norm",
    "screen",
    "synthesize",
    "synthesize_poles",
]
