"""Re-export of :mod:`neuroalign.analysis.bootstrap` (its public names), where this module lived before."""

from neuroalign.analysis.bootstrap import *  # noqa: F403
from neuroalign.analysis.bootstrap import __all__  # noqa: F401
