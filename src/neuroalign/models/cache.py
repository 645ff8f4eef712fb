"""Content-addressed, atomically written on-disk store of activation arrays.

An entry is one float32 ``.npy`` file named by the SHA-256 of everything that determines its
content (model weights and architecture, stimuli, preprocessing, layer, reduction, versions),
plus a JSON sidecar with that description. Rows are streamed into a temporary file in the same
folder and published with :func:`os.replace` only after the last row is written and flushed, so a
crash leaves no entry behind (at most an ignored ``*.tmp`` file) and a stale entry cannot match a
changed input. Reads memory-map the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path

import numpy as np

from neuroalign._core.errors import ConfigError

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
        meta = self.final.with_suffix(".json")
        meta_tmp = meta.with_name(meta.name + f".{uuid.uuid4().hex}.tmp")
        meta_tmp.write_text(json.dumps(self.description, sort_keys=True, indent=1, default=str))
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
        """The entry as a read-only memory map ``(n_stimuli, n_features)``, or None if absent."""
        p = self.path(key)
        if not p.is_file():
            return None
        try:
            return np.load(p, mmap_mode="r")
        except (ValueError, OSError):  # damaged outside neuroalign: recompute and overwrite
            return None

    def description(self, key: str) -> dict | None:
        """The JSON description stored with an entry, or None."""
        p = self.path(key).with_suffix(".json")
        return json.loads(p.read_text()) if p.is_file() else None

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
