"""Dual-feature selectivity per neuron: baseline, poles (MEI/MAI, LAI/LEI), index, sparseness.

For each neuron of a twin (Franke, Karantzas et al. 2025):

* ``baseline`` b — response to a uniform grey screen at the images' mean luminance (the all-zero
  standardised image);
* ``r_mei`` / ``r_lei`` — responses to the synthesised most / least exciting images
  (:func:`~neuroalign.twin.synthesis.synthesize`); ``r_mai`` / ``r_lai`` — to the most / least
  activating screened images (:func:`~neuroalign.twin.screen.screen`); all at one contrast;
* ``dsi`` — our **dual-selectivity index** ``(b − r_LEI) / (r_MEI − r_LEI)``: the fraction of the
  neuron's synthesised dynamic range that lies below its baseline. 0: the least exciting image only
  reaches the baseline (one-directional); near 0.5: the neuron is pushed down as far as it is driven
  up (bidirectional). ``dsi_screened`` is the same with MAI/LAI. NaN for a unit with no dynamic
  range (``r_MEI == r_LEI``, e.g. a dead ReLU unit);
* ``skewness`` of the responses over the screening set (Fisher-Pearson, scipy.stats.skew); the
  paper splits sparse (> 2) from non-sparse neurons there.

:func:`model_units` turns a zoo model layer into a twin whose "neurons" are each channel's centre
unit, so a model's share of bidirectional units compares with the twin's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import skew

from neuroalign._core.errors import ConfigError
from neuroalign._core.jsonio import JsonResult, frame, jsonable, load_json, package_version
from neuroalign.twin.base import Twin, check_neurons
from neuroalign.twin.images import ImageSet, load_images
from neuroalign.twin.screen import screen
from neuroalign.twin.synthesis import synthesize_poles

__all__ = [
    "DualSelectivityResult",
    "dual_selectivity",
    "OVERVIEW_COLUMNS",
    "POLES",
    "WELL_PREDICTED",
]

#: the table columns printed per neuron by the CLI and the benchmark
OVERVIEW_COLUMNS = [
    "neuron",
    "correlation",
    "baseline",
    "r_mei",
    "r_mai",
    "r_lai",
    "r_lei",
    "dsi",
    "skewness",
]

_KIND = "neuroalign.twin.DualSelectivityResult/1"
POLES = ("MEI", "MAI", "LAI", "LEI")
WELL_PREDICTED = 0.4  # the paper's threshold on held-out correlation


@dataclass
class DualSelectivityResult(JsonResult):
    """Per-neuron dual-selectivity analysis of a twin.

    ``table``: one row per neuron — ``neuron`` (index), ``neuron_id``, ``correlation`` (held-out
    correlation when the twin has one, else NaN), ``baseline``, ``r_mei``, ``r_mai``, ``r_lai``,
    ``r_lei``, ``mai_id``, ``lai_id``, ``dsi``, ``dsi_screened``, ``skewness``, ``sparse``,
    ``mei_above_mai``, ``lei_below_lai``, ``lei_below_baseline``, ``bidirectional``
    (``dsi ≥ dsi_threshold``). Responses are in the twin's units.
    ``summary``: fractions over neurons (and over well-predicted neurons when correlations exist).
    ``parameters``: twin, images, synthesis settings, seed, thresholds, package version.
    ``images``: ``{"MEI"|"MAI"|"LAI"|"LEI": (n_neurons, H, W)}`` standardised images (not written
    to JSON; None after :meth:`from_json`).
    """

    table: pd.DataFrame
    summary: dict[str, Any]
    parameters: dict[str, Any]
    images: dict[str, np.ndarray] | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": _KIND,
            "parameters": self.parameters,
            "summary": self.summary,
            "table": {c: [jsonable(v) for v in self.table[c]] for c in self.table.columns},
        }

    @classmethod
    def from_json(cls, text_or_path: str | Path) -> DualSelectivityResult:
        """Inverse of :meth:`to_json` (JSON text or a path); ``images`` is None."""
        d = load_json(text_or_path, _KIND)
        table = frame(d["table"])
        for col in (
            "sparse",
            "mei_above_mai",
            "lei_below_lai",
            "lei_below_baseline",
            "bidirectional",
        ):
            if col in table:
                table[col] = table[col].astype(bool)
        for col in ("neuron_id", "mai_id", "lai_id"):
            if col in table:
                table[col] = table[col].astype(str)
        return cls(table=table, summary=d["summary"], parameters=d["parameters"])

    def __repr__(self) -> str:
        s = self.summary
        return (
            f"DualSelectivityResult({s['n_neurons']} neurons of {self.parameters['twin']['name']}, "
            f"bidirectional {s['fraction_bidirectional']:.2f}, median dsi {s['median_dsi']:.3f})"
        )


def _fractions(t: pd.DataFrame) -> dict[str, float]:
    n = len(t)
    if n == 0:
        return {"n_neurons": 0}
    return {
        "n_neurons": n,
        "fraction_mei_above_mai": float(t["mei_above_mai"].mean()),
        "fraction_lei_below_lai": float(t["lei_below_lai"].mean()),
        "fraction_lei_below_baseline": float(t["lei_below_baseline"].mean()),
        "fraction_bidirectional": float(t["bidirectional"].mean()),
        "fraction_sparse": float(t["sparse"].mean()),
        "median_dsi": float(t["dsi"].median()),
        "median_dsi_screened": float(t["dsi_screened"].median()),
        "median_skewness": float(t["skewness"].median()),
    }


def dual_selectivity(
    twin: Twin,
    neurons=None,
    images: ImageSet | Any = "bundled",
    *,
    seed: int = 0,
    n_images: int = 1000,
    norm: float | None = None,
    dsi_threshold: float = 0.1,
    sparse_threshold: float = 2.0,
    screen_batch_size: int | None = None,
    progress: bool | None = None,
    **synthesis_options,
) -> DualSelectivityResult:
    """Screen, synthesise both poles and compute the dual-selectivity table for ``neurons``.

    ``images``: an :class:`ImageSet` (its ``norm`` is then the contrast) or anything
    :func:`~neuroalign.twin.images.load_images` takes (``"bundled"`` crops — ``n_images`` of them,
    drawn with ``seed`` — a folder, a zip, a StimulusSet, an array). ``neurons``: indices (default
    all). ``synthesis_options`` go to :func:`~neuroalign.twin.synthesis.synthesize` (``param``,
    ``steps``, ``n_seeds``, ``batch_size``, ...); MEIs and LEIs are optimised together
    (:func:`~neuroalign.twin.synthesis.synthesize_poles`). The skewness uses every screened image;
    MEIs and LEIs use the same contrast as the screened images. Everything runs on the twin's
    device (``load_v1_twin(device=...)``).
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ConfigError(f"seed must be an int, got {seed!r}.")
    if "direction" in synthesis_options or "neurons" in synthesis_options:
        raise ConfigError("pass neurons as an argument; both directions are always synthesised.")
    idx = check_neurons(neurons, twin.n_neurons)
    if not isinstance(images, ImageSet):
        images = load_images(images, twin, norm, n=n_images, seed=seed)
    elif norm is not None and not np.isclose(norm, images.norm):
        raise ConfigError(
            f"norm {norm} differs from the image set's contrast {images.norm}; leave norm unset "
            "or prepare the images at that norm."
        )
    twin.check_images(images.images, "screening images")
    sc = screen(twin, images, batch_size=screen_batch_size, progress=progress)
    resp = sc.responses[:, idx]
    mei, lei = synthesize_poles(
        twin, idx, norm=images.norm, seed=seed, progress=progress, **synthesis_options
    )
    h, w = twin.image_shape
    baseline = twin.predict(np.zeros((1, h, w), dtype=np.float32), neurons=idx)[0]
    i_max = np.argmax(resp, axis=0)
    i_min = np.argmin(resp, axis=0)
    cols = np.arange(len(idx))
    r_mai, r_lai = resp[i_max, cols], resp[i_min, cols]
    r_mei, r_lei = mei.responses, lei.responses
    with np.errstate(divide="ignore", invalid="ignore"):
        rng_syn = r_mei - r_lei
        rng_scr = r_mai - r_lai
        dsi = np.where(rng_syn > 0, (baseline - r_lei) / np.where(rng_syn > 0, rng_syn, 1), np.nan)
        dsi_s = np.where(
            rng_scr > 0, (baseline - r_lai) / np.where(rng_scr > 0, rng_scr, 1), np.nan
        )
    sk = skew(resp, axis=0)
    corr = getattr(twin, "correlations", None)
    corr = np.asarray(corr, dtype=float)[idx] if corr is not None else np.full(len(idx), np.nan)
    table = pd.DataFrame(
        {
            "neuron": idx,
            "neuron_id": [str(v) for v in twin.neuron_ids[idx]],
            "correlation": corr,
            "baseline": baseline,
            "r_mei": r_mei,
            "r_mai": r_mai,
            "r_lai": r_lai,
            "r_lei": r_lei,
            "mai_id": [str(v) for v in images.ids[i_max]],
            "lai_id": [str(v) for v in images.ids[i_min]],
            "dsi": dsi,
            "dsi_screened": dsi_s,
            "skewness": sk,
            "sparse": sk > sparse_threshold,
            "mei_above_mai": r_mei > r_mai,
            "lei_below_lai": r_lei < r_lai,
            "lei_below_baseline": r_lei < baseline,
            "bidirectional": np.nan_to_num(dsi, nan=-np.inf) >= dsi_threshold,
        }
    )
    summary: dict[str, Any] = _fractions(table)
    if np.isfinite(corr).any():
        summary["well_predicted"] = _fractions(table[table["correlation"] > WELL_PREDICTED])
    parameters = {
        "twin": twin.describe(),
        "images": {"source": images.source, "n": len(images), "norm": images.norm},
        "synthesis": {k: v for k, v in mei.parameters.items() if k != "direction"},
        "seed": int(seed),
        "dsi_threshold": float(dsi_threshold),
        "sparse_threshold": float(sparse_threshold),
        "well_predicted_threshold": WELL_PREDICTED,
        "seconds": {"screen": sc.seconds, "synthesis": mei.seconds},
        "neuroalign": package_version(),
    }
    pole_images = {
        "MEI": mei.images,
        "MAI": images.images[i_max].astype(np.float64),
        "LAI": images.images[i_min].astype(np.float64),
        "LEI": lei.images,
    }
    return DualSelectivityResult(table, summary, _plain(parameters), pole_images)


def _plain(d):
    """``d`` with numpy values turned into plain Python (recursively)."""
    if isinstance(d, dict):
        return {str(k): _plain(v) for k, v in d.items()}
    if isinstance(d, list | tuple):
        return [_plain(v) for v in d]
    return jsonable(d)
