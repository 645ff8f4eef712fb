"""SHA-256 verification of dataset files, chunked, with a per-process cache of verified files."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from neuroalign._core.errors import ChecksumError, DataError
from neuroalign.datasets.base import DatasetInfo

__all__ = ["sha256_file", "verify_files"]

_CHUNK = 1 << 20
# (resolved path, size, mtime_ns) -> hex digest of files hashed in this process
_HASH_CACHE: dict[tuple[str, int, int], str] = {}


def sha256_file(path: str | Path) -> str:
    """SHA-256 hex digest of a file, read in 1 MiB chunks; cached on (path, size, mtime)."""
    path = Path(path).resolve()
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    digest = _HASH_CACHE.get(key)
    if digest is None:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                h.update(chunk)
        digest = h.hexdigest()
        _HASH_CACHE[key] = digest
    return digest


def verify_files(
    info: DatasetInfo, root: Path, files: Iterable[str] | None = None
) -> dict[str, str]:
    """Check that ``files`` (default: all of ``info.files``) exist under ``root`` and match.

    Returns ``{relative path: sha256}``. Raises :class:`DataError` naming the folder and every
    missing file, or :class:`ChecksumError` naming the file, expected and actual hash.
    Call before parsing anything.
    """
    names = list(info.files) if files is None else list(files)
    if not root.is_dir():
        raise DataError(
            f"dataset {info.name!r} not found: expected folder {root} holding {len(names)} "
            f"file(s) ({', '.join(names[:4])}{', ...' if len(names) > 4 else ''}). "
            f"{info.how_to_obtain}"
        )
    missing = [n for n in names if not (root / n).is_file()]
    if missing:
        raise DataError(
            f"dataset {info.name!r} in {root} lacks {len(missing)} file(s): {', '.join(missing)}. "
            f"{info.how_to_obtain}"
        )
    digests = {}
    for n in names:
        actual = sha256_file(root / n)
        expected = info.files[n]
        if actual != expected:
            raise ChecksumError(
                f"{root / n} is truncated or altered: SHA-256 {actual}, expected {expected}. "
                f"Replace it with an intact copy. {info.how_to_obtain}"
            )
        digests[n] = actual
    return digests
