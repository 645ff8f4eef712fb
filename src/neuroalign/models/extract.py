"""`extract`: layer activations of any ``torch.nn.Module`` on a stimulus set, cached on disk.

Forward hooks on named modules capture each layer's output batch by batch; outputs are pooled or
flattened in torch on the model's device, turned into float32 rows, optionally projected, and
streamed into a content-addressed cache entry (or an in-memory array with ``cache=False``).
Images are preprocessed on the host (the same pixels on every device), so a cache key never
depends on the device; on a GPU the next batch is preprocessed while the current one runs.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Sequence
from contextlib import ExitStack

import numpy as np

from neuroalign._core.errors import ConfigError, DataError
from neuroalign.data.stimuli import StimulusSet
from neuroalign.models.activations import Activations
from neuroalign.models.cache import ActivationCache, hash_key
from neuroalign.models.fingerprint import model_fingerprint, stimuli_fingerprint
from neuroalign.models.preprocess import Preprocessing
from neuroalign.models.reduce import PCA, RandomProjection, apply_pool, check_pool, pca_scores

__all__ = ["extract", "layer_names", "get_module", "check_device", "module_device"]

_CACHE_FORMAT = 2  # 2: a layer followed by an in-place op no longer records the op's result
_PROBE_SIZES = (224, 32, 28, 64, 96, 128, 256, 299, 384)


class _StopForward(Exception):
    """Raised by the last hook to skip the rest of the network once every layer has fired."""


def layer_names(module) -> list[str]:
    """Names of every submodule of ``module`` that :func:`extract` can hook, in definition order."""
    return [name for name, _ in module.named_modules() if name]


def get_module(module, name: str):
    """The submodule called ``name``; :class:`ConfigError` listing the available names otherwise."""
    modules = dict(module.named_modules())
    if name not in modules or not name:
        raise ConfigError(
            f"unknown layer {name!r} in {type(module).__name__}; available layers: "
            f"{', '.join(layer_names(module))}."
        )
    return modules[name]


def check_device(device):
    """``device`` (``"cpu"``, ``"cuda"``, ``"cuda:1"``, a ``torch.device``) as a ``torch.device``.

    Raises :class:`ConfigError` for a name torch does not know and for a device this machine lacks.
    """
    import torch

    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ConfigError(
            f"unknown torch device {device!r}; use 'cpu', 'cuda' or 'cuda:N'."
        ) from exc
    if dev.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ConfigError(
                f"device {device!r} asked for, but torch sees no CUDA device here (torch "
                f"{torch.__version__}); use device='cpu' or a CUDA build of torch on a GPU machine."
            )
        if dev.index is not None and dev.index >= count:
            raise ConfigError(
                f"device {device!r} does not exist: this machine has {count} CUDA device(s) "
                f"(cuda:0–cuda:{count - 1})."
            )
    elif dev.type != "cpu":
        backend = getattr(torch.backends, dev.type, None)
        if backend is None or not backend.is_available():
            raise ConfigError(f"device {device!r} is not available here; use device='cpu'.")
    return dev


def module_device(module):
    """The device of ``module``'s first parameter or buffer (CPU for a module without any)."""
    import torch

    for t in itertools.chain(module.parameters(), module.buffers()):
        return t.device
    return torch.device("cpu")


def _as_stimulus_set(stimuli) -> StimulusSet:
    if isinstance(stimuli, StimulusSet):
        if not stimuli.has_images:
            raise DataError(f"{stimuli!r} has no images; activations need images.")
        return stimuli
    arr = np.asarray(stimuli)
    if arr.ndim not in (3, 4):
        raise DataError(
            f"stimuli must be a StimulusSet or an array (n, height, width[, channels]), got shape "
            f"{arr.shape}."
        )
    try:
        return StimulusSet.from_arrays(arr)
    except DataError as exc:
        raise DataError(
            f"{exc} The stimuli array holds identical images; build a StimulusSet with explicit "
            "ids (StimulusSet.from_arrays(images, ids=[...])) to keep duplicates."
        ) from exc


