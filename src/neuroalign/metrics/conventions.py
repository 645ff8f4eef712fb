"""How a noise-corrected EV is estimated: the conventions, their defaults and published presets.

Four choices change the number a predictivity function reports for the same data; each is an
option of :func:`~neuroalign.metrics.predictivity.forward_ev` (and ``reverse_ev``,
``interanimal_ev``), and ``conventions="reverse_pred"`` sets all of them to the published code's:

- ``folds``: the k-fold split of the stimuli. Default: a seeded random split (:func:`kfold_indices`
  with the call's seed), so that repeated runs with different seeds sample the split. Explicit test
  folds (a list of index arrays) or fold labels (one int per stimulus) fix it.
- ``target_reliability = (method, split)``: ``ρ_target`` as the Spearman–Brown-corrected
  ``"pearson"`` (default) or ``"spearman"`` correlation between two halves of the target's repeats,
  drawn with the prediction's halves (``"same_split"``, default: one split per draw serves both
  corrections) or independently (``"separate_split"``).
- ``repeat_split``: ``"per_cell"`` (default): every (stimulus, unit) cell's *valid* repeats are split
  evenly at random (one order of slots per stimulus, shared by the units recorded together, so
  NaN-padded recordings split evenly); ``"slots"``: one random permutation of the repeat slots for
  every stimulus and unit, the first ⌈R/2⌉ slots forming half A (missing repeats make halves uneven).
- ``ev_average``: ``"pooled"`` (default): ``ρ_target`` and ``ρ_pred`` are averaged over draws and EV
  formed once — a ratio of means, which does not explode on a draw whose ρ is near 0; ``"per_draw"``:
  one EV per draw, then their mean over the draws where both ρ are positive.

Why these defaults: a seeded split lets the fold variability show across seeds; splitting valid
repeats evenly per cell uses the same number of trials in both halves, which Spearman–Brown
assumes; averaging ρ before dividing is the lower-variance estimator of a ratio.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from neuroalign._core.errors import ConfigError, DataError

__all__ = ["Conventions", "PRESETS", "resolve_conventions", "reverse_pred_folds", "check_folds"]

_METHODS = ("pearson", "spearman")
_SPLITS = ("same_split", "separate_split")
_REPEAT_SPLITS = ("per_cell", "slots")
_AVERAGES = ("pooled", "per_draw")


@dataclass(frozen=True)
class Conventions:
    """One choice per estimation convention (module docstring). ``interanimal_split``:
    ``"both"`` (default): both animals' repeats are split and half A is fitted to half A, so
    ``ρ_pred`` carries both animals' noise; ``"source"``: only the source is split and both halves
    predict the target's trial mean (the published code). ``transform``: the mapping a preset
    implies when the caller gives none (None: ``"ridge"``)."""

    folds: object = None
    target_reliability: tuple[str, str] = ("pearson", "same_split")
    repeat_split: str = "per_cell"
    ev_average: str = "pooled"
    interanimal_split: str = "both"
    transform: object = field(default=None, compare=False)
    name: str = "default"

    def __post_init__(self):
        tr = self.target_reliability
        if isinstance(tr, str):
            tr = (tr, "same_split")
        if len(tr) != 2 or tr[0] not in _METHODS or tr[1] not in _SPLITS:
            raise ConfigError(
                f"target_reliability must be (method, split) with method in {_METHODS} and split "
                f"in {_SPLITS}, got {self.target_reliability!r}."
            )
        object.__setattr__(self, "target_reliability", tuple(tr))
        if self.repeat_split not in _REPEAT_SPLITS:
            raise ConfigError(
                f"repeat_split must be one of {_REPEAT_SPLITS}, got {self.repeat_split!r}."
            )
        if self.ev_average not in _AVERAGES:
            raise ConfigError(f"ev_average must be one of {_AVERAGES}, got {self.ev_average!r}.")
        if self.interanimal_split not in ("both", "source"):
            raise ConfigError(
                f"interanimal_split must be 'both' or 'source', got {self.interanimal_split!r}."
            )

    def to_dict(self) -> dict:
        """JSON-ready record of the choices (explicit folds are summarised by their sizes)."""
        folds = self.folds
        if folds is not None and not isinstance(folds, str):
            folds = (
                f"explicit ({len(folds)} folds)" if isinstance(folds, list) else "explicit labels"
            )
        return {
            "name": self.name,
            "folds": folds or "seeded k-fold",
            "target_reliability": list(self.target_reliability),
            "repeat_split": self.repeat_split,
            "ev_average": self.ev_average,
            "interanimal_split": self.interanimal_split,
        }


def _reverse_pred_transform():
    from neuroalign.transforms.ridge import Ridge

    return Ridge(0.1, penalty="absolute")


#: published code presets: name → Conventions. ``reverse_pred``: the code accompanying Muzellec &
#: Kar (PyPI ``reverse-pred`` 0.1.2): scikit-learn ``Ridge(alpha=0.1)``, 10 folds from
#: ``np.random.seed(0)`` and one shuffle (fixed across draws), Spearman split-half reliability of the
#: target on its own split, repeat slots permuted once per split, EV averaged over the draws.
PRESETS = {
    "reverse_pred": Conventions(
        folds="reverse_pred",
        target_reliability=("spearman", "separate_split"),
        repeat_split="slots",
        ev_average="per_draw",
        interanimal_split="source",
        transform=_reverse_pred_transform,
        name="reverse_pred",
    ),
}


def resolve_conventions(conventions=None, **options) -> Conventions:
    """A :class:`Conventions` from a preset name (or None: the defaults) with the explicitly given
    ``options`` (those not None) taking precedence."""
    if conventions is None:
        base = Conventions()
    elif isinstance(conventions, Conventions):
        base = conventions
    elif conventions in PRESETS:
        base = PRESETS[conventions]
    else:
        raise ConfigError(
            f"unknown conventions {conventions!r}; presets: {sorted(PRESETS)} (or None)."
        )
    given = {k: v for k, v in options.items() if v is not None}
    return replace(base, **given) if given else base


def reverse_pred_folds(n_stimuli: int, n_folds: int = 10, seed: int = 0) -> list[np.ndarray]:
    """The published code's folds: ``np.random.seed(seed)``, one ``np.random.shuffle`` of
    ``arange(n)``, ``np.array_split`` into ``n_folds``; test fold ``f`` is part ``f`` (sorted here:
    the order of rows within a fold changes no prediction)."""
    inds = np.random.RandomState(seed).permutation(n_stimuli)
    return [np.sort(p) for p in np.array_split(inds, n_folds)]


def check_folds(folds, n: int) -> list[np.ndarray]:
    """Explicit folds → sorted test-index arrays partitioning ``range(n)``. ``folds``: a list of
    index arrays, or fold labels ``(n,)`` (one int per stimulus, ≥ 2 distinct values)."""
    if isinstance(folds, np.ndarray) and folds.ndim == 1 and folds.size == n and n > 1:
        labels = np.asarray(folds)
        if labels.dtype.kind not in "iu":
            raise ConfigError("fold labels must be integers, one per stimulus.")
        parts = [np.flatnonzero(labels == k) for k in np.unique(labels)]
    else:
        parts = [np.asarray(f, dtype=np.intp).ravel() for f in folds]
    allidx = np.sort(np.concatenate(parts)) if parts else np.array([], dtype=np.intp)
    if len(parts) < 2 or allidx.size != n or np.any(allidx != np.arange(n)):
        raise DataError(
            f"folds must partition the {n} stimuli into >= 2 test sets (a list of index arrays, or "
            "one integer label per stimulus)."
        )
    return [np.sort(p) for p in parts]
