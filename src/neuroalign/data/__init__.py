"""Neural data containers, stimulus sets, repeat splits and synthetic populations."""

from neuroalign.data.neural_data import REQUIRED_UNIT_COLUMNS, NeuralData
from neuroalign.data.splits import split_half_masks, split_half_means
from neuroalign.data.stimuli import StimulusSet, image_content_id

__all__ = [
    "NeuralData",
    "REQUIRED_UNIT_COLUMNS",
    "StimulusSet",
    "image_content_id",
    "split_half_masks",
    "split_half_means",
]
