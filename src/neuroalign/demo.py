"""The embedded default, end to end, as a library function: :func:`run` → :class:`DemoResult`.

No data folder, no downloads. A simulated population (3 animals × 2 areas, Poisson spike counts
from softplus units driven by a random network on images bundled with scikit-image and
scikit-learn) → split-half ceilings against the known truth → the Inter-Animal Transform Class →
forward and reverse comparison with the animals of the first area of real networks (by default
the pretrained EfficientNet-Lite0, its untrained twin and the untrained expansion model, read at
one mid-level layer on the population's images) beside reference "models" (the true network
layer, its noise-free latent readout, the layer plus unrelated units, a held-out animal, the true
layer sampled like an animal, and constant, row-shuffled, rank-1 and random layers) → masquerade →
an HTML report. Every step checks what the simulation knows to be true (:attr:`DemoResult.controls`).
``neuroalign demo`` prints the result.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from neuroalign._core.errors import ConfigError
from neuroalign._core.jsonio import nan_to_none
from neuroalign._core.version import __version__
from neuroalign.analysis.compare import ComparisonResult, compare
from neuroalign.analysis.iatc import IATCResult, estimate_iatc
from neuroalign.data.synthetic import SyntheticPopulation, make_population

__all__ = ["CANDIDATES", "NETWORKS", "DemoResult", "run"]

#: transform classes whose inter-animal accuracy the demo compares
CANDIDATES = ("one_to_one", "procrustes", "ridge", "zippering")
#: the true inter-animal class of the simulation (softplus units of a shared latent space)
TRUE_CLASS = "zippering"
#: the real networks of the demo and the layer each is read at (pooled to 4×4 positions)
NETWORKS = {
    "efficientnet_lite0": "_blocks.4",
    "efficientnet_lite0_untrained": "_blocks.4",
    "expansion_ci": "layer3",
}
POOL = 4
INPUT_PX = 112  # the crops are 64×64 px; 112 px inputs keep the demo quick on a laptop CPU
#: the layer name of the reference "models" (feature matrices, not networks)
REFERENCE_LAYER = "-"
#: the largest median |estimated − true| split-half reliability the ceilings control accepts
RELIABILITY_TOLERANCE = 0.05


@dataclass
class DemoResult:
    """What the demo found.

    ``population``: the simulated animals (with their ground truth). ``reliability``: per unit the
    estimated and true split-half reliability; ``reliability_summary``: per (subject, area).
    ``iatc``: the Inter-Animal Transform Class. ``area``: the area the models are compared in.
    ``comparisons``: model name → its comparison with the animals (one layer each: a network's
    layer, :data:`REFERENCE_LAYER` for the reference models). ``scores``: the comparisons in the
    results-store format (one row per model and direction). ``models``: model name → ``kind``
    (``"network"`` or ``"reference"``) and, for networks, layer, pooling, input size, feature
    count, weights checksum. ``controls``: one row per ground-truth check (``control``,
    ``expected``, ``observed``, ``passed``). ``report``: the HTML report (None when not written).
    ``timings``: seconds per step. ``params``: seed and split-half draws.
    """

    population: SyntheticPopulation
    reliability: pd.DataFrame
    reliability_summary: pd.DataFrame
    iatc: IATCResult
    area: str
    comparisons: dict[str, ComparisonResult]
    scores: pd.DataFrame
    models: dict[str, dict[str, Any]]
    controls: pd.DataFrame
    report: Path | None
    timings: dict[str, float] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """Whether every control passed."""
        return bool(self.controls["passed"].all())

    @property
    def masquerade(self) -> pd.DataFrame:
        """One row per model and direction: ``model, layer, direction, model_median_ev,
        animal_median_ev, masquerade_ratio, percentile, p_value, distinguishable, above_null,
        effective_dim, masquerades``."""
        cols = ["layer", "direction", "model_median_ev", "animal_median_ev"]
        cols += ["masquerade_ratio", "percentile", "p_value", "distinguishable", "above_null"]
        cols += ["effective_dim", "masquerades"]
        parts = [c.summary[cols].assign(model=m) for m, c in self.comparisons.items()]
        return pd.concat(parts, ignore_index=True)[["model", *cols]]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (what ``neuroalign demo --json`` prints)."""
        err = (self.reliability["reliability"] - self.reliability["true_reliability"]).abs()
        acc = self.iatc.accuracy.merge(self.iatc.specificity, on="transform", how="left")
        return nan_to_none(
            {
                **self.params,
                "population": repr(self.population.data),
                "reliability": self.reliability_summary.to_dict(orient="records"),
                "median_abs_error_vs_truth": float(err.median()),
                "max_abs_error_vs_truth": float(err.max()),
                "iatc": {"selected": self.iatc.selected, "accuracy": acc.to_dict("records")},
                "area": self.area,
                "models": self.models,
                "comparison": self.masquerade.to_dict(orient="records"),
                "controls": self.controls.to_dict(orient="records"),
                "passed": self.passed,
                "timings": self.timings,
                "report": None if self.report is None else str(self.report),
            }
        )


