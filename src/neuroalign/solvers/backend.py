"""Array backends for the solvers: numpy (default) and torch (CPU, or CUDA when present).

The solvers are written with the operators and methods that numpy arrays and torch tensors share
(``@``, ``+``, ``.sum(0)``, ``.T``, fancy indexing); everything else goes through a backend object.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np
import scipy.linalg

from neuroalign._core.errors import ConfigError
from neuroalign.solvers.threads import blas_threads, single_threaded_blas

__all__ = ["NumpyBackend", "TorchBackend", "get_backend"]


class NumpyBackend:
    """numpy arrays on the CPU."""

    name = "numpy"

    def map(self, fn, items) -> list:
        """``[fn(x) for x in items]`` on as many threads as the BLAS may use, each BLAS call on one
        thread. Small and medium products run near peak on one core and do not stall when a core
        is busy (a threaded BLAS waits for its slowest thread); numpy releases the GIL in them.
        Results come back in order and do not depend on the number of threads. One item, or a
        BLAS limited to one thread: a plain loop.
        """
        items = list(items)
        workers = min(blas_threads(), len(items))
        if workers <= 1:
            return [fn(x) for x in items]
        with single_threaded_blas(), ThreadPoolExecutor(workers) as pool:
            return list(pool.map(fn, items))

    def serial(self):
        """Context: BLAS on one thread in this thread (small products); :meth:`map` still
        parallelises."""
        return single_threaded_blas()

    def asarray(self, a, dtype):
        """``a`` as an array of ``dtype`` (``np.float32`` or ``np.float64``), no copy when possible."""
        return np.asarray(a, dtype=dtype)

    def to_numpy(self, a) -> np.ndarray:
        return np.asarray(a)

    def index(self, idx: np.ndarray):
        """Integer index array usable to index this backend's arrays."""
        return np.asarray(idx, dtype=np.intp)

    def eigh(self, a):
        """Eigenvalues (ascending) and eigenvectors of a symmetric matrix, on one thread.

        LAPACK's symmetric eigensolver gains little from threads and loses much on a busy
        machine (0.6 s single-threaded vs 1.5-6 s threaded for 1188² here); several run in
        parallel through :meth:`map` (whose workers already hold the one-thread limit).
        """
        if threading.current_thread() is not threading.main_thread():
            return np.linalg.eigh(a)
        with single_threaded_blas():
            return np.linalg.eigh(a)

    def eigvalsh(self, a):
        """Eigenvalues (ascending) of a symmetric matrix (no vectors: 3× cheaper than eigh)."""
        return np.linalg.eigvalsh(a)

    def spd_solve(self, a, b):
        """``a⁻¹ b`` for a symmetric positive definite ``a (m, m)``, ``b (m, k)``, by Cholesky
        (20× cheaper than an eigendecomposition of ``a``)."""
        return scipy.linalg.cho_solve(scipy.linalg.cho_factor(a), b)

    def coldot(self, a, b):
        """``(a * b).sum(0)`` for ``(n, t)`` arrays without the temporary."""
        return np.einsum("ij,ij->j", a, b)

    def matmul(self, a, b, out):
        """``out[...] = a @ b`` without a temporary."""
        return np.matmul(a, b, out=out)

    def rsub_(self, a, b):
        """``b[...] = a - b`` in place; returns ``b``."""
        return np.subtract(a, b, out=b)

    def hstack(self, arrays):
        return np.hstack(arrays)

    def vstack(self, arrays):
        return np.vstack(arrays)

    def copy(self, a):
        return a.copy()

    def zeros(self, shape, dtype):
        return np.zeros(shape, dtype=dtype)

    def empty(self, shape, dtype):
        return np.empty(shape, dtype=dtype)

    def arange(self, n: int):
        return np.arange(n)

    def ones(self, shape, dtype):
        return np.ones(shape, dtype=dtype)

    def stack(self, arrays):
        return np.stack(arrays)

    def expand(self, a, shape):
        """``a`` broadcast to ``shape`` (a read-only view)."""
        return np.broadcast_to(a, shape)

    def two_smallest(self, a):
        """The two smallest values of each column of ``a (m, t)``, ``m ≥ 2``: ``(2, t)``, row 0 ≤ row 1."""
        return np.partition(a, 1, axis=0)[:2]

    def sqrt(self, a):
        return np.sqrt(a)

    def clip_min(self, a, lo: float):
        return np.maximum(a, lo)

    def dtype(self, a):
        return a.dtype

    def free_memory(self) -> int | None:
        """Free bytes of the device the arrays live on; None on the host (blocks sized for cache)."""
        return None


