"""Input checks shared by every estimator and metric (arrays in, clear errors out)."""

from __future__ import annotations

import numpy as np

from neuroalign._core.errors import DataError

__all__ = ["as_float_matrix", "check_xy", "check_seed"]


def as_float_matrix(a, name: str, *, dtype=None, allow_nan: bool = False) -> np.ndarray:
    """Return ``a`` as a 2-D floating array ``(n_samples, n_features)``.

    ``dtype=None`` keeps float32/float64 inputs as they are and turns integers and booleans into
    float64. Raises :class:`DataError` for non-numeric data, wrong dimensionality, NaN (unless
    ``allow_nan``) and infinities, naming the offending array and the fix.
    """
    arr = np.asarray(a)
    if arr.dtype.kind not in "biuf":
        raise DataError(
            f"{name} must be numeric, got dtype {arr.dtype}; convert it with np.asarray(..., dtype=float)."
        )
    if arr.ndim == 1:
        raise DataError(
            f"{name} must be 2-D (n_stimuli, n_features), got shape {arr.shape}; "
            "use a.reshape(-1, 1) for a single column."
        )
    if arr.ndim != 2:
        raise DataError(f"{name} must be 2-D (n_stimuli, n_features), got shape {arr.shape}.")
    if dtype is None:
        dtype = arr.dtype if arr.dtype.kind == "f" else np.float64
    arr = np.asarray(arr, dtype=dtype)
    finite = np.isfinite(arr)
    if not finite.all():
        bad = ~finite
        n_nan = int(np.isnan(arr).sum())
        n_inf = int(bad.sum()) - n_nan
        if n_inf or not allow_nan:
            rows, cols = np.nonzero(bad)
            raise DataError(
                f"{name} has {n_nan} NaN and {n_inf} infinite values (first at row {rows[0]}, "
                f"column {cols[0]}); drop or impute those entries before fitting."
            )
    return arr


def check_xy(X, Y, *, dtype=None) -> tuple[np.ndarray, np.ndarray]:
    """Validate a source matrix ``X (n_stimuli, n_source)`` and target ``Y (n_stimuli, n_target)``.

    Both come back as floating arrays of one dtype (float64 unless both are float32 or ``dtype``
    says otherwise). Mismatched row counts raise :class:`DataError`.
    """
    X = as_float_matrix(X, "X", dtype=dtype)
    Y = as_float_matrix(Y, "Y", dtype=dtype)
    if X.shape[0] != Y.shape[0]:
        raise DataError(
            f"X has {X.shape[0]} rows (stimuli) but Y has {Y.shape[0]}; both must hold the same "
            "stimuli in the same order (align them on stimulus ids first)."
        )
    if dtype is None and X.dtype != Y.dtype:
        X = X.astype(np.float64)
        Y = Y.astype(np.float64)
    return X, Y


def check_seed(seed) -> np.random.Generator:
    """Turn ``seed`` (int, ``np.random.Generator`` or ``None``) into a Generator.

    ``None`` is refused: randomness in neuroalign is always explicit.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        raise DataError(
            "a seed is required (an int or np.random.Generator); results must be reproducible."
        )
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return np.random.default_rng(int(seed))
    raise DataError(f"seed must be an int or np.random.Generator, got {type(seed).__name__}.")
