"""Score a model on a benchmark: :func:`score` → :class:`Score` (JSON round trip, provenance).

Every score row is one (layer, direction) with

- ``raw``: the uncorrected score. Predictivity: median over valid units of ``100·r²`` (``r`` =
  Pearson of the held-out prediction with the target's trial mean); RSA/CKA: mean similarity over
  subjects; IATC: median noise-corrected EV of the selected class.
- ``ceiling``: predictivity: median over units of the per-unit ceiling ``100·ρ_target·ρ_pred``
  (split-half, Spearman–Brown; DESIGN.md); RSA/CKA: lower bound of the noise ceiling across
  subjects; IATC: 100. NaN where the data have no repeats.
- ``normalised``: predictivity: median of the per-unit noise-corrected EV
  ``100·(r/√(ρ_target·ρ_pred))²`` (each unit corrected by its own ceiling, hence not
  ``raw / ceiling``); RSA/CKA and IATC: ``raw / ceiling``.
- ``error``: standard error of ``normalised`` (of ``raw`` where there is no ceiling): bootstrap
  over units of the median (200 resamples, seeded) for predictivity; standard error of the mean
  over subjects for RSA/CKA; bootstrap CI half-width / 1.96 for the IATC.

The result ``key`` is the SHA-256 of (model identity, layers, benchmark identifier and version,
seed, every parameter after defaults are filled in): the same request always has the same key,
so a results store never holds a run twice.
"""

from __future__ import annotations

import hashlib
import json
import platform
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from neuroalign._core.errors import ConfigError, DataError
from neuroalign._core.jsonio import JsonResult, frame, jsonable, load_json, package_version
from neuroalign.bench.benchmarks import Benchmark, get
from neuroalign.metrics.ceilings import columnwise_pearson

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

_KIND = "neuroalign.Score/1"
_SCORE = ["raw", "ceiling", "normalised", "error"]
_DETAIL = [
    "area",
    "transform",
    "n_units",
    "n_valid",
    "animal_median",
    "masquerade_ratio",
    "percentile",
]
#: columns of ``Score.summary``: one row per (layer, direction)
SUMMARY_COLUMNS = ["layer", "direction", *_SCORE, *_DETAIL]
#: columns of ``Score.frame()`` and ``ResultsStore.frame()`` (stable; the report builds on them)
FRAME_COLUMNS = [
    "model",
    "layer",
    "benchmark",
    "benchmark_version",
    "direction",
    *_SCORE,
    "seed",
    "key",
    "created",
    *_DETAIL,
]
NO_MODEL = "animals"  # model name of neural-only (IATC) scores
NO_LAYER = "-"


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
        return None if d is None else IATCResult.from_json(json.dumps(d))

    def comparison(self):
        """The :class:`~neuroalign.analysis.compare.ComparisonResult` of a population benchmark, or None."""
        from neuroalign.analysis.compare import ComparisonResult

        d = self.attachments.get("comparison")
        return None if d is None else ComparisonResult.from_json(json.dumps(d))

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": _KIND,
            "model": self.model,
            "benchmark": self.benchmark,
            "benchmark_version": self.benchmark_version,
            "seed": self.seed,
            "layers": list(self.layers),
            "key": self.key,
            "created": self.created,
            "params": self.params,
            "provenance": self.provenance,
            "summary": self.summary.to_dict(orient="list"),
            "units": self.units.to_dict(orient="list"),
            "attachments": self.attachments,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Score:
        summary = frame(d["summary"]).reindex(columns=SUMMARY_COLUMNS)
        for col in ("raw", "ceiling", "normalised", "error", "animal_median", "masquerade_ratio", "percentile"):  # fmt: skip
            summary[col] = summary[col].astype(float)
        return cls(
            model=d["model"],
            benchmark=d["benchmark"],
            benchmark_version=str(d["benchmark_version"]),
            seed=int(d["seed"]),
            layers=list(d["layers"]),
            summary=summary,
            units=frame(d["units"]),
            params=d["params"],
            provenance=d["provenance"],
            key=d["key"],
            created=d["created"],
            attachments=d.get("attachments") or {},
        )

    @classmethod
    def from_json(cls, text_or_path: str | Path) -> Score:
        """Inverse of :meth:`to_json` (a JSON string or a path)."""
        return cls.from_dict(load_json(text_or_path, _KIND))

    def __repr__(self) -> str:
        cells = ", ".join(
            f"{r.layer}/{r.direction}={r.normalised:.3g}" for r in self.summary.itertuples()
        )
        return f"Score({self.model!r} on {self.benchmark} v{self.benchmark_version}: {cells})"


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
        entry = zoo.info(model)
        return model if entry.trained else f"{model}@seed{model_seed}"
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
    ident = model_identity(model, model_seed)
    return ident.rsplit(":", 1)[0] if ident.startswith("features:") else ident


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


