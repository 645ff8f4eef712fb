"""Representational similarity analysis: RDMs from features, RDM comparison, noise ceilings.

An RDM over ``n`` stimuli is a symmetric ``(n, n)`` matrix with a zero diagonal; comparisons use
its upper triangle (``n·(n−1)/2`` entries, scipy ``squareform`` order). The comparison methods and
the noise ceiling follow rsatoolbox (Nili et al. 2014; Schütt et al. 2023) so numbers agree with it:

- ``"spearman"``: Pearson correlation of the tie-averaged ranks (rsatoolbox ``"spearman"``).
- ``"pearson"`` (alias ``"corr"``): Pearson correlation of the dissimilarities.
- ``"cosine"``: cosine of the angle between the two dissimilarity vectors (no centring).
- ``"kendall_tau_a"`` (alias ``"tau-a"``): Kendall's τ_a = (concordant − discordant) / (m·(m−1)/2)
  over the ``m`` entries, ties counted as neither (the comparison for models that predict ties).
- ``"kendall_tau_b"`` (aliases ``"tau-b"``, ``"kendall"``): Kendall's τ_b, the same numerator over
  ``sqrt((T − ties_a)(T − ties_b))``.
- ``"rho_a"`` (alias ``"rho-a"``): 12 · Σ (rank_a − mean)(rank_b − mean) / (m³ − m).

The noise ceiling of a group of subject RDMs runs through the same comparisons; it lives with
every other ceiling in :mod:`~neuroalign.metrics.ceilings` (:func:`noise_ceiling`).

Speed: many model RDMs are compared with many subject RDMs in one call; each RDM is ranked once
(:mod:`~neuroalign.metrics.ranks`), the correlation-type methods are one matrix product of
normalised rows, and Kendall's τ costs ``O(m log m)`` per pair.

Stimuli: RDMs that carry stimulus ids (:class:`~neuroalign.data.rdms.RDMCollection`) are joined on
them (rows and columns of the second reordered to the first's stimuli; stimuli only one side has
are left out with an ``AlignmentWarning``); bare arrays are positional and must be over the same
stimuli in the same order.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from neuroalign._core.errors import ConfigError, DataError
from neuroalign.data.align import align_rows, stimulus_ids
from neuroalign.metrics.dissimilarity import rdm_from_features
from neuroalign.metrics.ranks import kendall_s, rank_rows
from neuroalign.solvers.threads import single_threaded_blas

__all__ = [
    "RSA_METHODS",
    "compare_rdms",
    "condensed",
    "rdm",
    "rdm_similarity",
]

RSA_METHODS = ("spearman", "pearson", "cosine", "kendall_tau_a", "kendall_tau_b", "rho_a")
_ALIASES = {
    "corr": "pearson",
    "tau-a": "kendall_tau_a",
    "tau_a": "kendall_tau_a",
    "tau-b": "kendall_tau_b",
    "tau_b": "kendall_tau_b",
    "kendall": "kendall_tau_b",
    "rho-a": "rho_a",
}
_RANKED = ("spearman", "rho_a", "kendall_tau_a", "kendall_tau_b")


def _method(method: str) -> str:
    m = _ALIASES.get(method, method)
    if m not in RSA_METHODS:
        raise ConfigError(
            f"unknown RDM comparison method {method!r}; choose one of {list(RSA_METHODS)} "
            f"(aliases {sorted(_ALIASES)})."
        )
    return m


def rdm(features, metric: str = "correlation", *, compute=None) -> np.ndarray:
    """RDM ``(n_stimuli, n_stimuli)`` of ``features (n_stimuli, n_features)``.

    ``metric``: ``"correlation"`` (1 − Pearson r between two stimuli's feature patterns, the
    usual choice), ``"cosine"``, ``"euclidean"`` or ``"sqeuclidean"`` (as scipy ``pdist``;
    rsatoolbox's ``"euclidean"`` RDM is ``"sqeuclidean"`` divided by ``n_features``). Computed
    from Gram matrices blocked over features (:mod:`~neuroalign.metrics.dissimilarity`): any
    number of features, memory-mapped arrays included; ``compute`` sets backend (``"torch:cuda"``)
    and precision (float32 entries within ~1e-7 of float64 ``pdist``, float64 within ~1e-15).
    Raises :class:`DataError` for non-finite features or, with ``"correlation"`` / ``"cosine"``, a
    stimulus whose pattern is constant (its distance is undefined).
    """
    return rdm_from_features(features, metric, compute)


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


def _stimuli(x) -> SimpleNamespace:
    ids = stimulus_ids(x)
    return SimpleNamespace(stimulus_ids=ids, n_stimuli=0 if ids is None else len(ids))


def _reordered(x, index) -> np.ndarray:
    """Condensed RDMs of ``x`` over its stimuli ``index`` (None: as they are)."""
    if index is None:
        return condensed(x)
    r = x.rdms[:, index][:, :, index]
    iu = np.triu_indices(len(index), 1)
    return r[:, iu[0], iu[1]]


def _paired(a, b) -> tuple[np.ndarray, np.ndarray]:
    """Condensed RDMs of ``a`` and ``b`` over the same stimuli (module docstring), checked."""
    if stimulus_ids(a) is not None and stimulus_ids(b) is not None:
        al = align_rows(_stimuli(a), _stimuli(b), ("a", "b"))
        va, vb = _reordered(a, al.index_a), _reordered(b, al.index_b)
    else:
        va, vb = condensed(a), condensed(b)
    if va.shape[1] != vb.shape[1]:
        raise DataError(
            f"RDMs of different sizes ({va.shape[1]} vs {vb.shape[1]} entries); compare RDMs over "
            "the same stimuli."
        )
    if not (np.isfinite(va).all() and np.isfinite(vb).all()):
        raise DataError("RDMs hold NaN or infinite entries.")
    if va.shape[1] < 2:
        raise DataError("RDMs over fewer than 3 stimuli (one entry) cannot be compared.")
    return va, vb


def _unit(v: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(v, axis=1, keepdims=True)
    if (norm == 0).any():
        raise DataError("an RDM is constant (all dissimilarities equal); it cannot be compared.")
    return v / norm


def _prepare(v: np.ndarray, method: str):
    """What a comparison under ``method`` multiplies: unit rows, or the ranks (τ)."""
    if method == "cosine":
        return _unit(v)
    if method == "pearson":
        return _unit(v - v.mean(axis=1, keepdims=True))
    ranked = rank_rows(v)
    if method.startswith("kendall"):
        return ranked
    r = ranked.ranks - (v.shape[1] + 1) / 2.0
    if method == "spearman":
        return _unit(r)
    m = v.shape[1]
    return r * np.sqrt(12.0 / (m**3 - m))  # rho_a: 12 Σ r_a r_b / (m³ − m)


def _similarity(pa, pb, method: str, pairs: np.ndarray | None = None) -> np.ndarray:
    """All ``(k_a, k_b)`` similarities, or those of the row ``pairs (n, 2)`` only (``(n,)``)."""
    if not method.startswith("kendall"):
        if pairs is not None:
            return np.einsum("ij,ij->i", pa[pairs[:, 0]], pb[pairs[:, 1]])
        with single_threaded_blas():  # a small product: waking BLAS threads costs more
            return pa @ pb.T
    ka, kb = pa.order.shape[0], pb.order.shape[0]
    todo = np.indices((ka, kb)).reshape(2, -1).T if pairs is None else pairs
    s = kendall_s(pa, pb, todo).astype(np.float64)
    m = pa.order.shape[1]
    total = m * (m - 1) / 2.0
    if method == "kendall_tau_a":
        out = s / total
    else:
        den = np.sqrt((total - pa.ties[todo[:, 0]]) * (total - pb.ties[todo[:, 1]]))
        if (den == 0).any():
            raise DataError("an RDM is constant (all dissimilarities tied); τ_b is undefined.")
        out = s / den
    return out if pairs is not None else out.reshape(ka, kb)


def compare_rdms(a, b, method: str = "spearman") -> np.ndarray:
    """Similarity of every RDM in ``a`` with every RDM in ``b``: ``(k_a, k_b)``.

    ``a``, ``b``: anything :func:`condensed` accepts; RDMCollections are joined on stimulus ids,
    bare arrays must be over the same stimuli in the same order. ``method``: see the module
    docstring. Each RDM is ranked once however many it meets.
    """
    m = _method(method)
    va, vb = _paired(a, b)
    return _similarity(_prepare(va, m), _prepare(vb, m), m)


def rdm_similarity(a, b, method: str = "spearman") -> float:
    """Similarity of two single RDMs (``(n, n)`` or condensed ``(m,)``)."""
    s = compare_rdms(a, b, method)
    if s.shape != (1, 1):
        raise DataError(f"rdm_similarity compares two single RDMs; got {s.shape[0]}×{s.shape[1]}.")
    return float(s[0, 0])
