"""Re-export of :mod:`neuroalign.metrics.ceilings` (its public names), where this module lived before."""

from neuroalign.metrics.ceilings import *  # noqa: F403
from neuroalign.metrics.ceilings import __all__  # noqa: F401
