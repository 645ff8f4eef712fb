"""Score a model on a benchmark: :func:`score` → :class:`Score` (JSON round trip, provenance).

``score`` resolves the benchmark and the model, keys the request, extracts features on the
benchmark's stimuli and calls the benchmark's own :meth:`~neuroalign.bench.base.Benchmark.run`;
the rows it returns are described in :mod:`neuroalign.bench.rows` (raw, ceiling, normalised, the
null, the bootstrap interval, population score, masquerade). The result ``key`` is the SHA-256 of
(model identity, layers, benchmark identifier and version, seed, every parameter after defaults
are filled in): the same request always has the same key, so a results store never holds a run
twice. Longer than 500 lines? No: dataset glue lives with the datasets, scoring with the kinds.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from neuroalign._core.errors import ConfigError, DataError
from neuroalign._core.jsonio import JsonResult, jsonable, package_version
from neuroalign.bench.base import Benchmark
from neuroalign.bench.benchmarks import get
from neuroalign.bench.kinds.iatc import NO_LAYER
from neuroalign.bench.kinds.population import population_rows
from neuroalign.bench.rows import FRAME_COLUMNS, SUMMARY_COLUMNS
from neuroalign.solvers.compute import default_compute

__all__ = [
    "FRAME_COLUMNS",
    "SUMMARY_COLUMNS",
    "Score",
    "comparison_frame",
    "model_identity",
    "resolve_layers",
    "score",
    "score_key",
]

NO_MODEL = "animals"  # model name of neural-only (IATC) scores


@dataclass
class Score(JsonResult):
    """A model's score on one benchmark (one or more layers).

    ``summary``: one row per (layer, direction), columns :data:`SUMMARY_COLUMNS`. ``units``: the
    per-unit (or per-subject) table behind it: ``layer, direction, subject, unit, value, ev, r,
    rho_target, rho_pred, valid`` (columns that do not apply hold NaN). ``params``: every
    parameter, defaults filled in; ``provenance``: package versions, data checksums, model
    fingerprint, benchmark description; ``attachments``: full result documents
    (``"iatc"`` → IATCResult dict, ``"comparison"`` → ComparisonResult dict) when the benchmark
    made one; ``key``: see the module docstring; ``created``: ISO 8601 UTC time.
    """

    model: str
    benchmark: str
    benchmark_version: str
    seed: int
    layers: list[str]
    summary: pd.DataFrame
    units: pd.DataFrame
    params: dict[str, Any]
    provenance: dict[str, Any]
    key: str
    created: str
    attachments: dict[str, Any] = field(default_factory=dict)
    kind: ClassVar[str] = "neuroalign.Score/1"

    def value(self, direction: str, layer: str | None = None, column: str = "normalised") -> float:
        """``column`` of the row for ``direction`` (and ``layer``; the only layer when None)."""
        rows = self.summary[self.summary["direction"] == direction]
        if layer is not None:
            rows = rows[rows["layer"] == layer]
        if len(rows) != 1:
            raise ConfigError(
                f"no single row for direction={direction!r}, layer={layer!r}; layers: "
                f"{self.layers}, directions: {sorted(set(self.summary['direction']))}."
            )
        return float(rows[column].iloc[0])

    def frame(self) -> pd.DataFrame:
        """This score in the results store's format (:data:`FRAME_COLUMNS`)."""
        df = self.summary.copy()
        for col, v in (
            ("model", self.model),
            ("benchmark", self.benchmark),
            ("benchmark_version", self.benchmark_version),
            ("seed", self.seed),
            ("key", self.key),
            ("created", self.created),
        ):
            df[col] = v
        return df.reindex(columns=FRAME_COLUMNS)

    def iatc(self):
        """The :class:`~neuroalign.analysis.iatc.IATCResult` of an IATC benchmark (None otherwise)."""
        from neuroalign.analysis.iatc import IATCResult

        d = self.attachments.get("iatc")
        return None if d is None else IATCResult.from_dict(d)

    def comparison(self):
        """The :class:`~neuroalign.analysis.compare.ComparisonResult` of a population benchmark, or None."""
        from neuroalign.analysis.compare import ComparisonResult

        d = self.attachments.get("comparison")
        return None if d is None else ComparisonResult.from_dict(d)

    def bootstrap(self, direction: str, layer: str | None = None) -> np.ndarray:
        """The bootstrap replicates ``(n_boot,)`` of the headline of one row (empty when the score
        has none); they pair with every score of the same benchmark and seed."""
        layer = self.layers[0] if layer is None and len(self.layers) == 1 else layer
        reps = self.attachments.get("bootstrap", {}).get(f"{layer}|{direction}")
        return np.asarray(reps if reps is not None else [], dtype=float)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Score:
        """Inverse of :meth:`to_dict`; the summary gains any column added since it was written."""
        out = super().from_dict(d)
        summary = out.summary.reindex(columns=SUMMARY_COLUMNS)
        for col in summary.columns:
            if col not in ("layer", "direction", "area", "transform", "ceiling_kind"):
                if summary[col].dtype == object and col not in ("above_null", "masquerades"):
                    summary[col] = summary[col].astype(float)
        out.summary = summary
        out.benchmark_version, out.seed = str(out.benchmark_version), int(out.seed)
        out.attachments = out.attachments or {}
        return out

    def __repr__(self) -> str:
        """Each row's headline (normalised; raw without a ceiling), ✗ when not above its null."""
        cells = []
        for r in self.summary.itertuples():
            v = r.normalised if np.isfinite(r.normalised) else r.raw
            flag = "✗" if np.isfinite(r.p_null) and r.above_null in (False, 0) else ""
            cells.append(f"{r.layer}/{r.direction}={v:.3g}{flag}")
        note = "; ✗ not above its null" if any(c.endswith("✗") for c in cells) else ""
        head = f"Score({self.model!r} on {self.benchmark} v{self.benchmark_version}"
        return f"{head}: {', '.join(cells)}{note})"


