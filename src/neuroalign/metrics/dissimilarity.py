"""Stimulus-by-stimulus Gram matrices and RDMs from features through matrix products.

Every RDM here is a function of the Gram matrix ``G = Z Zᵀ (n, n)`` of transformed patterns
``Z (n_stimuli, n_features)``: row-centred for ``"correlation"``, raw for ``"cosine"``,
column-centred for the Euclidean metrics (distances do not change when the same vector is subtracted
from every pattern; the smaller norms lose less to cancellation). ``G`` is accumulated over blocks of
feature columns, so memory stays at one ``(n, block)`` block plus ``(n, n)`` however many features
there are (a memory-mapped array is read block by block), and each block's product runs on the
compute backend (numpy or torch, CPU or GPU) in float32 or float64 while ``G`` accumulates in
float64.

- ``"correlation"``: ``1 − G_ij / sqrt(G_ii G_jj)`` of row-centred patterns (1 − Pearson r).
- ``"cosine"``: the same of the raw patterns.
- ``"sqeuclidean"``: ``G_ii + G_jj − 2 G_ij``; ``"euclidean"``: its square root.

**Cancellation.** ``G_ii + G_jj − 2 G_ij`` loses the digits that the two norms share: its error is
about ``ε (G_ii + G_jj)`` however small the distance. Pairs whose squared distance is below
``τ (G_ii + G_jj)`` (``τ = 1e-4`` in float64, ``1e-2`` in float32: near-duplicate patterns) are
recomputed exactly as ``Σ (x_ik − x_jk)²`` in float64, so every entry keeps a relative error of
about ``ε / τ`` (float64: ~1e-12 of the entry) and near-zero distances stay exact.
"""

from __future__ import annotations

import numpy as np

from neuroalign._core.errors import ConfigError, DataError
from neuroalign.solvers.compute import Compute, as_compute

__all__ = ["RDM_METRICS", "feature_gram", "rdm_from_features"]

RDM_METRICS = ("correlation", "cosine", "euclidean", "sqeuclidean")
_BLOCK_BYTES = 1 << 26  # 64 MiB per feature block by default
_CANCEL_TOL = {np.float64: 1e-4, np.float32: 1e-2}
_SHIFT = 16.0  # a mean this much larger than the spread is removed before the product


def _matrix(features):
    """``features`` as a 2-D array without copying (memory maps stay memory maps)."""
    x = features.to_numpy() if hasattr(features, "to_numpy") else features
    x = x if isinstance(x, np.ndarray) else np.asarray(x)
    if x.ndim != 2:
        raise DataError(f"features must be 2-D (n_stimuli, n_features), got shape {x.shape}.")
    if x.dtype.kind not in "biuf":
        raise DataError(f"features must be numeric, got dtype {x.dtype}.")
    return x


