"""The package version, in one place (the package root re-exports it)."""

__version__ = "0.1.0"


def package_version() -> str:
    """``neuroalign.__version__``, for provenance records."""
    return __version__
