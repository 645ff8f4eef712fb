"""The macaque V1 digital twin of Franke, Karantzas et al. (2025), rebuilt in plain torch.

Five ConvNeXt-V2 "atto"-stem networks (stem + two blocks + downsampling, BatchNorm, GELU), each with
a Gaussian point readout for 458 V1 neurons and an ``ELU(x − 1) + 1`` output; the ensemble
prediction is the mean of the five members. Weights load with ``load_state_dict(strict=True)``
after their SHA-256 is checked.

Source: github.com/enigma-brain/dualneuron (commit e285b46), ``dualneuron/twins/V1GrayTaskDriven``,
MIT licence. Cite: Franke, K., Karantzas, N., et al. (2025). Dual-feature selectivity enables
bidirectional coding in visual cortical neurons. bioRxiv 10.1101/2025.07.16.665209.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from neuroalign._core.errors import DataError
from neuroalign.datasets import dualneuron2025
from neuroalign.datasets.dualneuron2025 import CITATION, INFO, MEMBERS
from neuroalign.datasets.registry import resolve_data_dir
from neuroalign.models.extract import check_device
from neuroalign.twin.base import Twin

__all__ = ["INFO", "V1Twin", "V1Member", "load_v1_twin", "CITATION"]

IMAGE_SIZE = 93
PIXEL_MEAN = 124.54466
PIXEL_STD = 70.28
N_NEURONS = 458
PAPER_NORM = 12.0  # the dualneuron code's target_norm for V1 synthesis (standardised units)


# ------------------------------------------------------------------------------ building blocks
class _LayerNorm2d(nn.Module):
    """LayerNorm over the channel axis of ``(n, C, H, W)`` (ConvNeXt's "channels_first")."""

    def __init__(self, channels: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x):
        return F.layer_norm(
            x.permute(0, 2, 3, 1), x.shape[1:2], self.weight, self.bias, self.eps
        ).permute(0, 3, 1, 2)


class _GRN(nn.Module):
    """Global Response Normalisation (ConvNeXt-V2) on channels-last ``(n, H, W, C)``."""

    def __init__(self, channels: int):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1, 1, 1, channels))
        self.bias = nn.Parameter(torch.zeros(1, 1, 1, channels))

    def forward(self, x):
        gx = torch.linalg.vector_norm(x, ord=2, dim=(1, 2), keepdim=True)
        nx = gx / (gx.mean(dim=-1, keepdim=True) + 1e-6)
        return self.weight * (x * nx) + self.bias + x


class _Block(nn.Module):
    """ConvNeXt-V2 block: dwconv 7×7 → LN → 4× MLP with GELU and GRN → residual."""

    def __init__(self, dim: int):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.layernorm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.grn = _GRN(4 * dim)
        self.pwconv2 = nn.Linear(4 * dim, dim)

    def forward(self, x):
        h = self.dwconv(x).permute(0, 2, 3, 1)
        h = self.pwconv2(self.grn(F.gelu(self.pwconv1(self.layernorm(h)))))
        return x + h.permute(0, 3, 1, 2)


class _Embeddings(nn.Module):
    def __init__(self):
        super().__init__()
        self.patch_embeddings = nn.Conv2d(3, 40, 4, stride=4)
        self.layernorm = _LayerNorm2d(40)

    def forward(self, x):
        return self.layernorm(self.patch_embeddings(x))


