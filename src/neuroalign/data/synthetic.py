"""Synthetic subject populations with known ground truth (the embedded default dataset).

One seeded random network (a small conv net on image crops, or an MLP on random vectors) is shared
by every subject; area ``k`` reads out layer ``k``. Each area has ``n_latent`` latent
pre-activation units, a rank-``latent_dim`` linear readout of the layer's features, standardised
over the stimuli. A subject samples its own subset of latent units, gains and offsets; its mean
rates are ``σ(gain · z + offset)`` (spikes per bin, σ = softplus or ReLU) and its responses are
Poisson counts over repeats. Hence two subjects of one area are related by the zippering transform
``ŷ = σ(W · σ⁻¹(x) + b)`` and not by a permutation of units.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from neuroalign._core.errors import ConfigError, DataError
from neuroalign._core.validation import check_seed
from neuroalign.data.neural_data import NeuralData
from neuroalign.data.stimuli import StimulusSet, image_content_id

__all__ = ["RandomNetwork", "SyntheticPopulation", "SyntheticTruth", "make_population"]

# skimage images shipped in the wheel (no download); sklearn's two sample images.
_SKIMAGE_IMAGES = (
    "astronaut", "brick", "camera", "cell", "chelsea", "coffee", "coins", "colorwheel", "grass",
    "gravel", "hubble_deep_field", "immunohistochemistry", "moon", "page", "retina", "rocket",
    "text",
)  # fmt: skip
# conv layers (kernel, out channels, stride, 2×2 average pool after) for 64×64 inputs
_CONV_LAYERS = ((5, 16, 2, True), (3, 32, 1, True), (3, 64, 1, True), (2, 128, 1, False))
_MLP_WIDTHS = (512, 256, 128, 64)
_MLP_INPUT_DIM = 128
_IMAGE_SIZE = 64
_NONLINEARITIES = {"softplus": lambda x: np.logaddexp(0.0, x), "relu": lambda x: np.maximum(x, 0.0)}


# ------------------------------------------------------------------------------------------ images
@functools.lru_cache(maxsize=1)
def _base_images() -> tuple[tuple[str, Any], ...]:
    """``(name, PIL RGB image)`` for every bundled image that loads offline (cached)."""
    import skimage.data
    from PIL import Image
    from sklearn.datasets import load_sample_images

    out = []
    for name in _SKIMAGE_IMAGES:
        try:
            im = np.asarray(getattr(skimage.data, name)())
        except Exception:  # an image that would need a download is skipped
            continue
        out.append((f"skimage.{name}", im))
    try:
        sample = load_sample_images()
        out += [
            (f"sklearn.{f.rsplit('/', 1)[-1]}", im)
            for f, im in zip(sample.filenames, sample.images, strict=True)
        ]
    except Exception:  # scikit-learn's sample images are optional here
        pass
    if not out:
        raise DataError(
            "no bundled image of scikit-image or scikit-learn could be loaded; use drive='random'."
        )
    rgb = []
    for name, im in out:
        im = np.dstack([im] * 3) if im.ndim == 2 else im[..., :3]
        rgb.append((name, Image.fromarray(np.ascontiguousarray(im, dtype=np.uint8))))
    return tuple(rgb)


def _image_crops(n: int, rng: np.random.Generator) -> tuple[np.ndarray, pd.DataFrame]:
    """``n`` distinct 64×64 RGB uint8 crops (random base image, log-uniform scale, position, flip)."""
    from PIL import Image

    bases = _base_images()
    images, rows, seen = [], [], set()
    while len(images) < n:
        b = int(rng.integers(len(bases)))
        name, pil = bases[b]
        w, h = pil.size
        side = round(np.exp(rng.uniform(np.log(_IMAGE_SIZE), np.log(min(w, h)))))
        x0 = int(rng.integers(0, w - side + 1))
        y0 = int(rng.integers(0, h - side + 1))
        flip = bool(rng.random() < 0.5)
        box = (x0, y0, x0 + side, y0 + side)
        im = np.asarray(
            pil.resize((_IMAGE_SIZE,) * 2, Image.Resampling.BILINEAR, box=box, reducing_gap=2.0)
        )
        im = np.ascontiguousarray(im[:, ::-1] if flip else im)
        cid = image_content_id(im)
        if cid in seen:
            continue
        seen.add(cid)
        images.append(im)
        rows.append({"source": name, "x0": x0, "y0": y0, "side": side, "flip": flip})
    return np.stack(images), pd.DataFrame(rows)


# ----------------------------------------------------------------------------------------- network
def _conv_relu(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int) -> np.ndarray:
    """Valid convolution + ReLU: ``x (n, H, W, C)``, ``w (k, k, C, O)`` → ``(n, H', W', O)``."""
    k = w.shape[0]
    win = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(1, 2))[:, ::stride, ::stride]
    # win: (n, H', W', C, k, k)
    out = np.tensordot(win, w.transpose(2, 0, 1, 3), axes=3) + b
    return np.maximum(out, 0.0)


def _pool2(x: np.ndarray) -> np.ndarray:
    n, h, w, c = x.shape
    h2, w2 = h // 2, w // 2
    return x[:, : 2 * h2, : 2 * w2].reshape(n, h2, 2, w2, 2, c).mean(axis=(2, 4))


@dataclass(frozen=True)
class RandomNetwork:
    """A seeded random network whose layer ``k`` drives area ``k``.

    ``kind="conv"``: inputs are RGB images ``(n, 64, 64, 3)`` (uint8 or floats in [0, 255]);
    4 conv+ReLU layers (the first three followed by 2×2 average pooling) with 3600, 1152, 256
    and 128 features. ``kind="mlp"``: inputs ``(n, 128)`` float; 4 ReLU layers of 512, 256, 128,
    64 units. Weights are He-scaled Gaussians.
    """

    kind: str
    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]

    @classmethod
    def make(cls, kind: str, seed: int) -> RandomNetwork:
        rng = np.random.default_rng([seed, 1])
        weights, biases = [], []
        if kind == "conv":
            c_in = 3
            for k, c_out, _, _ in _CONV_LAYERS:
                weights.append(rng.normal(0.0, np.sqrt(2.0 / (k * k * c_in)), (k, k, c_in, c_out)))
                biases.append(rng.normal(0.0, 0.1, c_out))
                c_in = c_out
        elif kind == "mlp":
            d_in = _MLP_INPUT_DIM
            for d_out in _MLP_WIDTHS:
                weights.append(rng.normal(0.0, np.sqrt(2.0 / d_in), (d_in, d_out)))
                biases.append(rng.normal(0.0, 0.1, d_out))
                d_in = d_out
        else:
            raise ConfigError(f"network kind must be 'conv' or 'mlp', got {kind!r}.")
        return cls(kind, tuple(weights), tuple(biases))

    @property
    def n_layers(self) -> int:
        return len(self.weights)

    def features(
        self, inputs, n_layers: int | None = None, batch_size: int = 64
    ) -> list[np.ndarray]:
        """Features of the first ``n_layers`` layers, each ``(n_inputs, n_features_k)`` float64."""
        n_layers = self.n_layers if n_layers is None else n_layers
        x = np.asarray(inputs, dtype=np.float64)
        want = (_IMAGE_SIZE, _IMAGE_SIZE, 3) if self.kind == "conv" else (_MLP_INPUT_DIM,)
        if x.shape[1:] != want:
            raise DataError(
                f"{self.kind} network inputs must be (n, {', '.join(map(str, want))}), got {x.shape}."
            )
        parts: list[list[np.ndarray]] = [[] for _ in range(n_layers)]
        for start in range(0, len(x), batch_size):
            h = x[start : start + batch_size]
            if self.kind == "conv":
                h = h / 255.0 - 0.5
            for k in range(n_layers):
                if self.kind == "conv":
                    _, _, stride, pool = _CONV_LAYERS[k]
                    h = _conv_relu(h, self.weights[k], self.biases[k], stride)
                    h = _pool2(h) if pool else h
                else:
                    h = np.maximum(h @ self.weights[k] + self.biases[k], 0.0)
                parts[k].append(h.reshape(len(h), -1))
        return [np.concatenate(p) for p in parts]


# ------------------------------------------------------------------------------------------- truth
@dataclass
class SyntheticTruth:
    """Ground truth of a synthetic population.

    ``latents[area]``: pre-activations ``(n_stimuli, n_latent)``, equal to
    ``(features[area] − feature_mean[area]) @ readout[area]`` (rank ``latent_dim``, unit variance).
    ``features[area]``: the network layer ``(n_stimuli, n_features)``. ``latent_unit``, ``gain``,
    ``offset``: ``(n_units,)``, unit ``j``'s mean rate is
    ``σ(gain[j] · latents[area_j][:, latent_unit[j]] + offset[j])`` = ``rates[:, j]`` (spikes per
    bin). ``reliability``: ``(n_units,)`` reliability of the trial mean under Poisson noise,
    ``var_s(λ) / (var_s(λ) + mean_s(λ) / n_repeats)``.
    """

    latents: dict[str, np.ndarray]
    features: dict[str, np.ndarray]
    feature_mean: dict[str, np.ndarray]
    readout: dict[str, np.ndarray]
    latent_unit: np.ndarray
    gain: np.ndarray
    offset: np.ndarray
    nonlinearity: str
    rates: np.ndarray
    reliability: np.ndarray
    seed: int
    params: dict[str, Any] = field(default_factory=dict)


def _sample_units(
    latents: dict[str, np.ndarray], subject: str, n_units: int, rng: np.random.Generator
) -> pd.DataFrame:
    """Unit table of one subject: latent subset, gain and offset per area (rng draws in order)."""
    tables = []
    for area, z in latents.items():
        n_latent = z.shape[1]
        if n_units > n_latent:
            raise ConfigError(
                f"units_per_subject={n_units} exceeds n_latent={n_latent}; raise n_latent."
            )
        idx = rng.choice(n_latent, size=n_units, replace=False)
        gain = rng.lognormal(0.0, 0.35, n_units)
        # pre-activation gain·(z + t); t ≥ −(90th percentile of z) keeps ≥ 10 % of stimuli above 0
        t = np.maximum(rng.uniform(-0.5, 1.5, n_units), -np.quantile(z[:, idx], 0.9, axis=0))
        tables.append(
            pd.DataFrame(
                {
                    "unit_id": [f"{subject}_{area}_{j:03d}" for j in range(n_units)],
                    "subject": subject,
                    "area": area,
                    "latent_unit": idx,
                    "gain": gain,
                    "offset": gain * t,
                }
            )
        )
    return pd.concat(tables, ignore_index=True)


def _rates(latents: dict[str, np.ndarray], units: pd.DataFrame, nonlinearity: str) -> np.ndarray:
    """True mean rates ``(n_stimuli, n_units)`` of the units in ``units``."""
    n_stim = next(iter(latents.values())).shape[0]
    pre = np.empty((n_stim, len(units)))
    for area, z in latents.items():
        cols = np.nonzero(units["area"].to_numpy() == area)[0]
        sub = units.iloc[cols]
        pre[:, cols] = (
            sub["gain"].to_numpy() * z[:, sub["latent_unit"].to_numpy()] + sub["offset"].to_numpy()
        )
    return _NONLINEARITIES[nonlinearity](pre)


def _poisson_reliability(rates: np.ndarray, n_repeats: int) -> np.ndarray:
    var = rates.var(axis=0)
    return var / (var + rates.mean(axis=0) / n_repeats)


# ------------------------------------------------------------------------------------- population
@dataclass
class SyntheticPopulation:
    """A synthetic population: ``data`` (NeuralData, Poisson counts), ``stimuli``, ``truth``.

    ``stimuli`` holds the image crops (``drive="images"``) or ids only (``drive="random"``);
    ``inputs`` are the network inputs in stimulus order; ``network`` the shared random network.
    """

    data: NeuralData
    stimuli: StimulusSet
    truth: SyntheticTruth
    network: RandomNetwork
    inputs: np.ndarray

    @property
    def areas(self) -> list[str]:
        return list(self.truth.latents)

    def features(self, area: str) -> np.ndarray:
        """The network layer driving ``area``: ``(n_stimuli, n_features)`` (a model's "true features")."""
        self._check_area(area)
        return self.truth.features[area]

    def subject_rates(self, subject: str, area: str | None = None) -> np.ndarray:
        """True mean rates ``(n_stimuli, n_units_of_subject[_in_area])`` in ``data`` unit order."""
        units = self.data.units
        mask = units["subject"].to_numpy() == subject
        if not mask.any():
            raise DataError(f"unknown subject {subject!r}; available: {self.data.subjects}.")
        if area is not None:
            self._check_area(area)
            mask &= units["area"].to_numpy() == area
        return self.truth.rates[:, mask]

    def respond(self, inputs) -> np.ndarray:
        """True mean rates of every unit to new network inputs: ``(n_inputs, n_units)``."""
        feats = self.network.features(inputs, n_layers=len(self.areas))
        latents = {
            a: (f - self.truth.feature_mean[a]) @ self.truth.readout[a]
            for a, f in zip(self.areas, feats, strict=True)
        }
        return _rates(latents, self.data.units, self.truth.nonlinearity)

    def extra_subject(
        self,
        subject: str = "extra",
        seed=0,
        *,
        units_per_subject: int | None = None,
        n_repeats: int | None = None,
    ) -> SyntheticPopulation:
        """A new subject from the same network, latents and stimuli (e.g. a model that masquerades).

        Returns a population holding only that subject, all areas; ``seed`` (int or Generator)
        draws its latent subset, gains, offsets and Poisson counts.
        """
        if subject in self.data.subjects:
            raise ConfigError(f"subject {subject!r} already exists; choose another name.")
        p = self.truth.params
        n_units = units_per_subject or p["units_per_subject"]
        n_rep = n_repeats or p["n_repeats"]
        rng = check_seed(seed)
        units = _sample_units(self.truth.latents, subject, n_units, rng)
        rates = _rates(self.truth.latents, units, self.truth.nonlinearity)
        counts = rng.poisson(rates[:, :, None], size=(*rates.shape, n_rep)).astype(np.float64)
        meta = {
            **self.data.metadata,
            "subject": subject,
            "extra_subject_seed": int(seed) if isinstance(seed, (int, np.integer)) else repr(seed),
        }
        truth = replace(
            self.truth,
            latent_unit=units["latent_unit"].to_numpy(),
            gain=units["gain"].to_numpy(),
            offset=units["offset"].to_numpy(),
            rates=rates,
            reliability=_poisson_reliability(rates, n_rep),
            params={**p, "units_per_subject": n_units, "n_repeats": n_rep},
        )
        data = NeuralData(counts, self.data.stimulus_ids, units, meta)
        return SyntheticPopulation(data, self.stimuli, truth, self.network, self.inputs)

    def _check_area(self, area: str) -> None:
        if area not in self.truth.latents:
            raise DataError(f"unknown area {area!r}; available: {self.areas}.")


def _latent_readout(
    feats: np.ndarray, latent_dim: int, n_latent: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``(feature_mean (n_features,), readout (n_features, n_latent))`` of rank ``latent_dim``.

    A random ``latent_dim``-dimensional subspace of the centred features is orthonormalised over
    the stimuli, given a ``k^-1/2`` spectrum, mixed into ``n_latent`` units and standardised.
    """
    mean = feats.mean(axis=0)
    centred = feats - mean
    proj = rng.normal(size=(feats.shape[1], latent_dim))
    _, r = np.linalg.qr(centred @ proj)
    if np.min(np.abs(np.diag(r))) < 1e-8 * np.max(np.abs(np.diag(r))):
        raise DataError(
            "the network features have rank below latent_dim on these stimuli; lower latent_dim."
        )
    spectrum = np.sqrt(len(feats)) * (1.0 + np.arange(latent_dim)) ** -0.5
    mix = spectrum[:, None] * rng.normal(size=(latent_dim, n_latent))
    readout = proj @ np.linalg.solve(r, mix)
    readout /= (centred @ readout).std(axis=0)
    return mean, readout


def make_population(
    n_subjects: int = 4,
    n_areas: int = 2,
    units_per_subject: int = 40,
    n_stimuli: int = 400,
    n_repeats: int = 10,
    drive: str = "images",
    nonlinearity: str = "softplus",
    latent_dim: int = 16,
    n_latent: int | None = None,
    seed: int = 0,
) -> SyntheticPopulation:
    """A seeded synthetic population of ``n_subjects`` × ``n_areas`` recorded on the same stimuli.

    Parameters
    ----------
    n_subjects : subjects ``"S1"``, ``"S2"``, …
    n_areas : areas ``"area1"`` … (≤ 4), area ``k`` driven by network layer ``k``.
    units_per_subject : units per subject *in each area* (≤ ``n_latent``).
    n_stimuli : stimuli (> ``latent_dim``); 64×64 RGB crops of bundled images
        (``drive="images"``) or Gaussian vectors ``(128,)`` (``drive="random"``).
    n_repeats : Poisson repeats per stimulus (≥ 2 for reliability).
    nonlinearity : σ, ``"softplus"`` (rates > 0) or ``"relu"`` (exact zeros).
    latent_dim : rank of each area's latent pre-activations.
    n_latent : latent units per area each subject samples from (default ``3·units_per_subject``).
    seed : int; the network, stimuli, readouts and subjects use separate streams derived from it,
        so e.g. changing ``n_repeats`` leaves the rates unchanged.

    Returns a :class:`SyntheticPopulation`; ``data.units`` has columns
    ``unit_id, subject, area, latent_unit, gain, offset``.
    """
    if drive not in ("images", "random"):
        raise ConfigError(f"drive must be 'images' or 'random', got {drive!r}.")
    if nonlinearity not in _NONLINEARITIES:
        raise ConfigError(
            f"nonlinearity must be one of {sorted(_NONLINEARITIES)}, got {nonlinearity!r}."
        )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed must be a non-negative int, got {seed!r}.")
    n_latent = 3 * units_per_subject if n_latent is None else n_latent
    for name, value, low in (
        ("n_subjects", n_subjects, 1), ("n_areas", n_areas, 1), ("units_per_subject", units_per_subject, 1),
        ("n_repeats", n_repeats, 1), ("latent_dim", latent_dim, 1), ("n_latent", n_latent, latent_dim),
        ("n_stimuli", n_stimuli, latent_dim + 1),
    ):  # fmt: skip
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ConfigError(f"{name} must be an int >= {low}, got {value!r}.")
    n_subjects, n_areas, units_per_subject, n_stimuli, n_repeats, latent_dim, n_latent, seed = map(
        int,
        (n_subjects, n_areas, units_per_subject, n_stimuli, n_repeats, latent_dim, n_latent, seed),
    )
    network = RandomNetwork.make("conv" if drive == "images" else "mlp", seed)
    if n_areas > network.n_layers:
        raise ConfigError(f"n_areas must be <= {network.n_layers} (network layers), got {n_areas}.")
    rng_stim = np.random.default_rng([seed, 0])
    if drive == "images":
        inputs, table = _image_crops(n_stimuli, rng_stim)
        stimuli = StimulusSet.from_arrays(inputs, metadata=table, name="synthetic")
        sources = sorted(set(table["source"]))
    else:
        inputs = rng_stim.normal(size=(n_stimuli, _MLP_INPUT_DIM))
        ids = [f"rand-{i:05d}" for i in range(n_stimuli)]
        stimuli = StimulusSet(ids, name="synthetic")
        sources = []
    areas = [f"area{k + 1}" for k in range(n_areas)]
    feats = dict(zip(areas, network.features(inputs, n_layers=n_areas), strict=True))
    if latent_dim >= min(f.shape[1] for f in feats.values()):
        raise ConfigError(f"latent_dim={latent_dim} must be below every layer's feature count.")
    feature_mean, readout, latents = {}, {}, {}
    for k, area in enumerate(areas):
        feature_mean[area], readout[area] = _latent_readout(
            feats[area], latent_dim, n_latent, np.random.default_rng([seed, 2, k])
        )
        latents[area] = (feats[area] - feature_mean[area]) @ readout[area]
    subjects = [f"S{i + 1}" for i in range(n_subjects)]
    units = pd.concat(
        [
            _sample_units(latents, s, units_per_subject, np.random.default_rng([seed, 3, i]))
            for i, s in enumerate(subjects)
        ],
        ignore_index=True,
    )
    rates = _rates(latents, units, nonlinearity)
    counts = np.empty((n_stimuli, len(units), n_repeats))
    for i, s in enumerate(subjects):  # one noise stream per subject
        cols = np.nonzero(units["subject"].to_numpy() == s)[0]
        rng = np.random.default_rng([seed, 4, i])
        counts[:, cols] = rng.poisson(rates[:, cols, None], size=(n_stimuli, len(cols), n_repeats))
    params = {
        "n_subjects": n_subjects, "n_areas": n_areas, "units_per_subject": units_per_subject,
        "n_stimuli": n_stimuli, "n_repeats": n_repeats, "drive": drive, "nonlinearity": nonlinearity,
        "latent_dim": latent_dim, "n_latent": n_latent,
    }  # fmt: skip
    meta = {
        "source": "neuroalign.data.synthetic.make_population",
        "seed": seed,
        **params,
        "images": sources,
        "units_of_measurement": "spike counts per bin (Poisson)",
    }
    truth = SyntheticTruth(
        latents=latents,
        features=feats,
        feature_mean=feature_mean,
        readout=readout,
        latent_unit=units["latent_unit"].to_numpy(),
        gain=units["gain"].to_numpy(),
        offset=units["offset"].to_numpy(),
        nonlinearity=nonlinearity,
        rates=rates,
        reliability=_poisson_reliability(rates, n_repeats),
        seed=seed,
        params=params,
    )
    data = NeuralData(counts, stimuli.ids, units, meta)
    return SyntheticPopulation(data, stimuli, truth, network, inputs)
