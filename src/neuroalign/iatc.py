"""Re-export of :mod:`neuroalign.analysis.iatc` (its public names), where this module lived before."""

from neuroalign.analysis.iatc import *  # noqa: F403
from neuroalign.analysis.iatc import __all__  # noqa: F401
