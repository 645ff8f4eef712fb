"""neuroalign: how brain-like is this neural network, and in which way?"""

from __future__ import annotations

from neuroalign._core.errors import ChecksumError, ConfigError, DataError, NeuroAlignError
from neuroalign._core.version import __version__
from neuroalign.analysis.compare import ComparisonResult, compare
from neuroalign.analysis.iatc import IATCResult, estimate_iatc
from neuroalign.data import NeuralData, StimulusSet
from neuroalign.metrics import forward_ev, interanimal_ev, reverse_ev

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
