"""Bring your own model: wrap any ``nn.Module``, or name one from timm, torchvision, Hugging Face
transformers or a Python file — the model sources of :data:`neuroalign.models.zoo.SOURCES`.

- ``timm:NAME``: ``timm.create_model(NAME, pretrained=False)``; timm's data config sets the
  preprocessing; default layers: its ``feature_info`` stages.
- ``torchvision:NAME``: ``torchvision.models.get_model(NAME)``; ImageNet preprocessing (resize
  256, centre crop 224) or the weights enum's own; default layers: the top-level children.
- ``hf:NAME``: ``transformers.AutoModel.from_pretrained(NAME, local_files_only=True)``, a local
  folder or a model already in the Hugging Face cache; its image processor sets the
  preprocessing; layers ``hidden_states.<i>``.
- ``path/to/file.py:FACTORY``: ``FACTORY()`` returns an ``nn.Module``, a :class:`ZooModel` (e.g.
  from :func:`wrap`) or a dict ``{"module", "preprocess", "layers"}``; a factory with a ``seed``
  parameter is an untrained model drawn from the seed.

Nothing is downloaded at run time. Weights come from a local file, ``?weights=/path/file.pth``
(a ``state_dict``, or a checkpoint holding one under ``state_dict`` / ``model``; ``.safetensors``
too), loaded strictly; torchvision also takes a weights enum name (``?weights=IMAGENET1K_V1``)
whose file is already in the torch hub cache. Without weights, timm and torchvision networks are
untrained, drawn from the seed. timm, torchvision and transformers are not dependencies; a spec
that needs one that is missing is a :class:`ConfigError` saying how to install it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from neuroalign._core.errors import ConfigError
from neuroalign.datasets.checksums import sha256_file
from neuroalign.models.preprocess import IMAGENET_MEAN, IMAGENET_STD, Preprocessing
from neuroalign.models.zoo import SOURCES, ZooEntry, ZooModel, build, literal, spec_name

__all__ = ["wrap", "from_timm", "from_torchvision", "load_weights", "read_state_dict"]

_INTERPOLATION = {0: "nearest", 1: "lanczos", 2: "bilinear", 3: "bicubic"}
_INSTALL = {
    "timm": "pip install timm. Weights come from a local file: timm:NAME?weights=/path/model.pth "
    "(or .safetensors); without one the network is untrained, drawn from the seed",
    "torchvision": "pip install torchvision (a build matching your torch). Weights come from a "
    "local file, torchvision:NAME?weights=/path/model.pth, or a weights enum already in the torch "
    "hub cache, ?weights=IMAGENET1K_V1; without them the network is untrained, drawn from the seed",
    "transformers": "pip install transformers. Weights come from a local model folder, "
    "hf:/path/to/model, or a model already in the Hugging Face cache",
}


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


def _seeded(seed, make):
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        return make()


def _require(library: str, spec: str):
    try:
        return importlib.import_module(library)
    except Exception as exc:  # ImportError, or a build that does not import beside this torch
        raise ConfigError(
            f"{spec} needs {library}, which is not installed or does not import ({exc}): "
            f"{_INSTALL[library]}. neuroalign never installs or downloads anything."
        ) from exc


def _torch_dtype(code: str):
    """The torch dtype of a safetensors dtype code (``F32``, ``BF16``, ``I64``, ``BOOL``, ...)."""
    import torch

    name = {"BF16": "bfloat16", "BOOL": "bool"}.get(code)
    return getattr(torch, name or {"F": "float", "I": "int", "U": "uint"}[code[0]] + code[1:])


def read_state_dict(path: str | os.PathLike) -> dict:
    """Tensors of a weights file: ``.safetensors``, or a ``torch.save`` file (``weights_only``)
    holding a ``state_dict`` (also under ``"state_dict"`` / ``"model"``; a ``module.`` prefix
    from DataParallel is removed)."""
    import torch

    path = Path(path)
    if path.suffix == ".safetensors":
        raw = path.read_bytes()
        n = int.from_bytes(raw[:8], "little")
        header = json.loads(raw[8 : 8 + n])
        state = {}
        for key, v in header.items():
            if key == "__metadata__":
                continue
            a, b = (8 + n + o for o in v["data_offsets"])
            dtype = _torch_dtype(v["dtype"])
            flat = torch.frombuffer(bytearray(raw[a:b]), dtype=dtype) if b > a else None
            state[key] = torch.empty(0, dtype=dtype) if flat is None else flat
            state[key] = state[key].reshape(v["shape"])
        return state
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle, zip and torch errors alike: say which file and why
        raise ConfigError(f"cannot read weights {path}: {exc}") from exc
    for key in ("state_dict", "model", "model_state_dict"):
        if isinstance(state, Mapping) and isinstance(state.get(key), Mapping):
            state = state[key]
    if not isinstance(state, Mapping):
        raise ConfigError(f"{path} holds a {type(state).__name__}, not a state_dict of tensors.")
    if state and all(k.startswith("module.") for k in state):
        state = {k[len("module.") :]: v for k, v in state.items()}
    return dict(state)


def load_weights(module, path: str | os.PathLike, spec: str = ""):
    """Load a weights file into ``module`` strictly; a mismatch names the differing keys."""
    state, own = read_state_dict(path), module.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [
        f"{k} {tuple(state[k].shape)} for {tuple(v.shape)}"
        for k, v in own.items()
        if k in state and state[k].shape != v.shape
    ]
    if missing or unexpected or shapes:
        raise ConfigError(
            f"weights {path} do not fit {spec or type(module).__name__}: "
            f"{len(missing)} missing (e.g. {missing[:3]}), {len(unexpected)} unexpected "
            f"(e.g. {unexpected[:3]}), {len(shapes)} of another shape (e.g. {shapes[:2]}). "
            "Give the builder options the checkpoint was trained with (e.g. ?num_classes=10)."
        )
    module.load_state_dict(state, strict=True)
    return module


def _weights_file(value: str, spec: str) -> Path:
    path = Path(value).expanduser()
    if not path.is_file():
        raise ConfigError(
            f"weights file {path} of {spec} does not exist; give the path of a local "
            "state_dict (.pth, .pt, .bin or .safetensors)."
        )
    return path


def _children(module) -> tuple[str, ...]:
    return tuple(name for name, _ in module.named_children())


def _entry(spec, options, weights_tag, make, preprocess, layers, trained, citation, desc):
    """A :class:`ZooEntry` named by its canonical spec, built by ``make(seed, **kw)``."""
    name = spec_name(spec, {**options, "weights": weights_tag})
    return ZooEntry(name, make, preprocess, tuple(layers), preprocess.size, citation, desc, trained)


def _timm(name: str, options: dict[str, str]) -> ZooEntry:
    spec = f"timm:{name}"
    timm = _require("timm", spec)
    from timm.data import resolve_data_config

    weights = options.pop("weights", None)
    path = _weights_file(weights, spec) if weights else None
    kwargs = {k: literal(v) for k, v in options.items()}

    def make(seed, **kw):
        create = timm.create_model
        module = _seeded(seed or 0, lambda: create(name, pretrained=False, **kwargs, **kw))
        return load_weights(module, path, spec) if path else module

    probe = make(0)
    cfg = resolve_data_config({}, model=probe)
    interp = str(cfg.get("interpolation", "bilinear"))
    pre = Preprocessing(
        size=int(cfg.get("input_size", (3, 224, 224))[-1]),
        crop_fraction=float(cfg.get("crop_pct", 0.875)),
        interpolation=interp if interp in _INTERPOLATION.values() else "bilinear",
        mean=tuple(cfg.get("mean", IMAGENET_MEAN)),
        std=tuple(cfg.get("std", IMAGENET_STD)),
    )
    stages = [f["module"] for f in getattr(probe, "feature_info", None) or [] if "module" in f]
    tag = f"sha256:{sha256_file(path)[:16]}" if path else None
    return _entry(
        spec,
        options,
        tag,
        make,
        pre,
        stages or _children(probe),
        path is not None,
        f"timm {getattr(timm, '__version__', '')}: {name}",
        f"timm {name}, " + (f"weights {path.name} ({tag})." if path else "untrained, seeded."),
    )


def _torchvision(name: str, options: dict[str, str]) -> ZooEntry:
    spec = f"torchvision:{name}"
    tv = _require("torchvision", spec)
    weights = options.pop("weights", None)
    kwargs = {k: literal(v) for k, v in options.items()}
    pre = Preprocessing(size=224, crop_fraction=224 / 256)
    path, enum, tag = None, None, None
    if weights and (os.sep in weights or "/" in weights or Path(weights).suffix):
        path = _weights_file(weights, spec)
        tag = f"sha256:{sha256_file(path)[:16]}"
    elif weights:
        enum = _torchvision_weights(tv, name, weights, spec)
        tf = enum.transforms()
        crop = int(tf.crop_size[0])
        pre = Preprocessing(
            size=crop,
            crop_fraction=min(1.0, crop / int(tf.resize_size[0])),
            interpolation=str(tf.interpolation.value),
            mean=tuple(tf.mean),
            std=tuple(tf.std),
        )
        tag = weights

    def make(seed, **kw):
        if enum is not None:  # its file is in the torch hub cache: loaded from there
            return tv.models.get_model(name, weights=enum, **kwargs, **kw)
        get = tv.models.get_model
        module = _seeded(seed or 0, lambda: get(name, weights=None, **kwargs, **kw))
        return load_weights(module, path, spec) if path else module

    probe = make(0)
    how = f"weights {weights}" if weights else "untrained, seeded"
    return _entry(
        spec,
        options,
        tag,
        make,
        pre,
        _children(probe),
        weights is not None,
        f"torchvision {getattr(tv, '__version__', '')}: {name}",
        f"torchvision {name}, {how}.",
    )


def _torchvision_weights(tv, name: str, weights: str, spec: str):
    """The weights enum member ``weights`` of model ``name``, if its file is on disk."""
    import torch

    try:
        members = tv.models.get_model_weights(name)
    except (KeyError, ValueError) as exc:
        raise ConfigError(f"{spec}: torchvision has no model {name!r} with weights.") from exc
    try:
        enum = members[weights]
    except KeyError as exc:
        known = [w.name for w in members]
        raise ConfigError(
            f"{spec} has no weights {weights!r}; known: {', '.join(known)}; or give a file "
            "path: ?weights=/path/to/file.pth."
        ) from exc
    file = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(enum.url)
    if not file.is_file():
        raise ConfigError(
            f"{spec}?weights={weights} is not on disk (looked for {file}) and neuroalign does not "
            f'download. Fetch it once with python -c "import torchvision; torchvision.models.'
            f"get_model('{name}', weights='{weights}')\", or put the file there, or give a file "
            "path: ?weights=/path/to/file.pth."
        )
    return enum


def _hidden_states(model, size: int):
    """``model`` behind a module whose ``hidden_states.<i>`` submodules output the model's
    hidden states, token sequences ``(n, tokens, dim)`` as ``(n, dim, tokens)``."""
    import torch

    class HiddenStates(torch.nn.Module):
        def __init__(self, model, n):
            super().__init__()
            self.model = model
            self.hidden_states = torch.nn.ModuleList(torch.nn.Identity() for _ in range(n))

        def forward(self, x):
            states = self.model(pixel_values=x, output_hidden_states=True).hidden_states
            return [
                layer(s.transpose(1, 2) if s.ndim == 3 else s)
                for layer, s in zip(self.hidden_states, states, strict=True)
            ]

    with torch.no_grad():
        out = model.eval()(pixel_values=torch.zeros(1, 3, size, size), output_hidden_states=True)
    return HiddenStates(model, len(out.hidden_states))


def _hf_preprocessing(transformers, name: str) -> Preprocessing:
    try:
        proc = transformers.AutoImageProcessor.from_pretrained(name, local_files_only=True)
    except (OSError, ValueError):
        return Preprocessing()
    size = dict(getattr(proc, "size", None) or {})
    side = size.get("height") or size.get("shortest_edge") or 224
    crop, frac = getattr(proc, "crop_size", None), None
    if getattr(proc, "do_center_crop", False) and crop:
        frac = min(1.0, crop["height"] / side)
        side = crop["height"]
    elif getattr(proc, "crop_pct", None) and "shortest_edge" in size:
        frac = float(proc.crop_pct)
    return Preprocessing(
        size=int(side),
        crop_fraction=frac,
        interpolation=_INTERPOLATION.get(int(getattr(proc, "resample", 2)), "bilinear"),
        mean=tuple(getattr(proc, "image_mean", None) or IMAGENET_MEAN),
        std=tuple(getattr(proc, "image_std", None) or IMAGENET_STD),
    )


def _hf(name: str, options: dict[str, str]) -> ZooEntry:
    spec = f"hf:{name}"
    transformers = _require("transformers", spec)
    weights = options.pop("weights", None)
    if weights not in (None, "none"):
        raise ConfigError(
            f"{spec} takes its weights from the model folder or the Hugging Face cache; "
            "?weights=none builds it untrained from its config."
        )
    kwargs = {k: literal(v) for k, v in options.items()}
    try:
        config = transformers.AutoConfig.from_pretrained(name, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"{spec}: no local copy ({exc}). neuroalign does not download: fetch it once "
            f"(huggingface-cli download {name}) or give a local folder, hf:/path/to/model."
        ) from exc
    pre = _hf_preprocessing(transformers, name)

    def make(seed, **kw):
        auto = transformers.AutoModel
        if weights == "none":
            model = _seeded(seed or 0, lambda: auto.from_config(config, **kwargs, **kw))
        else:
            model = auto.from_pretrained(name, local_files_only=True, **kwargs, **kw)
        model = getattr(model, "vision_model", model)  # CLIP-like: the image tower
        return _hidden_states(model, pre.size or 224)

    from neuroalign.models.fingerprint import model_fingerprint

    probe = make(0)
    fp = model_fingerprint(probe)["weights_sha256"][:16]
    return _entry(
        f"hf:{Path(name).name}" if Path(name).is_dir() else spec,  # a folder: not where it lies
        options,
        "none" if weights else f"sha256:{fp}",
        make,
        pre,
        [f"hidden_states.{i}" for i in range(len(probe.hidden_states))],
        weights is None,
        f"transformers {getattr(transformers, '__version__', '')}: {name}",
        f"Hugging Face {name}, {'untrained' if weights else 'weights from disk'}.",
    )


def _import_file(path: Path):
    """Import a Python file as a module named after its path and content."""
    digest = hashlib.sha256(f"{path.resolve()}\0".encode() + path.read_bytes()).hexdigest()[:16]
    module_spec = importlib.util.spec_from_file_location(f"neuroalign_user_{digest}", path)
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except Exception as exc:
        raise ConfigError(f"importing {path} failed: {type(exc).__name__}: {exc}") from exc
    return module


def _unpack(out, spec: str):
    """``(module, preprocess or None, layers or None)`` of what a file's factory returned."""
    import torch

    if isinstance(out, ZooModel):
        out = {"module": out.module, "preprocess": out.preprocess, "layers": out.layers}
    if isinstance(out, torch.nn.Module):
        out = {"module": out}
    if not isinstance(out, Mapping) or not isinstance(out.get("module"), torch.nn.Module):
        raise ConfigError(
            f"{spec} returned a {type(out).__name__}; a factory returns a torch.nn.Module, a "
            "ZooModel (neuroalign.models.wrap) or a dict with 'module' and optionally "
            "'preprocess' (Preprocessing or its fields as a dict) and 'layers'."
        )
    pre = out.get("preprocess")
    if isinstance(pre, Mapping):
        pre = Preprocessing(**pre)
    layers = out.get("layers")
    return out["module"], pre, None if layers is None else tuple(layers)