# ------------------------------------------------------------------------------ identity & keys
def _array_digest(arrays: Mapping[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(np.asarray(arrays[name], dtype=np.float32))
        h.update(f"{name}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def model_identity(model, model_seed: int = 0) -> str:
    """Stable identity string of ``model`` for result keys.

    A zoo name (trained: the name; untrained: ``name@seed<model_seed>``), a ZooModel, a
    ``torch.nn.Module`` (``module:<class>:<weights sha256[:16]>``), precomputed features
    (``features:<sha256[:16]>`` of the arrays), or None (neural-only benchmarks).
    """
    from neuroalign.models import zoo
    from neuroalign.models.activations import Activations

    if model is None:
        return NO_MODEL
    if isinstance(model, str):
        return zoo.identity(model, model_seed)
    if isinstance(model, zoo.ZooModel):
        return model.name if model.trained else f"{model.name}@seed{model.seed}"
    if isinstance(model, Activations) or isinstance(model, Mapping):
        name = getattr(model, "provenance", {}).get("model_name")
        prefix = "features" if name is None else f"features:{name}"
        return f"{prefix}:{_array_digest(dict(model.items()))[:16]}"
    if _is_module(model):
        from neuroalign.models.fingerprint import model_fingerprint

        fp = model_fingerprint(model)
        return f"module:{type(model).__name__}:{fp['weights_sha256'][:16]}"
    raise ConfigError(
        f"model must be a zoo name, ZooModel, torch.nn.Module or precomputed features (a mapping "
        f"layer → (n_stimuli, n_features) array, or Activations); got {type(model).__name__}."
    )


def _is_module(obj) -> bool:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is an extra
        return False
    return isinstance(obj, torch.nn.Module)


def _display_name(model, model_seed: int) -> str:
    """The model column of a score: named features show their model's name, unnamed ones
    ``features:<8 hex digits of their digest>`` (two feature sets never share a row)."""
    ident = model_identity(model, model_seed)
    if not ident.startswith("features:"):
        return ident
    parts = ident.split(":")
    return ident.rsplit(":", 1)[0] if len(parts) > 2 else ident[: len("features:") + 8]


def resolve_layers(model, layers: str | Sequence[str] | None) -> list[str]:
    """Explicit ``layers``, else the model's defaults (zoo entry; keys of precomputed features)."""
    from neuroalign.models import zoo

    if model is None:
        return [NO_LAYER]
    if layers is not None:
        out = [layers] if isinstance(layers, str) else [str(v) for v in layers]
        if not out or len(set(out)) != len(out):
            raise ConfigError(f"layers must be a non-empty list of distinct names, got {layers}.")
        return out
    if isinstance(model, str):
        return list(zoo.info(model).layers)
    if isinstance(model, zoo.ZooModel):
        return list(model.layers)
    if isinstance(model, Mapping):
        return [str(k) for k in model]
    raise ConfigError("give the layers to score (layers=[...]) for a plain torch.nn.Module.")


def score_key(
    model,
    benchmark: str | Benchmark,
    *,
    layers: str | Sequence[str] | None = None,
    seed: int = 0,
    model_seed: int = 0,
    **params,
) -> str:
    """The result key :func:`score` would give (no computation): SHA-256 hex of the request."""
    bm = get(benchmark)
    if not bm.needs_model:
        model = None
    payload = {
        "model": model_identity(model, model_seed),
        "layers": resolve_layers(model, layers),
        "benchmark": bm.identifier,
        "version": bm.version,
        "seed": int(seed),
        "params": bm.params(params),
    }
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


# ------------------------------------------------------------------------------------ features
def _features(model, inputs, layers, *, pool, model_seed, cache, progress):
    """Layer → float64 ``(n_stimuli, n_features)`` in the benchmark's stimulus order (its images',
    else its recording's), and model provenance."""
    from neuroalign.models import zoo
    from neuroalign.models.activations import Activations

    stimuli = inputs.get("stimuli")
    if stimuli is None:
        ids = inputs.get("recording", inputs.get("population")).stimulus_ids
    else:  # a StimulusSet, or the stimulus ids themselves
        ids = getattr(stimuli, "ids", stimuli)
    if isinstance(model, Activations):
        acts = model.select(ids)
        missing = [layer for layer in layers if layer not in acts.layers]
        if missing:
            raise ConfigError(f"no layer(s) {missing} in the features; layers: {acts.layers}.")
        return {k: np.asarray(acts[k], np.float64) for k in layers}, dict(acts.provenance)
    if isinstance(model, Mapping):
        out = {}
        for layer in layers:
            if layer not in model:
                raise ConfigError(f"no layer {layer!r} in the features; layers: {list(model)}.")
            a = np.asarray(model[layer], dtype=np.float64)
            if a.ndim != 2 or a.shape[0] != len(ids):
                raise DataError(
                    f"features of layer {layer!r} have shape {a.shape}; this benchmark needs "
                    f"({len(ids)}, n_features) rows in its stimulus order (or pass "
                    "Activations with stimulus ids)."
                )
            out[layer] = a
        return out, {"model_name": "features", "features_sha256": _array_digest(out)}
    if stimuli is None:
        raise ConfigError(
            "this benchmark has no images to show a model; give the model's features instead "
            "(Activations with stimulus ids, or a mapping layer → (n_stimuli, n_features) array)."
        )
    if isinstance(model, str):
        model = zoo.load(model, seed=model_seed)
    from neuroalign.models.extract import extract

    compute = default_compute()
    device = str(compute.xp.device) if compute is not None and compute.on_device else None
    acts = extract(model, stimuli, layers, pool=pool, cache=cache, progress=progress, device=device)
    return {k: np.asarray(acts[k], np.float64) for k in layers}, dict(acts.provenance)


# ---------------------------------------------------------------------------------------- score
def load_inputs(benchmark: str | Benchmark, *, data_dir=None, **params) -> dict[str, Any]:
    """The data a benchmark reads, loaded once (a sweep sends it to its workers once):
    :meth:`~neuroalign.bench.base.Benchmark.load` with the parameters' defaults filled in."""
    bm = get(benchmark)
    return bm.load(data_dir, bm.params(params))


def score(
    model,
    benchmark: str | Benchmark,
    *,
    data_dir=None,
    layers: str | Sequence[str] | None = None,
    seed: int = 0,
    model_seed: int = 0,
    cache: bool | str = True,
    progress: bool = False,
    inputs: Mapping[str, Any] | None = None,
    features=None,
    **params,
) -> Score:
    """Score ``model`` on ``benchmark``.

    ``model``: a zoo name or model spec (``"efficientnet_lite0"``, ``"timm:resnet18"``,
    ``"path/to/file.py:factory"``), a ZooModel, a ``torch.nn.Module`` (give ``layers``),
    precomputed features (a mapping layer → ``(n_stimuli, n_features)`` in the benchmark's
    stimulus order, or :class:`~neuroalign.models.Activations` with stimulus ids), or None for
    neural-only (IATC) benchmarks. ``benchmark``: a registered name or a
    :class:`~neuroalign.bench.base.Benchmark` (e.g. ``bench.from_data(recording, stimuli)``).
    ``layers``: default, the model's default layers. ``data_dir``: the data folder (default
    ``$NEUROALIGN_DATA``; synthetic and own benchmarks need none). ``seed``: folds, split halves,
    null, bootstrap and unit subsampling; ``model_seed``: weights of untrained zoo models.
    ``cache``: activation cache (see :func:`neuroalign.models.extract`). ``params``: overrides of
    the benchmark's ``defaults`` (``n_folds``, ``n_draws``, ``n_null``, ``n_boot``, ``pool``,
    ``transform``, ``max_model_units``, ``method``, ...). ``inputs``: the benchmark's data from
    :func:`load_inputs` (default: loaded here); ``features``: the model's activations on the
    benchmark's stimuli, already extracted with its pooling (default: extracted here); neither
    changes the result or its key. Returns a :class:`Score`.
    """
    bm = get(benchmark)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed must be a non-negative int, got {seed!r}.")
    seed = int(seed)
    if not bm.needs_model and model is not None:
        raise ConfigError(
            f"{bm.identifier} is neural only (it compares animals with each other); pass "
            "model=None (on the command line: `neuroalign iatc DATASET`)."
        )
    if bm.needs_model and model is None:
        raise ConfigError(f"{bm.identifier} scores a model; give one (e.g. 'efficientnet_lite0').")
    merged = bm.params(params)
    key = score_key(model, bm, layers=layers, seed=seed, model_seed=model_seed, **params)
    lay = resolve_layers(model if bm.needs_model else None, layers)
    if inputs is None:
        inputs = bm.load(data_dir, merged)
    feats, model_prov = None, {}
    if bm.needs_model:
        source = model if features is None else features
        feats, model_prov = _features(source, inputs, lay, pool=merged.get("pool", 4), model_seed=model_seed, cache=cache, progress=progress)  # fmt: skip
    rows, units, attachments = bm.run(feats, inputs, merged, seed, progress)
    extras = attachments.pop("_extras", {})
    summary = pd.DataFrame(rows).reindex(columns=SUMMARY_COLUMNS)
    provenance = {
        "neuroalign": package_version(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
        "benchmark": bm.to_dict(),
        "data": inputs["data"],
        "model": {k: jsonable(v) for k, v in model_prov.items()},
        "parameters": merged,
        "seed": seed,
        "model_seed": model_seed,
        **extras,
    }
    return Score(
        model=_display_name(model if bm.needs_model else None, model_seed),
        benchmark=bm.identifier,
        benchmark_version=bm.version,
        seed=seed,
        layers=lay,
        summary=summary,
        units=pd.concat(units, ignore_index=True) if units else pd.DataFrame(),
        params=merged,
        provenance=json.loads(json.dumps(provenance, default=jsonable)),
        key=key,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        attachments=json.loads(json.dumps(attachments, default=jsonable)),
    )


def comparison_frame(cmp, *, model: str | None = None, benchmark: str = "comparison", seed: int | None = None) -> pd.DataFrame:  # fmt: skip
    """A :class:`~neuroalign.analysis.compare.ComparisonResult` in the results-store format
    (:data:`FRAME_COLUMNS`): one row per (layer, area, direction); ``model`` defaults to each
    layer's name (a comparison of several models passes one "layer" per model)."""
    seed = cmp.params.get("seed", 0) if seed is None else seed
    rows, _, _ = population_rows(cmp, None, cmp.params.get("transform", {}).get("name", ""))
    out = pd.DataFrame(rows).reindex(columns=SUMMARY_COLUMNS)
    out["model"] = out["layer"] if model is None else model
    out["benchmark"], out["benchmark_version"], out["seed"] = benchmark, "", seed
    out["key"], out["created"] = "", datetime.now(UTC).isoformat(timespec="seconds")
    return out.reindex(columns=FRAME_COLUMNS)