# --------------------------------------------------------------------------------- row helpers
def _boot_se(values: np.ndarray, rng: np.random.Generator, n_boot: int = 200) -> float:
    if values.size < 2:
        return np.nan
    idx = rng.integers(0, values.size, size=(n_boot, values.size))
    return float(np.median(values[idx], axis=1).std(ddof=1))


def _row(layer, direction, *, ev, r, rho_t, rho_p, valid, rng, **extra) -> dict:
    ok = np.asarray(valid, bool) & np.isfinite(r)
    has_ceiling = ev is not None
    row = dict.fromkeys(SUMMARY_COLUMNS, np.nan)
    row.update({"layer": layer, "direction": direction, "n_units": int(np.size(r))})
    if has_ceiling:
        ok &= np.isfinite(ev)
    row["n_valid"] = int(ok.sum())
    if ok.any():
        row["raw"] = float(100.0 * np.median(r[ok] ** 2))
        if has_ceiling:
            row["ceiling"] = float(100.0 * np.median(rho_t[ok] * rho_p[ok]))
            row["normalised"] = float(np.median(ev[ok]))
            row["error"] = _boot_se(ev[ok], rng)
        else:
            row["error"] = _boot_se(100.0 * r[ok] ** 2, rng)
    row.update(extra)
    return row


def _unit_rows(layer, direction, units, *, ev=None, r=None, rho_t=None, rho_p=None, valid=None, subject=None, value=None) -> pd.DataFrame:  # fmt: skip
    n = len(units)
    nan = np.full(n, np.nan)
    return pd.DataFrame(
        {
            "layer": layer,
            "direction": direction,
            "subject": subject if subject is not None else "",
            "unit": [str(u) for u in units],
            "value": nan if value is None else value,
            "ev": nan if ev is None else ev,
            "r": nan if r is None else r,
            "rho_target": nan if rho_t is None else rho_t,
            "rho_pred": nan if rho_p is None else rho_p,
            "valid": np.ones(n, bool) if valid is None else np.asarray(valid, bool),
        }
    )


def _transform(name: str):
    from neuroalign.metrics.predictivity import default_transform
    from neuroalign.transforms.base import get as get_transform

    return default_transform() if name == "ridge" else get_transform(name)()


def _model_units(n: int, max_units: int | None, seed: int) -> np.ndarray:
    if max_units is None or n <= max_units:
        return np.arange(n)
    return np.sort(np.random.default_rng([seed, 7]).choice(n, size=int(max_units), replace=False))


# ------------------------------------------------------------------------------------ features
def _features(model, stimuli, layers, *, pool, model_seed, cache, progress):
    """Layer → float64 ``(n_stimuli, n_features)`` in ``stimuli`` order, and model provenance."""
    from neuroalign.models import zoo
    from neuroalign.models.activations import Activations

    if isinstance(model, Activations):
        acts = model.select(stimuli.ids)
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
            if a.ndim != 2 or a.shape[0] != len(stimuli):
                raise DataError(
                    f"features of layer {layer!r} have shape {a.shape}; this benchmark needs "
                    f"({len(stimuli)}, n_features) rows in its stimulus order (or pass "
                    "Activations with stimulus ids)."
                )
            out[layer] = a
        return out, {"model_name": "features", "features_sha256": _array_digest(out)}
    if isinstance(model, str):
        model = zoo.load(model, seed=model_seed)
    from neuroalign.models.extract import extract

    acts = extract(model, stimuli, layers, pool=pool, cache=cache, progress=progress)
    return {k: np.asarray(acts[k], np.float64) for k in layers}, dict(acts.provenance)