def _network_layer(name: str) -> str:
    """The layer the demo reads ``name`` at: :data:`NETWORKS`' choice, else its middle layer."""
    from neuroalign.models import zoo

    if name in NETWORKS:
        return NETWORKS[name]
    layers = zoo.info(name).layers
    return layers[len(layers) // 2]


def _one_model(cmp: ComparisonResult, name: str, layer: str) -> ComparisonResult:
    """The part of a multi-model comparison that is model ``name``, its layer renamed ``layer``."""

    def pick(df: pd.DataFrame) -> pd.DataFrame:
        return df[df["layer"] == name].assign(layer=layer).reset_index(drop=True)

    return dataclasses.replace(
        cmp,
        forward=pick(cmp.forward),
        reverse=pick(cmp.reverse),
        summary=pick(cmp.summary),
        units=pick(cmp.units),
        params={**cmp.params, "layers": [layer], "model": name},
    )


#: reference models that must masquerade as an animal in both directions
MASQUERADERS = ("held-out animal", "true layer sampled like an animal")
#: reference models that must not
IMPOSTORS = ("constant layer", "row-shuffled true layer", "rank-1 true layer", "random features")


def _controls(reliability: pd.DataFrame, iatc: IATCResult, comparisons) -> pd.DataFrame:
    """The ground-truth checks: estimated ceilings match the true ones; the true transform class
    is as accurate as the best class; a held-out animal and the true layer sampled like an animal
    masquerade, the noise-free true layer forward-predicts at least as well as a held-out animal,
    and constant, row-shuffled, rank-1 and random layers do not masquerade."""
    err = float((reliability["reliability"] - reliability["true_reliability"]).abs().median())
    near_best = iatc.accuracy.loc[iatc.accuracy["indistinguishable"].astype(bool), "transform"]
    rows = [
        {
            "control": "noise ceilings",
            "expected": f"median |estimated − true reliability| ≤ {RELIABILITY_TOLERANCE}",
            "observed": f"{err:.3f}",
            "passed": err <= RELIABILITY_TOLERANCE,
        },
        {
            "control": "inter-animal transform class",
            "expected": f"the true class ({TRUE_CLASS}) is as accurate as the best class",
            "observed": f"best {iatc.best}; as accurate: {', '.join(near_best)}",
            "passed": TRUE_CLASS in set(near_best),
        },
    ]

    def verdict(name: str) -> tuple[bool, str]:
        s = comparisons[name].summary.set_index("direction")
        seen = "; ".join(
            f"{d} {s.loc[d, 'model_median_ev']:.1f} vs animals {s.loc[d, 'animal_median_ev']:.1f}"
            f" (percentile {s.loc[d, 'percentile']:.0f})"
            for d in ("forward", "reverse")
        )
        return bool(s["masquerades"].all()), seen

    for name in (*MASQUERADERS, *IMPOSTORS):
        if name not in comparisons:
            continue
        ok, seen = verdict(name)
        must = name in MASQUERADERS
        rows.append(
            {
                "control": name,
                "expected": "masquerades as an animal" if must else "does not masquerade",
                "observed": seen,
                "passed": ok == must,
            }
        )
    truth, animal = "true latents (noise-free)", "held-out animal"
    if {truth, animal} <= set(comparisons):
        fwd = {n: comparisons[n].summary.set_index("direction").loc["forward", "model_median_ev"]
               for n in (truth, animal)}  # fmt: skip
        rows.append(
            {
                "control": truth,
                "expected": "forward EV ≥ the held-out animal's",
                "observed": f"{fwd[truth]:.1f} vs {fwd[animal]:.1f}",
                "passed": bool(fwd[truth] >= fwd[animal]),
            }
        )
    return pd.DataFrame(rows, columns=["control", "expected", "observed", "passed"])


def _activations(names, layers, pop, seed, progress, say) -> tuple[dict, dict]:
    from neuroalign import models as zoo_models

    feats, info = {}, {}
    for name in names:
        layer = layers[name]
        say(f"activations of {name} ({layer}) on the {len(pop.stimuli)} images…")
        net = zoo_models.load(name, seed=seed)
        pre = dataclasses.replace(net.preprocess, size=INPUT_PX)
        acts = zoo_models.extract(
            net, pop.stimuli, [layer], preprocess=pre, pool=POOL, progress=progress or False
        )
        feats[name] = np.asarray(acts[layer], dtype=np.float64)
        info[name] = {
            "kind": "network",
            "layer": layer,
            "pool": POOL,
            "input_px": INPUT_PX,
            "n_features": int(acts[layer].shape[1]),
            "weights_sha256": acts.provenance["model"]["weights_sha256"],
            "trained": net.trained,
        }
    return feats, info


def _sampled_like_an_animal(pop: SyntheticPopulation, area: str, rng) -> np.ndarray:
    """Units read out of the true layer the way an animal's are, but new ones: random mixtures of
    the area's latent readout, standardised, ``softplus(gain·(z + t))`` with an animal's gains and
    thresholds, Poisson counts over as many repeats. ``(n_stimuli, n_units, n_repeats)``."""
    z = pop.truth.latents[area]
    n_units, n_rep = pop.truth.params["units_per_subject"], pop.truth.params["n_repeats"]
    pre = z @ rng.normal(size=(z.shape[1], n_units))
    pre = (pre - pre.mean(0)) / pre.std(0)
    gain = rng.lognormal(0.0, 0.35, n_units)
    t = np.maximum(rng.uniform(-0.5, 1.5, n_units), -np.quantile(pre, 0.9, axis=0))
    rates = np.logaddexp(0.0, gain * (pre + t))
    return rng.poisson(rates[:, :, None], size=(*rates.shape, n_rep)).astype(np.float64)


def _references(pop: SyntheticPopulation, area: str, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    feats = pop.features(area)
    n = feats.shape[0]
    noise = feats.std() * rng.normal(size=(n, 2 * feats.shape[1]))
    centred = feats - feats.mean(0)
    u, s, vt = np.linalg.svd(centred, full_matrices=False)
    return {
        "true layer": feats,
        "true latents (noise-free)": pop.truth.latents[area],
        "true layer + unrelated units": np.hstack([feats, noise]),
        "held-out animal": pop.extra_subject("M", seed=seed).data.select(area=area).responses,
        "true layer sampled like an animal": _sampled_like_an_animal(pop, area, rng),
        "constant layer": np.ones((n, 50)),
        "row-shuffled true layer": feats[rng.permutation(n)],
        "rank-1 true layer": feats.mean(0) + s[0] * np.outer(u[:, 0], vt[0]),
        "random features": rng.normal(size=(n, 300)),
    }


def run(
    *,
    seed: int = 0,
    n_draws: int = 5,
    models: Sequence[str] | None = None,
    report: str | Path | None = "report.html",
    progress: bool = False,
    say: Callable[[str], None] | None = None,
) -> DemoResult:
    """Run the demo (module docstring) and return what it found.

    ``seed``: the simulation, folds, split halves and untrained weights. ``n_draws``: split-half
    draws per EV (20 for publication). ``models``: zoo models to compare (default
    :data:`NETWORKS`; ``[]`` for the reference models only). ``report``: where to write the HTML
    report (None: no report). ``progress``: progress bars on stderr; ``say``: called with a line
    at the start of each step. Unknown models are refused before any work.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed must be a non-negative int, got {seed!r}.")
    if isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer)) or n_draws < 1:
        raise ConfigError(f"n_draws must be a positive int, got {n_draws!r}.")
    say = say or (lambda _msg: None)
    names = list(NETWORKS) if models is None else list(dict.fromkeys(models))
    layers = {n: _network_layer(n) for n in names}
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[step] = round(now - clock, 3)
        clock = now

    from neuroalign.metrics.ceilings import reliability_table, summarize

    say("simulating 3 animals × 2 areas on bundled images…")
    pop = make_population(
        n_subjects=3, n_areas=2, units_per_subject=25, n_stimuli=300, n_repeats=10, seed=seed
    )
    table = reliability_table(pop.data, n_splits=20, seed=seed)
    table["true_reliability"] = pop.truth.reliability
    summary = summarize(table, by=("subject", "area"))
    lap("population and ceilings")
    say(f"estimating the IATC (every ordered pair of animals, {len(CANDIDATES)} classes)…")
    iatc = estimate_iatc(
        pop.data, list(CANDIDATES), n_folds=5, n_draws=n_draws, n_boot=500, seed=seed,
        show_progress=progress,
    )  # fmt: skip
    lap("iatc")
    area = pop.areas[0]
    features, info = _activations(names, layers, pop, seed, progress, say)
    lap("activations")
    refs = _references(pop, area, seed)
    features |= refs
    info |= {name: {"kind": "reference"} for name in refs}
    say("comparing the models with the animals in both directions…")
    cmp = compare(
        features, pop.data.select(area=area), "ridge", n_folds=5, n_draws=n_draws, seed=seed,
        show_progress=progress,
    )  # fmt: skip
    comparisons = {n: _one_model(cmp, n, layers.get(n, REFERENCE_LAYER)) for n in features}
    lap("compare")
    from neuroalign.bench.score import comparison_frame

    scores = pd.concat(
        [comparison_frame(c, model=n, benchmark="demo") for n, c in comparisons.items()],
        ignore_index=True,
    )
    result = DemoResult(
        population=pop,
        reliability=table,
        reliability_summary=summary,
        iatc=iatc,
        area=area,
        comparisons=comparisons,
        scores=scores,
        models=info,
        controls=_controls(table, iatc, comparisons),
        report=None,
        timings=timings,
        params={"seed": int(seed), "n_draws": int(n_draws)},
    )
    if report is not None:
        result.report = _write_report(result, Path(report))
        lap("report")
    return result


_ABOUT = (
    "<p>Three simulated animals with two areas each respond (Poisson spike counts) to 300 crops of "
    "images bundled with scikit-image and scikit-learn; their units are softplus functions of a "
    "random network's layers, so the true inter-animal transform is the zippering class. Each "
    "model is mapped onto every animal of the first area, and every animal onto it, with ridge "
    "regression on held-out stimuli. The networks are read at one mid-level layer averaged to "
    "4×4 positions, on the 64×64 crops enlarged to 112×112 pixels (half their native 224 px, to "
    "keep the demo quick on a CPU). The reference models (layer “-”) are the ground-truth "
    "controls: the network layer that drives the area (3,600 features: with 240 training stimuli "
    "ridge recovers its 16-dimensional readout only in part), that readout itself (the true "
    "latents, noise-free), the layer with twice as many unrelated units, a held-out animal and "
    "the true layer sampled like an animal (both must masquerade), and a constant, a row-shuffled, "
    "a rank-1 and a random layer (none may). Nothing was downloaded.</p>"
)


def _write_report(result: DemoResult, path: Path) -> Path:
    from neuroalign.report import write_report

    networks = {k: v for k, v in result.models.items() if v["kind"] == "network"}
    provenance = {
        "neuroalign": __version__,
        "command": "neuroalign demo",
        **result.params,
        "population": {k: v for k, v in result.population.data.metadata.items() if k != "images"},
        "models": networks,
    }
    return write_report(
        path,
        title="neuroalign demo: a simulated population, the IATC and "
        + (
            f"{len(networks)} network{'s' if len(networks) != 1 else ''}"
            if networks
            else "reference models"
        ),
        iatc=result.iatc,
        comparisons=result.comparisons,
        scores=result.scores,
        sections=[("About this demo", _ABOUT), ("Ground-truth controls", result.controls)],
        provenance=provenance,
    )
