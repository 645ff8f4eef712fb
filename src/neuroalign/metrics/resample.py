"""Resampling stimuli with replacement: the bootstrap draws every score of one seed shares."""

from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["stimulus_resamples", "subject_resamples"]


def stimulus_resamples(n_stimuli: int, n_boot: int, seed: int) -> np.ndarray:
    """Counts ``(n_boot, n_stimuli)`` float64: how often each stimulus is drawn in each of
    ``n_boot`` resamples with replacement (each row sums to ``n_stimuli``). A function of the seed
    and the number of stimuli only, so two models (or a model and the animals) scored with one seed
    on one stimulus set get the same resamples and their scores pair."""
    rng = np.random.default_rng([int(seed), int(n_stimuli), 0xB007])
    draws = rng.integers(0, n_stimuli, size=(n_boot, n_stimuli))
    out = np.zeros((n_boot, n_stimuli))
    np.add.at(out, (np.repeat(np.arange(n_boot), n_stimuli), draws.ravel()), 1.0)
    return out


def subject_resamples(subjects, n_boot: int, seed: int) -> np.ndarray:
    """Subject names ``(n_boot, n_subjects)`` drawn with replacement: the subject level of a
    hierarchical bootstrap (a function of the seed and the set of names, not their order)."""
    names = sorted({str(s) for s in subjects})
    digest = hashlib.sha256("\0".join(names).encode()).digest()
    rng = np.random.default_rng([int(seed), int.from_bytes(digest[:8], "little"), 0x5B])
    return np.asarray(names, dtype=object)[rng.integers(0, len(names), size=(n_boot, len(names)))]
