"""Representational similarity analysis: RDMs from features, RDM comparison, noise ceilings.

An RDM over ``n`` stimuli is a symmetric ``(n, n)`` matrix with a zero diagonal; comparisons use
its upper triangle (``n·(n−1)/2`` entries, scipy ``squareform`` order). The comparison methods and
the noise ceiling follow rsatoolbox (Nili et al. 2014; Schütt et al. 2023) so numbers agree with it:

- ``"spearman"``: Pearson correlation of the tie-averaged ranks (rsatoolbox ``"spearman"``).
- ``"pearson"`` (alias ``"corr"``): Pearson correlation of the dissimilarities.
- ``"cosine"``: cosine of the angle between the two dissimilarity vectors (no centring).
- ``"kendall_tau_a"`` (alias ``"tau-a"``): Kendall's τ_a = (concordant − discordant) / (m·(m−1)/2)
  over the ``m`` entries, ties counted as neither (the comparison for models that predict ties).
- ``"rho_a"`` (alias ``"rho-a"``): 12 · Σ (rank_a − mean)(rank_b − mean) / (m³ − m).

Noise ceiling of a group of subject RDMs (rsatoolbox ``boot_noise_ceiling``): the *lower* bound is
the mean over subjects of the similarity between a subject's RDM and the pooled RDM of the *other*
subjects; the *upper* bound uses the pooled RDM of *all* subjects. Pooling is the average that is
optimal for the method: ranks for the rank methods, z-scored RDMs for Pearson, RMS-normalised
RDMs for cosine.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import pdist, squareform
from scipy.stats import kendalltau, rankdata

from neuroalign._core.errors import ConfigError, DataError

__all__ = [
    "RSA_METHODS",
    "compare_rdms",
    "condensed",
    "noise_ceiling",
    "rdm",
    "rdm_similarity",
]

RSA_METHODS = ("spearman", "pearson", "cosine", "kendall_tau_a", "rho_a")
_ALIASES = {"corr": "pearson", "tau-a": "kendall_tau_a", "rho-a": "rho_a", "tau_a": "kendall_tau_a"}
_METRICS = ("correlation", "euclidean", "sqeuclidean", "cosine")


def _method(method: str) -> str:
    m = _ALIASES.get(method, method)
    if m not in RSA_METHODS:
        raise ConfigError(
            f"unknown RDM comparison method {method!r}; choose one of {list(RSA_METHODS)} "
            f"(aliases {sorted(_ALIASES)})."
        )
    return m


def rdm(features, metric: str = "correlation") -> np.ndarray:
    """RDM ``(n_stimuli, n_stimuli)`` of ``features (n_stimuli, n_features)``.

    ``metric``: ``"correlation"`` (1 − Pearson r between two stimuli's feature patterns, the
    usual choice), ``"euclidean"``, ``"sqeuclidean"`` or ``"cosine"`` (scipy ``pdist`` metrics).
    Raises :class:`DataError` for non-finite features or, with ``"correlation"``, a stimulus whose
    pattern is constant (its correlation is undefined).
    """
    if metric not in _METRICS:
        raise ConfigError(f"unknown RDM metric {metric!r}; choose one of {list(_METRICS)}.")
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 3:
        raise DataError(f"features must be (n_stimuli >= 3, n_features), got shape {x.shape}.")
    if not np.isfinite(x).all():
        raise DataError("features hold NaN or infinite values; an RDM needs finite features.")
    if metric in ("correlation", "cosine"):
        norm = x - x.mean(axis=1, keepdims=True) if metric == "correlation" else x
        flat = np.linalg.norm(norm, axis=1) == 0
        if flat.any():
            raise DataError(
                f"{int(flat.sum())} stimuli have a constant feature pattern, so their {metric} "
                "distance is undefined; drop them or use metric='euclidean'."
            )
    return squareform(pdist(x, metric=metric), checks=False)


def condensed(rdms) -> np.ndarray:
    """Upper triangles ``(k, n·(n−1)/2)`` of RDMs given as ``(n, n)``, ``(k, n, n)``, condensed
    vectors ``(m,)`` / ``(k, m)`` or an :class:`~neuroalign.data.rdms.RDMCollection`."""
    if hasattr(rdms, "condensed") and hasattr(rdms, "rdms"):
        return rdms.condensed()
    a = np.asarray(rdms, dtype=np.float64)
    if a.ndim == 1:
        return a[None]
    if a.ndim == 2 and a.shape[0] == a.shape[1] and np.allclose(np.diag(a), 0):
        a = a[None]
    if a.ndim == 3:
        if a.shape[1] != a.shape[2]:
            raise DataError(f"RDMs must be square (k, n, n), got {a.shape}.")
        iu = np.triu_indices(a.shape[1], 1)
        return a[:, iu[0], iu[1]]
    if a.ndim == 2:
        return a
    raise DataError(f"RDMs must be (n, n), (k, n, n), (m,) or (k, m); got shape {a.shape}.")


def _centre(v: np.ndarray) -> np.ndarray:
    return v - v.mean(axis=1, keepdims=True)


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    na = np.linalg.norm(a, axis=1)
    nb = np.linalg.norm(b, axis=1)
    if (na == 0).any() or (nb == 0).any():
        raise DataError("an RDM is constant (all dissimilarities equal); it cannot be compared.")
    return (a @ b.T) / np.outer(na, nb)


def _tau_a(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall τ_a from scipy's τ_b: τ_a = τ_b · sqrt((n0 − n1)(n0 − n2)) / n0."""
    m = x.size
    n0 = m * (m - 1) / 2
    n1 = sum(c * (c - 1) / 2 for c in np.unique(x, return_counts=True)[1])
    n2 = sum(c * (c - 1) / 2 for c in np.unique(y, return_counts=True)[1])
    denom = (n0 - n1) * (n0 - n2)
    if denom == 0:
        return 0.0
    tau_b = kendalltau(x, y, variant="b").statistic
    return float(tau_b * np.sqrt(denom) / n0)