class _Hooks:
    """Forward hooks that count calls and keep each layer's pooled, flattened float32 output
    ``(batch, features)`` on the model's device (a copy: later in-place ops cannot alter it)."""

    def __init__(self, module, names: Sequence[str], pool):
        self.names = list(names)
        self.pool = pool
        self.outputs: dict[str, object] = {}
        self.calls = dict.fromkeys(self.names, 0)
        self.stop_early = False
        self.active = True
        self.handles = [
            get_module(module, n).register_forward_hook(self._hook(n)) for n in self.names
        ]

    def _hook(self, name):
        def hook(_mod, _inp, out):
            if not self.active:
                return
            self.calls[name] += 1
            if self.calls[name] == 1:
                if not hasattr(out, "detach"):
                    raise ConfigError(
                        f"layer {name!r} returns a {type(out).__name__}, not a tensor; hook one of "
                        "its submodules that returns a tensor."
                    )
                rows = apply_pool(out.detach(), self.pool).float()
                if rows.untyped_storage().data_ptr() == out.untyped_storage().data_ptr():
                    rows = rows.clone()  # e.g. a conv followed by ReLU(inplace=True)
                self.outputs[name] = rows
            if self.stop_early and len(self.outputs) == len(self.names):
                raise _StopForward

        return hook

    def reset(self):
        self.outputs = {}
        self.calls = dict.fromkeys(self.names, 0)

    def check(self):
        for name, n in self.calls.items():
            if n == 0:
                raise ConfigError(
                    f"layer {name!r} never ran in the forward pass (a module the model defines "
                    "but does not call); choose another layer."
                )
            if n > 1:
                raise ConfigError(
                    f"layer {name!r} ran {n} times in one forward pass: the module is reused at "
                    "several places (e.g. one activation instance shared by many blocks), so its "
                    "output is ambiguous. Hook a module that runs once (the enclosing block, or "
                    "the layer before/after), or give the model distinct module instances."
                )

    def remove(self):
        for h in self.handles:
            h.remove()


def _size_hint(module, x_shape, expected: int | None, device, torch) -> str:
    """Say which input size the model accepts (its declared one, else the first probe that runs)."""
    if expected is not None:
        return f"it expects {expected}×{expected} px inputs"
    for s in _PROBE_SIZES:
        if s == x_shape[-1]:
            continue
        try:
            module(torch.zeros((1, x_shape[1], s, s), device=device))
        except Exception:  # probing: any failure means "not this size"
            continue
        return f"it runs on {s}×{s} px inputs"
    return "no common input size (28–384 px) worked either"


def _describe(fp, stim_hash, n, pre, layer, pool, projection, torch_version) -> dict:
    from neuroalign._core.version import package_version

    return {
        "format": _CACHE_FORMAT,
        "neuroalign": package_version(),
        "torch": torch_version,
        "model": fp,
        "stimuli_sha256": stim_hash,
        "n_stimuli": n,
        "preprocessing": pre.to_dict() if pre is not None else None,
        "layer": layer,
        "pool": pool,
        "projection": projection.to_dict() if projection is not None else None,
        "dtype": "float32",
    }


def _is_built_model(model) -> bool:
    """A :class:`~neuroalign.models.zoo.ZooModel` (or anything shaped like one: a module with its
    preprocessing, default layers and input size)."""
    return all(hasattr(model, a) for a in ("module", "preprocess", "layers", "input_size"))


