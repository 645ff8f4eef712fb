"""Small untrained CNNs for fast tests and examples (32 px input, seeded initialisation)."""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from neuroalign._core.errors import ConfigError

__all__ = ["SmallCNN"]


class SmallCNN(nn.Module):
    """conv 3×3 → ReLU → max-pool 2, twice, then a linear read-out; input ``(n, 3, 32, 32)``.

    ``channels`` sets the two convolutions' widths; weights use PyTorch's default
    initialisation drawn from ``seed`` (the global torch random state is untouched). The linear
    layer fixes the input size: other sizes fail in ``fc``.
    """

    def __init__(self, channels=(8, 16), n_outputs: int = 10, *, seed: int, input_size: int = 32):
        super().__init__()
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ConfigError(f"SmallCNN needs an int seed, got {seed!r}.")
        c1, c2 = channels
        side = input_size // 4
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            layers = OrderedDict(
                [
                    ("conv1", nn.Conv2d(3, c1, 3, padding=1)),
                    ("relu1", nn.ReLU()),
                    ("pool1", nn.MaxPool2d(2)),
                    ("conv2", nn.Conv2d(c1, c2, 3, padding=1)),
                    ("relu2", nn.ReLU()),
                    ("pool2", nn.MaxPool2d(2)),
                    ("flatten", nn.Flatten()),
                    ("fc", nn.Linear(c2 * side * side, n_outputs)),
                ]
            )
        for name, mod in layers.items():
            self.add_module(name, mod)
        self.input_size = input_size

    def forward(self, x):
        for mod in self.children():
            x = mod(x)
        return x