class _Stage0(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([_Block(40), _Block(40)])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class _Stage1(nn.Module):
    """Only the downsampling of stage 1 is part of the twin's core."""

    def __init__(self):
        super().__init__()
        self.downsampling_layer = nn.Sequential(_LayerNorm2d(40), nn.Conv2d(40, 80, 2, stride=2))

    def forward(self, x):
        return self.downsampling_layer(x)


class _Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.stages = nn.ModuleList([_Stage0(), _Stage1()])

    def forward(self, x):
        for stage in self.stages:
            x = stage(x)
        return x


class _Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.embeddings = _Embeddings()
        self.encoder = _Encoder()

    def forward(self, x):
        return self.encoder(self.embeddings(x))


class _Features(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Module()
        self.backbone.model = _Backbone()
        self.OutBatchNorm = nn.BatchNorm2d(80)

    def forward(self, x):
        return F.gelu(self.OutBatchNorm(self.backbone.model(x)))


class _Core(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = _Features()

    def forward(self, x):
        return self.features(x)


class _GaussianReadout(nn.Module):
    """Point readout: bilinear sample at μ ∈ [−1, 1]² (``_mu (1, N, 1, 2)``, x then y), dot weights.

    ``sigma`` (the training-time sampling width) is loaded but unused at inference.
    ``centered=True`` reads every neuron at the map centre (μ = 0).
    """

    def __init__(self, n_neurons: int, channels: int):
        super().__init__()
        self._mu = nn.Parameter(torch.zeros(1, n_neurons, 1, 2))
        self.sigma = nn.Parameter(torch.ones(1, n_neurons, 1, 1))
        self._features = nn.Parameter(torch.zeros(1, channels, 1, n_neurons))
        self.bias = nn.Parameter(torch.zeros(n_neurons))
        self.centered = False

    def forward(self, fmap):
        n, c = fmap.shape[:2]
        w = self._features.view(c, -1)  # (C, N)
        if self.centered:  # one sampling point for every neuron: sample once, then a matmul
            y = F.grid_sample(fmap, fmap.new_zeros(n, 1, 1, 2), align_corners=True)  # (n, C, 1, 1)
            return torch.addmm(self.bias, y.view(n, c), w)
        grid = self._mu.clamp(-1.0, 1.0).expand(n, -1, -1, -1)
        y = F.grid_sample(fmap, grid, mode="bilinear", align_corners=True)  # (n, C, N, 1)
        return (y.squeeze(-1) * w).sum(1) + self.bias


class _Readout(nn.Module):
    def __init__(self):
        super().__init__()
        self.all_sessions = _GaussianReadout(N_NEURONS, 80)

    def forward(self, fmap):
        return self.all_sessions(fmap)


class V1Member(nn.Module):
    """One ensemble member: standardised grey ``(n, 93, 93)`` → rates ``(n, 458)`` (> 0).

    Module names match the published state_dict's keys exactly.
    """

    def __init__(self):
        super().__init__()
        self.core = _Core()
        self.readout = _Readout()

    def forward(self, x):
        fmap = self.core(x[:, None].expand(-1, 3, -1, -1))
        return F.elu(self.readout(fmap) - 1.0) + 1.0


class V1Twin(Twin):
    """Ensemble V1 twin: mean of the members' rates, ``(n, 93, 93)`` → ``(n, 458)``.

    ``centered`` sets every neuron's readout position to the centre of the feature map (the
    paper's choice for synthesis); with ``centered=False`` each neuron reads at its learned
    receptive-field position. ``correlations`` (458,) holds each neuron's held-out correlation.
    """

    image_shape = (IMAGE_SIZE, IMAGE_SIZE)
    n_neurons = N_NEURONS
    pixel_mean = PIXEL_MEAN
    pixel_std = PIXEL_STD
    default_norm = PAPER_NORM

    def __init__(self, members: list[V1Member], correlations: np.ndarray, *, centered: bool):
        super().__init__()
        self.members = nn.ModuleList(members)
        self.correlations = np.asarray(correlations, dtype=np.float64)
        self.name = f"dualneuron_v1_twin{'_centered' if centered else ''}"
        self.centered = bool(centered)
        self.checksums: dict[str, str] = {}
        self.eval()

    @property
    def centered(self) -> bool:
        return self._centered

    @centered.setter
    def centered(self, value: bool) -> None:
        self._centered = bool(value)
        for m in self.members:
            m.readout.all_sessions.centered = self._centered

    def _forward(self, x):
        out = self.members[0](x)
        for m in self.members[1:]:
            out = out + m(x)
        return out / len(self.members)

    def describe(self) -> dict:
        d = super().describe()
        d.update(
            centered=self.centered,
            n_members=len(self.members),
            checksums=self.checksums,
            citation=CITATION,
        )
        return d


def _twin_folder(data_dir) -> Path:
    """``<data_dir>/dualneuron_v1_twin``, or ``data_dir`` itself when it holds the twin files."""
    root = resolve_data_dir(data_dir)
    if not (root / INFO.folder).is_dir() and (root / MEMBERS[0]).is_file():
        return root
    return root / INFO.folder


def load_v1_twin(
    data_dir: str | os.PathLike | None = None,
    *,
    centered: bool = False,
    verify: bool = True,
    device="cpu",
) -> V1Twin:
    """Load the five-member V1 twin from ``<data_dir>/dualneuron_v1_twin`` (or $NEUROALIGN_DATA).

    ``device`` (``"cpu"``, ``"cuda"``, ``"cuda:1"``, a ``torch.device``): where the weights go;
    screening, synthesis and :func:`~neuroalign.twin.analysis.dual_selectivity` run there. Every file is checked against its SHA-256 before it is read (``verify=False`` skips only the
    hashing, never the presence check); each member loads with ``strict=True``, so every key of
    the published state_dict is used and every parameter of the rebuilt network is set.
    Raises :class:`DataError` naming the folder, the missing files and where to get them, and
    :class:`~neuroalign._core.errors.ChecksumError` for altered files.
    """
    device = check_device(device)
    folder = _twin_folder(data_dir)
    files = dualneuron2025.load(folder, verify=verify)
    digests = files.checksums
    members = []
    for name in MEMBERS:
        state = torch.load(folder / name, map_location="cpu", weights_only=True)
        member = V1Member()
        try:
            member.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise DataError(
                f"{folder / name} does not fit the V1 twin architecture: {exc}. "
                f"{INFO.how_to_obtain}"
            ) from exc
        member.eval()
        members.append(member)
    corr = np.load(folder / "correlations.npy", allow_pickle=False)
    if corr.shape != (N_NEURONS,):
        raise DataError(f"{folder / 'correlations.npy'} has shape {corr.shape}, expected (458,).")
    twin = V1Twin(members, corr, centered=centered)
    twin.checksums = digests
    for p in twin.parameters():
        p.requires_grad_(False)
    return twin.to(device)
