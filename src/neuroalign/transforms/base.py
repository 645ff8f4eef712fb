"""The transform-class protocol and the strictness order derived from each class's declarations."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator

from neuroalign._core.errors import ConfigError
from neuroalign._core.registry import Registry

__all__ = [
    "TRANSFORMS",
    "Transform",
    "registry",
    "get",
    "resolve",
    "strictness_order",
    "contains",
    "minimal",
]


def _builtins() -> None:
    import neuroalign.transforms  # noqa: F401  (the built-in classes register themselves)


#: every transform class by name; a class registers itself when it sets ``name`` in its body
TRANSFORMS: Registry[type[Transform]] = Registry(
    "transform class", plural="transform classes", builtins=_builtins
)


class Transform(BaseEstimator):
    """A mapping class from a source population to a target population.

    Subclasses set ``name`` (registry key) and ``contains`` (names of the classes whose every
    function this class can also express, i.e. the *stricter* classes directly below it), implement
    ``fit(X, Y)`` with ``X (n_stimuli, n_source)``, ``Y (n_stimuli, n_target)`` returning ``self``,
    and ``predict(X) -> (n_stimuli, n_target)``. Fitted attributes end in ``_``.
    ``requires_equal_units`` marks classes that need ``n_source == n_target``; ``test_params``
    are small settings for the property tests, which run on every registered class.
    """

    name: ClassVar[str] = ""
    contains: ClassVar[tuple[str, ...]] = ()
    requires_equal_units: ClassVar[bool] = False
    #: small, fast settings the shared property tests build every registered class with
    test_params: ClassVar[dict] = {}

    def __init_subclass__(cls, *, replace: bool = False, **kwargs):
        """Register a subclass that sets its own ``name`` (``class T(Transform, replace=True)``
        overwrites a registered class of that name on purpose)."""
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("name"):
            TRANSFORMS.register(cls.name, cls, replace=replace)

    def fit(self, X, Y):  # pragma: no cover - interface
        raise NotImplementedError

    def predict(self, X) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def oof_plan(self, X, folds, dtype=None):
        """A fast path, when the class has one: an object that gives out-of-fold predictions of
        any targets from ``X (n_stimuli, n_source)`` for the test folds ``folds`` (the protocol
        of :class:`~neuroalign.solvers.oof.FoldPlan`), or None (default: metrics clone and fit
        the transform fold by fold)."""
        return None

    def frozen(self) -> Transform | None:
        """After ``fit``: an unfitted copy whose cross-validated hyperparameters are fixed at the
        values this fit chose (so refitting skips the inner search), or None when the class
        chooses nothing by cross-validation. Used to fit the split-half draws of a fold with the
        hyperparameters chosen on that fold's training stimuli."""
        return None


def registry() -> dict[str, type[Transform]]:
    """Every registered transform class by name (imports the built-in classes first)."""
    return dict(TRANSFORMS.items())


def get(name: str | type[Transform] | Transform) -> type[Transform]:
    """The transform class of a name, class or instance; unknown names list the known ones."""
    if isinstance(name, Transform):
        return type(name)
    if isinstance(name, type) and issubclass(name, Transform):
        return name
    return TRANSFORMS.get(name)


def resolve(spec=None) -> Transform:
    """The one way every caller turns a transform spec into an estimator: a registered name
    (``"ridge"`` means ``Ridge()`` everywhere), a Transform class (its defaults), an instance (a
    clone: the caller's object is never changed or fitted), anything with a ``transform()`` method
    that returns one (an :class:`~neuroalign.analysis.iatc.IATCResult`: its strictest selected
    class with the parameters it was estimated with), or None (``"ridge"``). A transform that
    takes a ``compute`` and was given none gets the
    :func:`~neuroalign.solvers.compute.default_compute` (``using_compute``, the CLI's
    ``--device``, ``$NEUROALIGN_COMPUTE``)."""
    from sklearn.base import clone

    if spec is None:
        spec = "ridge"
    if isinstance(spec, Transform):
        return _with_default_compute(clone(spec))
    if isinstance(spec, type) and issubclass(spec, Transform):
        return _with_default_compute(spec())
    if isinstance(spec, str):
        return _with_default_compute(get(spec)())
    make = getattr(spec, "transform", None)
    if callable(make):
        return resolve(make())
    raise ConfigError(
        f"a transform is a class name ({', '.join(TRANSFORMS.names())}), a Transform class or "
        f"instance, or an IATCResult; got {type(spec).__name__}."
    )


def _with_default_compute(t: Transform) -> Transform:
    """``t`` (a fresh estimator) with :func:`~neuroalign.solvers.compute.default_compute` set when
    it takes a ``compute`` and was given neither one nor a ``backend``."""
    from neuroalign.solvers.compute import default_compute

    params = t.get_params(deep=False)
    if "compute" not in params or params["compute"] is not None or params.get("backend"):
        return t
    compute = default_compute()
    return t if compute is None else t.set_params(compute=compute)


def _declared(classes: Iterable[str | type[Transform]] | None) -> dict[str, tuple[str, ...]]:
    reg = registry()
    names = sorted(reg) if classes is None else [get(c).name for c in classes]
    return {n: reg[n].contains for n in names}


def strictness_order(
    classes: Iterable[str | type[Transform]] | None = None,
    declarations: dict[str, Iterable[str]] | None = None,
) -> dict[str, frozenset[str]]:
    """Transitive closure of the ``contains`` declarations: name → every strictly stricter class.

    ``declarations`` (name → directly contained names) overrides the registry, for testing.
    Classes outside the given set still link containment through the full registry. Raises
    :class:`ConfigError` when the declarations form a cycle (the order would not be a partial order).
    """
    if declarations is not None:
        decl = {k: tuple(v) for k, v in declarations.items()}
        keep = set(decl)
    else:
        decl = {n: c.contains for n, c in registry().items()}
        keep = set(_declared(classes))
    closure: dict[str, frozenset[str]] = {}
    state: dict[str, int] = {}

    def visit(n: str, path: list[str]) -> frozenset[str]:
        if state.get(n) == 2:
            return closure[n]
        if state.get(n) == 1:
            cycle = path[path.index(n) :] + [n]
            raise ConfigError(
                f"transform containment declarations form a cycle: {' ⊃ '.join(cycle)}."
            )
        state[n] = 1
        below: set[str] = set()
        for m in decl.get(n, ()):
            below.add(m)
            below |= visit(m, path + [n])
        state[n] = 2
        closure[n] = frozenset(below)
        return closure[n]

    for n in list(decl):
        visit(n, [])
    return {n: frozenset(closure.get(n, frozenset()) & keep) for n in sorted(keep)}


def contains(a: str | type[Transform], b: str | type[Transform]) -> bool:
    """True when class ``a`` strictly contains class ``b`` (``b`` is stricter)."""
    na, nb = get(a).name, get(b).name
    return nb in strictness_order()[na]


def minimal(names: Iterable[str]) -> list[str]:
    """The classes among ``names`` that contain none of the others (the strictest ones)."""
    names = list(dict.fromkeys(names))
    order = strictness_order()
    return [n for n in names if not any(m in order.get(n, ()) for m in names if m != n)]
