"""Screening: a twin's responses to an image set, and each neuron's most/least activating images."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import torch

from neuroalign.models.fingerprint import model_fingerprint
from neuroalign.twin.base import Twin, check_neurons, default_batch_size
from neuroalign.twin.images import ImageSet

__all__ = ["Screen", "screen", "clear_cache"]

_CACHE: OrderedDict[tuple, np.ndarray] = OrderedDict()
_CACHE_MAX = 8


def clear_cache() -> None:
    """Forget every cached screening result."""
    _CACHE.clear()


@dataclass
class Screen:
    """Responses of a twin to an image set.

    ``responses``: float64 ``(n_images, n_neurons)`` (all of the twin's neurons); ``images``: the
    :class:`ImageSet`; ``seconds``: compute time (0 for a cache hit); ``from_cache``.
    """

    responses: np.ndarray
    images: ImageSet
    seconds: float
    from_cache: bool

    def top(self, neuron: int, k: int = 1, *, least: bool = False) -> np.ndarray:
        """Indices ``(k,)`` of the most (or least) activating images of ``neuron``, best first."""
        r = self.responses[:, neuron]
        order = np.argsort(r, kind="stable")
        return order[:k] if least else order[::-1][:k]

    def mai(self, neurons) -> tuple[np.ndarray, np.ndarray]:
        """Most activating image per neuron: ``(images (k, H, W), responses (k,))``."""
        idx = np.asarray([self.top(int(n))[0] for n in np.atleast_1d(neurons)])
        return self.images.images[idx], self.responses[idx, np.atleast_1d(neurons)]

    def lai(self, neurons) -> tuple[np.ndarray, np.ndarray]:
        """Least activating image per neuron: ``(images (k, H, W), responses (k,))``."""
        idx = np.asarray([self.top(int(n), least=True)[0] for n in np.atleast_1d(neurons)])
        return self.images.images[idx], self.responses[idx, np.atleast_1d(neurons)]


def _key(twin: Twin, images: ImageSet) -> tuple:
    fp = model_fingerprint(twin)
    h = hashlib.sha256(images.images.tobytes()).hexdigest()
    extra = (getattr(twin, "centered", None),)
    return (fp["architecture_sha256"], fp["weights_sha256"], extra, images.images.shape, h)


def screen(
    twin: Twin,
    images: ImageSet,
    *,
    batch_size: int | None = None,
    progress: bool | None = None,
    cache: bool = True,
) -> Screen:
    """Responses of every neuron of ``twin`` to every image of ``images`` (batched, no gradient).

    Runs on the twin's device (``batch_size`` images per pass, default 64 on the CPU and 1024 on a
    GPU; responses stay on the device until the end). Results are cached in memory (last 8
    screens) under the twin's weights + architecture hash and the images' bytes, whichever device
    computed them, so screening the same set twice costs one fingerprint. ``progress`` shows a
    progress bar (None: only on a terminal).
    """
    import time

    from tqdm.auto import tqdm

    device = twin.device
    batch_size = default_batch_size(batch_size, device, cpu=64, gpu=1024)
    twin.check_images(images.images, "screening images")
    key = _key(twin, images) if cache else None
    if key is not None and key in _CACHE:
        _CACHE.move_to_end(key)
        return Screen(_CACHE[key].copy(), images, 0.0, True)
    was_training = twin.training
    twin.eval()
    n = len(images)
    out = torch.empty((n, twin.n_neurons), device=device)
    on_gpu = device.type == "cuda"
    t0 = time.perf_counter()
    try:
        with (
            torch.no_grad(),
            tqdm(
                total=n,
                unit="img",
                desc=f"screening {twin.name}",
                leave=False,
                disable=None if progress is None else not progress,
            ) as bar,
        ):
            for s in range(0, n, batch_size):
                x = torch.from_numpy(images.images[s : s + batch_size])
                x = x.pin_memory().to(device, non_blocking=True) if on_gpu else x
                out[s : s + len(x)] = twin(x)
                bar.update(len(x))
            out = out.double().cpu().numpy()
    finally:
        twin.train(was_training)
    seconds = time.perf_counter() - t0
    if key is not None:
        _CACHE[key] = out.copy()
        while len(_CACHE) > _CACHE_MAX:
            _CACHE.popitem(last=False)
    return Screen(out, images, seconds, False)


def responses_for(screen_result: Screen, neurons) -> np.ndarray:
    """Responses ``(n_images, len(neurons))`` of the chosen neurons (indices checked)."""
    idx = check_neurons(neurons, screen_result.responses.shape[1])
    return screen_result.responses[:, idx]
