"""Join two stimulus-indexed inputs on their stimulus ids, never by row position.

Inputs that carry ids: :class:`~neuroalign.data.NeuralData`, activations
(:class:`~neuroalign.models.Activations`), a :class:`~neuroalign.data.StimulusSet`, anything else
with a ``stimulus_ids`` attribute, and a pandas DataFrame (its index). Bare arrays carry none.

- Both sides carry ids: rows are paired by id. Ids shared by both are kept, in the first input's
  order (or the second's, ``order="b"``); an id repeated within one side, or no id in common, is a :class:`DataError` that names both
  sides; stimuli only one side has are dropped with an :class:`AlignmentWarning` that counts them.
- One side is a bare array: it is taken as being in the other side's stimulus order (positional,
  documented at every function that accepts one) and must have exactly as many rows.
- Both bare: positional, same number of rows.
"""

from __future__ import annotations

import warnings

import numpy as np

from neuroalign._core.errors import DataError

__all__ = ["AlignmentWarning", "Alignment", "align_rows", "stimulus_ids", "take_rows"]


class AlignmentWarning(UserWarning):
    """Some stimuli of one input are missing from the other and were left out."""


def stimulus_ids(x) -> np.ndarray | None:
    """The stimulus ids of ``x`` as a string array ``(n_stimuli,)``, or None for a bare array."""
    ids = getattr(x, "stimulus_ids", None)
    if ids is None and type(x).__name__ == "StimulusSet":
        ids = x.ids
    if ids is None and type(x).__name__ == "DataFrame" and not _default_index(x.index):
        ids = x.index
    return None if ids is None else np.asarray([str(s) for s in ids], dtype=object)


def _default_index(index) -> bool:
    return type(index).__name__ == "RangeIndex"


def _rows(x) -> int:
    n = getattr(x, "n_stimuli", None)
    if n is not None:
        return int(n)
    return int(np.shape(getattr(x, "responses", x))[0])


class Alignment:
    """Rows of two inputs that hold the same stimuli: ``index_a``, ``index_b`` (int arrays, or
    None to keep every row as it is) and the shared ``ids`` (None when both were bare arrays)."""

    def __init__(self, index_a, index_b, ids):
        self.index_a, self.index_b, self.ids = index_a, index_b, ids

    def __repr__(self) -> str:
        n = None if self.ids is None else len(self.ids)
        return f"Alignment({n} shared stimuli)"


def align_rows(a, b, names: tuple[str, str] = ("source", "target"), order: str = "a") -> Alignment:
    """Pair the rows of ``a`` and ``b`` by stimulus id (module docstring for the rules); the
    shared stimuli follow ``a``'s order, or ``b``'s with ``order="b"``."""
    if order == "b":
        al = align_rows(b, a, names[::-1])
        return Alignment(al.index_b, al.index_a, al.ids)
    ids_a, ids_b = stimulus_ids(a), stimulus_ids(b)
    for ids, name in ((ids_a, names[0]), (ids_b, names[1])):
        if ids is not None and len(set(ids)) != len(ids):
            uniq, counts = np.unique(ids.astype(str), return_counts=True)
            raise DataError(
                f"{name} repeats stimulus id(s) {list(uniq[counts > 1][:3])}; ids must be unique "
                "(merge or drop the repeated stimuli first)."
            )
    if ids_a is None or ids_b is None:
        na, nb = _rows(a), _rows(b)
        if na != nb:
            carrier = names[0] if ids_a is not None else names[1] if ids_b is not None else None
            how = (
                f"a bare array is taken in {carrier}'s stimulus order"
                if carrier
                else "bare arrays are paired by row position"
            )
            raise DataError(
                f"{names[0]} has {na} stimuli but {names[1]} has {nb} stimuli; {how}, so both need the "
                "same rows. Pass inputs that carry stimulus ids (NeuralData, Activations, a "
                "DataFrame indexed by stimulus id) to align them."
            )
        return Alignment(None, None, ids_a if ids_a is not None else ids_b)
    pos_b = {s: i for i, s in enumerate(ids_b)}
    keep_a = np.array([i for i, s in enumerate(ids_a) if s in pos_b], dtype=np.intp)
    if keep_a.size == 0:
        raise DataError(
            f"{names[0]} and {names[1]} share no stimulus id (e.g. {list(ids_a[:2])} vs "
            f"{list(ids_b[:2])}); they cannot be compared. Ids must name the same stimuli the same "
            "way on both sides."
        )
    shared = ids_a[keep_a]
    index_b = np.fromiter((pos_b[s] for s in shared), dtype=np.intp, count=shared.size)
    dropped_a, dropped_b = len(ids_a) - shared.size, len(ids_b) - shared.size
    if dropped_a or dropped_b:
        warnings.warn(
            f"scoring the {shared.size} stimuli {names[0]} and {names[1]} share: "
            f"{dropped_a} of {names[0]}'s and {dropped_b} of {names[1]}'s stimuli have no "
            "counterpart and are left out.",
            AlignmentWarning,
            stacklevel=3,
        )
    same_a = keep_a.size == len(ids_a)
    same_b = np.array_equal(index_b, np.arange(len(ids_b)))
    return Alignment(None if same_a else keep_a, None if same_b else index_b, shared)


def take_rows(x, index):
    """``x`` restricted to the rows ``index`` (None: ``x`` unchanged), keeping its type where it
    carries ids (NeuralData, activations, StimulusSet, DataFrame)."""
    if index is None:
        return x
    ids = stimulus_ids(x)
    if ids is not None and hasattr(x, "select") and type(x).__name__ in ("NeuralData",):
        return x.select(stimuli=list(ids[index]))
    if ids is not None and type(x).__name__ in ("Activations", "StimulusSet"):
        return x.select(list(ids[index]))
    if type(x).__name__ == "DataFrame":
        return x.iloc[index]
    return np.asarray(x)[index]
