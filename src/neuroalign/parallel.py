"""Re-export of :mod:`neuroalign.bench.executors` (its public names), where this module lived before."""

from neuroalign.bench.executors import *  # noqa: F403
from neuroalign.bench.executors import __all__  # noqa: F401
