"""neuroalign: how brain-like is this neural network, and in which way?"""

from __future__ import annotations

from neuroalign.data import NeuralData, StimulusSet
from neuroalign.errors import ChecksumError, ConfigError, DataError, NeuroAlignError

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "NeuralData",
    "StimulusSet",
    "NeuroAlignError",
    "DataError",
    "ChecksumError",
    "ConfigError",
]
