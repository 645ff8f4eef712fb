"""SHA-256 fingerprints of what determines activations: a model's weights and architecture, stimuli."""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["model_fingerprint", "stimuli_fingerprint"]


def _sha256(buffer) -> str:
    return hashlib.sha256(buffer).hexdigest()


def model_fingerprint(module) -> dict:
    """``{"class", "architecture_sha256", "weights_sha256"}`` of a ``torch.nn.Module``.

    The weights hash covers every parameter and buffer (name, dtype, shape, SHA-256 of the
    bytes; tensors hashed in parallel threads without copies); the architecture hash covers the
    class and ``repr(module)`` (layer types, sizes, strides, ...).
    """
    import torch

    cls = type(module)
    arch = _sha256(f"{cls.__module__}.{cls.__qualname__}\n{module!r}".encode())
    items = sorted(module.state_dict().items())
    buffers = [
        memoryview(t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy())
        for _, t in items
    ]
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        digests = list(pool.map(_sha256, buffers))
    h = hashlib.sha256()
    for (name, t), digest in zip(items, digests, strict=True):
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|{digest}\n".encode())
    return {
        "class": f"{cls.__module__}.{cls.__qualname__}",
        "architecture_sha256": arch,
        "weights_sha256": h.hexdigest(),
    }


def stimuli_fingerprint(images) -> str:
    """SHA-256 over every image's shape, dtype and pixels, in order (ids do not enter)."""
    h = hashlib.sha256()
    for im in images:
        a = np.ascontiguousarray(im)
        h.update(repr((a.shape, a.dtype.str)).encode())
        h.update(memoryview(a).cast("B"))
    return h.hexdigest()
