"""Jittered, noisy copies of the images being synthesised, drawn batched on their device.

Each synthesis job (neuron, direction, restart) owns a key of two 32-bit words drawn from its own
``torch.Generator``. Its draws at optimisation step ``t`` are a pure function of (key, t, element):
a counter-based generator — two rounds of Wellons' "lowbias32" integer hash — evaluated for every
job and copy of a batch in one set of tensor operations on the images' device. So no Python loop
runs over jobs or copies, nothing leaves the device, and a job's draws do not depend on which jobs
share its batch. The integer arithmetic is exact everywhere: shifts are the same on every device,
and the Gaussian noise differs between devices only by the rounding of ``log``/``cos``.
"""

from __future__ import annotations

import math

import torch

__all__ = ["hash32", "job_key", "draw_shifts", "draw_normal", "roll_copies", "noisy_copies"]

_MASK = 0xFFFFFFFF
_SHIFTS, _NOISE = 0, 1  # streams


def _mul32(x, c: int):
    """``x · c mod 2³²`` for ``x`` in [0, 2³²) (int64 tensor or int), without int64 overflow."""
    return (x * (c & 0xFFFF) + (((x * (c >> 16)) & 0xFFFF) << 16)) & _MASK


def hash32(x):
    """Wellons' "lowbias32" hash, a bijection of [0, 2³²), elementwise (int64 tensor or int)."""
    x = x ^ (x >> 16)
    x = _mul32(x, 0x7FEB352D)
    x = x ^ (x >> 15)
    x = _mul32(x, 0x846CA68B)
    return x ^ (x >> 16)


def job_key(generator: torch.Generator) -> torch.Tensor:
    """A job's key: two 32-bit words ``(2,)`` int64 drawn from its ``generator``."""
    return torch.randint(0, 2**32, (2,), generator=generator, dtype=torch.int64)


def _bits(keys: torch.Tensor, step: int, stream: int, n: int) -> torch.Tensor:
    """Uniform 32-bit words ``(J, n)`` int64 for job keys ``(J, 2)`` at ``step`` of ``stream``."""
    k = hash32(keys ^ hash32((2 * step + stream) & _MASK))  # (J, 2): this step's key per job
    e = torch.arange(n, dtype=torch.int64, device=keys.device)
    return hash32(hash32(e ^ k[:, :1]) ^ k[:, 1:])


def draw_shifts(keys: torch.Tensor, step: int, n_copies: int, jitter: int) -> torch.Tensor:
    """Circular shifts ``(J, n_copies, 2)`` int64 (rows, columns), uniform on [−jitter, jitter]."""
    bits = _bits(keys, step, _SHIFTS, 2 * n_copies) >> 8  # 24 bits
    return ((bits * (2 * jitter + 1)) >> 24).view(len(keys), n_copies, 2) - jitter


def draw_normal(keys: torch.Tensor, step: int, shape: tuple[int, ...]) -> torch.Tensor:
    """Standard normal float32 ``(J, *shape)`` (Box–Muller on 24-bit uniforms in (0, 1))."""
    n = math.prod(shape)
    half = (n + 1) // 2
    u = ((_bits(keys, step, _NOISE, 2 * half) >> 8).float() + 0.5) * 2.0**-24
    r = torch.sqrt(-2.0 * torch.log(u[:, :half]))
    theta = (2.0 * math.pi) * u[:, half:]
    z = torch.cat([r * torch.cos(theta), r * torch.sin(theta)], dim=1)
    return z[:, :n].reshape(len(keys), *shape)


def roll_copies(x: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
    """``(J, C, H, W)``: copy ``c`` of image ``j`` is ``torch.roll(x[j], shifts[j, c], (0, 1))``.

    ``x (J, H, W)``; ``shifts (J, C, 2)`` int. One gather; its gradient scatters each copy into
    its own slot (no two writes meet) before the sum over copies, so it is deterministic on GPUs.
    """
    j, h, w = x.shape
    c = shifts.shape[1]
    rows = (torch.arange(h, device=x.device) - shifts[..., :1]) % h  # (J, C, H)
    cols = (torch.arange(w, device=x.device) - shifts[..., 1:]) % w  # (J, C, W)
    index = (rows[..., :, None] * w + cols[..., None, :]).reshape(j * c, h * w)
    src = x.reshape(j, 1, h * w).expand(j, c, h * w).reshape(j * c, h * w)
    return src.gather(1, index).view(j, c, h, w)


def noisy_copies(
    x: torch.Tensor, keys: torch.Tensor, step: int, n_copies: int, jitter: int, noise_std: float
) -> torch.Tensor:
    """``n_copies`` of each image of ``x (J, H, W)``, shifted by up to ``jitter`` px and with
    Gaussian noise of std ``noise_std`` (standardised units) added: ``(J · n_copies, H, W)``,
    the copies of image ``j`` at rows ``j · n_copies`` onwards. ``keys (J, 2)``: the jobs' keys."""
    j, h, w = x.shape
    if jitter:
        out = roll_copies(x, draw_shifts(keys, step, n_copies, jitter))
    else:
        out = x[:, None].expand(j, n_copies, h, w)
    if noise_std:
        out = out + noise_std * draw_normal(keys, step, (n_copies, h, w))
    return out.reshape(j * n_copies, h, w)
