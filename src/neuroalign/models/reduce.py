"""Feature reductions for huge layers: spatial pooling, sparse random projection, PCA.

Pooling runs on the layer's output tensor inside the hook (so memory shrinks before anything is
stored); projections act on flattened float32 rows ``(n_stimuli, n_features)``. A random
projection streams batch by batch; PCA needs every stimulus first, so its raw features go to a
temporary memory-mapped file and are reduced at the end (exact, via the stimulus Gram matrix).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from neuroalign._core.errors import ConfigError

__all__ = ["RandomProjection", "PCA", "check_pool", "pca_scores"]

_POOLS = ("avg", "max")


def check_pool(pool) -> str | int | None:
    """Validate ``pool``: None (flatten), ``"avg"``/``"max"`` (global over spatial axes) or int p."""
    if pool is None or pool in _POOLS:
        return pool
    if isinstance(pool, int) and not isinstance(pool, bool) and pool >= 1:
        return pool
    raise ConfigError(
        f"pool must be None (flatten), 'avg', 'max' or a positive int (adaptive average to p×p), "
        f"got {pool!r}."
    )


def apply_pool(t, pool):
    """Pool a torch tensor ``(n, C, *spatial)`` and flatten to ``(n, features)``."""
    import torch.nn.functional as F

    if pool is not None and t.ndim > 2:
        if pool == "avg":
            t = t.mean(dim=tuple(range(2, t.ndim)))
        elif pool == "max":
            t = t.amax(dim=tuple(range(2, t.ndim)))
        else:
            if t.ndim != 4:
                raise ConfigError(
                    f"pool={pool} (adaptive p×p average) needs a (n, C, H, W) output, got "
                    f"{tuple(t.shape)}; use pool='avg' or None."
                )
            t = F.adaptive_avg_pool2d(t, pool)
    return t.reshape(t.shape[0], -1)


@dataclass(frozen=True)
class RandomProjection:
    """Very sparse random projection to ``k`` dimensions (Li, Hastie & Church 2006).

    The ``(n_features, k)`` matrix has entries ``±sqrt(1 / (density · k))`` with probability
    ``density / 2`` each and 0 otherwise, ``density = 1 / sqrt(n_features)``, so squared norms
    are preserved in expectation and the matrix stays small (``≈ k · sqrt(n_features)`` nonzeros).
    Drawn from ``seed``; layers with at most ``k`` features are kept as they are.
    """

    k: int
    seed: int = 0

    def __post_init__(self):
        if not isinstance(self.k, int) or self.k < 1:
            raise ConfigError(f"RandomProjection needs a positive int k, got {self.k!r}.")
        if not isinstance(self.seed, int):
            raise ConfigError(f"RandomProjection needs an int seed, got {self.seed!r}.")

    def to_dict(self) -> dict:
        return {"kind": "random_projection", **asdict(self)}

    def matrix(self, n_features: int):
        """The projection as a scipy CSC matrix ``(n_features, k)`` float32."""
        import scipy.sparse as sp

        rng = np.random.default_rng(self.seed)
        density = 1.0 / np.sqrt(n_features)
        counts = rng.binomial(n_features, density, size=self.k)
        rows = np.concatenate(
            [rng.choice(n_features, size=c, replace=False) for c in counts]
        ).astype(np.int64)
        cols = np.repeat(np.arange(self.k), counts)
        scale = np.float32(np.sqrt(1.0 / (density * self.k)))
        vals = np.where(rng.integers(0, 2, size=rows.size) == 1, scale, -scale).astype(np.float32)
        return sp.csc_matrix((vals, (rows, cols)), shape=(n_features, self.k), dtype=np.float32)


@dataclass(frozen=True)
class PCA:
    """Principal-component scores on the extracted stimuli, ``k`` components.

    Exact (eigendecomposition of the centred ``(n_stimuli, n_stimuli)`` Gram matrix), float64
    internally; component signs follow scikit-learn (largest absolute loading positive). The
    components are fitted on the very stimuli being extracted (unsupervised, no responses seen).
    """

    k: int

    def __post_init__(self):
        if not isinstance(self.k, int) or self.k < 1:
            raise ConfigError(f"PCA needs a positive int k, got {self.k!r}.")

    def to_dict(self) -> dict:
        return {"kind": "pca", **asdict(self)}


def pca_scores(X: np.ndarray, k: int, block: int = 65536) -> np.ndarray:
    """Scores ``(n, k)`` float32 of the first ``k`` principal components of ``X (n, d)``.

    Streams over blocks of ``block`` features, so ``X`` may be a memory map larger than RAM.
    """
    n, d = X.shape
    rank = min(n - 1, d)
    if k > rank:
        raise ConfigError(
            f"PCA(k={k}) asks for more components than {n} stimuli × {d} features allow "
            f"(at most {rank}); lower k."
        )
    mean = np.zeros(d)
    for s in range(0, d, block):
        mean[s : s + block] = np.asarray(X[:, s : s + block], dtype=np.float64).mean(axis=0)
    G = np.zeros((n, n))
    for s in range(0, d, block):
        Xc = np.asarray(X[:, s : s + block], dtype=np.float64) - mean[s : s + block]
        G += Xc @ Xc.T
    evals, evecs = np.linalg.eigh(G)
    order = np.argsort(evals)[::-1][:k]
    evals = np.clip(evals[order], 0, None)
    U = evecs[:, order]
    sv = np.sqrt(evals)
    # loadings V^T = S^-1 U^T Xc; sign so that each component's largest |loading| is positive
    best = np.zeros(k)
    for s in range(0, d, block):
        Xc = np.asarray(X[:, s : s + block], dtype=np.float64) - mean[s : s + block]
        V = (U.T @ Xc) / np.where(sv > 0, sv, 1)[:, None]
        idx = np.argmax(np.abs(V), axis=1)
        vals = V[np.arange(k), idx]
        replace = np.abs(vals) > np.abs(best)
        best[replace] = vals[replace]
    signs = np.where(best < 0, -1.0, 1.0)
    return (U * sv * signs).astype(np.float32)
