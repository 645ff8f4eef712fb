"""The `Twin` interface: a differentiable map from grey images to per-neuron responses.

A twin sees images in its own *standardised* pixel space: ``x = (pixel − pixel_mean) / pixel_std``
with pixels on the 0–255 scale, so ``x = 0`` everywhere is a uniform grey screen at the mean
luminance. Every analysis in :mod:`neuroalign.twin` compares images at one fixed contrast: the L2
norm of the centred image ``‖x − mean(x)‖₂`` (standardised units), with the image mean at 0.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
import torch

from neuroalign._core.errors import ConfigError, DataError
from neuroalign.models.extract import module_device

__all__ = ["Twin", "FunctionTwin", "check_neurons", "default_batch_size", "project_norm"]


class Twin(torch.nn.Module):
    """Differentiable image → responses: ``forward(x (n, H, W)) -> (n, n_neurons)``.

    ``x`` is float32 in standardised pixel units (see the module docstring); responses are in
    the twin's own units (spikes/s-like rates for the V1 twin, activations for model units).

    Subclasses set ``image_shape = (H, W)``, ``n_neurons``, ``pixel_mean`` and ``pixel_std``
    (0–255 scale), ``default_norm`` (the contrast its analyses use by default, standardised
    units), ``neuron_ids`` (n_neurons,) and ``name``, and implement ``_forward``. A twin must
    treat every image of a batch independently (eval mode; no batch statistics): synthesis
    optimises many neurons' images in one batch.
    """

    image_shape: tuple[int, int]
    n_neurons: int
    pixel_mean: float = 127.5
    pixel_std: float = 63.75
    default_norm: float = 1.0
    name: str = "twin"

    def __init__(self):
        super().__init__()
        self._neuron_ids: np.ndarray | None = None

    # ----------------------------------------------------------- identity
    @property
    def neuron_ids(self) -> np.ndarray:
        """Neuron names ``(n_neurons,)`` (strings); default ``"n0000"``, ``"n0001"``, ..."""
        if self._neuron_ids is None:
            return np.asarray([f"n{i:04d}" for i in range(self.n_neurons)], dtype=object)
        return self._neuron_ids

    @neuron_ids.setter
    def neuron_ids(self, ids: Sequence[str]) -> None:
        ids = np.asarray([str(i) for i in ids], dtype=object)
        if len(ids) != self.n_neurons:
            raise DataError(f"{len(ids)} neuron ids for {self.n_neurons} neurons.")
        self._neuron_ids = ids

    @property
    def device(self) -> torch.device:
        """Where the twin's weights are (``twin.to(device)`` moves them); screening and synthesis
        run there. CPU for a twin without weights."""
        return module_device(self)

    def describe(self) -> dict:
        """JSON-ready description (name, class, image shape, neurons, pixel scale, contrast)."""
        return {
            "name": self.name,
            "class": type(self).__name__,
            "image_shape": list(self.image_shape),
            "n_neurons": int(self.n_neurons),
            "pixel_mean": float(self.pixel_mean),
            "pixel_std": float(self.pixel_std),
            "default_norm": float(self.default_norm),
        }

    # ------------------------------------------------------------ forward
    def check_images(self, x, where: str = "images"):
        """Raise :class:`DataError` unless ``x`` is ``(n, H, W)`` with this twin's ``(H, W)``."""
        shape = tuple(x.shape)
        if len(shape) != 3 or shape[1:] != tuple(self.image_shape):
            h, w = self.image_shape
            raise DataError(
                f"{where} must have shape (n, {h}, {w}) for twin {self.name!r} (grey, "
                f"standardised pixels), got {shape}; resize images to {h}×{w} px first "
                "(neuroalign.twin.images.prepare does it)."
            )

    def forward(self, x):
        """Responses ``(n, n_neurons)`` to standardised grey images ``x (n, H, W)``."""
        self.check_images(x)
        return self._forward(x)

    def _forward(self, x):  # pragma: no cover - interface
        raise NotImplementedError

    def standardise(self, pixels: np.ndarray) -> np.ndarray:
        """0–255 grey pixels ``(..., H, W)`` → standardised float32 ``(..., H, W)``."""
        return ((np.asarray(pixels, dtype=np.float64) - self.pixel_mean) / self.pixel_std).astype(
            np.float32
        )

    def to_pixels(self, x: np.ndarray, clip: bool = True) -> np.ndarray:
        """Standardised ``(..., H, W)`` → 0–255 grey (float64; clipped to [0, 255] by default)."""
        p = np.asarray(x, dtype=np.float64) * self.pixel_std + self.pixel_mean
        return np.clip(p, 0.0, 255.0) if clip else p

    def predict(self, x, batch_size: int = 64, neurons: Sequence[int] | None = None) -> np.ndarray:
        """Responses as float64 ``(n, n_neurons)`` (or ``(n, len(neurons))``), no gradient."""
        arr = np.asarray(x, dtype=np.float32)
        if arr.ndim == 2:
            arr = arr[None]
        self.check_images(arr)
        idx = None if neurons is None else check_neurons(neurons, self.n_neurons)
        outs = []
        with torch.no_grad():
            for s in range(0, len(arr), batch_size):
                x = torch.from_numpy(np.ascontiguousarray(arr[s : s + batch_size]))
                r = self(x.to(self.device))
                outs.append((r if idx is None else r[:, idx]).double().cpu().numpy())
        if not outs:
            return np.empty((0, self.n_neurons if idx is None else len(idx)))
        return np.concatenate(outs)


