"""The untrained wide "expansion" CNN that is cortex-aligned de novo.

Kazemian, Elmoznino & Bonner (2025), "Convolutional architectures are cortex-aligned de novo",
Nature Machine Intelligence (code: github.com/akazemian/untrained_models_of_visual_cortex).

Input 224 px. Layer 1 is a fixed bank of 36 curved-Gabor ("banana") filters, 15 × 15 px:
12 orientations over 360°, 3 curvatures log-spaced 0.01–0.79, spatial frequency 1.2, applied to
each colour channel separately (108 maps), then ReLU and 2 × 2 average pooling. Layers 2–5 are
bias-free convolutions with Kaiming-uniform random weights, each followed by ReLU and average
pooling: 7 × 7 → w1 (pool 2), 5 × 5 → w2 (pool 2), 3 × 3 → w3 (pool 2), 3 × 3 → N (pool 4,
stride 1). The paper's widths are (1000, 3000, 5000, N) with N up to 30,000; the output of
``layer5`` for a 224 px image is ``N × 6 × 6``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from neuroalign._core.errors import ConfigError

__all__ = [
    "curved_gabor",
    "curvature_filter_bank",
    "CurvatureConv",
    "ExpansionNet",
]


def curved_gabor(
    orientation: float,
    curvature: float,
    *,
    size: int = 15,
    frequency: float = 1.2,
    envelope: float = 5.0,
    sigma_x: float = 1.0,
    sigma_y: float = 1.0,
) -> np.ndarray:
    """One curved Gabor ("banana wavelet") filter ``(size, size)``, zero mean.

    On the grid ``x`` (rows, −h…h) and ``y`` (columns, h…−h), ``h = size // 2``, rotated by
    ``orientation`` (radians): ``xc = x cosθ + y sinθ``, ``xs = −x sinθ + y cosθ``; bent by
    ``k = xc + curvature · xs²``. The filter is
    ``Re[exp(−f²/2 · ((k/σx)² + (xs/(σy·envelope))²)) · (exp(i f k) − exp(−σx/2))]``
    with ``f = frequency``, minus its mean.
    """
    h = size // 2
    x = np.arange(-h, h + 1, dtype=np.float64)[:, None] * np.ones((1, size))
    y = np.arange(h, -h - 1, -1, dtype=np.float64)[None, :] * np.ones((size, 1))
    c, s = np.cos(orientation), np.sin(orientation)
    xc = x * c + y * s
    xs = -x * s + y * c
    k = xc + curvature * xs**2
    envelope_2 = (k / sigma_x) ** 2 + (xs / (sigma_y * envelope)) ** 2
    gauss = np.exp(-envelope_2 * frequency**2 / 2)
    filt = np.real(gauss * (np.exp(1j * frequency * k) - np.exp(-sigma_x / 2)))
    return filt - filt.mean()


def curvature_filter_bank(
    size: int = 15,
    n_orientations: int = 12,
    curvatures=None,
    frequency: float = 1.2,
) -> np.ndarray:
    """Filters ``(len(curvatures) · n_orientations, 1, size, size)`` float32, curvature-major.

    Orientations ``2π j / n_orientations``; curvatures default to ``logspace(-2, -0.1, 3)``
    (0.01, 0.089, 0.794).
    """
    if curvatures is None:
        curvatures = np.logspace(-2, -0.1, 3)
    orientations = np.arange(n_orientations) * (2 * np.pi / n_orientations)
    bank = [
        curved_gabor(o, c, size=size, frequency=frequency) for c in curvatures for o in orientations
    ]
    return np.stack(bank)[:, None].astype(np.float32)


class CurvatureConv(nn.Module):
    """Fixed curved-Gabor bank applied to each input channel separately.

    ``(n, C, H, W)`` → ``(n, C · n_filters, H − 2, W − 2)`` for 15 px filters (padding
    ``size // 2 − 1``, as in the reference code); output channel ``c · n_filters + j`` is filter
    ``j`` on input channel ``c``.
    """

    def __init__(self, in_channels: int = 3, size: int = 15):
        super().__init__()
        self.in_channels = in_channels
        bank = torch.from_numpy(curvature_filter_bank(size=size))
        self.register_buffer("weight", bank.repeat(in_channels, 1, 1, 1))
        self.padding = size // 2 - 1

    @property
    def out_channels(self) -> int:
        return self.weight.shape[0]

    def extra_repr(self) -> str:
        return f"in_channels={self.in_channels}, out_channels={self.out_channels}, padding={self.padding}"

    def forward(self, x):
        return F.conv2d(x, self.weight, padding=self.padding, groups=self.in_channels)


def _stage(conv: nn.Module, pool: nn.Module) -> nn.Sequential:
    from collections import OrderedDict

    return nn.Sequential(OrderedDict([("conv", conv), ("relu", nn.ReLU()), ("pool", pool)]))


class ExpansionNet(nn.Module):
    """The 5-layer expansion model; ``widths = (w1, w2, w3, N)`` for layers 2–5.

    Random weights are drawn from ``seed`` with a private generator (the global torch random state
    is untouched). ``forward`` returns ``layer5``'s output flattened, ``(n, N · 6 · 6)`` at 224 px.
    """

    def __init__(self, widths, *, seed: int):
        super().__init__()
        widths = tuple(int(w) for w in widths)
        if len(widths) != 4 or min(widths) < 1:
            raise ConfigError(f"widths must be 4 positive ints (layers 2-5), got {widths}.")
        if not isinstance(seed, int | np.integer) or isinstance(seed, bool):
            raise ConfigError(f"the expansion model needs an int seed, got {seed!r}.")
        self.widths = widths
        gen = torch.Generator().manual_seed(int(seed))
        self.layer1 = _stage(CurvatureConv(3), nn.AvgPool2d(2))
        specs = [
            (108, widths[0], 7),
            (widths[0], widths[1], 5),
            (widths[1], widths[2], 3),
            (widths[2], widths[3], 3),
        ]
        for i, (cin, cout, k) in enumerate(specs, start=2):
            conv = nn.utils.skip_init(nn.Conv2d, cin, cout, k, bias=False)
            nn.init.kaiming_uniform_(conv.weight, generator=gen)
            pool = nn.AvgPool2d(4, stride=1) if i == 5 else nn.AvgPool2d(2)
            self.add_module(f"layer{i}", _stage(conv, pool))

    def forward(self, x):
        for i in range(1, 6):
            x = getattr(self, f"layer{i}")(x)
        return x.flatten(1)
