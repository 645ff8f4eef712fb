"""The benchmark registry: what each benchmark measures, on which data, with which parameters.

A :class:`Benchmark` is a frozen description; :func:`neuroalign.bench.score` runs it. Built in:

- ``henaff2021_v1.iatc``: the Inter-Animal Transform Class of the 4 monkeys' V1 (neural only).
- ``cowley2023_v4.<session>``: forward and reverse predictivity of a model on one V4 session
  (every session has its images; only 210325 has per-repeat counts, so only it has noise ceilings;
  the repeat-averaged sessions report the uncorrected score with no ceiling).
- ``kriegeskorte2008_92.rsa``: RSA and CKA of a model's RDM with the human-IT RDMs (4 subjects,
  sessions averaged; noise ceiling across subjects) and with the monkey-IT RDM.
- ``synthetic.softplus`` / ``synthetic.relu``: a simulated population with known ground truth
  (:func:`neuroalign.data.synthetic.make_population`), forward and reverse predictivity judged
  against the animal→animal baseline (masquerade); ``synthetic.iatc``: its IATC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from neuroalign._core.errors import ConfigError
from neuroalign._core.registry import Registry

__all__ = ["Benchmark", "get", "names", "register", "all_benchmarks"]


@dataclass(frozen=True)
class Benchmark:
    """Description of a benchmark.

    ``identifier``: ``"<dataset>.<name>"``; ``version``: bumped whenever its numbers can change
    (part of every result key); ``kind``: ``"predictivity"`` (forward/reverse EV of one recording),
    ``"population"`` (bidirectional comparison with a multi-subject population and its animal
    baseline), ``"rsa"`` or ``"iatc"`` (neural only, no model); ``transform``: the mapping class
    name, or ``"IATC"`` when the benchmark estimates it; ``directions``: the rows a score has;
    ``ceiling``: how the ceiling is defined; ``defaults``: every parameter a score may override.
    """

    identifier: str
    version: str
    kind: str
    dataset: str
    citation: str
    description: str
    ceiling: str
    directions: tuple[str, ...]
    transform: str
    area: str | None = None
    session: str | None = None
    defaults: dict[str, Any] = field(default_factory=dict)

    @property
    def needs_model(self) -> bool:
        return self.kind != "iatc"

    def params(self, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """The defaults updated with ``overrides``; :class:`ConfigError` for unknown names."""
        overrides = dict(overrides or {})
        unknown = sorted(set(overrides) - set(self.defaults))
        if unknown:
            raise ConfigError(
                f"benchmark {self.identifier} has no parameter(s) {unknown}; its parameters are "
                f"{sorted(self.defaults)}."
            )
        merged = {**self.defaults, **overrides}
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


#: every benchmark by identifier (the built-ins register on first use)
BENCHMARKS: Registry[Benchmark] = Registry(
    "benchmark", hint="`neuroalign bench list`", builtins=lambda: _register_builtins()
)


def register(benchmark: Benchmark, *, replace: bool = False) -> None:
    """Add a benchmark (a taken identifier is refused unless ``replace=True``)."""
    BENCHMARKS.register(benchmark.identifier, benchmark, replace=replace)


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


def _register_builtins() -> None:
    from neuroalign.datasets import cowley2023, henaff2021, kriegeskorte2008

    register(
        Benchmark(
            identifier="henaff2021_v1.iatc",
            version="1",
            kind="iatc",
            dataset="henaff2021_v1",
            area="V1",
            citation=f"{_IATC_CITATION} Data: {henaff2021.INFO.citation}",
            description=(
                "Inter-Animal Transform Class of macaque V1 (4 monkeys, 440 images): every "
                "candidate class maps every ordered pair of monkeys on held-out stimuli; the IATC "
                "is the strictest class as accurate as the best. Neural only: no model."
            ),
            ceiling="EV is noise-corrected per unit (split halves, Spearman–Brown): ceiling 100 %",
            directions=("iatc",),
            transform="IATC",
            defaults=dict(_IATC_DEFAULTS),
        )
    )
    for session, (monkey, _) in cowley2023.SESSIONS.items():
        per_repeat = any(
            f.startswith(f"responses_raw/responses_{session}") for f in cowley2023.INFO.files
        )
        register(
            Benchmark(
                identifier=f"cowley2023_v4.{session}",
                version="1",
                kind="predictivity",
                dataset="cowley2023_v4",
                area="V4",
                session=session,
                citation=f"{_REVERSE_CITATION} Data: {cowley2023.INFO.citation}",
                description=(
                    f"Macaque V4 (monkey {monkey}, session {session}): forward (model → each "
                    "neuron) and reverse (all neurons → each model unit) held-out predictivity "
                    "with the ridge map."
                    + (
                        ""
                        if per_repeat
                        else " Repeat-averaged responses: no split halves, so no noise ceiling "
                        "(raw = uncorrected 100·r², normalised = NaN)."
                    )
                ),
                ceiling=(
                    "per-unit noise ceiling 100·ρ_target·ρ_pred (split-half, Spearman–Brown); "
                    "normalised = median noise-corrected EV"
                    if per_repeat
                    else "none (repeat-averaged responses)"
                ),
                directions=("forward", "reverse"),
                transform="ridge",
                defaults=dict(_PREDICTIVITY_DEFAULTS),
            )
        )
    register(
        Benchmark(
            identifier="kriegeskorte2008_92.rsa",
            version="1",
            kind="rsa",
            dataset="kriegeskorte2008_92",
            area="IT",
            citation=kriegeskorte2008.INFO.citation,
            description=(
                "RSA and CKA of the model's RDM (1 − Pearson r between image patterns) on the 92 "
                "object images with the human-IT fMRI RDMs of 4 subjects (2 sessions averaged) and "
                "with the monkey-IT RDM (Kiani et al. 2007)."
            ),
            ceiling=(
                "human IT: lower bound of the noise ceiling across subjects (each subject vs the "
                "pooled others), normalised = raw / lower bound; monkey IT: none (one group RDM)"
            ),
            directions=("rsa", "cka", "rsa_monkey", "cka_monkey"),
            transform="none (RDM comparison)",
            defaults={"method": "spearman", "rdm_metric": "correlation", "pool": 4},
        )
    )
    for nl in ("softplus", "relu"):
        register(
            Benchmark(
                identifier=f"synthetic.{nl}",
                version="1",
                kind="population",
                dataset="synthetic",
                area="area1",
                citation=f"{_IATC_CITATION} {_REVERSE_CITATION}",
                description=(
                    f"Simulated population ({nl} units, Poisson repeats, 64×64 crops of bundled "
                    "images; known ground truth): forward and reverse predictivity in area1 "
                    "against the animal→animal baseline (masquerade ratio and percentile)."
                ),
                ceiling=(
                    "per-unit noise ceiling 100·ρ_target·ρ_pred; normalised = median "
                    "noise-corrected EV; animal baseline in animal_median"
                ),
                directions=("forward", "reverse"),
                transform="ridge",
                defaults={**_PREDICTIVITY_DEFAULTS, **_SYNTHETIC, "nonlinearity": nl},
            )
        )
    register(
        Benchmark(
            identifier="synthetic.iatc",
            version="1",
            kind="iatc",
            dataset="synthetic",
            citation=_IATC_CITATION,
            description=(
                "IATC of a simulated softplus population (2 areas, known truth: zippering)."
            ),
            ceiling="EV is noise-corrected per unit: ceiling 100 %",
            directions=("iatc",),
            transform="IATC",
            defaults={
                **_IATC_DEFAULTS,
                **_SYNTHETIC,
                "n_areas": 2,
                "nonlinearity": "softplus",
                "candidates": ["one_to_one", "procrustes", "ridge", "zippering"],
            },
        )
    )
