"""Ranks of many RDMs' entries at once, and Kendall's discordant pairs between two ranked RDMs.

Rank-based RDM comparisons (Spearman, ρ_a, Kendall τ_a / τ_b) rank each RDM once, here, and
reuse the ranks for every RDM it is compared with. Kendall's statistics count, over the
``m·(m−1)/2`` pairs of entries, the concordant and discordant ones. With ``a``'s entries sorted
(its ties grouped), the discordant pairs are the inversions of ``b``'s dense ranks read in that
order, counted in ``O(m log m)`` by a Fenwick tree that inserts each tie group of ``a`` only after
querying it, so pairs tied in ``a`` never count (scipy's ``kendalltau`` kernel, the one rsatoolbox
also runs; here called on ranks prepared once, on as many threads as the BLAS may use). Then

    S = concordant − discordant = T − ties_a − ties_b + ties_ab − 2·discordant,

``T = m(m−1)/2``, ``ties_a`` / ``ties_b`` the pairs tied in one RDM, ``ties_ab`` those tied in
both; ``τ_a = S / T`` and ``τ_b = S / sqrt((T − ties_a)(T − ties_b))``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats._stats import _kendall_dis  # scipy.stats.kendalltau's O(m log m) kernel

from neuroalign.solvers.backend import NumpyBackend

__all__ = ["RankedRows", "kendall_s", "rank_rows"]


@dataclass
class RankedRows:
    """Ranks of the rows of ``v (k, m)``: ``ranks`` (tie-averaged, 1…m, float64), ``order``
    (argsort of each row), ``dense`` (dense ranks 1…, intp), ``dense_sorted`` (dense ranks in
    sorted order, non-decreasing) and ``ties (k,)`` (pairs of tied entries per row)."""

    ranks: np.ndarray
    order: np.ndarray
    dense: np.ndarray
    dense_sorted: np.ndarray
    ties: np.ndarray


def _sorted_order(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flat indices that sort each row of ``v (k, m)``, and the sorted values.

    Two stable 16-bit radix passes (numpy's linear-time sort of 16-bit keys) order the rows by a
    32-bit quantisation of each row's range, which is monotone (rounding never reverses an
    order); a row whose quantisation tied two different values in the wrong order (rare: it needs
    values closer than a 2⁻³² of the range) is sorted again in float64. 3–4× faster than
    ``argsort`` for RDM-sized rows, exactly the same order of values.
    """
    k, m = v.shape
    lo = v.min(axis=1, keepdims=True)
    span = v.max(axis=1, keepdims=True) - lo
    scale = np.divide(4294967295.0, span, out=np.zeros_like(span), where=span > 0)
    q = ((v - lo) * scale).astype(np.uint32)
    offset = (np.arange(k) * m)[:, None]
    order = np.argsort((q & 0xFFFF).astype(np.uint16), axis=1, kind="stable") + offset
    high = np.take((q >> 16).astype(np.uint16), order)
    order = np.take(order, np.argsort(high, axis=1, kind="stable") + offset)
    s = np.take(v, order)
    bad = np.nonzero((s[:, 1:] < s[:, :-1]).any(axis=1))[0]
    if bad.size:
        order[bad] = np.argsort(v[bad], axis=1) + offset[bad]
        s[bad] = np.take(v, order[bad])
    return order, s


def _rank_block(v: np.ndarray) -> tuple[np.ndarray, ...]:
    k, m = v.shape
    flat, s = _sorted_order(v)
    new = np.ones((k, m), dtype=bool)
    np.not_equal(s[:, 1:], s[:, :-1], out=new[:, 1:])
    dense_sorted = np.cumsum(new, axis=1, dtype=np.intp)
    avg = np.broadcast_to(np.arange(1.0, m + 1), (k, m)).copy()
    ties = np.zeros(k, dtype=np.int64)
    tied = np.nonzero(~new.all(axis=1))[0]
    if tied.size:
        nt, idx = new[tied], np.arange(m)
        start = np.maximum.accumulate(np.where(nt, idx, 0), axis=1)
        last = np.ones_like(nt)
        last[:, :-1] = nt[:, 1:]
        end = np.minimum.accumulate(np.where(last, idx, m)[:, ::-1], axis=1)[:, ::-1]
        avg[tied] = (start + end) / 2.0 + 1.0
        size = (end - start + 1).astype(np.int64)
        ties[tied] = np.where(nt, size * (size - 1) // 2, 0).sum(axis=1)
    ranks = np.empty((k, m))
    dense = np.empty((k, m), dtype=np.intp)
    ranks.ravel()[flat.ravel()] = avg.ravel()
    dense.ravel()[flat.ravel()] = dense_sorted.ravel()
    return ranks, flat - (np.arange(k) * m)[:, None], dense, dense_sorted, ties


def rank_rows(v: np.ndarray) -> RankedRows:
    """:class:`RankedRows` of ``v (k, m)`` (32 rows or more: split over the BLAS threads)."""
    v = np.asarray(v, dtype=np.float64)
    if v.shape[0] < 32:
        return RankedRows(*_rank_block(v))
    chunks = np.array_split(np.arange(v.shape[0]), 2)
    parts = NumpyBackend().map(lambda rows: _rank_block(v[rows]), chunks)
    return RankedRows(*(np.concatenate(p) for p in zip(*parts, strict=True)))


def _joint_ties(xs: np.ndarray, y: np.ndarray) -> int:
    """Pairs tied in both RDMs: equal ``(xs, y)`` keys (``xs`` non-decreasing dense ranks)."""
    key = np.sort(xs.astype(np.int64) * (int(y.max()) + 1) + y)
    new = np.ones(key.size, dtype=bool)
    new[1:] = key[1:] != key[:-1]
    counts = np.diff(np.append(np.nonzero(new)[0], key.size))
    return int((counts * (counts - 1) // 2).sum())


def kendall_s(a: RankedRows, b: RankedRows, pairs: np.ndarray) -> np.ndarray:
    """``S = concordant − discordant`` (int64) for each row pair ``(i, j)`` in ``pairs (n, 2)``:
    row ``i`` of ``a`` with row ``j`` of ``b`` (module docstring)."""
    m = a.order.shape[1]
    total = m * (m - 1) // 2

    def one(pair) -> int:
        i, j = pair
        y = np.ascontiguousarray(b.dense[j][a.order[i]])
        dis = _kendall_dis(np.ascontiguousarray(a.dense_sorted[i]), y)
        both = _joint_ties(a.dense_sorted[i], y) if a.ties[i] and b.ties[j] else 0
        return total - int(a.ties[i]) - int(b.ties[j]) + both - 2 * int(dis)

    return np.array(NumpyBackend().map(one, [tuple(p) for p in pairs]), dtype=np.int64)
