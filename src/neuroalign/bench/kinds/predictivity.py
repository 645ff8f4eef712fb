"""Predictivity of one recording: forward (model → each neuron) and reverse (all neurons → each
model unit) held-out EV, each with its null and bootstrap (:mod:`neuroalign.bench.rows`)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from neuroalign._core.errors import DataError
from neuroalign.bench.base import Benchmark
from neuroalign.bench.rows import predictivity_row, unit_rows
from neuroalign.metrics.predictivity import PredictivityWarning, forward_ev, reverse_ev
from neuroalign.transforms.base import resolve

__all__ = ["PredictivityBenchmark", "model_units", "ceiling_option"]


def model_units(n: int, max_units: int | None, seed: int) -> np.ndarray:
    """The model units a reverse score predicts: all, or ``max_units`` drawn with the seed."""
    if max_units is None or n <= max_units:
        return np.arange(n)
    return np.sort(np.random.default_rng([seed, 7]).choice(n, size=int(max_units), replace=False))


def ceiling_option(value, recording) -> object:
    """The ``ceiling`` of :func:`~neuroalign.metrics.predictivity.forward_ev` from a benchmark's
    ``ceiling`` parameter (``"split_half"``, ``"none"`` or a per-unit reliability list); a
    repeat-averaged recording needs it said explicitly."""
    if isinstance(value, str) and value == "none":
        return None
    if isinstance(value, str) and value == "split_half":
        if recording.n_repeats < 2:
            raise DataError(
                "this recording is repeat-averaged (one response per stimulus), so it has no "
                "split-half ceiling: pass ceiling='none' (uncorrected scores, said so in every "
                "table) or a per-unit reliability (ceiling=[...])."
            )
        return "split_half"
    return np.asarray(value, dtype=float)


@dataclass(frozen=True)
class PredictivityBenchmark(Benchmark):
    """``source(data_dir) → (recording NeuralData, stimuli StimulusSet, data checksums)``."""

    source: Callable[[Any], tuple] | None = None
    kind: ClassVar[str] = "predictivity"

    def load(self, data_dir, params):
        rec, stimuli, data = self.source(data_dir)
        return {"stimuli": stimuli, "recording": rec, "data": data}

    def run(self, features, inputs, params, seed, progress=False):
        rec = inputs["recording"]
        tr = resolve(params["transform"])
        ceiling = ceiling_option(params.get("ceiling", "split_half"), rec)
        kw = {"n_folds": params["n_folds"], "n_draws": params["n_draws"], "seed": seed,
              "n_null": params["n_null"], "n_boot": params["n_boot"]}  # fmt: skip
        neural = rec if ceiling == "split_half" else rec.mean()
        rows, units, boot = [], [], {}
        for layer, x in features.items():
            cols = model_units(x.shape[1], params["max_model_units"], seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", PredictivityWarning)
                fwd = forward_ev(x, neural, tr, ceiling=ceiling, **kw)
                rev = reverse_ev(neural, x[:, cols], tr,
                                 ceiling="split_half" if ceiling == "split_half" else None, **kw)  # fmt: skip
            for d, res, ids in (("forward", fwd, rec.unit_ids), ("reverse", rev, cols)):
                row, b = predictivity_row(layer, d, res, seed, area=self.area,
                                          transform=params["transform"])  # fmt: skip
                rows.append(row)
                boot[f"{layer}|{d}"] = b.tolist()
                units.append(unit_rows(layer, d, ids, res))
        return rows, units, {"bootstrap": boot}
