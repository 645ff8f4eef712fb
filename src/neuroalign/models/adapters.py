"""Bring your own model: wrap any ``nn.Module``, or build torchvision / timm models when installed.

torchvision and timm are not dependencies; these adapters import them only when called and say
how to install them otherwise. Pretrained weights come from those libraries' own caches (they
may download on first use — neuroalign itself never does).
"""

from __future__ import annotations

from collections.abc import Sequence

from neuroalign._core.errors import ConfigError
from neuroalign.models.preprocess import IMAGENET_MEAN, IMAGENET_STD, Preprocessing
from neuroalign.models.zoo import ZooModel

__all__ = ["wrap", "from_torchvision", "from_timm"]


def wrap(
    module,
    *,
    name: str,
    preprocess: Preprocessing | None = None,
    layers: Sequence[str] = (),
    input_size: int | None = None,
    citation: str = "",
    trained: bool = True,
    seed: int | None = None,
) -> ZooModel:
    """A :class:`ZooModel` around your own ``nn.Module`` (default: ImageNet-style 224 px input)."""
    from neuroalign.models.extract import get_module

    for layer in layers:
        get_module(module, layer)
    pre = preprocess if preprocess is not None else Preprocessing()
    return ZooModel(
        name=name,
        module=module.eval(),
        preprocess=pre,
        layers=tuple(layers),
        input_size=input_size if input_size is not None else pre.size,
        citation=citation,
        trained=trained,
        seed=seed,
    )


def _seeded(seed, build):
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        return build()


def from_torchvision(
    name: str, *, weights=None, seed: int = 0, layers: Sequence[str] = ()
) -> ZooModel:
    """``torchvision.models.get_model(name, weights=weights)`` as a :class:`ZooModel`.

    ``weights=None`` gives the untrained network drawn from ``seed``; otherwise the weights enum's
    own transforms set the preprocessing (resize, crop, interpolation, mean, std).
    """
    try:
        import torchvision
    except Exception as exc:  # ImportError, or a build that does not match this torch
        raise ConfigError(
            "torchvision is not installed (or does not import beside this torch); install a "
            "torchvision build matching your torch to use from_torchvision."
        ) from exc
    module = _seeded(seed, lambda: torchvision.models.get_model(name, weights=weights))
    pre = Preprocessing(size=224, crop_fraction=224 / 256)
    if weights is not None:
        tf = (
            torchvision.models.get_weight(weights).transforms()
            if isinstance(weights, str)
            else (weights.transforms())
        )
        crop = int(tf.crop_size[0])
        pre = Preprocessing(
            size=crop,
            crop_fraction=min(1.0, crop / int(tf.resize_size[0])),
            interpolation=str(tf.interpolation.value),
            mean=tuple(tf.mean),
            std=tuple(tf.std),
        )
    return wrap(
        module,
        name=f"torchvision:{name}",
        preprocess=pre,
        layers=layers,
        trained=weights is not None,
        seed=None if weights is not None else seed,
    )


def from_timm(
    name: str, *, pretrained: bool = False, seed: int = 0, layers: Sequence[str] = ()
) -> ZooModel:
    """``timm.create_model(name, pretrained=pretrained)`` with timm's data config as preprocessing."""
    try:
        import timm
        from timm.data import resolve_data_config
    except ImportError as exc:
        raise ConfigError("timm is not installed; pip install timm to use from_timm.") from exc
    module = _seeded(seed, lambda: timm.create_model(name, pretrained=pretrained))
    cfg = resolve_data_config({}, model=module)
    size = int(cfg.get("input_size", (3, 224, 224))[-1])
    interp = str(cfg.get("interpolation", "bilinear"))
    pre = Preprocessing(
        size=size,
        crop_fraction=float(cfg.get("crop_pct", 0.875)),
        interpolation=interp
        if interp in ("nearest", "bilinear", "bicubic", "lanczos")
        else "bilinear",
        mean=tuple(cfg.get("mean", IMAGENET_MEAN)),
        std=tuple(cfg.get("std", IMAGENET_STD)),
    )
    return wrap(
        module,
        name=f"timm:{name}",
        preprocess=pre,
        layers=layers,
        trained=pretrained,
        seed=None if pretrained else seed,
    )
