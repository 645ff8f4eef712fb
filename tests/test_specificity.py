"""Specificity: silhouette over (subject, area) populations from between-subject distances."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import silhouette_samples, silhouette_score

from neuroalign.errors import DataError
from neuroalign.specificity import population_silhouette, symmetrised_distance


def test_equals_sklearn_when_every_point_is_its_own_subject():
    rng = np.random.default_rng(0)
    pts = np.concatenate(
        [rng.normal(0, 1, (5, 3)), rng.normal(2, 1, (6, 3)), rng.normal(-2, 1, (4, 3))]
    )
    labels = np.repeat(["V1", "V4", "IT"], [5, 6, 4])
    d = np.linalg.norm(pts[:, None] - pts[None], axis=2)
    mean, s = population_silhouette(d, [f"m{i}" for i in range(15)], labels)
    assert mean == pytest.approx(silhouette_score(d, labels, metric="precomputed"), abs=1e-12)
    np.testing.assert_allclose(s, silhouette_samples(d, labels, metric="precomputed"), atol=1e-12)


def test_same_subject_distances_are_ignored():
    # 3 subjects x 2 areas; between-subject distances: 0.1 within area, 0.9 across areas
    subjects = np.repeat(["a", "b", "c"], 2)
    areas = np.tile(["V1", "V4"], 3)
    d = np.where(areas[:, None] == areas[None], 0.1, 0.9)
    np.fill_diagonal(d, 0.0)
    same_subject = subjects[:, None] == subjects[None]
    d_noise = d.copy()
    d_noise[same_subject & ~np.eye(6, dtype=bool)] = np.nan  # not defined, must not matter
    mean, s = population_silhouette(d_noise, subjects, areas)
    assert mean == pytest.approx((0.9 - 0.1) / 0.9)
    assert np.allclose(s, s[0])


def test_symmetrised_distance_and_errors():
    S = np.array([[1.0, 0.6], [0.2, 1.0]])
    np.testing.assert_allclose(symmetrised_distance(S), [[0.0, 0.6], [0.6, 0.0]])
    with pytest.raises(DataError, match="at least 2 areas"):
        population_silhouette(np.zeros((2, 2)), ["a", "b"], ["V1", "V1"])
    with pytest.raises(DataError, match="square"):
        symmetrised_distance(np.zeros((2, 3)))
