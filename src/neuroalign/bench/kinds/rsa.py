"""RSA and CKA of a model's RDM with subjects' RDMs (noise ceiling across subjects) and with a
group RDM; each similarity beside its null (the model's stimuli permuted) and a bootstrap over
subjects."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from neuroalign.bench.base import Benchmark
from neuroalign.bench.rows import empty_row, unit_rows
from neuroalign.metrics.ceilings import cka_noise_ceiling, noise_ceiling
from neuroalign.metrics.cka import rdm_cka
from neuroalign.metrics.rsa import compare_rdms, rdm

__all__ = ["RSABenchmark"]


@dataclass(frozen=True)
class RSABenchmark(Benchmark):
    """``source(data_dir) → ((subject RDMs (k, n, n), subject names, group RDM (n, n)),
    stimuli, data checksums)``."""

    source: Callable[[Any], tuple] | None = None
    kind: ClassVar[str] = "rsa"

    def load(self, data_dir, params):
        rdms, stimuli, data = self.source(data_dir)
        return {"stimuli": stimuli, "rdms": rdms, "data": data}

    def run(self, features, inputs, params, seed, progress=False):
        human, subjects, group = inputs["rdms"]
        method = params["method"]
        nc = {"rsa": noise_ceiling(human, method), "cka": cka_noise_ceiling(human)}
        rng = np.random.default_rng([seed, len(subjects), 0x25A])
        drawn = rng.integers(0, len(subjects), size=(params["n_boot"], len(subjects)))
        perms = [np.random.default_rng([seed, k, 0x2E]).permutation(human.shape[1]) for k in range(params["n_null"])]  # fmt: skip

        def sims(m, d):
            return compare_rdms(m, human, method)[0] if d == "rsa" else np.array([rdm_cka(m, h) for h in human])  # fmt: skip

        rows, units, boot = [], [], {}
        for layer, x in features.items():
            m = rdm(x, params["rdm_metric"])
            for d in ("rsa", "cka"):
                v = sims(m, d)
                raw = float(v.mean())
                null = np.array([sims(m[np.ix_(p, p)], d).mean() for p in perms])
                p_null = float((1 + np.sum(null >= raw)) / (1 + null.size)) if null.size else np.nan
                reps = v[drawn].mean(axis=1) / nc[d][0] if drawn.size and nc[d][0] > 0 else np.empty(0)  # fmt: skip
                row = empty_row(
                    layer, d, raw=raw, ceiling=nc[d][0],
                    normalised=raw / nc[d][0] if nc[d][0] > 0 else np.nan,
                    error=float(v.std(ddof=1) / np.sqrt(v.size)),
                    null=float(null.mean()) if null.size else np.nan, p_null=p_null,
                    above_null=bool(p_null <= 0.05) if null.size else np.nan,
                    area=self.area, transform=method if d == "rsa" else "linear",
                    ceiling_kind="noise_ceiling_lower", n_units=len(subjects), n_valid=len(subjects),
                )  # fmt: skip
                if reps.size:
                    row["ci_low"], row["ci_high"] = (
                        float(q) for q in np.percentile(reps, [2.5, 97.5])
                    )
                boot[f"{layer}|{d}"] = reps.tolist()
                rows.append(row)
                units.append(unit_rows(layer, d, subjects, subject=np.array(subjects), value=v))
                mv = compare_rdms(m, group, method)[0, 0] if d == "rsa" else rdm_cka(m, group)
                rows.append(empty_row(layer, f"{d}_monkey", raw=float(mv), area=self.area,
                                      transform=row["transform"], ceiling_kind="none",
                                      n_units=1, n_valid=1))  # fmt: skip
                units.append(unit_rows(layer, f"{d}_monkey", ["mIT"], value=np.array([mv])))
        extras = {"noise_ceiling": {d: {"lower": lo, "upper": up} for d, (lo, up) in nc.items()}}
        return rows, units, {"bootstrap": boot, "_extras": extras}