def _file(spec: str, options: dict[str, str]) -> ZooEntry:
    file, _, factory = spec.rpartition(":")
    path = Path(file).expanduser()
    if not path.is_file():
        raise ConfigError(f"model file {path} does not exist (spec {spec!r}: path.py:factory).")
    fn = getattr(_import_file(path), factory, None)
    if not callable(fn):
        raise ConfigError(f"{path} defines no function {factory!r} (spec {spec!r}).")
    kwargs = {k: literal(v) for k, v in options.items()}
    seeded = "seed" in inspect.signature(fn).parameters

    def call(seed, **kw):
        if seeded:
            return fn(seed=seed, **kwargs, **kw)
        return _seeded(0, lambda: fn(**kwargs, **kw))  # an unseeded initialisation, made fixed

    def make(seed, **kw):
        return _unpack(call(seed, **kw), spec)[0]

    from neuroalign.models.extract import get_module
    from neuroalign.models.fingerprint import model_fingerprint

    module, pre, layers = _unpack(call(0), spec)
    for layer in layers or ():
        get_module(module, layer)
    fp = model_fingerprint(module)["weights_sha256"][:16]
    return _entry(
        f"file:{path.name}:{factory}",
        options,
        f"sha256:{fp}",
        make,
        pre or Preprocessing(),
        layers or _children(module),
        not seeded,
        str(path),
        f"{factory}() from {path}" + (", untrained, seeded" if seeded else ""),
    )


