"""`Benchmark`: what a benchmark measures, on which data, and how it scores a model.

A benchmark owns its behaviour, as Brain-Score's do: :meth:`Benchmark.load` reads its data once
(``data_dir`` → inputs: the stimuli a model sees, the recordings or RDMs it is compared with, and
``data``: the checksums of every file used), :meth:`Benchmark.run` scores features on them
(→ summary rows, per-unit tables, attachments). :func:`neuroalign.bench.score` only resolves,
keys, extracts features and calls ``run``. One subclass per kind lives in
:mod:`neuroalign.bench.kinds`; a user's own benchmark is a subclass in the user's own file (or a
recording turned into one with :func:`neuroalign.bench.from_data`), registered with
:func:`neuroalign.bench.register`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from neuroalign._core.errors import ConfigError

__all__ = ["Benchmark"]

#: parameters every benchmark shares (a benchmark's ``defaults`` may override them)
COMMON_DEFAULTS = {"n_null": 20, "n_boot": 200}
#: whole-number parameters → their smallest value (``max_model_units`` may also be None: all)
_COUNTS = {"n_null": 0, "n_boot": 0, "n_folds": 2, "n_draws": 1, "max_model_units": 1}


def _count(name: str, value: Any) -> int | None:
    """``value`` as the whole number ``name`` needs (a Python int, so keys stay JSON)."""
    if name == "max_model_units" and value is None:
        return None
    whole = isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)
    if not (whole and value >= _COUNTS[name]):
        raise ConfigError(
            f"{name} must be a whole number >= {_COUNTS[name]}, got {value!r} "
            f"(e.g. --param {name}={max(_COUNTS[name], 1) * 5})."
        )
    return int(value)


@dataclass(frozen=True)
class Benchmark:
    """Description of a benchmark, and its scoring.

    ``identifier``: ``"<dataset>.<name>"``; ``version``: bumped whenever its numbers can change
    (part of every result key); ``kind`` (class attribute): ``"predictivity"``, ``"population"``,
    ``"rsa"``, ``"iatc"`` or a user's own; ``transform``: the mapping class name, or ``"IATC"``;
    ``directions``: the rows a score has; ``ceiling``: how the ceiling is defined; ``defaults``:
    every parameter a score may override (``n_null`` and ``n_boot`` included).
    """

    identifier: str
    version: str
    dataset: str
    citation: str
    description: str
    ceiling: str
    directions: tuple[str, ...]
    transform: str
    area: str | None = None
    session: str | None = None
    defaults: dict[str, Any] = field(default_factory=dict)

    kind: ClassVar[str] = ""
    needs_model: ClassVar[bool] = True

    def params(self, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """The defaults updated with ``overrides``; :class:`ConfigError` for unknown names and
        for counts (``n_folds``, ``n_draws``, ``n_null``, ``n_boot``, ``max_model_units``) that
        are not whole numbers at least their smallest value."""
        defaults = {**COMMON_DEFAULTS, **self.defaults}
        overrides = dict(overrides or {})
        unknown = sorted(set(overrides) - set(defaults))
        if unknown:
            raise ConfigError(
                f"benchmark {self.identifier} has no parameter(s) {unknown}; its parameters are "
                f"{sorted(defaults)}."
            )
        merged = {**defaults, **overrides}
        for name in set(overrides) & set(_COUNTS):
            merged[name] = _count(name, merged[name])
        return {k: list(v) if isinstance(v, tuple) else v for k, v in sorted(merged.items())}

    def to_dict(self) -> dict[str, Any]:
        return {
            "identifier": self.identifier,
            "version": self.version,
            "kind": self.kind,
            "dataset": self.dataset,
            "area": self.area,
            "session": self.session,
            "transform": self.transform,
            "directions": list(self.directions),
            "ceiling": self.ceiling,
            "citation": self.citation,
            "description": self.description,
            "defaults": self.params(),
        }

    def load(self, data_dir, params: dict[str, Any]) -> dict[str, Any]:
        """The benchmark's data, read once (a sweep sends it to its workers once): a dict with
        ``stimuli`` (models' input; absent for neural-only benchmarks), ``data`` (file → SHA-256,
        or a digest of generated data) and whatever :meth:`run` needs."""
        raise NotImplementedError  # pragma: no cover - interface

    def run(self, features, inputs, params, seed: int, progress: bool = False):
        """Score ``features`` (layer → ``(n_stimuli, n_features)`` in ``inputs["stimuli"]``
        order; None for neural-only benchmarks): ``(rows, units, attachments)`` — summary rows
        (dicts over :data:`~neuroalign.bench.rows.SUMMARY_COLUMNS`), per-unit DataFrames and
        JSON-ready attachments."""
        raise NotImplementedError  # pragma: no cover - interface
