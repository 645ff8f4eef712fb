"""Twins built from a model layer: fitted readouts of recorded neurons, or the layer's own units.

* :func:`fit_model_twin` — a zoo model (or any ``torch.nn.Module``) layer plus a readout fitted to
  recorded responses (e.g. ``cowley2023_v4``): ``"ridge"`` (closed form, α by cross-validation, on
  the flattened or pooled feature map) or ``"factorised"`` (spatial mask × channel weights, trained
  by gradient descent with early stopping). Held-out correlation per neuron on a seeded test split.
* :func:`model_units` — the layer itself as a twin whose "neurons" are each channel's centre unit,
  for comparing a model's dual selectivity with a brain twin's.

Images reach the model through a differentiable torch version of its preprocessing: grey
standardised pixels → 0–1 RGB (grey copied to three channels) → centre crop → bilinear resize
(antialiased) → per-channel normalisation.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from neuroalign._core.errors import ConfigError, DataError
from neuroalign.data.neural_data import NeuralData
from neuroalign.data.stimuli import StimulusSet
from neuroalign.metrics.ceilings import columnwise_pearson
from neuroalign.models.extract import check_device, get_module, module_device
from neuroalign.models.preprocess import Preprocessing
from neuroalign.twin.base import Twin
from neuroalign.twin.images import _grey, _resize

__all__ = [
    "LayerFeatures",
    "ModelTwin",
    "UnitTwin",
    "LinearReadout",
    "FactorisedReadout",
    "fit_model_twin",
    "model_units",
]


class _Stop(Exception):
    pass


def _resolve_model(model, seed: int):
    """``(name, module, preprocessing, input_size)`` from a zoo name, ZooModel or nn.Module."""
    from neuroalign.models import zoo

    if isinstance(model, str):
        model = zoo.load(model, seed=seed)
    if isinstance(model, zoo.ZooModel):
        return model.name, model.module, model.preprocess, model.input_size
    if isinstance(model, nn.Module):
        return type(model).__name__, model, Preprocessing(), None
    raise ConfigError(
        f"model must be a zoo name, a ZooModel or a torch.nn.Module, got {type(model).__name__}."
    )


class LayerFeatures(nn.Module):
    """Standardised grey images ``(n, H, W)`` → a layer's output ``(n, C, h, w)``, differentiable.

    ``pixel_mean``/``pixel_std`` (0–255 scale) undo the standardisation; ``preprocess`` gives the
    model's input size, crop and normalisation. The forward pass stops after ``layer``. The
    module's parameters are frozen (``requires_grad=False``) and it is put in eval mode.
    """

    def __init__(
        self,
        module: nn.Module,
        layer: str,
        preprocess: Preprocessing,
        pixel_mean: float,
        pixel_std: float,
    ):
        super().__init__()
        self.module = module.eval()
        for p in self.module.parameters():
            p.requires_grad_(False)
        self.layer = layer
        self.preprocess = preprocess
        self.pixel_mean = float(pixel_mean)
        self.pixel_std = float(pixel_std)
        self.register_buffer(
            "_mean", torch.tensor(preprocess.mean, dtype=torch.float32).view(1, 3, 1, 1)
        )
        self.register_buffer(
            "_std", torch.tensor(preprocess.std, dtype=torch.float32).view(1, 3, 1, 1)
        )
        self._target = get_module(module, layer)

    def forward(self, x):
        p = (x * self.pixel_std + self.pixel_mean) / 255.0
        p = p[:, None].expand(-1, 3, -1, -1)
        h, w = p.shape[-2:]
        pre = self.preprocess
        if pre.crop_fraction is not None:
            side = max(1, int(round(pre.crop_fraction * min(h, w))))
            top, left = (h - side) // 2, (w - side) // 2
            p = p[:, :, top : top + side, left : left + side]
        if pre.size is not None and tuple(p.shape[-2:]) != (pre.size, pre.size):
            shrink = pre.size < max(p.shape[-2:])
            p = F.interpolate(
                p, size=(pre.size, pre.size), mode="bilinear", align_corners=False, antialias=shrink
            )
        p = (p - self._mean) / self._std
        store = {}

        def hook(_m, _i, out):
            store["out"] = out
            raise _Stop

        handle = self._target.register_forward_hook(hook)
        try:
            self.module(p)
        except _Stop:
            pass
        finally:
            handle.remove()
        if "out" not in store:
            raise ConfigError(
                f"layer {self.layer!r} never ran in the forward pass; choose another layer."
            )
        out = store["out"]
        if not torch.is_tensor(out):
            raise ConfigError(f"layer {self.layer!r} returns a {type(out).__name__}, not a tensor.")
        return out if out.ndim == 4 else out.reshape(out.shape[0], -1, 1, 1)


class LinearReadout(nn.Module):
    """``r = pool(features).flatten() @ coef + intercept``; coef ``(D, N)``, intercept ``(N,)``."""

    def __init__(self, coef: np.ndarray, intercept: np.ndarray, pool: int | None):
        super().__init__()
        self.register_buffer("coef", torch.as_tensor(coef, dtype=torch.float32))
        self.register_buffer("intercept", torch.as_tensor(intercept, dtype=torch.float32))
        self.pool = pool

    def features(self, fmap):
        if self.pool is not None:
            fmap = F.adaptive_avg_pool2d(fmap, self.pool)
        return fmap.flatten(1)

    def forward(self, fmap):
        return self.features(fmap) @ self.coef + self.intercept


class FactorisedReadout(nn.Module):
    """``r_k = Σ_c Σ_xy (f_c,xy − μ_c)/σ_c · s_k,xy · w_k,c · scale_k + b_k``.

    ``spatial (N, h, w)``, ``feature (N, C)``, ``bias (N,)``; ``μ, σ (C,)`` standardise channels
    and ``scale (N,)`` restores the response units (targets are z-scored during training).
    """

    def __init__(self, n_neurons: int, channels: int, h: int, w: int, generator: torch.Generator):
        super().__init__()
        self.spatial = nn.Parameter(torch.randn(n_neurons, h, w, generator=generator) / (h * w))
        self.feature = nn.Parameter(
            torch.randn(n_neurons, channels, generator=generator) / math.sqrt(channels)
        )
        self.bias = nn.Parameter(torch.zeros(n_neurons))
        self.register_buffer("mu", torch.zeros(channels))
        self.register_buffer("sigma", torch.ones(channels))
        self.register_buffer("scale", torch.ones(n_neurons))
        self.register_buffer("offset", torch.zeros(n_neurons))

    def forward(self, fmap):
        z = (fmap - self.mu.view(1, -1, 1, 1)) / self.sigma.view(1, -1, 1, 1)
        s = torch.einsum("nchw,khw->nkc", z, self.spatial)
        r = (s * self.feature[None]).sum(-1) + self.bias
        return r * self.scale + self.offset


class ModelTwin(Twin):
    """A model layer plus a fitted readout: ``(n, H, W)`` → ``(n, n_neurons)``.

    ``correlations`` (n_neurons,): held-out Pearson correlation per neuron (see
    :func:`fit_model_twin`); ``train_index`` / ``test_index``: the stimulus split.
    """

    def __init__(
        self,
        features: LayerFeatures,
        readout: nn.Module,
        image_shape,
        n_neurons: int,
        *,
        name: str,
        default_norm: float,
    ):
        super().__init__()
        self.features = features
        self.readout = readout
        self.image_shape = tuple(int(v) for v in image_shape)
        self.n_neurons = int(n_neurons)
        self.pixel_mean = features.pixel_mean
        self.pixel_std = features.pixel_std
        self.default_norm = float(default_norm)
        self.name = name
        self.correlations = np.full(self.n_neurons, np.nan)
        self.train_index = np.empty(0, dtype=int)
        self.test_index = np.empty(0, dtype=int)
        for p in self.readout.parameters():
            p.requires_grad_(False)
        self.eval()

    def _forward(self, x):
        return self.readout(self.features(x))

    def describe(self) -> dict:
        d = super().describe()
        d.update(
            layer=self.features.layer,
            readout=type(self.readout).__name__,
            median_heldout_correlation=float(np.nanmedian(self.correlations)),
        )
        return d


class UnitTwin(Twin):
    """A layer's channel-centre units as neurons: ``(n, H, W)`` → ``(n, n_channels)``.

    Unit ``c`` is the layer output at channel ``channels[c]`` and the centre of the feature map
    (row ``h // 2``, column ``w // 2``).
    """

    def __init__(
        self,
        features: LayerFeatures,
        image_shape,
        channels: np.ndarray,
        *,
        name: str,
        default_norm: float,
    ):
        super().__init__()
        self.features = features
        self.image_shape = tuple(int(v) for v in image_shape)
        self.register_buffer("channels", torch.as_tensor(np.asarray(channels, dtype=np.int64)))
        self.n_neurons = len(channels)
        self.pixel_mean = features.pixel_mean
        self.pixel_std = features.pixel_std
        self.default_norm = float(default_norm)
        self.name = name
        self.neuron_ids = [f"{features.layer}:c{int(c)}" for c in channels]
        self.eval()

    def _forward(self, x):
        f = self.features(x)
        h, w = f.shape[-2:]
        return f[:, self.channels, h // 2, w // 2]


def _image_shape(image_size, fallback) -> tuple[int, int]:
    size = image_size if image_size is not None else fallback
    if size is None:
        raise ConfigError("give image_size: the model declares no input size.")
    if isinstance(size, int | np.integer):
        size = (int(size), int(size))
    size = tuple(int(v) for v in size)
    if len(size) != 2 or min(size) < 8:
        raise ConfigError(f"image_size must be an int or (H, W) of at least 8 px, got {size}.")
    return size


def model_units(
    model,
    layer: str,
    *,
    image_size: int | tuple[int, int] | None = None,
    channels=None,
    seed: int = 0,
    rms_contrast: float = 0.25,
    device="cpu",
) -> UnitTwin:
    """A :class:`UnitTwin` of ``layer`` of ``model`` (zoo name, ZooModel or nn.Module).

    ``image_size`` defaults to the model's input size; ``channels`` (indices) default to all;
    ``seed`` builds untrained zoo models. Pixels are standardised with mean 127.5 and std 63.75
    (0–255 scale) and ``default_norm = rms_contrast · sqrt(H·W)`` (RMS contrast in std units).
    ``device``: where the twin (and so the module) lives; screening and synthesis run there.
    """
    device = check_device(device)
    name, module, pre, input_size = _resolve_model(model, seed)
    shape = _image_shape(image_size, input_size)
    feats = LayerFeatures(module, layer, pre, 127.5, 63.75).to(device)
    with torch.no_grad():
        n_ch = feats(torch.zeros((1, *shape), device=device)).shape[1]
    idx = (
        np.arange(n_ch) if channels is None else np.atleast_1d(np.asarray(channels, dtype=np.int64))
    )
    if idx.size == 0 or idx.min() < 0 or idx.max() >= n_ch:
        raise ConfigError(
            f"channels must lie in 0–{n_ch - 1} (layer {layer!r} has {n_ch} channels)."
        )
    return UnitTwin(
        feats,
        shape,
        idx,
        name=f"{name}:{layer}",
        default_norm=rms_contrast * math.sqrt(shape[0] * shape[1]),
    ).to(device)


def _stimuli_and_responses(stimuli, responses) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    if isinstance(responses, NeuralData):
        if isinstance(stimuli, StimulusSet):
            pos = responses.stimulus_index(stimuli.ids)
            y = responses.mean()[pos]
        else:
            y = responses.mean()
    else:
        y = np.asarray(responses, dtype=np.float64)
    if y.ndim != 2:
        raise DataError(f"responses must be (n_stimuli, n_neurons), got shape {y.shape}.")
    if not np.isfinite(y).all():
        raise DataError(
            "responses hold NaN or infinite values; average valid repeats first (NeuralData.mean())."
        )
    if isinstance(stimuli, StimulusSet):
        ims = [stimuli.image(i) for i in range(len(stimuli))]
        ids = np.asarray(stimuli.ids, dtype=object)
    else:
        arr = np.asarray(stimuli)
        if arr.ndim not in (3, 4):
            raise DataError(
                f"stimuli must be a StimulusSet or (n, H, W[, C]), got shape {arr.shape}."
            )
        ims = list(arr)
        ids = np.asarray([f"stim{i}" for i in range(len(ims))], dtype=object)
    if len(ims) != len(y):
        raise DataError(
            f"{len(ims)} stimuli but responses have {len(y)} rows; they must match in order."
        )
    return ims, y, ids


def _features(feats: LayerFeatures, x: np.ndarray, batch_size: int, progress) -> torch.Tensor:
    from tqdm.auto import tqdm

    outs = []
    with torch.no_grad():
        for s in tqdm(
            range(0, len(x), batch_size),
            desc="features",
            leave=False,
            disable=None if progress is None else not progress,
        ):
            outs.append(feats(torch.from_numpy(x[s : s + batch_size]).to(module_device(feats))))
    return torch.cat(outs)


def fit_model_twin(
    model,
    layer: str,
    stimuli,
    responses,
    *,
    readout: str = "ridge",
    image_size: int | tuple[int, int] | None = None,
    test_fraction: float = 0.2,
    seed: int = 0,
    alphas=None,
    pool: int | None = None,
    epochs: int = 400,
    lr: float = 0.05,
    l1: float = 0.03,
    batch_size: int = 32,
    progress: bool | None = None,
    device="cpu",
) -> ModelTwin:
    """Fit a readout from ``layer`` of ``model`` to recorded ``responses`` and return the twin.

    Parameters
    ----------
    model : zoo name, ZooModel or nn.Module; ``layer``: a submodule name.
    stimuli : StimulusSet or array ``(n_stimuli, H, W[, C])`` (colour becomes luminance).
    responses : ``(n_stimuli, n_neurons)`` array (e.g. trial means) or NeuralData (its trial mean,
        rows aligned to a StimulusSet's ids).
    readout : ``"ridge"`` or ``"factorised"``.
    image_size : twin input size (default: the stimuli's size when they share one, else the
        model's input size); stimuli are resized to it.
    test_fraction : share of stimuli held out (seeded split) for the per-neuron correlation.
    alphas : ridge penalties (default ``logspace(-2, 6, 17)``, chosen per neuron by GCV);
        ``pool``: adaptive average pool of the map to ``pool × pool`` before the ridge.
    epochs, lr, l1 : factorised readout training (Adam, full batch, on z-scored channels and
        targets; 10 % of the training stimuli for early stopping; penalty
        ``l1 · ‖spatial_k‖₁ · ‖feature_k‖₁`` per neuron, invariant to trading scale between the two).

    The twin's ``correlations`` (n_neurons,) hold the held-out Pearson correlations; pixel mean and
    std are the training stimuli's; ``default_norm`` is their median centred L2 norm. Features,
    the factorised readout's training and the twin live on ``device``.
    """
    from neuroalign.transforms.ridge import Ridge

    if readout not in ("ridge", "factorised"):
        raise ConfigError(f"readout must be 'ridge' or 'factorised', got {readout!r}.")
    if not 0 < test_fraction < 1:
        raise ConfigError(f"test_fraction must lie in (0, 1), got {test_fraction}.")
    device = check_device(device)
    name, module, pre, input_size = _resolve_model(model, seed)
    ims, y, ids = _stimuli_and_responses(stimuli, responses)
    greys = [_grey(im) for im in ims]
    shapes = {g.shape for g in greys}
    shape = _image_shape(image_size, next(iter(shapes)) if len(shapes) == 1 else input_size)
    g = np.stack([_resize(im, shape) for im in greys])
    n = len(g)
    if n < 10:
        raise DataError(f"fitting a readout needs at least 10 stimuli, got {n}.")
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    n_test = max(2, int(round(test_fraction * n)))
    test, train = np.sort(perm[:n_test]), np.sort(perm[n_test:])
    pix_mean, pix_std = float(g[train].mean()), float(g[train].std())
    if pix_std == 0:
        raise DataError("the training stimuli are uniform images; there is nothing to fit.")
    x = ((g - pix_mean) / pix_std).astype(np.float32)
    xc = x[train] - x[train].mean(axis=(1, 2), keepdims=True)
    default_norm = float(np.median(np.sqrt((xc.astype(np.float64) ** 2).sum(axis=(1, 2)))))
    feats = LayerFeatures(module, layer, pre, pix_mean, pix_std).to(device)
    fmap = _features(feats, x, batch_size, progress)
    if readout == "ridge":
        lin = LinearReadout(np.zeros((1, y.shape[1])), np.zeros(y.shape[1]), pool)
        X = lin.features(fmap).double().cpu().numpy()
        model_r = Ridge(np.logspace(-2, 6, 17) if alphas is None else alphas, cv="gcv").fit(
            X[train], y[train]
        )
        head = LinearReadout(model_r.coef_, model_r.intercept_, pool).to(device)
    else:
        head = _fit_factorised(fmap, y, train, seed, epochs, lr, l1)
    twin = ModelTwin(
        feats, head, shape, y.shape[1], name=f"{name}:{layer}+{readout}", default_norm=default_norm
    )
    with torch.no_grad():
        pred = twin.readout(fmap[test]).double().cpu().numpy()
    twin.correlations = columnwise_pearson(pred, y[test])
    twin.train_index, twin.test_index = train, test
    return twin


def _fit_factorised(fmap, y, train, seed, epochs, lr, l1) -> FactorisedReadout:
    gen = torch.Generator().manual_seed(int(seed))
    n_tr = len(train)
    perm = train[torch.randperm(n_tr, generator=gen).numpy()]
    n_val = max(2, n_tr // 10)
    val, fit = perm[:n_val], perm[n_val:]
    f = fmap.float()
    _, c, h, w = f.shape
    head = FactorisedReadout(y.shape[1], c, h, w, gen).to(f.device)  # drawn on the CPU
    head.mu.copy_(f[fit].mean(dim=(0, 2, 3)))
    head.sigma.copy_(f[fit].std(dim=(0, 2, 3)).clamp_min(1e-6))
    ym, ys = y[fit].mean(0), y[fit].std(0)
    ys = np.where(ys > 0, ys, 1.0)
    yz = torch.as_tensor((y - ym) / ys, dtype=torch.float32, device=f.device)
    opt = torch.optim.Adam(head.parameters(), lr=lr)
    best, best_state = math.inf, None
    fit_t, val_t = torch.as_tensor(fit, device=f.device), torch.as_tensor(val, device=f.device)
    for epoch in range(epochs):
        opt.zero_grad()
        penalty = head.spatial.abs().sum((1, 2)) * head.feature.abs().sum(1)
        loss = F.mse_loss(head(f[fit_t]), yz[fit_t]) + l1 * penalty.mean()
        loss.backward()
        opt.step()
        if epoch % 10 == 9 or epoch == epochs - 1:
            with torch.no_grad():
                v = float(F.mse_loss(head(f[val_t]), yz[val_t]))
            if v < best:
                best, best_state = v, {k: t.clone() for k, t in head.state_dict().items()}
    head.load_state_dict(best_state)
    head.scale.copy_(torch.as_tensor(ys, dtype=torch.float32))
    head.offset.copy_(torch.as_tensor(ym, dtype=torch.float32))
    return head