def check_neurons(neurons: Iterable[int] | int | None, n_neurons: int) -> np.ndarray:
    """Neuron indices as an int array, :class:`ConfigError` when any is out of ``[0, n_neurons)``."""
    if neurons is None:
        return np.arange(n_neurons)
    arr = np.atleast_1d(np.asarray(neurons))
    if arr.size == 0:
        raise ConfigError("no neurons selected; give at least one neuron index.")
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise ConfigError(f"neuron indices must be integers, got {arr.tolist()[:5]}.")
    bad = arr[(arr < 0) | (arr >= n_neurons)]
    if bad.size:
        raise ConfigError(
            f"neuron index {int(bad[0])} is out of range: this twin has {n_neurons} neurons "
            f"(valid indices 0–{n_neurons - 1})."
        )
    return arr.astype(np.int64)


def default_batch_size(batch_size: int | None, device, *, cpu: int, gpu: int) -> int:
    """``batch_size`` when given (checked: a positive int), else ``cpu`` on the CPU or ``gpu``."""
    if batch_size is None:
        return cpu if torch.device(device).type == "cpu" else gpu
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"batch_size must be a positive int (or None), got {batch_size!r}.")
    return batch_size


def project_norm(x, norm: float):
    """Centre each image and scale it to L2 norm ``norm``: ``(n, H, W)`` torch tensor or array.

    The image mean becomes 0 (the grey level) and ``‖x − mean(x)‖₂ = norm``. An all-constant
    image has no direction to scale and raises :class:`DataError`.
    """
    if isinstance(x, np.ndarray):
        c = x - x.mean(axis=(-2, -1), keepdims=True)
        n = np.sqrt((c * c).sum(axis=(-2, -1), keepdims=True))
        if np.any(n == 0):
            raise DataError("a uniform image has no contrast to scale to the target norm.")
        return c * (norm / n)
    c = x - x.mean(dim=(-2, -1), keepdim=True)
    n = c.flatten(-2).norm(dim=-1)[..., None, None]
    return c * (norm / n.clamp_min(1e-30))


class FunctionTwin(Twin):
    """A twin from any differentiable function ``fn(x (n, H, W)) -> (n, n_neurons)``.

    Useful for hand-built model neurons with known preferred and anti-preferred patterns, e.g.
    ``softplus(w·x + c)``.
    """

    def __init__(
        self,
        fn: Callable,
        image_shape: tuple[int, int],
        n_neurons: int,
        *,
        default_norm: float | None = None,
        name: str = "function",
        pixel_mean: float = 127.5,
        pixel_std: float = 63.75,
    ):
        super().__init__()
        if len(image_shape) != 2 or min(image_shape) < 2:
            raise ConfigError(f"image_shape must be (H, W) with H, W ≥ 2, got {image_shape}.")
        self.fn = fn
        self.image_shape = (int(image_shape[0]), int(image_shape[1]))
        self.n_neurons = int(n_neurons)
        self.default_norm = (
            float(default_norm)
            if default_norm is not None
            else 0.25 * float(np.sqrt(self.image_shape[0] * self.image_shape[1]))
        )
        self.name = name
        self.pixel_mean = float(pixel_mean)
        self.pixel_std = float(pixel_std)

    def _forward(self, x):
        out = self.fn(x)
        if out.ndim == 1:
            out = out[:, None]
        return out
