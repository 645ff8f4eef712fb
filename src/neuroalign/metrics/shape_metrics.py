"""Distances between two populations' responses to the same stimuli, up to a class of maps.

``x (n_stimuli, n_x)`` and ``y (n_stimuli, n_y)``: units in columns. As in netrep (Williams et al.
2021), columns are centred (``centre=True``) and the narrower population is zero-padded to the
wider one's units, so every map is an isometry of one space:

- :func:`procrustes_distance` (netrep ``LinearMetric``): the best orthogonal map. ``"angular"``:
  ``arccos(‖X_wᵀY_w‖_* / (‖X_w‖_F ‖Y_w‖_F))``; ``"euclidean"``: ``min_Q ‖X_w Q − Y_w‖_F``.
  ``alpha < 1`` partially whitens each population first (netrep's regularised whitening;
  ``alpha = 0``: CCA), ``X_w = X̃ Z``.
- :func:`one_to_one_distance` (netrep ``PermutationMetric``): the best permutation of units
  (Hungarian assignment on ``X̃ᵀỸ``).
- :func:`soft_matching_distance` (Khosla & Williams 2023): ``sqrt(min_P Σ_ij P_ij ‖x̃_i − ỹ_j‖²)``
  over transport plans ``P`` between uniform masses on the units (POT); with equal unit counts
  the optimum is a permutation (Birkhoff), found by the Hungarian algorithm instead.

Shared work: only a population's factor ``A (n_stimuli, r ≤ n_stimuli)`` with ``A Aᵀ = X_w X_wᵀ``
enters Procrustes (``X̃`` itself when it is narrow, the triangular factor of ``X̃ᵀ``'s QR when it
is wide, times netrep's partial whitening), and :func:`shape_distances` computes it once per population
for every pair; a pair then costs one ``n·r_x·r_y`` product and the singular values of
``A_xᵀA_y``. **Cancellation**: ``‖X‖² + ‖Y‖² − 2‖XᵀY‖_*`` loses every digit when the populations
nearly match, so a distance below 1% of the scale (and every one-to-one and soft-matching
distance) is recomputed from the aligned residual ``‖X Q − Y‖`` itself: a rotated or permuted copy
is at distance ~1e-15, not ~1e-8.

Inputs carrying stimulus ids are joined on them (:mod:`~neuroalign.metrics.paired`); bare arrays
must have the same rows in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from neuroalign._core.errors import ConfigError, DataError
from neuroalign.data.align import align_rows, take_rows
from neuroalign.metrics.paired import feature_matrix, paired_features
from neuroalign.solvers.compute import as_compute
from neuroalign.transforms.soft_matching import transport_plan

__all__ = [
    "one_to_one_distance",
    "procrustes_distance",
    "shape_distances",
    "soft_matching_distance",
]

_KINDS = ("procrustes", "one_to_one", "soft_matching")
_METRICS = ("angular", "euclidean")
_EIG_TOL = 1e-7  # netrep's eigenvalue floor in its whitening
_NEAR = 1e-4  # relative squared distance below which the residual is recomputed directly


@dataclass
class _Factor:
    """``base (n, r)`` with ``base · scale(p_pad)`` the whitened factor; ``lam (r,)`` eigenvalues
    of ``X̃ᵀX̃`` in the range (floored), ``alpha``; ``width`` units."""

    base: np.ndarray
    lam: np.ndarray | None
    alpha: float
    width: int

    def scale(self, p_pad: int) -> float:
        """netrep's variance-preserving rescaling, its zero-padded directions included."""
        if self.lam is None:
            return 1.0
        a, extra = self.alpha, p_pad - self.lam.size
        lam = np.append(self.lam, np.full(max(extra, 0), _EIG_TOL))
        new_var = np.sum(a**2 * lam + 2 * a * (1 - a) * np.sqrt(lam) + (1 - a) ** 2)
        return float(np.sqrt(lam.sum() / new_var))


def _check(metric: str, centre) -> None:
    if metric not in _METRICS:
        raise ConfigError(f"metric must be one of {_METRICS}, got {metric!r}.")
    if not isinstance(centre, bool | np.bool_):
        raise ConfigError(f"centre must be True or False, got {centre!r}.")