class TorchBackend:
    """torch tensors on ``device`` (``"cpu"``, ``"cuda"``; default CUDA when available)."""

    name = "torch"

    def __init__(self, device: str | None = None):
        try:
            import torch
        except ImportError as exc:  # pragma: no cover - torch is an optional extra
            raise ConfigError(
                "backend='torch' needs PyTorch: pip install 'neuroalign[torch]'."
            ) from exc
        self.torch = torch
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise ConfigError(
                f"backend 'torch:{device}' needs a CUDA GPU, and this machine's torch "
                f"{torch.__version__} sees none; use 'numpy' or 'torch:cpu' (CLI: --device cpu)."
            )

    def _tdtype(self, dtype):
        return self.torch.float32 if np.dtype(dtype) == np.float32 else self.torch.float64

    def asarray(self, a, dtype):
        t = self.torch
        if isinstance(a, t.Tensor):
            return a.to(device=self.device, dtype=self._tdtype(dtype))
        arr = np.ascontiguousarray(a, dtype=dtype)
        if not arr.flags.writeable:
            arr = arr.copy()
        return t.from_numpy(arr).to(self.device)

    def to_numpy(self, a) -> np.ndarray:
        return a.detach().cpu().numpy() if isinstance(a, self.torch.Tensor) else np.asarray(a)

    def index(self, idx: np.ndarray):
        return self.torch.as_tensor(np.asarray(idx, dtype=np.int64), device=self.device)

    def map(self, fn, items) -> list:
        """``[fn(x) for x in items]``; torch parallelises inside each operation itself."""
        return [fn(x) for x in items]

    def eigh(self, a):
        """On the CPU on one thread, as :meth:`NumpyBackend.eigh`."""
        with self.serial():
            return self.torch.linalg.eigh(a)

    def eigvalsh(self, a):
        return self.torch.linalg.eigvalsh(a)

    def spd_solve(self, a, b):
        return self.torch.cholesky_solve(b, self.torch.linalg.cholesky(a))

    def coldot(self, a, b):
        return (a * b).sum(0)

    def matmul(self, a, b, out):
        return self.torch.matmul(a, b, out=out)

    def rsub_(self, a, b):
        return self.torch.sub(a, b, out=b)

    def hstack(self, arrays):
        return self.torch.hstack(list(arrays))

    def vstack(self, arrays):
        return self.torch.vstack(list(arrays))

    def copy(self, a):
        return a.clone()

    @contextmanager
    def serial(self):
        """Context: torch on one CPU thread (small per-fold problems; two OpenMP threads spin
        against each other on a busy machine: 25 s instead of 0.3 s seen here); no-op on a GPU."""
        if self.device.type != "cpu":
            yield
            return
        threads = self.torch.get_num_threads()
        self.torch.set_num_threads(1)
        try:
            yield
        finally:
            self.torch.set_num_threads(threads)

    def zeros(self, shape, dtype):
        return self.torch.zeros(shape, dtype=self._tdtype(dtype), device=self.device)

    def empty(self, shape, dtype):
        return self.torch.empty(shape, dtype=self._tdtype(dtype), device=self.device)

    def arange(self, n: int):
        return self.torch.arange(n, device=self.device)

    def ones(self, shape, dtype):
        return self.torch.ones(shape, dtype=self._tdtype(dtype), device=self.device)

    def stack(self, arrays):
        return self.torch.stack(list(arrays))

    def expand(self, a, shape):
        return a.expand(shape)

    def two_smallest(self, a):
        return self.torch.topk(a, 2, dim=0, largest=False, sorted=True).values

    def sqrt(self, a):
        return self.torch.sqrt(a)

    def clip_min(self, a, lo: float):
        return self.torch.clamp(a, min=lo)

    def dtype(self, a):
        return np.float32 if a.dtype == self.torch.float32 else np.float64

    def free_memory(self) -> int | None:
        if self.device.type != "cuda":
            return None
        return int(self.torch.cuda.mem_get_info(self.device)[0])


def get_backend(backend: str | NumpyBackend | TorchBackend = "numpy"):
    """A backend object from ``"numpy"``, ``"torch"``, ``"torch:cpu"``, ``"torch:cuda"`` or an instance."""
    if isinstance(backend, NumpyBackend | TorchBackend):
        return backend
    if backend == "numpy":
        return NumpyBackend()
    if isinstance(backend, str) and backend.split(":")[0] == "torch":
        device = backend.split(":", 1)[1] if ":" in backend else None
        return TorchBackend(device)
    raise ConfigError(
        f"unknown backend {backend!r}; use 'numpy', 'torch', 'torch:cpu' or 'torch:cuda'."
    )
