"""Re-export of :mod:`neuroalign.analysis.compare` (its public names), where this module lived before."""

from neuroalign.analysis.compare import *  # noqa: F403
from neuroalign.analysis.compare import __all__  # noqa: F401