def _blocks(x: np.ndarray, dtype, compute: Compute) -> list[slice]:
    """Column blocks of at most ``block_size`` (default: 4096 columns, 64 MiB at most)."""
    n, p = x.shape
    itemsize = np.dtype(dtype).itemsize
    width = compute.block_size or max(256, min(4096, _BLOCK_BYTES // (max(n, 1) * itemsize)))
    return [slice(j, min(j + width, p)) for j in range(0, p, width)]


def _block(x: np.ndarray, cols: slice) -> np.ndarray:
    b = np.asarray(x[:, cols])
    if not np.isfinite(b).all():
        raise DataError(
            f"features hold NaN or infinite values (in columns {cols.start}–{cols.stop - 1}); "
            "drop or impute them first."
        )
    return b


def _row_stats(x: np.ndarray, blocks: list[slice]):
    """Row means, sums of squares (float64) and whether each row is constant, in one pass."""
    total, squares = np.zeros(x.shape[0]), np.zeros(x.shape[0])
    lo, hi = np.full(x.shape[0], np.inf), np.full(x.shape[0], -np.inf)
    for cols in blocks:
        b = _block(x, cols)
        total += b.sum(axis=1, dtype=np.float64)
        squares += np.einsum("ij,ij->i", b, b, dtype=np.float64)
        lo, hi = np.minimum(lo, b.min(axis=1)), np.maximum(hi, b.max(axis=1))
    return total / x.shape[1], squares, lo == hi


def _double_centre(g: np.ndarray) -> np.ndarray:
    """``H G H`` in place (``H = I − 11ᵀ/n``)."""
    g -= g.mean(axis=0, keepdims=True)
    g -= g.mean(axis=1, keepdims=True)
    return g


def feature_gram(features, centre: str | None = None, compute=None) -> np.ndarray:
    """Gram matrix ``Z Zᵀ (n_stimuli, n_stimuli)`` float64 of ``features (n_stimuli, n_features)``.

    ``centre``: ``"rows"`` (each stimulus's pattern minus its mean), ``"columns"`` (each feature
    minus its mean over stimuli: the centred Gram ``H X Xᵀ H`` of CKA) or None. ``compute``: a
    :class:`~neuroalign.solvers.compute.Compute` or backend name; products run in its dtype (None:
    the features' precision), blocked over features (``block_size`` columns; default 4096).
    """
    return _gram(_matrix(features), centre, as_compute(compute))[0]


def _gram(x: np.ndarray, centre: str | None, compute: Compute):
    """``(G, constant_rows or None, blocks)``; see :func:`feature_gram`.

    Centring rounds every entry of a float32 block, and rounds repeated values (the zeros of ReLU
    features) the same way each time: a systematic error (1e-6 in correlation distances of
    1,320 ReLU patterns). So features that the compute dtype holds exactly are multiplied as they
    are and the means are removed from the float64 product (``G − p μμᵀ`` for rows, ``H G H`` for
    columns), unless a mean dwarfs the spread around it (sum of squares > ``_SHIFT`` times the
    centred one), where that subtraction would cancel digits. Those blocks (for rows: all), and
    features that must be rounded (float64 computed in float32), are centred in float64 on the
    CPU first, so rounding comes after the means are gone.
    """
    if centre not in ("rows", "columns", None):
        raise ConfigError(f"centre must be 'rows', 'columns' or None, got {centre!r}.")
    xp = compute.xp
    dtype = compute.np_dtype(x)
    blocks = _blocks(x, dtype, compute)
    n, p = x.shape
    exact = np.can_cast(x.dtype, dtype, "safe")  # the product sees the features' own values
    constant = shift = None
    if centre == "rows":
        means, squares, constant = _row_stats(x, blocks)
        spread = squares - p * means**2
        if not exact or np.any(squares > _SHIFT * np.maximum(spread, 0.0)):
            shift = means[:, None]
    raw = xp.zeros((n, n), np.float64)
    centred = None
    for cols in blocks:
        b = _block(x, cols)  # means come off on the CPU in float64, before any cast to float32
        if shift is not None:
            b = b - shift
        elif centre == "columns":
            mu = b.mean(axis=0, dtype=np.float64)
            total = float(np.einsum("ij,ij->", b, b, dtype=np.float64))
            if not exact or total > _SHIFT * (total - n * float(mu @ mu)):
                centred = xp.zeros((n, n), np.float64) if centred is None else centred
                c = xp.asarray(b - mu, dtype)
                centred += c @ c.T
                continue
        b = xp.asarray(b, dtype)
        raw += b @ b.T
    g = xp.to_numpy(raw)
    if centre == "rows" and shift is None:
        g -= p * np.outer(means, means)
    elif centre == "columns":
        g = _double_centre(g)
        if centred is not None:
            g += xp.to_numpy(centred)
    return (g + g.T) / 2, constant, blocks


def _exact_sqdist(x: np.ndarray, i: np.ndarray, j: np.ndarray, blocks) -> np.ndarray:
    """``Σ_k (x_ik − x_jk)²`` in float64 for the pairs ``(i, j)``, read block by block."""
    rows, inv = np.unique(np.concatenate([i, j]), return_inverse=True)
    ii, jj = inv[: i.size], inv[i.size :]
    out = np.zeros(i.size)
    for cols in blocks:
        sub = np.asarray(x[rows, cols], dtype=np.float64)
        for k in range(0, i.size, 4096):
            diff = sub[ii[k : k + 4096]] - sub[jj[k : k + 4096]]
            out[k : k + 4096] += np.einsum("ij,ij->i", diff, diff)
    return out


def rdm_from_features(features, metric: str = "correlation", compute=None) -> np.ndarray:
    """RDM ``(n_stimuli, n_stimuli)`` of ``features (n_stimuli, n_features)`` (module docstring).

    Returned in the compute dtype (float64, or float32 when asked or when the features are float32
    and ``compute`` sets none); zero diagonal, exactly symmetric, no negative entries.
    """
    if metric not in RDM_METRICS:
        raise ConfigError(f"unknown RDM metric {metric!r}; choose one of {list(RDM_METRICS)}.")
    x = _matrix(features)
    if x.shape[0] < 3:
        raise DataError(f"an RDM needs at least 3 stimuli, got shape {x.shape}.")
    compute = as_compute(compute)
    dtype = compute.np_dtype(x)
    centre = {"correlation": "rows", "cosine": None}.get(metric, "columns")
    g, constant, blocks = _gram(x, centre, compute)
    norms2 = np.diag(g).copy()
    if metric in ("correlation", "cosine"):
        flat = constant if constant is not None else norms2 == 0
        if flat.any():
            raise DataError(
                f"{int(flat.sum())} stimuli (e.g. row {int(np.argmax(flat))}) have a constant "
                f"feature pattern, so their {metric} distance is undefined; drop them or use "
                "metric='euclidean'."
            )
        norms = np.sqrt(norms2)
        d = 1.0 - g / np.outer(norms, norms)
    else:
        scale = norms2[:, None] + norms2[None, :]
        d = scale - 2.0 * g
        iu, ju = np.triu_indices(x.shape[0], 1)
        bad = d[iu, ju] < _CANCEL_TOL[dtype] * scale[iu, ju]
        if bad.any():
            exact = _exact_sqdist(x, iu[bad], ju[bad], blocks)
            d[iu[bad], ju[bad]] = exact
            d[ju[bad], iu[bad]] = exact
    np.maximum(d, 0.0, out=d)
    np.fill_diagonal(d, 0.0)
    if metric == "euclidean":
        np.sqrt(d, out=d)
    return d.astype(dtype, copy=False)