def _centred(x: np.ndarray, centre: bool, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if not np.isfinite(x).all():
        raise DataError(f"{name} holds NaN or infinite values; drop or impute them first.")
    return x - x.mean(axis=0) if centre else x


def _factor(x: np.ndarray, alpha: float, centre: bool) -> _Factor:
    xc = _centred(x, centre, "a population")
    n, p = xc.shape
    base = xc if p <= n else np.linalg.qr(xc.T, mode="r").T
    if alpha > 1 - _EIG_TOL:
        return _Factor(base, None, 1.0, p)
    lam, v = np.linalg.eigh(base.T @ base)  # X̃ᵀX̃ in the factor's coordinates, as netrep
    lam = np.maximum(lam, _EIG_TOL)
    return _Factor(base @ (v * (alpha + (1 - alpha) / np.sqrt(lam))), lam, alpha, p)


def _residual(ax: np.ndarray, ay: np.ndarray, m: np.ndarray) -> float:
    """``min_Q ‖A_x Q − A_y‖_F`` from the aligned residual (the narrower factor is rotated)."""
    u, _, vt = np.linalg.svd(m, full_matrices=False)
    if ax.shape[1] <= ay.shape[1]:
        return float(np.linalg.norm(ax @ (u @ vt) - ay))
    return float(np.linalg.norm(ay @ (vt.T @ u.T) - ax))


def _procrustes(fx: _Factor, fy: _Factor, metric: str, compute) -> float:
    p_pad = max(fx.width, fy.width)
    ax, ay = fx.base * fx.scale(p_pad), fy.base * fy.scale(p_pad)
    a, b = float(np.vdot(ax, ax)), float(np.vdot(ay, ay))
    if a == 0 or b == 0:
        raise DataError("a population is constant over the stimuli; its distance is undefined.")
    xp = compute.xp
    m = xp.to_numpy(xp.asarray(ax, np.float64).T @ xp.asarray(ay, np.float64))
    nuc = float(np.linalg.svd(m, compute_uv=False).sum())
    if metric == "euclidean":
        d2 = a + b - 2 * nuc
        return float(np.sqrt(d2)) if d2 > _NEAR * (a + b) else _residual(ax, ay, m)
    c = nuc / np.sqrt(a * b)
    if c < 1 - _NEAR:
        return float(np.arccos(max(c, -1.0)))
    ra, rb = np.sqrt(a), np.sqrt(b)
    return _chord_angle(_residual(ax / ra, ay / rb, m / (ra * rb)))


def _chord_angle(chord: float) -> float:
    """Angle between unit vectors at distance ``chord`` (well conditioned near 0)."""
    return float(2.0 * np.arcsin(min(chord / 2.0, 1.0)))


def procrustes_distance(
    x, y, *, metric: str = "angular", alpha: float = 1.0, centre: bool = True, compute=None
) -> float:
    """Shape distance between ``x (n_stimuli, n_x)`` and ``y (n_stimuli, n_y)`` up to an
    orthogonal map (module docstring); netrep ``LinearMetric(alpha, center_columns=centre,
    zero_pad=True, score_method=metric).fit_score(x, y)``. Radians (angular) or response units.
    ``compute``: backend of the cross product."""
    _check(metric, centre)
    if not 0 <= alpha <= 1:
        raise ConfigError(f"alpha must be between 0 and 1, got {alpha!r}.")
    x, y = paired_features(x, y)
    return _procrustes(_factor(x, alpha, centre), _factor(y, alpha, centre), metric,
                       as_compute(compute))  # fmt: skip


def _cross(xc: np.ndarray, yc: np.ndarray, compute) -> np.ndarray:
    xp = compute.xp
    return xp.to_numpy(xp.asarray(xc, np.float64).T @ xp.asarray(yc, np.float64))


def _matched_residual(xc, yc, rows, cols) -> float:
    """``Σ_k ‖x_{r_k} − y_{c_k}‖² + ‖unmatched columns‖²`` computed from the differences."""
    diff = xc[:, rows] - yc[:, cols]
    total = np.vdot(diff, diff)
    for z, used in ((xc, rows), (yc, cols)):
        rest = np.setdiff1d(np.arange(z.shape[1]), used)
        total += np.vdot(z[:, rest], z[:, rest])
    return float(total)


def _one_to_one(xc: np.ndarray, yc: np.ndarray, metric: str, compute) -> float:
    nx, ny = float(np.linalg.norm(xc)), float(np.linalg.norm(yc))
    if nx == 0 or ny == 0:
        raise DataError("a population is constant over the stimuli; its distance is undefined.")
    c = _cross(xc, yc, compute)
    rows, cols = linear_sum_assignment(c, maximize=True)
    if metric == "euclidean":
        return float(np.sqrt(_matched_residual(xc, yc, rows, cols)))
    cos = float(c[rows, cols].sum()) / (nx * ny)
    if cos < 0.5:
        return float(np.arccos(max(cos, -1.0)))
    return _chord_angle(np.sqrt(_matched_residual(xc / nx, yc / ny, rows, cols)))


def one_to_one_distance(
    x, y, *, metric: str = "angular", centre: bool = True, compute=None
) -> float:
    """Shape distance up to a permutation of units (netrep ``PermutationMetric(center_columns=
    centre, zero_pad=True, score_method=metric)``): the assignment maximises ``Σ x̃_iᵀ ỹ_π(i)``."""
    _check(metric, centre)
    x, y = paired_features(x, y)
    return _one_to_one(_centred(x, centre, "x"), _centred(y, centre, "y"), metric,
                       as_compute(compute))  # fmt: skip


def _soft_matching(xc, yc, method: str, reg: float, compute) -> float:
    p, q = xc.shape[1], yc.shape[1]
    c = (xc * xc).sum(0)[:, None] + (yc * yc).sum(0)[None, :] - 2.0 * _cross(xc, yc, compute)
    np.maximum(c, 0.0, out=c)
    if p == q and method == "emd":
        rows, cols = linear_sum_assignment(c)
        weights = np.full(p, 1.0 / p)
    else:
        plan = transport_plan(c, method, reg, max_iter=max(100_000, 20 * p * q))
        rows, cols = np.nonzero(plan > 0)
        weights = plan[rows, cols]
    diff = xc[:, rows] - yc[:, cols]
    return float(np.sqrt(weights @ np.einsum("ij,ij->j", diff, diff)))


def soft_matching_distance(
    x, y, *, centre: bool = True, method: str = "emd", reg: float = 0.05, compute=None
) -> float:
    """Soft-matching distance (module docstring) in response units: POT
    ``sqrt(ot.emd2(1/n_x, 1/n_y, ot.dist(x̃ᵀ, ỹᵀ)))``. ``method="sinkhorn"`` uses the entropic
    plan (``reg`` relative to the mean cost) and is an upper bound; the cost of the chosen plan
    is recomputed from the unit differences."""
    _check("euclidean", centre)
    x, y = paired_features(x, y)
    return _soft_matching(_centred(x, centre, "x"), _centred(y, centre, "y"), method, reg,
                          as_compute(compute))  # fmt: skip


def _aligned(populations, name: str) -> list[np.ndarray]:
    """Every population over the stimuli of the first, in its order."""
    first = populations[0]
    out = []
    for i, pop in enumerate(populations):
        al = align_rows(first, pop, (f"{name}[0]", f"{name}[{i}]"))
        if al.index_a is not None:
            raise DataError(
                f"{name}[{i}] lacks stimuli of {name}[0]; select the stimuli all populations "
                "share first."
            )
        out.append(feature_matrix(take_rows(pop, al.index_b), f"{name}[{i}]"))
    return out


def shape_distances(
    populations,
    others=None,
    *,
    kind: str = "procrustes",
    metric: str = "angular",
    alpha: float = 1.0,
    centre: bool = True,
    compute=None,
) -> np.ndarray:
    """Distances between every population in ``populations`` and every one in ``others``
    (``(k, k_others)``), or between all pairs of ``populations`` (``(k, k)``, symmetric, zero
    diagonal) when ``others`` is None. ``kind``: ``"procrustes"``, ``"one_to_one"`` or
    ``"soft_matching"`` (``metric`` and ``alpha`` as in the single-pair functions; soft matching
    is Euclidean). Each population is centred, and for Procrustes factorised, once."""
    if kind not in _KINDS:
        raise ConfigError(f"kind must be one of {_KINDS}, got {kind!r}.")
    _check(metric, centre)
    compute = as_compute(compute)
    pops = _aligned(list(populations) + list(others or []), "populations")
    k = len(populations)
    if kind == "procrustes":
        items = [_factor(p, alpha, centre) for p in pops]

        def dist(i, j):
            return _procrustes(items[i], items[j], metric, compute)
    else:
        items = [_centred(p, centre, f"populations[{i}]") for i, p in enumerate(pops)]

        def dist(i, j):
            if kind == "one_to_one":
                return _one_to_one(items[i], items[j], metric, compute)
            return _soft_matching(items[i], items[j], "emd", 0.05, compute)

    if others is None:
        out = np.zeros((k, k))
        for i in range(k):
            for j in range(i + 1, k):
                out[i, j] = out[j, i] = dist(i, j)
        return out
    return np.array([[dist(i, k + j) for j in range(len(pops) - k)] for i in range(k)])
