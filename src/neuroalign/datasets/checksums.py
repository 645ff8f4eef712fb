"""SHA-256 verification of dataset files, chunked, with a per-process cache of verified files."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from pathlib import Path

from neuroalign._core.errors import ChecksumError, DataError
from neuroalign.datasets.base import DatasetInfo

__all__ = ["sha256_file", "verify_files"]

_CHUNK = 1 << 20
# a file changed less than this before it was hashed may change again within the same timestamp
# tick (file systems stamp with a coarse clock, some in whole seconds): it is not cached
_SETTLE_NS = 2_000_000_000
# (resolved path, device, inode, size, mtime_ns, ctime_ns) -> hex digest of files hashed here
_HASH_CACHE: dict[tuple[str, int, int, int, int, int], str] = {}


def _stat_key(path: Path) -> tuple[str, int, int, int, int, int]:
    st = path.stat()
    return (str(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def sha256_file(path: str | Path) -> str:
    """SHA-256 hex digest of a file, read in 1 MiB chunks.

    Cached per process on (path, device, inode, size, mtime, ctime): an edit in place changes
    the ctime even when it restores size and mtime (a user cannot set ctime). Files changed in
    the 2 s before hashing are not cached, so a second edit in the same timestamp tick is seen.
    """
    path = Path(path).resolve()
    key = _stat_key(path)
    digest = _HASH_CACHE.get(key)
    if digest is None:
        start = time.time_ns()
        h = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                h.update(chunk)
        digest = h.hexdigest()
        settled = max(key[4], key[5]) < start - _SETTLE_NS
        if settled and _stat_key(path) == key:
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
