"""`Compute`: where and in which precision the numerical kernels run, as one value.

A transform holds one as a constructor parameter (``Ridge(compute=Compute("torch:cuda",
"float32"))``) and every caller that fits it (``forward_ev``, ``compare``, ``estimate_iatc``,
``bench.score``, sweeps, the CLI's ``--device``) runs where it says, without keywords of its own.
Metrics without a transform (RDMs, CKA) take one directly.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import numpy as np

from neuroalign._core.errors import ConfigError
from neuroalign.solvers.backend import get_backend

__all__ = ["Compute", "as_compute", "default_compute", "using_compute"]

#: environment variable naming the default compute of this process and the processes it starts
ENV = "NEUROALIGN_COMPUTE"
_DEFAULT: ContextVar[Compute | None] = ContextVar("neuroalign_compute", default=None)

_BACKENDS = ("numpy", "torch", "torch:cpu", "torch:cuda")
_DTYPES = ("float64", "float32")


@dataclass(frozen=True)
class Compute:
    """``backend``: ``"numpy"`` (default), ``"torch"`` (CUDA when available), ``"torch:cpu"``,
    ``"torch:cuda"`` or ``"torch:cuda:N"``; ``dtype``: ``"float64"``, ``"float32"`` or None (the
    inputs' precision: float32 inputs stay float32, anything else is float64); ``block_size``:
    target columns per block of the streamed kernels (None: chosen by device)."""

    backend: str = "numpy"
    dtype: str | None = None
    block_size: int | None = None

    def __post_init__(self):
        b = str(self.backend)
        if b not in _BACKENDS and not b.startswith("torch:cuda:"):
            raise ConfigError(
                f"unknown backend {self.backend!r}; use one of {', '.join(_BACKENDS)} or "
                "'torch:cuda:N'."
            )
        if self.dtype is not None:
            dt = str(np.dtype(self.dtype)) if _is_dtype(self.dtype) else str(self.dtype)
            if dt not in _DTYPES:
                raise ConfigError(
                    f"dtype must be 'float64', 'float32' or None, got {self.dtype!r}."
                )
            object.__setattr__(self, "dtype", dt)
        bs = self.block_size
        if bs is not None and (
            isinstance(bs, bool) or not isinstance(bs, int | np.integer) or bs < 1
        ):
            raise ConfigError(f"block_size must be a positive int or None, got {bs!r}.")

    @property
    def xp(self):
        """The array backend object (:mod:`neuroalign.solvers.backend`)."""
        return get_backend(self.backend)

    def np_dtype(self, like=None) -> type:
        """``np.float64`` or ``np.float32``: the set dtype, else float32 only when ``like`` (an
        array or dtype) is float32."""
        if self.dtype is not None:
            return np.float32 if self.dtype == "float32" else np.float64
        kind = getattr(like, "dtype", like)
        return np.float32 if kind is not None and np.dtype(kind) == np.float32 else np.float64

    @property
    def on_device(self) -> bool:
        """True when the kernels run on an accelerator (not the CPU)."""
        return getattr(getattr(self.xp, "device", None), "type", "cpu") != "cpu"


def _is_dtype(x) -> bool:
    try:
        np.dtype(x)
    except TypeError:
        return False
    return True


def as_compute(spec=None) -> Compute:
    """A :class:`Compute` from ``None`` (numpy, the inputs' precision), a Compute, a backend string
    (``"torch:cuda"``; ``"cuda"``, ``"gpu"``, ``"cuda:N"`` and ``"cpu"`` are accepted as
    ``"torch:cuda"``, ``"torch:cuda:N"`` and ``"numpy"``), a dict of its fields or that dict as
    JSON text."""
    if spec is None:
        return Compute()
    if isinstance(spec, Compute):
        return spec
    if isinstance(spec, dict):
        return Compute(**spec)
    if isinstance(spec, str):
        spec = spec.strip()
        if spec.startswith("{"):  # as $NEUROALIGN_COMPUTE carries a full setting
            return Compute(**json.loads(spec))
        if spec in ("cuda", "gpu") or spec.startswith("cuda:"):
            return Compute("torch:" + spec.replace("gpu", "cuda"))
        return Compute("numpy" if spec == "cpu" else spec)
    raise ConfigError(
        f"compute must be a Compute, a backend name or a dict, got {type(spec).__name__}."
    )


def default_compute() -> Compute | None:
    """The compute a transform resolved by name runs with when it was given none: the innermost
    :func:`using_compute` block's, else ``$NEUROALIGN_COMPUTE`` (a backend name such as
    ``torch:cuda``, or a Compute's fields as JSON), else None (numpy)."""
    current = _DEFAULT.get()
    if current is not None:
        return current
    env = os.environ.get(ENV, "").strip()
    return as_compute(env) if env else None


def _env_value(c: Compute) -> str:
    if c.dtype is None and c.block_size is None:
        return c.backend
    return json.dumps({"backend": c.backend, "dtype": c.dtype, "block_size": c.block_size})


@contextmanager
def using_compute(spec) -> Iterator[Compute]:
    """Within the block, every transform resolved from a name or class (``"ridge"``, the
    benchmarks', ``compare``'s and ``estimate_iatc``'s) that takes a ``compute`` and was given
    none runs with ``spec`` (a :class:`Compute`, a backend name or a dict). The CLI's
    ``--device`` is this block; transforms given with their own compute keep it. The block also
    sets ``$NEUROALIGN_COMPUTE`` (restored after it), so sweep workers started inside it, however
    they are started, run there too; workers on other machines need it set where they run."""
    compute = as_compute(spec)
    token = _DEFAULT.set(compute)
    before = os.environ.get(ENV)
    os.environ[ENV] = _env_value(compute)
    try:
        yield compute
    finally:
        _DEFAULT.reset(token)
        if before is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = before
