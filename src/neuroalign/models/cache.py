"""Content-addressed, atomically written on-disk store of activation arrays.

An entry is one float32 ``.npy`` file named by the SHA-256 of everything that determines its
content (model weights and architecture, stimuli, preprocessing, layer, reduction, versions),
plus a JSON sidecar with that description and the entry's own SHA-256, shape and dtype. Rows are
streamed into a temporary file in the same folder and published with :func:`os.replace` only
after the last row is written and flushed, so a crash leaves no entry behind (at most an ignored
``*.tmp`` file) and a stale entry cannot match a changed input. Reads check the entry against its
sidecar and memory-map it; an entry that does not match (changed bytes, NaN written into it, a
truncated or empty file, another shape or dtype, no sidecar) is a miss: it is moved to
``root/damaged/`` (kept for inspection, never read again) with one warning, and recomputed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import uuid
import warnings
from pathlib import Path

import numpy as np

from neuroalign._core.errors import ConfigError
from neuroalign.datasets.checksums import sha256_file

__all__ = ["ActivationCache", "default_cache_dir", "hash_key"]

ENV_VAR = "NEUROALIGN_CACHE"


def default_cache_dir() -> Path:
    """``$NEUROALIGN_CACHE``, else ``$XDG_CACHE_HOME/neuroalign``, else ``~/.cache/neuroalign``."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "neuroalign"


def hash_key(description: dict) -> str:
    """SHA-256 hex digest of a JSON-serialisable description (keys sorted)."""
    blob = json.dumps(description, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


class _Writer:
    """Streams rows of one entry into a temporary ``.npy``; :meth:`commit` publishes it."""

    def __init__(self, final: Path, shape: tuple[int, int], description: dict):
        self.final = final
        self.description = description
        self.tmp = final.with_name(f"{final.stem}.{uuid.uuid4().hex}.tmp")
        self.array = np.lib.format.open_memmap(self.tmp, mode="w+", dtype=np.float32, shape=shape)
        self.filled = 0

    def write(self, start: int, rows: np.ndarray) -> None:
        self.array[start : start + len(rows)] = rows
        self.filled += len(rows)

    def commit(self) -> np.ndarray:
        if self.filled != self.array.shape[0]:
            raise RuntimeError(f"cache entry incomplete: {self.filled}/{self.array.shape[0]} rows.")
        self.array.flush()
        del self.array
        with open(self.tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        shape = np.load(self.tmp, mmap_mode="r").shape
        sidecar = {
            "description": self.description,
            "entry": {"sha256": sha256_file(self.tmp), "shape": list(shape), "dtype": "float32"},
        }
        meta = self.final.with_suffix(".json")
        meta_tmp = meta.with_name(meta.name + f".{uuid.uuid4().hex}.tmp")
        meta_tmp.write_text(json.dumps(sidecar, sort_keys=True, indent=1, default=str))
        os.replace(meta_tmp, meta)
        os.replace(self.tmp, self.final)  # the commit point: the entry now exists
        return np.load(self.final, mmap_mode="r")

    def abort(self) -> None:
        if hasattr(self, "array"):
            del self.array
        self.tmp.unlink(missing_ok=True)


class ActivationCache:
    """A folder of activation entries addressed by :func:`hash_key` of their description.

    ``root=None`` uses :func:`default_cache_dir`. Entries live under ``root/ab/abcdef….npy``.
    """

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root).expanduser() if root is not None else default_cache_dir()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"cannot create the activation cache folder {self.root}: {exc}; pass cache=<a "
                f"writable folder>, set {ENV_VAR}, or use cache=False."
            ) from exc

    def __repr__(self) -> str:
        return f"ActivationCache({str(self.root)!r})"

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npy"

    def get(self, key: str) -> np.ndarray | None:
        """The entry as a read-only memory map ``(n_stimuli, n_features)`` float32, or None if
        absent or damaged (a damaged entry is moved to ``root/damaged/`` with a warning)."""
        p = self.path(key)
        if not p.is_file():
            return None
        entry = (self._sidecar(key) or {}).get("entry")
        if not isinstance(entry, dict):
            problem = "it has no checksum record beside it"
        elif sha256_file(p) != entry.get("sha256"):
            problem = "its SHA-256 differs from the one recorded when it was written"
        else:
            try:
                array = np.load(p, mmap_mode="r")
            except (ValueError, OSError) as exc:
                problem = f"it cannot be read ({exc})"
            else:
                found = [list(array.shape), str(array.dtype)]
                recorded = [entry.get("shape"), entry.get("dtype")]
                if found == recorded:
                    return array
                problem = f"it holds shape and dtype {found}, recorded {recorded}"
        self._set_aside(key, problem)
        return None

    def _sidecar(self, key: str) -> dict | None:
        p = self.path(key).with_suffix(".json")
        try:
            meta = json.loads(p.read_text())
        except (OSError, ValueError):
            return None
        return meta if isinstance(meta, dict) else None

    def _set_aside(self, key: str, problem: str) -> None:
        """Move a damaged entry and its sidecar to ``root/damaged/`` and warn once."""
        damaged = self.root / "damaged"
        damaged.mkdir(exist_ok=True)
        stem = f"{key}.{uuid.uuid4().hex[:8]}"
        src = self.path(key)
        dest = damaged / f"{stem}.npy"
        try:
            os.replace(src, dest)
        except FileNotFoundError:  # another process moved it first
            return
        with contextlib.suppress(FileNotFoundError):
            os.replace(src.with_suffix(".json"), damaged / f"{stem}.json")
        warnings.warn(
            f"activation cache entry {src} is damaged: {problem}. It was moved to {dest} and "
            "is recomputed.",
            stacklevel=3,
        )

    def description(self, key: str) -> dict | None:
        """The JSON description stored with an entry, or None."""
        return (self._sidecar(key) or {}).get("description")

    def writer(self, key: str, shape: tuple[int, int], description: dict) -> _Writer:
        """Start writing an entry of ``shape``; call ``commit()`` when full or ``abort()``."""
        final = self.path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        return _Writer(final, tuple(int(s) for s in shape), description)

    def clean(self) -> int:
        """Delete temporary files left by crashed writers; returns how many were removed.

        Run it only while no extraction writes to this cache.
        """
        n = 0
        for p in [*self.root.glob("*/*.tmp"), *self.root.glob("*.tmp")]:
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
            n += 1
        return n
