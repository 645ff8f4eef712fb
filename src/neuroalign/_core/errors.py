"""The one error hierarchy of neuroalign.

Every message says what was wrong, where, and how to fix it.
"""

from __future__ import annotations

from sklearn.exceptions import NotFittedError as _SkNotFitted

__all__ = ["NeuroAlignError", "DataError", "ChecksumError", "ConfigError", "NotFittedError"]


class NeuroAlignError(Exception):
    """Base class of every error neuroalign raises on purpose."""


class DataError(NeuroAlignError, ValueError):
    """Input data are malformed, inconsistent or insufficient for the analysis asked."""


class ChecksumError(DataError):
    """A data file is truncated or altered: its SHA-256 differs from the expected one."""


class ConfigError(NeuroAlignError, ValueError):
    """Parameters or a configuration are invalid (unknown name, bad value, cyclic order)."""


class NotFittedError(DataError, _SkNotFitted):
    """An estimator was used before ``fit`` (also scikit-learn's ``NotFittedError``)."""
