"""Re-export of :mod:`neuroalign._core.errors` (its public names), where this module lived before."""

from neuroalign._core.errors import *  # noqa: F403
from neuroalign._core.errors import __all__  # noqa: F401
