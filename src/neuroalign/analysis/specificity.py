"""Area specificity of a transform class: silhouette of (subject, area) populations.

DESIGN.md: points are (subject, area) populations; the distance between two populations of
*different* subjects is ``1 − symmetrised mapping score``; the label is the area; specificity is the
mean silhouette. Pairs from the same subject carry no distance (one animal's areas are not compared
with each other), so each point's cohesion and separation average only over other subjects' points.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from neuroalign._core.errors import DataError

__all__ = ["population_silhouette", "symmetrised_distance"]


def symmetrised_distance(score: np.ndarray) -> np.ndarray:
    """``1 − (S + Sᵀ) / 2`` for a matrix of mapping scores ``S (n_points, n_points)`` in [0, 1] units.

    ``S[i, j]`` is how well population ``i`` maps onto population ``j`` (e.g. median EV / 100);
    NaN entries (same subject, or not computed) stay NaN.
    """
    score = np.asarray(score, dtype=float)
    if score.ndim != 2 or score.shape[0] != score.shape[1]:
        raise DataError(f"score must be a square (n_points, n_points) matrix, got {score.shape}.")
    return 1.0 - (score + score.T) / 2.0


def population_silhouette(
    distance: np.ndarray, subjects: Sequence[str], labels: Sequence[str]
) -> tuple[float, np.ndarray]:
    """Mean silhouette of labelled points using only between-subject distances.

    ``distance (n_points, n_points)``: symmetric; entries between points of the same subject are
    ignored. For point ``i`` with label ``ℓ``: ``a`` = mean distance to other subjects' points of
    label ``ℓ``; ``b`` = the smallest, over other labels, mean distance to other subjects' points of
    that label; ``s = (b − a) / max(a, b)``. Points with no other-subject neighbour of their own
    label (or of any other label) get NaN and are left out of the mean. Returns ``(mean, s)``.
    With every point from a different subject this equals
    ``sklearn.metrics.silhouette_score(distance, labels, metric="precomputed")``.
    """
    d = np.asarray(distance, dtype=float)
    subjects = np.asarray(subjects)
    labels = np.asarray(labels)
    n = d.shape[0]
    if d.shape != (n, n) or subjects.shape != (n,) or labels.shape != (n,):
        raise DataError(
            f"distance {d.shape}, subjects {subjects.shape} and labels {labels.shape} disagree; "
            "give one subject and one label per point."
        )
    if len(set(labels)) < 2:
        raise DataError("specificity needs populations from at least 2 areas (labels).")
    other = subjects[:, None] != subjects[None, :]
    if np.isnan(d[other]).any():
        raise DataError("distance has NaN between populations of different subjects.")
    s = np.full(n, np.nan)
    for i in range(n):
        same = other[i] & (labels == labels[i])
        if not same.any():
            continue
        a = d[i, same].mean()
        b_values = [
            d[i, other[i] & (labels == lab)].mean()
            for lab in np.unique(labels)
            if lab != labels[i] and (other[i] & (labels == lab)).any()
        ]
        if not b_values:
            continue
        b = min(b_values)
        denom = max(a, b)
        s[i] = 0.0 if denom == 0 else (b - a) / denom
    if np.isnan(s).all():
        raise DataError(
            "no population has another subject's population in its own and another area."
        )
    return float(np.nanmean(s)), s
