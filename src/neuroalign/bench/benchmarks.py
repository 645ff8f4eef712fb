"""The benchmark registry and the built-in benchmarks (one registration each).

- ``henaff2021_v1.iatc``: the Inter-Animal Transform Class of the 4 monkeys' V1 (neural only).
- ``cowley2023_v4.<session>``: forward and reverse predictivity of a model on one V4 session
  (every session has its images; only 210325 has per-repeat counts, so only it has noise ceilings;
  the repeat-averaged sessions say ``ceiling = "none"`` and report uncorrected scores).
- ``kriegeskorte2008_92.rsa``: RSA and CKA of a model's RDM with the human-IT RDMs (4 subjects,
  sessions averaged; noise ceiling across subjects) and with the monkey-IT RDM.
- ``synthetic.softplus`` / ``synthetic.relu``: a simulated population with known ground truth,
  forward and reverse predictivity judged against the animal baseline (masquerade);
  ``synthetic.iatc``: its IATC.

Version 2 of every benchmark: EV of a negative correlation is 0, every score has its null and a
bootstrap interval, and ``"ridge"`` chooses its penalty on each fold's training stimuli.
"""

from __future__ import annotations

from functools import partial

from neuroalign._core.registry import Registry
from neuroalign.bench.base import Benchmark
from neuroalign.bench.kinds import (
    IATCBenchmark,
    PopulationBenchmark,
    PredictivityBenchmark,
    RSABenchmark,
    synthetic_population,
)

__all__ = ["BENCHMARKS", "Benchmark", "get", "names", "register", "all_benchmarks"]

#: every benchmark by identifier (the built-ins register on first use)
BENCHMARKS: Registry[Benchmark] = Registry(
    "benchmark", hint="`neuroalign bench list`", builtins=lambda: _register_builtins()
)


def register(benchmark: Benchmark, *, replace: bool = False) -> Benchmark:
    """Add a benchmark (a taken identifier is refused unless ``replace=True``); returns it."""
    return BENCHMARKS.register(benchmark.identifier, benchmark, replace=replace)


def names() -> list[str]:
    """Registered benchmark identifiers, sorted."""
    return BENCHMARKS.names()


def all_benchmarks() -> list[Benchmark]:
    return [b for _, b in BENCHMARKS.items()]


def get(identifier: str | Benchmark) -> Benchmark:
    """The benchmark called ``identifier``; :class:`ConfigError` listing the names otherwise."""
    if isinstance(identifier, Benchmark):
        return identifier
    return BENCHMARKS.get(identifier)


# --------------------------------------------------------------------------------- built-ins
_IATC_CITATION = "Thobani et al. (2025). Inter-animal transforms as a guide to model-brain comparison. arXiv 2510.02523."
_REVERSE_CITATION = (
    "Muzellec, S. & Kar, K. Reverse predictivity for bidirectional comparison of neural networks "
    "and primate brains. Nature Machine Intelligence."
)
_PREDICTIVITY_DEFAULTS = {
    "transform": "ridge",
    "n_folds": 10,
    "n_draws": 20,
    "pool": 4,
    "max_model_units": 1000,
}
_IATC_DEFAULTS = {
    "candidates": ["one_to_one", "soft_matching", "procrustes", "zippering", "pls", "ridge"],
    "pairing": "pairwise",
    "n_folds": 10,
    "n_draws": 20,
    "n_boot": 1000,
}
_SYNTHETIC = {
    "n_subjects": 4,
    "units_per_subject": 40,
    "n_stimuli": 400,
    "n_repeats": 10,
    "population_seed": 0,
}


def _cowley_session(session: str, data_dir):
    from neuroalign import datasets

    ds = datasets.load("cowley2023_v4", data_dir=data_dir, sessions=[session])
    return ds.recordings[session], ds.stimuli[session], dict(ds.checksums)


def _kriegeskorte_it(data_dir):
    from neuroalign import datasets
    from neuroalign.datasets.kriegeskorte2008 import it_rdms

    ds = datasets.load("kriegeskorte2008_92", data_dir=data_dir)
    return it_rdms(ds), ds.stimuli["shared"], dict(ds.checksums)


def _henaff_population(data_dir, params):
    from neuroalign import datasets

    ds = datasets.load("henaff2021_v1", data_dir=data_dir)
    return ds.population(), dict(ds.checksums)


def _synthetic(data_dir, params, n_areas=1, with_stimuli=True):
    pop, data = synthetic_population(params, n_areas)
    return (pop.data, pop.stimuli, data) if with_stimuli else (pop.data, data)


def _synthetic_neural(data_dir, params):
    return _synthetic(data_dir, params, params["n_areas"], with_stimuli=False)


