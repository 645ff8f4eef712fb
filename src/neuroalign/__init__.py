"""neuroalign: how brain-like is this neural network, and in which way?"""

from __future__ import annotations

from neuroalign.compare import ComparisonResult, compare
from neuroalign.data import NeuralData, StimulusSet
from neuroalign.errors import ChecksumError, ConfigError, DataError, NeuroAlignError
from neuroalign.iatc import IATCResult, estimate_iatc
from neuroalign.metrics import forward_ev, interanimal_ev, reverse_ev

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "ComparisonResult",
    "IATCResult",
    "NeuralData",
    "StimulusSet",
    "compare",
    "estimate_iatc",
    "forward_ev",
    "interanimal_ev",
    "reverse_ev",
    "NeuroAlignError",
    "DataError",
    "ChecksumError",
    "ConfigError",
]
