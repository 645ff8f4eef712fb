"""Neural data containers, stimulus sets, RDM collections, repeat splits and synthetic populations."""

from neuroalign.data.files import merge_rows, read_responses, read_stimulus_ids
from neuroalign.data.neural_data import REQUIRED_UNIT_COLUMNS, NeuralData
from neuroalign.data.nwb import parse_window, read_nwb
from neuroalign.data.rdms import RDMCollection
from neuroalign.data.splits import split_half_masks, split_half_means
from neuroalign.data.stimuli import (
    DuplicateImagesWarning,
    StimulusSet,
    image_content_id,
    zip_content_ids,
)
from neuroalign.data.synthetic import (
    RandomNetwork,
    SyntheticPopulation,
    SyntheticTruth,
    make_population,
)

__all__ = [
    "DuplicateImagesWarning",
    "NeuralData",
    "REQUIRED_UNIT_COLUMNS",
    "RDMCollection",
    "RandomNetwork",
    "StimulusSet",
    "SyntheticPopulation",
    "SyntheticTruth",
    "image_content_id",
    "make_population",
    "merge_rows",
    "parse_window",
    "read_nwb",
    "read_responses",
    "read_stimulus_ids",
    "split_half_masks",
    "split_half_means",
    "zip_content_ids",
]
