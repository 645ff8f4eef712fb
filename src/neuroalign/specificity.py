"""Re-export of :mod:`neuroalign.analysis.specificity` (its public names), where this module lived before."""

from neuroalign.analysis.specificity import *  # noqa: F403
from neuroalign.analysis.specificity import __all__  # noqa: F401
