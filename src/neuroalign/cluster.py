"""Re-export of :mod:`neuroalign.bench.cluster` (its public names), where this module lived before."""

from neuroalign.bench.cluster import *  # noqa: F403
from neuroalign.bench.cluster import __all__  # noqa: F401