def _register_builtins() -> None:
    from neuroalign.datasets import cowley2023, henaff2021, kriegeskorte2008

    register(IATCBenchmark(
        identifier="henaff2021_v1.iatc", version="2", dataset="henaff2021_v1", area="V1",
        citation=f"{_IATC_CITATION} Data: {henaff2021.INFO.citation}",
        description=(
            "Inter-Animal Transform Class of macaque V1 (4 monkeys, 440 images): every candidate "
            "class maps every ordered pair of monkeys on held-out stimuli; the IATC is the "
            "strictest class as accurate as the best. Neural only: no model."
        ),
        ceiling="EV is noise-corrected per unit (split halves, Spearman–Brown): ceiling 100 %",
        directions=("iatc",), transform="IATC", defaults=dict(_IATC_DEFAULTS),
        source=_henaff_population,
    ))  # fmt: skip
    for session, (monkey, _) in cowley2023.SESSIONS.items():
        per_repeat = any(f.startswith(f"responses_raw/responses_{session}") for f in cowley2023.INFO.files)  # fmt: skip
        register(PredictivityBenchmark(
            identifier=f"cowley2023_v4.{session}", version="2", dataset="cowley2023_v4",
            area="V4", session=session,
            citation=f"{_REVERSE_CITATION} Data: {cowley2023.INFO.citation}",
            description=(
                f"Macaque V4 (monkey {monkey}, session {session}): forward (model → each neuron) "
                "and reverse (all neurons → each model unit) held-out predictivity with the ridge "
                "map." + ("" if per_repeat else " Repeat-averaged responses: no split halves, so "
                          "no noise ceiling (raw = uncorrected 100·max(r, 0)², normalised = NaN).")
            ),
            ceiling=(
                "per-unit noise ceiling 100·ρ_target·ρ_pred (split-half, Spearman–Brown); "
                "normalised = median noise-corrected EV" if per_repeat
                else "none (repeat-averaged responses)"
            ),
            directions=("forward", "reverse"), transform="ridge",
            defaults={**_PREDICTIVITY_DEFAULTS, "ceiling": "split_half" if per_repeat else "none"},
            source=partial(_cowley_session, session),
        ))  # fmt: skip
    register(RSABenchmark(
        identifier="kriegeskorte2008_92.rsa", version="2", dataset="kriegeskorte2008_92",
        area="IT", citation=kriegeskorte2008.INFO.citation,
        description=(
            "RSA and CKA of the model's RDM (1 − Pearson r between image patterns) on the 92 "
            "object images with the human-IT fMRI RDMs of 4 subjects (2 sessions averaged) and "
            "with the monkey-IT RDM (Kiani et al. 2007)."
        ),
        ceiling=(
            "human IT: lower bound of the noise ceiling across subjects (each subject vs the "
            "pooled others), normalised = raw / lower bound; monkey IT: none (one group RDM)"
        ),
        directions=("rsa", "cka", "rsa_monkey", "cka_monkey"), transform="none (RDM comparison)",
        defaults={"method": "spearman", "rdm_metric": "correlation", "pool": 4},
        source=_kriegeskorte_it,
    ))  # fmt: skip
    for nl in ("softplus", "relu"):
        register(PopulationBenchmark(
            identifier=f"synthetic.{nl}", version="2", dataset="synthetic", area="area1",
            citation=f"{_IATC_CITATION} {_REVERSE_CITATION}",
            description=(
                f"Simulated population ({nl} units, Poisson repeats, 64×64 crops of bundled "
                "images; known ground truth): forward and reverse predictivity in area1 against "
                "the animal→animal baseline (masquerade ratio and percentile)."
            ),
            ceiling=(
                "per-unit noise ceiling 100·ρ_target·ρ_pred; normalised = median noise-corrected "
                "EV; animal baseline in animal_median"
            ),
            directions=("forward", "reverse"), transform="ridge",
            defaults={**_PREDICTIVITY_DEFAULTS, **_SYNTHETIC, "nonlinearity": nl},
            source=_synthetic,
        ))  # fmt: skip
    register(IATCBenchmark(
        identifier="synthetic.iatc", version="2", dataset="synthetic", citation=_IATC_CITATION,
        description="IATC of a simulated softplus population (2 areas, known truth: zippering).",
        ceiling="EV is noise-corrected per unit: ceiling 100 %", directions=("iatc",),
        transform="IATC",
        defaults={**_IATC_DEFAULTS, **_SYNTHETIC, "n_areas": 2, "nonlinearity": "softplus",
                  "candidates": ["one_to_one", "procrustes", "ridge", "zippering"]},
        source=_synthetic_neural,
    ))  # fmt: skip
