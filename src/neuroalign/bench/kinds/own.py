"""A user's own recording as a benchmark, in one call: ``Benchmark.from_data(data, stimuli)``.

One subject: forward and reverse predictivity of the recording (the model's scores alone, without
an animal baseline, said so in the description). Two or more subjects recorded with repeats: the
population comparison with the animal→animal baseline and masquerade. Repeat-averaged responses
(one repeat per stimulus) have no split-half ceiling: pass ``ceiling=None`` (uncorrected scores,
``ceiling_kind = "none"`` in every table) or a per-unit reliability.
"""

from __future__ import annotations

import hashlib

import numpy as np

from neuroalign._core.errors import ConfigError, DataError
from neuroalign.bench.kinds.population import PopulationBenchmark
from neuroalign.bench.kinds.predictivity import PredictivityBenchmark, ceiling_option
from neuroalign.data.neural_data import NeuralData

__all__ = ["from_data"]

_CEILINGS = {
    "split_half": "per-unit noise ceiling 100·ρ_target·ρ_pred (split halves, Spearman–Brown)",
    "none": "none: repeat-averaged responses, uncorrected scores (raw = 100·max(r, 0)²)",
    "given": "a given per-unit reliability as ρ_target",
}


def _digest(data: NeuralData) -> str:
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(data.responses, dtype=np.float64).tobytes())
    h.update("\0".join(map(str, data.stimulus_ids)).encode())
    h.update("\0".join(data.units["unit_id"]).encode())
    return h.hexdigest()


def from_data(data, stimuli=None, name: str = "my_data", *, ceiling="split_half",
              transform: str = "ridge", area: str | None = None, description: str = "",
              **defaults):  # fmt: skip
    """A registered-like :class:`~neuroalign.bench.base.Benchmark` from ``data`` (a NeuralData)
    and the ``stimuli`` its model sees (a StimulusSet; None when the model is given as features,
    joined on stimulus ids). ``ceiling``: ``"split_half"`` (default), None or a per-unit
    reliability; ``transform``: the mapping (default ``"ridge"``); ``defaults``: other parameters
    (``n_folds``, ``n_draws``, ``n_null``, ``n_boot``, ``max_model_units``, ``pool``)."""
    if not isinstance(data, NeuralData):
        raise DataError(
            "data must be a NeuralData (responses, stimulus ids and a unit table); build one with "
            "NeuralData(responses, stimulus_ids, units) or neuroalign.data.read_responses(path)."
        )
    if not isinstance(name, str) or not name or "/" in name:
        raise ConfigError(f"name must be a non-empty string without '/', got {name!r}.")
    if stimuli is not None:
        missing = set(data.stimulus_ids) - set(stimuli.ids)
        if missing:
            raise DataError(
                f"{len(missing)} of the data's stimuli have no image in the stimulus set (e.g. "
                f"{sorted(missing)[:3]}); the ids must name the same stimuli."
            )
        stimuli = stimuli.select(list(data.stimulus_ids))
    kind_ceiling = "none" if ceiling is None else ceiling
    if not isinstance(kind_ceiling, str):
        kind_ceiling = [float(v) for v in np.asarray(ceiling, dtype=float)]
    ceiling_option(kind_ceiling, data)  # a repeat-averaged recording must say so
    digest = _digest(data)
    subjects = data.subjects
    population = len(subjects) >= 2 and kind_ceiling == "split_half"
    area = area or data.areas[0]
    base = {"transform": transform, "n_folds": 10, "n_draws": 20, "pool": 4, "max_model_units": 1000}  # fmt: skip
    what = (
        f"{len(subjects)} subjects compared with the model and with each other (animal baseline)"
        if population
        else "the model's forward and reverse scores on this recording, without an animal baseline"
    )
    common = {
        "identifier": f"own.{name}",
        "version": digest[:12],
        "dataset": f"own:{name}",
        "citation": data.metadata.get("citation", ""),
        "description": description or f"Your recording {name!r}: {what}.",
        "directions": ("forward", "reverse"),
        "transform": transform,
        "area": area,
    }
    checksums = {"responses_sha256": digest}
    if population:
        return PopulationBenchmark(
            **common,
            ceiling="per-unit noise ceiling 100·ρ_target·ρ_pred; animal baseline in animal_median",
            defaults={**base, **defaults},
            source=lambda data_dir, params: (data, stimuli, checksums),
        )
    return PredictivityBenchmark(
        **common,
        ceiling=_CEILINGS.get(kind_ceiling if isinstance(kind_ceiling, str) else "given"),
        defaults={**base, "ceiling": kind_ceiling, **defaults},
        source=lambda data_dir: (data, stimuli, checksums),
    )