def compare_rdms(a, b, method: str = "spearman") -> np.ndarray:
    """Similarity of every RDM in ``a`` with every RDM in ``b``: ``(k_a, k_b)``.

    ``a``, ``b``: anything :func:`condensed` accepts, over the same stimuli in the same order;
    ``method``: see the module docstring.
    """
    m = _method(method)
    va, vb = condensed(a), condensed(b)
    if va.shape[1] != vb.shape[1]:
        raise DataError(
            f"RDMs of different sizes ({va.shape[1]} vs {vb.shape[1]} entries); compare RDMs over "
            "the same stimuli."
        )
    if not (np.isfinite(va).all() and np.isfinite(vb).all()):
        raise DataError("RDMs hold NaN or infinite entries.")
    if m == "cosine":
        return _cosine(va, vb)
    if m == "pearson":
        return _cosine(_centre(va), _centre(vb))
    ra = np.apply_along_axis(rankdata, 1, va)
    rb = np.apply_along_axis(rankdata, 1, vb)
    if m == "spearman":
        return _cosine(_centre(ra), _centre(rb))
    if m == "rho_a":
        n = va.shape[1]
        return 12.0 * (_centre(ra) @ _centre(rb).T) / (n**3 - n)
    return np.array([[_tau_a(x, y) for y in vb] for x in va])


def rdm_similarity(a, b, method: str = "spearman") -> float:
    """Similarity of two single RDMs (``(n, n)`` or condensed ``(m,)``)."""
    s = compare_rdms(a, b, method)
    if s.shape != (1, 1):
        raise DataError(f"rdm_similarity compares two single RDMs; got {s.shape[0]}×{s.shape[1]}.")
    return float(s[0, 0])


def _pool(v: np.ndarray, method: str) -> np.ndarray:
    """The pooled RDM ``(1, m)`` that is optimal under ``method`` (as rsatoolbox ``pool_rdm``)."""
    if method == "cosine":
        v = v / np.sqrt(np.mean(v**2, axis=1, keepdims=True))
    elif method == "pearson":
        v = _centre(v) / v.std(axis=1, keepdims=True)
    else:
        v = np.apply_along_axis(rankdata, 1, v)
    return v.mean(axis=0, keepdims=True)


def noise_ceiling(subject_rdms, method: str = "spearman") -> tuple[float, float]:
    """``(lower, upper)`` noise ceiling of ``k >= 2`` subject RDMs under ``method``.

    ``subject_rdms``: ``(k, n, n)``, ``(k, m)`` or an RDMCollection, one RDM per subject (average
    a subject's sessions first). Lower bound: mean similarity of each subject with the pooled RDM
    of the others (leave one out); upper bound: with the pooled RDM of all subjects.
    """
    m = _method(method)
    v = condensed(subject_rdms)
    k = v.shape[0]
    if k < 2:
        raise DataError("a noise ceiling needs RDMs of at least 2 subjects.")
    everyone = _pool(v, m)
    lower, upper = [], []
    for i in range(k):
        others = _pool(np.delete(v, i, axis=0), m)
        lower.append(compare_rdms(v[i], others, m)[0, 0])
        upper.append(compare_rdms(v[i], everyone, m)[0, 0])
    return float(np.mean(lower)), float(np.mean(upper))