def _model(source, name: str, options: dict, seed: int, layers: Sequence[str]) -> ZooModel:
    model = build(source(name, {k: str(v) for k, v in options.items() if v is not None}), seed)
    if layers:
        from neuroalign.models.extract import get_module

        for layer in layers:
            get_module(model.module, layer)
        model.layers = tuple(layers)
    return model


def from_torchvision(
    name: str, *, weights=None, seed: int = 0, layers: Sequence[str] = (), **kwargs
) -> ZooModel:
    """``torchvision:NAME``: ``weights`` None (untrained, drawn from ``seed``), a local file, or
    a weights enum name whose file is already in the torch hub cache (its transforms set the
    preprocessing). ``kwargs`` go to ``torchvision.models.get_model``."""
    weights = getattr(weights, "name", weights)  # a weights enum member → its name
    return _model(_torchvision, name, {**kwargs, "weights": weights}, seed, layers)


def from_timm(
    name: str, *, weights=None, seed: int = 0, layers: Sequence[str] = (), **kwargs
) -> ZooModel:
    """``timm:NAME``: ``weights`` None (untrained, drawn from ``seed``) or a local weights file;
    timm's data config sets the preprocessing. ``kwargs`` go to ``timm.create_model``."""
    return _model(_timm, name, {**kwargs, "weights": weights}, seed, layers)


SOURCES.register("timm", _timm)
SOURCES.register("torchvision", _torchvision)
SOURCES.register("hf", _hf)
SOURCES.register("file", _file)