# ------------------------------------------------------------------------------------- runners
def _score_predictivity(bm, feats, params, seed, rec):
    from neuroalign.metrics.crossval import cross_val_predict
    from neuroalign.metrics.predictivity import PredictivityWarning, forward_ev, reverse_ev

    tr = _transform(params["transform"])
    kw = {"n_folds": params["n_folds"], "n_draws": params["n_draws"], "seed": seed}
    rng = np.random.default_rng([seed, 11])
    rows, units = [], []
    for layer, x in feats.items():
        cols = _model_units(x.shape[1], params["max_model_units"], seed)
        xr = x[:, cols]
        extra = {"area": bm.area, "transform": params["transform"]}
        if rec.n_repeats >= 2:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", PredictivityWarning)
                fwd = forward_ev(x, rec, tr, **kw)
                rev = reverse_ev(rec, xr, tr, **kw)
            for d, res, ids in (("forward", fwd, rec.unit_ids), ("reverse", rev, cols)):
                rows.append(_row(layer, d, ev=res.ev, r=res.r, rho_t=res.rho_target, rho_p=res.rho_pred, valid=res.valid, rng=rng, **extra))  # fmt: skip
                units.append(_unit_rows(layer, d, ids, ev=res.ev, r=res.r, rho_t=res.rho_target, rho_p=res.rho_pred, valid=res.valid))  # fmt: skip
        else:
            y = rec.mean()
            for d, src, tgt, ids in (("forward", x, y, rec.unit_ids), ("reverse", y, xr, cols)):
                pred = cross_val_predict(tr, src, tgt, params["n_folds"], seed)
                r = columnwise_pearson(pred, tgt)
                rows.append(_row(layer, d, ev=None, r=r, rho_t=None, rho_p=None, valid=np.isfinite(r), rng=rng, **extra))  # fmt: skip
                units.append(_unit_rows(layer, d, ids, r=r, valid=np.isfinite(r)))
    return rows, units, {}


def _synthetic_population(params, n_areas=1):
    from neuroalign.data.synthetic import make_population

    return make_population(
        n_subjects=params["n_subjects"],
        n_areas=n_areas,
        units_per_subject=params["units_per_subject"],
        n_stimuli=params["n_stimuli"],
        n_repeats=params["n_repeats"],
        nonlinearity=params["nonlinearity"],
        seed=params["population_seed"],
    )


def _synthetic_data(pop, params) -> dict:
    digest = hashlib.sha256(np.ascontiguousarray(pop.data.responses).tobytes()).hexdigest()
    return {"generator": "neuroalign.data.synthetic.make_population", "responses_sha256": digest}


def _score_population(bm, feats, params, seed, pop, progress):
    from neuroalign.analysis.compare import compare

    area_pop = pop.data.select(area=bm.area)
    cols = {k: _model_units(v.shape[1], params["max_model_units"], seed) for k, v in feats.items()}
    # compare() maps both ways with one feature matrix: max_model_units caps both directions here
    cmp = compare(
        {k: v[:, cols[k]] for k, v in feats.items()},
        area_pop,
        _transform(params["transform"]),
        n_folds=params["n_folds"],
        n_draws=params["n_draws"],
        seed=seed,
        show_progress=progress,
    )
    rows, units = _population_rows(cmp, cols, bm.area, params["transform"], seed)
    return rows, units, {"comparison": cmp.to_dict()}


