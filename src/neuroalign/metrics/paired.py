"""Two stimulus-indexed feature inputs as two matrices over the same stimuli.

Inputs: arrays ``(n_stimuli, n_features)`` (memory maps stay memory maps), DataFrames indexed by
stimulus id, activations of one layer, or neural data (``responses (n_stimuli, n_units,
n_repeats)``, averaged over valid repeats). Inputs that carry stimulus ids are joined on them
(:func:`~neuroalign.data.align.align_rows`); a bare array is taken in the other input's stimulus
order and must have as many rows.
"""

from __future__ import annotations

import numpy as np

from neuroalign._core.errors import DataError
from neuroalign.data.align import align_rows, take_rows

__all__ = ["feature_matrix", "paired_features"]


def feature_matrix(x, name: str = "features") -> np.ndarray:
    """The ``(n_stimuli, n_features)`` numeric matrix behind ``x`` (module docstring)."""
    if hasattr(x, "layers") and hasattr(x, "stimulus_ids") and not hasattr(x, "responses"):
        if len(x.layers) != 1:
            raise DataError(
                f"{name} holds activations of {len(x.layers)} layers; pass one layer "
                "(acts.layer(name))."
            )
        x = x[x.layers[0]]
    resp = getattr(x, "responses", None)
    if resp is not None:
        resp = np.asarray(resp, dtype=np.float64)
        x = np.nanmean(resp, axis=2) if resp.ndim == 3 else resp
    arr = x.to_numpy() if hasattr(x, "to_numpy") else x
    arr = arr if isinstance(arr, np.ndarray) else np.asarray(arr)
    if arr.ndim != 2 or arr.dtype.kind not in "biuf":
        raise DataError(
            f"{name} must be a numeric (n_stimuli, n_features) matrix, got shape {arr.shape} "
            f"and dtype {arr.dtype}."
        )
    return arr


def paired_features(x, y, names: tuple[str, str] = ("x", "y")) -> tuple[np.ndarray, np.ndarray]:
    """``x`` and ``y`` as matrices whose rows are the same stimuli, in ``x``'s order."""
    al = align_rows(x, y, names)
    return (
        feature_matrix(take_rows(x, al.index_a), names[0]),
        feature_matrix(take_rows(y, al.index_b), names[1]),
    )
