"""Helpers shared by the tests (importable as ``_helpers``: pytest puts tests/ on the path)."""

from __future__ import annotations

from sklearn.linear_model import Ridge as SkRidge

from neuroalign.transforms.base import Transform


class SkWrapped(Transform):
    """Ridge through scikit-learn: a transform outside the fast path (clone + fit per fold)."""

    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def fit(self, X, Y):
        self.model_ = SkRidge(self.alpha).fit(X, Y)
        return self

    def predict(self, X):
        return self.model_.predict(X)