def extract(
    model,
    stimuli,
    layers: str | Sequence[str] | None = None,
    *,
    preprocess: Preprocessing | None = None,
    pool: str | int | None = None,
    projection: RandomProjection | PCA | None = None,
    batch_size: int = 32,
    device=None,
    cache: bool | str | os.PathLike | ActivationCache = True,
    progress: bool | None = None,
    name: str | None = None,
) -> Activations:
    """Activations of ``model`` on ``stimuli`` at ``layers``, float32 ``(n_stimuli, n_features)`` each.

    Parameters
    ----------
    model : torch.nn.Module or ZooModel
        A zoo model brings its own preprocessing, default layers and name.
    stimuli : StimulusSet or array ``(n, height, width[, channels])``
        uint8 (0–255) or float in [0, 1]; grey images are copied to three channels.
    layers : names of submodules (see :func:`layer_names`); a zoo model's defaults when None.
    preprocess : :class:`Preprocessing`; default: the zoo model's, else ImageNet-style 224 px.
    pool : None (flatten), ``"avg"``/``"max"`` over spatial axes, or int p (adaptive p×p average).
    projection : :class:`RandomProjection` (streamed) or :class:`PCA` (exact) to k features.
    batch_size : images per forward pass.
    device : torch device to run on (``"cpu"``, ``"cuda"``, ``"cuda:1"``, a ``torch.device``);
        default: where the model's weights are. The cache key does not depend on it, so an entry
        computed on one device serves every other (values agree to float32 rounding).
    cache : True (default folder, see :func:`~neuroalign.models.cache.default_cache_dir`), a
        folder, an :class:`ActivationCache`, or False (compute in memory, write nothing).
    progress : show a progress bar (None: only on a terminal).
    name : model name recorded in provenance.

    Each layer is cached separately under the SHA-256 of the model's weights and architecture, the
    stimuli's pixels, the preprocessing, layer, pooling, projection and package versions; only
    missing layers are computed. The model runs in eval mode under ``torch.no_grad`` and is put
    back in its original mode and device afterwards. A module that runs more than once per forward
    pass is refused.
    """
    import torch
    from tqdm.auto import tqdm

    expected = None
    if _is_built_model(model):
        name = name or model.name
        preprocess = preprocess if preprocess is not None else model.preprocess
        layers = layers if layers is not None else list(model.layers)
        expected = model.input_size
        module = model.module
    else:
        module = model
    if not isinstance(module, torch.nn.Module):
        raise ConfigError(
            f"model must be a torch.nn.Module or ZooModel, got {type(model).__name__}."
        )
    if preprocess is None:
        preprocess = Preprocessing()
    if layers is None:
        raise ConfigError(
            f"give the layers to extract; available layers: {', '.join(layer_names(module))}."
        )
    layers = [layers] if isinstance(layers, str) else list(layers)
    if not layers or len(set(layers)) != len(layers):
        raise ConfigError(f"layers must be a non-empty list of distinct names, got {layers}.")
    for layer in layers:
        get_module(module, layer)
    pool = check_pool(pool)
    if projection is not None and not isinstance(projection, RandomProjection | PCA):
        raise ConfigError("projection must be None, RandomProjection(k, seed) or PCA(k).")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"batch_size must be a positive int, got {batch_size!r}.")
    device = module_device(module) if device is None else check_device(device)

    stim = _as_stimulus_set(stimuli)
    n = len(stim)
    if n == 0:
        raise DataError("no stimuli to extract activations for.")
    store = None
    if cache is not False:
        store = (
            cache
            if isinstance(cache, ActivationCache)
            else ActivationCache(None if cache is True else cache)
        )

    fp = model_fingerprint(module)
    descriptions, results, keys = {}, {}, {}
    if store is not None:
        stim_hash = stimuli_fingerprint(stim.image(i) for i in range(n))
        for layer in layers:
            d = _describe(fp, stim_hash, n, preprocess, layer, pool, projection, torch.__version__)
            descriptions[layer] = d
            keys[layer] = hash_key(d)
            hit = store.get(keys[layer])
            if hit is not None:
                results[layer] = hit
    todo = [layer for layer in layers if layer not in results]

    if todo:
        results.update(
            _compute(
                module,
                stim,
                todo,
                preprocess,
                pool,
                projection,
                batch_size,
                device,
                store,
                keys,
                descriptions,
                expected,
                progress,
                tqdm,
                torch,
            )
        )
    provenance = {
        "model_name": name or type(module).__name__,
        "model": fp,
        "preprocessing": preprocess.to_dict(),
        "pool": pool,
        "projection": projection.to_dict() if projection is not None else None,
        "torch": torch.__version__,
        "cache_dir": str(store.root) if store is not None else None,
        "layers": {
            layer: {"cache_key": keys.get(layer), "from_cache": layer not in todo}
            for layer in layers
        },
    }
    from neuroalign._core.version import package_version

    provenance["neuroalign"] = package_version()
    return Activations({layer: results[layer] for layer in layers}, stim.ids, provenance)


