"""Seeded k-fold over stimuli and out-of-fold predictions for any transform class."""

from __future__ import annotations

import numpy as np
from sklearn.base import clone

from neuroalign._core.errors import ConfigError, DataError
from neuroalign._core.validation import check_seed, check_xy
from neuroalign.metrics.conventions import check_folds
from neuroalign.solvers.backend import NumpyBackend
from neuroalign.solvers.threads import single_threaded_blas
from neuroalign.transforms.base import Transform

__all__ = ["kfold_indices", "cross_val_predict"]


def kfold_indices(n_stimuli: int, n_folds: int = 10, seed=0) -> list[np.ndarray]:
    """Test indices of ``n_folds`` seeded folds over ``n_stimuli`` stimuli (each sorted).

    A random permutation (``np.random.default_rng(seed).permutation``, or the given Generator's) is
    cut into ``n_folds`` near-equal consecutive parts (``np.array_split``); the folds partition
    ``range(n_stimuli)``. Raises :class:`ConfigError` for ``n_folds < 2`` and :class:`DataError` when
    there are fewer stimuli than folds.
    """
    if not isinstance(n_folds, (int, np.integer)) or isinstance(n_folds, bool) or n_folds < 2:
        raise ConfigError(f"n_folds must be an int >= 2, got {n_folds!r}.")
    if n_stimuli < n_folds:
        raise DataError(
            f"{n_stimuli} stimuli cannot be split into {n_folds} folds; use n_folds <= {n_stimuli}."
        )
    perm = check_seed(seed).permutation(n_stimuli)
    return [np.sort(f) for f in np.array_split(perm, n_folds)]


def cross_val_predict(
    transform: Transform,
    X,
    Y,
    n_folds: int = 10,
    seed=0,
    *,
    folds=None,
    dtype=None,
    fold_transforms=None,
    return_fitted: bool = False,
):
    """Out-of-fold predictions ``(n_stimuli, n_targets)`` (float64) of ``transform`` from ``X`` to ``Y``.

    ``X (n_stimuli, n_source)``, ``Y (n_stimuli, n_target)``. Every stimulus is predicted by the
    transform fitted on the other folds (:func:`kfold_indices` with ``n_folds`` and ``seed``, or
    the explicit ``folds``: test-index arrays partitioning the stimuli, or one integer label per
    stimulus). Any :class:`Transform` works (cloned and fitted per fold); a transform with a fast
    path (:meth:`~neuroalign.transforms.base.Transform.oof_plan`, e.g. Ridge: one decomposition
    per fold for every α and target) takes it. ``dtype`` (float32/float64) sets the compute
    precision of that fast path (default: the transform's, else the inputs' dtype).

    Generic path only: ``fold_transforms`` gives one transform per fold to clone instead of
    ``transform`` (e.g. with hyperparameters frozen at a previous fit's choice); with
    ``return_fitted`` the fitted per-fold transforms come back too: ``(predictions, fitted)``.
    """
    X, Y = check_xy(X, Y)
    n = X.shape[0]
    folds = kfold_indices(n, n_folds, seed) if folds is None else check_folds(folds, n)
    if not isinstance(transform, Transform):
        raise ConfigError(
            f"transform must be a neuroalign Transform instance, got {type(transform).__name__}."
        )
    if fold_transforms is None and not return_fitted:
        plan = transform.oof_plan(X, folds, dtype or (X.dtype if X.dtype == np.float32 else None))
        if plan is not None:
            return plan.cross_val_predict(Y)[0]
    if fold_transforms is not None and len(fold_transforms) != len(folds):
        raise ConfigError(
            f"fold_transforms has {len(fold_transforms)} entries for {len(folds)} folds."
        )

    def fit_fold(i: int):
        test = folds[i]
        train = np.setdiff1d(np.arange(n), test)
        base = transform if fold_transforms is None else fold_transforms[i]
        model = clone(base).fit(X[train], Y[train])
        return model, model.predict(X[test])

    # per-fold problems are small: folds run side by side, each BLAS call on one thread, which
    # avoids the thread thrash of tiny products; each fold is computed as it would be alone
    with single_threaded_blas():
        done = NumpyBackend().map(fit_fold, range(len(folds)))
    out = np.empty((n, Y.shape[1]), dtype=np.float64)
    for test, (_, pred) in zip(folds, done, strict=True):
        out[test] = pred
    return (out, [m for m, _ in done]) if return_fitted else out
