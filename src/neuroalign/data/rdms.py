"""`RDMCollection`: labelled representational dissimilarity matrices over one stimulus set."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from neuroalign._core.errors import DataError

__all__ = ["RDMCollection"]


class RDMCollection:
    """``n`` RDMs ``(n, n_stimuli, n_stimuli)`` with one descriptor row per RDM.

    Parameters
    ----------
    rdms : array ``(n, n_stimuli, n_stimuli)``
        Square, symmetric, zero-diagonal, finite dissimilarities; stored as float64.
    descriptors : DataFrame with ``n`` rows
        Must contain a unique ``name`` column; other columns (``kind``, ``subject``,
        ``session``, ...) label the RDMs and serve :meth:`select`.
    stimulus_ids : sequence of str, length ``n_stimuli``
        Unique id of each row/column.
    tol : float
        Absolute tolerance, relative to the largest dissimilarity, for symmetry and zero diagonal.

    Raises :class:`~neuroalign._core.errors.DataError` for any violation, naming the RDM.
    """

    __slots__ = ("rdms", "descriptors", "stimulus_ids")

    def __init__(
        self,
        rdms,
        descriptors: pd.DataFrame,
        stimulus_ids: Sequence[str],
        *,
        tol: float = 1e-10,
    ):
        r = np.asarray(rdms)
        if r.dtype.kind not in "biuf":
            raise DataError(f"RDMs must be numeric, got dtype {r.dtype}.")
        r = r.astype(np.float64)
        if r.ndim == 2:
            r = r[None]
        if r.ndim != 3 or r.shape[1] != r.shape[2]:
            raise DataError(f"RDMs must have shape (n, n_stimuli, n_stimuli), got {r.shape}.")
        if not isinstance(descriptors, pd.DataFrame) or "name" not in descriptors.columns:
            raise DataError("descriptors must be a DataFrame with a 'name' column.")
        if len(descriptors) != r.shape[0]:
            raise DataError(f"{len(descriptors)} descriptor rows for {r.shape[0]} RDMs.")
        descriptors = descriptors.reset_index(drop=True).copy()
        descriptors["name"] = descriptors["name"].astype(str)
        dup = descriptors["name"].duplicated()
        if dup.any():
            raise DataError(f"duplicate RDM names {descriptors['name'][dup].tolist()[:3]}.")
        ids = np.asarray([str(s) for s in stimulus_ids], dtype=object)
        if ids.shape != (r.shape[1],):
            raise DataError(f"{ids.size} stimulus ids for RDMs over {r.shape[1]} stimuli.")
        if pd.Index(ids).duplicated().any():
            raise DataError("stimulus ids of an RDMCollection must be unique.")
        names = descriptors["name"].tolist()
        bad = ~np.isfinite(r).all(axis=(1, 2))
        if bad.any():
            raise DataError(f"RDM {names[int(np.argmax(bad))]!r} has NaN or infinite entries.")
        scale = np.abs(r).max(axis=(1, 2))
        atol = tol * np.maximum(scale, 1.0)
        asym = np.abs(r - r.transpose(0, 2, 1)).max(axis=(1, 2)) > atol
        if asym.any():
            raise DataError(f"RDM {names[int(np.argmax(asym))]!r} is not symmetric.")
        diag = np.abs(np.diagonal(r, axis1=1, axis2=2)).max(axis=1) > atol
        if diag.any():
            raise DataError(f"RDM {names[int(np.argmax(diag))]!r} has a non-zero diagonal.")
        self.rdms = r
        self.descriptors = descriptors
        self.stimulus_ids = ids

    @classmethod
    def from_condensed(
        cls, vectors, descriptors: pd.DataFrame, stimulus_ids: Sequence[str]
    ) -> RDMCollection:
        """From upper-triangle vectors ``(n, k·(k−1)/2)`` in scipy ``squareform`` order."""
        v = np.atleast_2d(np.asarray(vectors, dtype=np.float64))
        k = len(stimulus_ids)
        if v.shape[1] != k * (k - 1) // 2:
            raise DataError(
                f"condensed RDMs have {v.shape[1]} entries; {k} stimuli need {k * (k - 1) // 2}."
            )
        iu = np.triu_indices(k, 1)
        r = np.zeros((v.shape[0], k, k))
        r[:, iu[0], iu[1]] = v
        r[:, iu[1], iu[0]] = v
        return cls(r, descriptors, stimulus_ids)

    def __len__(self) -> int:
        return self.rdms.shape[0]

    @property
    def n_stimuli(self) -> int:
        return self.rdms.shape[1]

    @property
    def names(self) -> list[str]:
        return self.descriptors["name"].tolist()

    def __repr__(self) -> str:
        return f"RDMCollection({len(self)} RDMs over {self.n_stimuli} stimuli)"

    def rdm(self, name: str) -> np.ndarray:
        """The RDM called ``name``, ``(n_stimuli, n_stimuli)``."""
        pos = np.nonzero(self.descriptors["name"].to_numpy() == name)[0]
        if pos.size == 0:
            raise DataError(f"no RDM named {name!r}; available: {self.names}.")
        return self.rdms[pos[0]]

    def select(self, **filters) -> RDMCollection:
        """RDMs whose descriptor columns match: ``select(kind="hIT", subject=["BE", "KO"])``.

        A scalar matches equal values, a list/tuple/set any of its values.
        """
        mask = np.ones(len(self), dtype=bool)
        for col, want in filters.items():
            if col not in self.descriptors.columns:
                raise DataError(
                    f"unknown descriptor {col!r}; columns: {list(self.descriptors.columns)}."
                )
            values = list(want) if isinstance(want, list | tuple | set) else [want]
            mask &= self.descriptors[col].isin(values).to_numpy()
        if not mask.any():
            raise DataError(f"no RDM matches {filters}; see .descriptors.")
        idx = np.nonzero(mask)[0]
        return RDMCollection(self.rdms[idx], self.descriptors.iloc[idx], self.stimulus_ids)

    def condensed(self) -> np.ndarray:
        """Upper triangles ``(n, k·(k−1)/2)`` in scipy ``squareform`` order (row-major, i < j)."""
        iu = np.triu_indices(self.n_stimuli, 1)
        return self.rdms[:, iu[0], iu[1]]