def _compute(
    module,
    stim,
    layers,
    preprocess,
    pool,
    projection,
    batch_size,
    device,
    store,
    keys,
    descriptions,
    expected,
    progress,
    tqdm,
    torch,
) -> dict[str, np.ndarray]:
    n = len(stim)
    was_training = module.training
    orig_device = module_device(module)
    on_gpu = device.type == "cuda"

    def upload(start):
        """Preprocess (on the host) the batch starting at ``start`` and send it to ``device``."""
        rows = range(start, min(start + batch_size, n))
        x = torch.from_numpy(preprocess.batch(stim.image(i) for i in rows))
        return x.pin_memory().to(device, non_blocking=True) if on_gpu else x

    outputs: dict[str, object] = {}  # layer -> writer or array (final or raw-for-PCA)
    matrices: dict[str, object] = {}
    use_pca = isinstance(projection, PCA)
    tmpdir = None
    hooks = _Hooks(module, layers, pool)
    try:
        with ExitStack() as stack:
            module.eval()
            module.to(device)
            stack.enter_context(torch.no_grad())
            bar = stack.enter_context(
                tqdm(
                    total=n,
                    unit="img",
                    disable=(None if progress is None else not progress),
                    desc="activations",
                    leave=False,
                )
            )
            x = upload(0)
            for start in range(0, n, batch_size):
                hooks.reset()
                try:
                    module(x)
                except _StopForward:
                    pass
                except ConfigError:
                    raise
                except RuntimeError as exc:
                    if all(c == 1 for c in hooks.calls.values()):
                        pass  # failed after every hooked layer ran: the outputs are complete
                    elif start > 0:
                        raise
                    else:
                        hooks.active = False
                        hint = _size_hint(module, tuple(x.shape), expected, device, torch)
                        raise ConfigError(
                            f"the model failed on inputs of shape {tuple(x.shape)} "
                            f"({preprocess.size or 'native'} px after preprocessing): {exc}. "
                            f"{hint[0].upper() + hint[1:]}; pass preprocess=Preprocessing(size=...) "
                            "with that size."
                        ) from exc
                if start == 0:
                    hooks.check()
                    hooks.stop_early = True
                pending = {k: v.to("cpu", non_blocking=True) for k, v in hooks.outputs.items()}
                if start + batch_size < n:
                    x = upload(start + batch_size)  # host work while the device computes
                if on_gpu:
                    torch.cuda.synchronize(device)
                for layer in layers:
                    rows = pending[layer].numpy()
                    if layer not in outputs:
                        d = rows.shape[1]
                        if isinstance(projection, RandomProjection) and d > projection.k:
                            matrices[layer] = projection.matrix(d)
                        width = matrices[layer].shape[1] if layer in matrices else d
                        if use_pca:
                            if tmpdir is None:
                                tmpdir = stack.enter_context(
                                    tempfile.TemporaryDirectory(
                                        prefix="pca-",
                                        suffix=".tmp",
                                        dir=store.root if store is not None else None,
                                    )
                                )
                            outputs[layer] = np.lib.format.open_memmap(
                                os.path.join(tmpdir, f"raw{len(outputs)}.npy"),
                                mode="w+",
                                dtype=np.float32,
                                shape=(n, d),
                            )
                        elif store is not None:
                            outputs[layer] = store.writer(
                                keys[layer], (n, width), descriptions[layer]
                            )
                        else:
                            outputs[layer] = np.empty((n, width), dtype=np.float32)
                    if layer in matrices:
                        rows = np.asarray(rows @ matrices[layer], dtype=np.float32)
                    out = outputs[layer]
                    if hasattr(out, "write"):
                        out.write(start, rows)
                    else:
                        out[start : start + len(rows)] = rows
                bar.update(min(batch_size, n - start))
            final = {}
            for layer in layers:
                out = outputs[layer]
                if use_pca:
                    out.flush()
                    scores = pca_scores(out, projection.k)
                    if store is not None:
                        w = store.writer(keys[layer], scores.shape, descriptions[layer])
                        outputs[layer] = w
                        w.write(0, scores)
                        final[layer] = w.commit()
                    else:
                        final[layer] = scores
                    del out
                elif hasattr(out, "commit"):
                    final[layer] = out.commit()
                else:
                    final[layer] = out
            return final
    except BaseException:
        for out in outputs.values():
            if hasattr(out, "abort"):
                out.abort()
        raise
    finally:
        hooks.remove()
        module.train(was_training)
        module.to(orig_device)