def _population_rows(cmp, cols, area, transform, seed):
    """Summary rows and unit tables of a ComparisonResult; ``cols[layer]``: the model-unit
    indices the comparison's columns stand for."""
    rng = np.random.default_rng([seed, 11])
    rows, units = [], []
    for layer in cmp.params["layers"]:
        f = cmp.forward[cmp.forward["layer"] == layer]
        rv = cmp.reverse[cmp.reverse["layer"] == layer]
        s = cmp.summary[cmp.summary["layer"] == layer].set_index("direction")
        for d, t, rho_t in (
            ("forward", f, f["rho_target"].to_numpy(float)),
            ("reverse", rv, np.ones(len(rv))),
        ):
            extra = {
                "area": area,
                "transform": transform,
                "animal_median": float(s.loc[d, "animal_median_ev"]),
                "masquerade_ratio": float(s.loc[d, "masquerade_ratio"]),
                "percentile": float(s.loc[d, "percentile"]),
            }
            ev, r, rho_p = (t[c].to_numpy(float) for c in ("ev", "r", "rho_pred"))
            valid = t["valid"].to_numpy(bool)
            rows.append(_row(layer, d, ev=ev, r=r, rho_t=rho_t, rho_p=rho_p, valid=valid, rng=rng, **extra))  # fmt: skip
            if d == "forward":
                ids = t["unit_id"].to_numpy()
            else:
                idx = t["model_unit"].to_numpy()
                ids = cols[layer][idx] if cols is not None else idx
            units.append(_unit_rows(layer, d, ids, ev=ev, r=r, rho_t=rho_t, rho_p=rho_p, valid=valid, subject=t["subject"].to_numpy()))  # fmt: skip
    return rows, units


def comparison_frame(cmp, *, model: str | None = None, benchmark: str = "comparison", seed: int | None = None) -> pd.DataFrame:  # fmt: skip
    """A :class:`~neuroalign.analysis.compare.ComparisonResult` in the results-store format
    (:data:`FRAME_COLUMNS`): one row per (layer, area, direction); ``model`` defaults to each
    layer's name (a comparison of several models passes one "layer" per model)."""
    seed = cmp.params.get("seed", 0) if seed is None else seed
    tr = cmp.params.get("transform", {}).get("name", "")
    frames = []
    for area in cmp.params.get("areas", sorted(set(cmp.summary["area"]))):
        sub = type(cmp)(
            forward=cmp.forward[cmp.forward["area"] == area],
            reverse=cmp.reverse[cmp.reverse["area"] == area],
            animals=cmp.animals,
            summary=cmp.summary[cmp.summary["area"] == area],
            units=cmp.units,
            params=cmp.params,
        )
        rows, _ = _population_rows(sub, None, area, tr, seed)
        df = pd.DataFrame(rows).reindex(columns=SUMMARY_COLUMNS)
        df["model"] = df["layer"] if model is None else model
        frames.append(df)
    out = pd.concat(frames, ignore_index=True)
    out["benchmark"], out["benchmark_version"], out["seed"] = benchmark, "", seed
    out["key"], out["created"] = "", datetime.now(UTC).isoformat(timespec="seconds")
    return out.reindex(columns=FRAME_COLUMNS)


