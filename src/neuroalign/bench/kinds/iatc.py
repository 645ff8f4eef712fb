"""The Inter-Animal Transform Class of a population (neural only, no model)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from neuroalign.analysis.iatc import estimate_iatc
from neuroalign.bench.base import Benchmark
from neuroalign.bench.rows import empty_row, unit_rows

__all__ = ["IATCBenchmark", "NO_LAYER"]

NO_LAYER = "-"


@dataclass(frozen=True)
class IATCBenchmark(Benchmark):
    """``source(data_dir, params) → (population NeuralData, data checksums)``."""

    source: Callable[[Any, dict], tuple] | None = None
    kind: ClassVar[str] = "iatc"
    needs_model: ClassVar[bool] = False

    def load(self, data_dir, params):
        pop, data = self.source(data_dir, params)
        return {"population": pop, "data": data}

    def run(self, features, inputs, params, seed, progress=False):
        population = inputs["population"]
        res = estimate_iatc(
            population, params["candidates"], params["pairing"], n_folds=params["n_folds"],
            n_draws=params["n_draws"], n_boot=params["n_boot"], seed=seed,
            show_progress=progress,
        )  # fmt: skip
        acc = res.accuracy.set_index("transform")
        sel = res.selected[0]
        raw = float(acc.loc[sel, "median_ev"])
        n = int(acc.loc[sel, "n_columns"])
        row = empty_row(
            NO_LAYER, "iatc", raw=raw, ceiling=100.0, normalised=raw / 100.0,
            error=float((acc.loc[sel, "ci_high"] - acc.loc[sel, "ci_low"]) / (2 * 1.96)),
            ci_low=float(acc.loc[sel, "ci_low"]) / 100, ci_high=float(acc.loc[sel, "ci_high"]) / 100,
            area=self.area or "+".join(population.areas), transform="+".join(res.selected),
            ceiling_kind="split_half", n_units=n, n_valid=n,
        )  # fmt: skip
        sc = res.scores[res.scores["transform"] == sel]
        units = unit_rows(NO_LAYER, "iatc", sc["unit_id"].to_numpy(),
                          subject=(sc["source"] + "→" + sc["target"]).to_numpy())  # fmt: skip
        for c in ("ev", "r", "rho_target", "rho_pred", "valid"):
            units[c] = sc[c].to_numpy()
        return [row], [units], {"iatc": res.to_dict()}
