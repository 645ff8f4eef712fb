"""Thread policy, in one place: how many threads the BLAS may use, and limits on it.

The numpy engine runs its blocks on as many threads as the BLAS may use, each BLAS call on one
thread (:func:`single_threaded_blas`); a transform with its own ``n_threads`` limits the BLAS
with :func:`blas_limit`. One ``ThreadpoolController`` serves the process (building one scans
every loaded library: slow per call).
"""

from __future__ import annotations

import os
from contextlib import contextmanager

from threadpoolctl import ThreadpoolController

__all__ = ["blas_limit", "blas_threads", "single_threaded_blas"]

_THREADS = ThreadpoolController()
_OUTER: list[int] = []  # BLAS threads before our own one-thread limits (outermost first)


def blas_threads() -> int:
    """Threads the BLAS may use (its setting, e.g. from ``OPENBLAS_NUM_THREADS``, before our own
    one-thread limits)."""
    if _OUTER:
        return _OUTER[0]
    n = [c.num_threads for c in _THREADS.lib_controllers if c.user_api == "blas"]
    return max(1, min(n)) if n else (os.cpu_count() or 1)


@contextmanager
def single_threaded_blas():
    """BLAS calls on one thread inside; parallelism comes from the engine's own threads."""
    _OUTER.append(blas_threads())
    try:
        with _THREADS.limit(limits=1, user_api="blas"):
            yield
    finally:
        _OUTER.pop()


def blas_limit(n_threads: int | None):
    """A context limiting the BLAS to ``n_threads`` (None: as it is)."""
    return _THREADS.limit(limits=n_threads, user_api="blas")