def _score_rsa(feats, params, human, subjects, monkey):
    from neuroalign.metrics.cka import cka_noise_ceiling, rdm_cka
    from neuroalign.metrics.rsa import compare_rdms, noise_ceiling, rdm

    method = params["method"]
    nc = {"rsa": noise_ceiling(human, method), "cka": cka_noise_ceiling(human)}
    rows, units = [], []
    for layer, x in feats.items():
        m = rdm(x, params["rdm_metric"])
        sims = {
            "rsa": compare_rdms(m, human, method)[0],
            "cka": np.array([rdm_cka(m, h) for h in human]),
        }
        for d, v in sims.items():
            row = dict.fromkeys(SUMMARY_COLUMNS, np.nan)
            raw = float(v.mean())
            row.update(
                layer=layer,
                direction=d,
                raw=raw,
                ceiling=nc[d][0],
                normalised=raw / nc[d][0] if nc[d][0] > 0 else np.nan,
                error=float(v.std(ddof=1) / np.sqrt(v.size)),
                area="IT",
                transform=method if d == "rsa" else "linear",
                n_units=len(subjects),
                n_valid=len(subjects),
            )
            rows.append(row)
            units.append(_unit_rows(layer, d, subjects, value=v, subject=np.array(subjects)))
            mv = compare_rdms(m, monkey, method)[0, 0] if d == "rsa" else rdm_cka(m, monkey)
            mrow = dict.fromkeys(SUMMARY_COLUMNS, np.nan)
            mrow.update(
                layer=layer,
                direction=f"{d}_monkey",
                raw=float(mv),
                area="IT",
                transform=row["transform"],
                n_units=1,
                n_valid=1,
            )
            rows.append(mrow)
            units.append(_unit_rows(layer, f"{d}_monkey", ["mIT"], value=np.array([mv])))
    extras = {"noise_ceiling": {d: {"lower": lo, "upper": up} for d, (lo, up) in nc.items()}}
    return rows, units, extras


def _kriegeskorte_rdms(data_dir):
    from neuroalign import datasets

    ds = datasets.load("kriegeskorte2008_92", data_dir=data_dir)
    hit = ds.rdms.select(kind="hIT")
    subjects = list(dict.fromkeys(hit.descriptors["subject"]))
    human = np.stack([hit.select(subject=s).rdms.mean(axis=0) for s in subjects])
    monkey = ds.rdms.select(kind="mIT").rdms[0]
    return (human, subjects, monkey), dict(ds.info.files), ds.stimuli["shared"]


def _score_iatc(bm, params, seed, inputs, progress):
    from neuroalign.analysis.iatc import estimate_iatc

    population = inputs["population"]
    res = estimate_iatc(
        population,
        params["candidates"],
        params["pairing"],
        n_folds=params["n_folds"],
        n_draws=params["n_draws"],
        n_boot=params["n_boot"],
        seed=seed,
        show_progress=progress,
    )
    acc = res.accuracy.set_index("transform")
    sel = res.selected[0]
    row = dict.fromkeys(SUMMARY_COLUMNS, np.nan)
    raw = float(acc.loc[sel, "median_ev"])
    row.update(
        layer=NO_LAYER,
        direction="iatc",
        raw=raw,
        ceiling=100.0,
        normalised=raw / 100.0,
        error=float((acc.loc[sel, "ci_high"] - acc.loc[sel, "ci_low"]) / (2 * 1.96)),
        area=bm.area or "+".join(population.areas),
        transform="+".join(res.selected),
        n_units=int(acc.loc[sel, "n_columns"]),
        n_valid=int(acc.loc[sel, "n_columns"]),
    )
    sc = res.scores[res.scores["transform"] == sel]
    units = _unit_rows(
        NO_LAYER,
        "iatc",
        sc["unit_id"].to_numpy(),
        ev=sc["ev"].to_numpy(float),
        r=sc["r"].to_numpy(float),
        rho_t=sc["rho_target"].to_numpy(float),
        rho_p=sc["rho_pred"].to_numpy(float),
        valid=sc["valid"].to_numpy(bool),
        subject=(sc["source"] + "→" + sc["target"]).to_numpy(),
    )
    return [row], [units], {"iatc": res.to_dict()}


