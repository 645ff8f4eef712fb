"""A population of subjects: the model compared with every subject in both directions, beside
the animal→animal baseline, with masquerade (:func:`~neuroalign.analysis.compare.compare`)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from neuroalign.analysis.compare import compare
from neuroalign.bench.base import Benchmark
from neuroalign.bench.kinds.predictivity import model_units
from neuroalign.bench.rows import empty_row, unit_rows

__all__ = ["PopulationBenchmark", "population_rows", "synthetic_population"]


def synthetic_population(params, n_areas: int = 1):
    """The simulated population a synthetic benchmark's parameters describe, and its digest."""
    from neuroalign.data.synthetic import make_population

    pop = make_population(
        n_subjects=params["n_subjects"],
        n_areas=n_areas,
        units_per_subject=params["units_per_subject"],
        n_stimuli=params["n_stimuli"],
        n_repeats=params["n_repeats"],
        nonlinearity=params["nonlinearity"],
        seed=params["population_seed"],
    )
    digest = hashlib.sha256(np.ascontiguousarray(pop.data.responses).tobytes()).hexdigest()
    data = {"generator": "neuroalign.data.synthetic.make_population", "responses_sha256": digest}
    return pop, data


@dataclass(frozen=True)
class PopulationBenchmark(Benchmark):
    """``source(data_dir, params) → (population NeuralData, stimuli, data checksums)``."""

    source: Callable[[Any, dict], tuple] | None = None
    kind: ClassVar[str] = "population"

    def load(self, data_dir, params):
        pop, stimuli, data = self.source(data_dir, params)
        return {"stimuli": stimuli, "population": pop, "data": data}

    def run(self, features, inputs, params, seed, progress=False):
        pop = inputs["population"]
        area_pop = pop.select(area=self.area) if self.area else pop
        cols = {k: model_units(v.shape[1], params["max_model_units"], seed) for k, v in features.items()}  # fmt: skip
        # compare() maps both ways with one feature matrix: max_model_units caps both directions
        cmp = compare(
            {k: v[:, cols[k]] for k, v in features.items()}, area_pop, params["transform"],
            n_folds=params["n_folds"], n_draws=params["n_draws"], seed=seed,
            n_null=params["n_null"], n_boot=params["n_boot"], show_progress=progress,
        )  # fmt: skip
        rows, units, boot = population_rows(cmp, cols, params["transform"])
        return rows, units, {"comparison": cmp.to_dict(), "bootstrap": boot}


def population_rows(cmp, cols=None, transform: str = ""):
    """Summary rows, unit tables and headline bootstrap replicates of a ComparisonResult;
    ``cols[layer]``: the model-unit indices its columns stand for (None: as they are)."""
    rows, units, boot = [], [], {}
    s = cmp.summary
    for r in s.itertuples(index=False):
        t = cmp.forward if r.direction == "forward" else cmp.reverse
        t = t[(t["layer"] == r.layer) & (t["area"] == r.area)]
        ok = t["valid"].to_numpy(bool)
        rr = t["r"].to_numpy(float)
        rho = (t["rho_target"] * t["rho_pred"]).to_numpy(float)
        row = empty_row(
            r.layer, r.direction, area=r.area, transform=transform, ceiling_kind="split_half",
            n_units=len(t), n_valid=int(ok.sum()), normalised=r.model_median_ev,
            ci_low=r.model_ci_low, ci_high=r.model_ci_high, null=r.null_ev, p_null=r.p_null,
            above_null=r.above_null, population=r.population_ev, effective_dim=r.effective_dim,
            animal_median=r.animal_median_ev, masquerade_ratio=r.masquerade_ratio,
            percentile=r.percentile, masquerades=r.masquerades,
        )  # fmt: skip
        if ok.any():
            row["raw"] = float(100.0 * np.median(np.maximum(rr[ok], 0.0) ** 2))
            row["ceiling"] = float(100.0 * np.median(rho[ok]))
        b = cmp.bootstrap
        if len(b):
            sel = b[
                (b["layer"] == r.layer) & (b["area"] == r.area) & (b["direction"] == r.direction)
            ]
            reps = sel["model_median_ev"].to_numpy(float)
            boot[f"{r.layer}|{r.direction}"] = reps.tolist()
            if np.isfinite(reps).sum() > 1:
                row["error"] = float(np.nanstd(reps, ddof=1))
        rows.append(row)
        if r.direction == "forward":
            ids = t["unit_id"].to_numpy()
        else:
            idx = t["model_unit"].to_numpy()
            ids = cols[r.layer][idx] if cols is not None else idx
        tab = unit_rows(r.layer, r.direction, ids, subject=t["subject"].to_numpy())
        for c in ("ev", "r", "rho_target", "rho_pred", "null_ev", "p_unit", "valid"):
            tab[c] = t[c].to_numpy()
        units.append(tab)
    return rows, units, boot
