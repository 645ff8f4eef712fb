"""How many dimensions a population spans, and how much of a layer the neurons recover.

- ``participation_ratio(λ) = (Σλ)² / Σλ²`` of a covariance's eigenvalues: 1 for a rank-1
  population, ``n`` for ``n`` equal independent dimensions.
- :func:`effective_dimensionality` of a deterministic population (model features): the
  participation ratio of its covariance over stimuli, from the smaller of its two Gram matrices
  (``‖Xc‖_F⁴ / ‖Xc Xcᵀ‖_F²``).
- :func:`signal_dimensionality` of a noisy population: the participation ratio of the symmetrised
  cross-covariance of two split halves, whose eigenvalues estimate the stimulus-driven covariance
  (noise, independent between halves, averages out; negative eigenvalues are set to 0).
- :func:`layer_population` (reverse predictivity): the share of a layer's stimulus variance that
  the neurons explain, noise-corrected and pooled over its *distinct* units,
  ``100 · Σ max(r_j, 0)² / Σ ρ_target,j ρ_pred,j``: each unit counts with unit variance and units
  whose centred profiles are equal up to a positive gain count once, so duplicating or rescaling a
  unit changes nothing; beside it the layer's effective dimensionality, which a collapsed
  (near rank-1) layer cannot hide.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "distinct_columns",
    "effective_dimensionality",
    "layer_population",
    "participation_ratio",
    "signal_dimensionality",
]

_BLOCK = 4096


def participation_ratio(eigenvalues) -> float:
    """``(Σλ)² / Σλ²`` of non-negative eigenvalues (negative ones count as 0); NaN when all 0."""
    lam = np.maximum(np.asarray(eigenvalues, dtype=np.float64), 0.0)
    s2 = float((lam**2).sum())
    return float(lam.sum() ** 2 / s2) if s2 > 0 else np.nan


def _centred_blocks(X):
    n, p = X.shape
    for j in range(0, p, _BLOCK):
        xb = np.asarray(X[:, j : j + _BLOCK], dtype=np.float64)
        yield j, xb - xb.mean(axis=0)


def effective_dimensionality(X) -> float:
    """Participation ratio of the covariance over stimuli of ``X (n_stimuli, n_units)``."""
    n, p = X.shape
    if p <= n:
        Xc = np.asarray(X, np.float64) - np.asarray(X, np.float64).mean(axis=0)
        G = Xc.T @ Xc
    else:
        G = np.zeros((n, n))
        for _, xb in _centred_blocks(X):
            G += xb @ xb.T
    tr = float(np.trace(G))
    fro2 = float((G * G).sum())
    return tr**2 / fro2 if fro2 > 0 else np.nan


def signal_dimensionality(half_a: np.ndarray, half_b: np.ndarray) -> float:
    """Participation ratio of the stimulus-driven covariance of a noisy population, from the
    symmetrised cross-covariance of two split-half means ``(n_stimuli, n_units)``."""
    a = np.asarray(half_a, np.float64)
    b = np.asarray(half_b, np.float64)
    a, b = a - a.mean(0), b - b.mean(0)
    C = a.T @ b if a.shape[1] <= a.shape[0] else a @ b.T
    return participation_ratio(np.linalg.eigvalsh(0.5 * (C + C.T)))


def distinct_columns(X, rtol: float = 1e-9) -> np.ndarray:
    """Mask ``(n_units,)`` of the first of every group of columns of ``X (n_stimuli, n_units)``
    whose centred profiles are equal up to a positive gain (constant columns: False). Candidates
    are found from two random projections of the normalised columns and confirmed exactly."""
    n, p = X.shape
    g = np.random.default_rng(0).standard_normal((n, 2))
    keys = np.empty((p, 2))
    norms = np.empty(p)
    for j, xb in _centred_blocks(X):
        nb = np.linalg.norm(xb, axis=0)
        norms[j : j + xb.shape[1]] = nb
        keys[j : j + xb.shape[1]] = (g.T @ xb).T / np.where(nb > 0, nb, 1.0)[:, None]
    scale = np.finfo(np.float64).eps * max(float(norms.max(initial=0.0)), 1.0)
    live = norms > scale * n
    keep = live.copy()
    rounded = np.round(keys / 1e-6).astype(np.int64)
    order = np.lexsort((rounded[:, 1], rounded[:, 0]))
    cuts = np.flatnonzero(np.any(np.diff(rounded[order], axis=0) != 0, axis=1)) + 1
    for group in np.split(order, cuts):
        group = group[live[group]]
        if group.size < 2:
            continue
        first = _unit_profile(X, group[0], norms[group[0]])
        for c in group[1:]:
            if np.allclose(_unit_profile(X, c, norms[c]), first, rtol=0, atol=rtol):
                keep[c] = False
    return keep


def _unit_profile(X, c: int, norm: float) -> np.ndarray:
    x = np.asarray(X[:, c], np.float64)
    return (x - x.mean()) / norm


def layer_population(X, r, ceiling, valid) -> dict:
    """``population_ev`` (percent), ``effective_dim`` and ``n_distinct`` of a layer
    ``X (n_stimuli, n_units)`` predicted with per-unit ``r``, ``ceiling = ρ_target·ρ_pred`` and
    ``valid`` (module docstring)."""
    distinct = distinct_columns(X)
    ok = distinct & np.asarray(valid, bool) & np.isfinite(r) & (np.asarray(ceiling) > 0)
    den = float(np.sum(np.asarray(ceiling)[ok]))
    pop = (
        100.0 * float(np.sum(np.maximum(np.asarray(r)[ok], 0.0) ** 2)) / den if den > 0 else np.nan
    )
    return {
        "population_ev": pop,
        "effective_dim": effective_dimensionality(X),
        "n_distinct": int(distinct.sum()),
    }