# ---------------------------------------------------------------------------------------- score
def load_inputs(benchmark: str | Benchmark, *, data_dir=None, **params) -> dict[str, Any]:
    """The data a benchmark reads, loaded once (a sweep sends it to its workers once).

    Returns a dict for :func:`score`'s ``inputs``: ``stimuli`` (the stimuli models see; not for
    neural-only benchmarks), plus ``recording`` (predictivity), ``population`` (population and
    IATC benchmarks), ``rdms`` (RSA) and ``data`` (file checksums or a digest of generated data).
    ``params``: benchmark parameter overrides (synthetic populations depend on them).
    """
    bm = get(benchmark)
    merged = bm.params(params)
    if bm.kind == "predictivity":
        from neuroalign import datasets

        ds = datasets.load(bm.dataset, data_dir=data_dir, sessions=[bm.session])
        rec = ds.recordings[bm.session]
        data = {rec.metadata["source_file"]: rec.metadata["source_sha256"]}
        data[f"images/images_{bm.session}.zip"] = rec.metadata["images_sha256"]
        return {"stimuli": ds.stimuli[bm.session], "recording": rec, "data": data}
    if bm.kind == "population":
        pop = _synthetic_population(merged)
        return {"stimuli": pop.stimuli, "population": pop, "data": _synthetic_data(pop, merged)}
    if bm.kind == "rsa":
        rdms, data, stim = _kriegeskorte_rdms(data_dir)
        return {"stimuli": stim, "rdms": rdms, "data": data}
    if bm.dataset == "synthetic":
        pop = _synthetic_population(merged, n_areas=merged["n_areas"])
        return {"population": pop.data, "data": _synthetic_data(pop, merged)}
    from neuroalign import datasets

    ds = datasets.load(bm.dataset, data_dir=data_dir)
    data = {r.metadata["source_file"]: r.metadata["source_sha256"] for r in ds.recordings.values()}
    return {"population": ds.population(), "data": data}


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

    ``model``: a zoo name (``"efficientnet_lite0"``), a ZooModel, a ``torch.nn.Module`` (give
    ``layers``), precomputed features (a mapping layer → ``(n_stimuli, n_features)`` in the
    benchmark's stimulus order, or :class:`~neuroalign.models.Activations` with stimulus ids), or
    None for neural-only (IATC) benchmarks. ``layers``: default, the model's default layers.
    ``data_dir``: the data folder (default ``$NEUROALIGN_DATA``; synthetic benchmarks need none).
    ``seed``: folds, split halves, bootstrap and unit subsampling; ``model_seed``: weights of
    untrained zoo models. ``cache``: activation cache (see :func:`neuroalign.models.extract`).
    ``params``: overrides of the benchmark's ``defaults`` (``n_folds``, ``n_draws``, ``pool``,
    ``transform``, ``max_model_units``, ``method``, ...). ``inputs``: the benchmark's data from
    :func:`load_inputs` (default: loaded here); ``features``: the model's
    :class:`~neuroalign.models.Activations` on the benchmark's stimuli, already extracted with the
    benchmark's pooling (default: extracted here); neither changes the result or its key.
    Returns a :class:`Score`.
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
    extras: dict[str, Any] = {}
    attachments: dict[str, Any] = {}
    model_prov: dict[str, Any] = {}
    if inputs is None:
        inputs = load_inputs(bm, data_dir=data_dir, **params)
    data = inputs["data"]
    if bm.needs_model:
        source = model if features is None else features
        feats, model_prov = _features(source, inputs["stimuli"], lay, pool=merged["pool"], model_seed=model_seed, cache=cache, progress=progress)  # fmt: skip
    if bm.kind == "iatc":
        rows, units, attachments = _score_iatc(bm, merged, seed, inputs, progress)
    elif bm.kind == "predictivity":
        rows, units, extras = _score_predictivity(bm, feats, merged, seed, inputs["recording"])
    elif bm.kind == "population":
        pop = inputs["population"]
        rows, units, attachments = _score_population(bm, feats, merged, seed, pop, progress)
    elif bm.kind == "rsa":
        human, subjects, monkey = inputs["rdms"]
        rows, units, extras = _score_rsa(feats, merged, human, subjects, monkey)
    else:  # pragma: no cover - registry guarantees the kinds
        raise ConfigError(f"benchmark kind {bm.kind!r} is not runnable.")
    summary = pd.DataFrame(rows).reindex(columns=SUMMARY_COLUMNS)
    provenance = {
        "neuroalign": package_version(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
        "benchmark": bm.to_dict(),
        "data": data,
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
        units=pd.concat(units, ignore_index=True),
        params=merged,
        provenance=json.loads(json.dumps(provenance, default=jsonable)),
        key=key,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        attachments=attachments,
    )
