"""SQLite files as a results store sees them: recognised by their header, opened read-only
without creating or locking anything, and the files beside them (``-wal``, ``-shm``,
``-journal``, the spool) that an output must never overwrite."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

__all__ = ["is_locked", "is_store_file", "open_readonly", "store_paths", "uri"]

_HEADER = b"SQLite format 3\x00"
_READ_TIMEOUT = 5.0  # s; WAL readers only wait while a writer checkpoints in exclusive mode


def is_store_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` is an SQLite database file (by its 16-byte header); whether it is a
    *neuroalign* store is checked, without touching it, by :class:`ResultsStore`."""
    try:
        with open(path, "rb") as fh:
            return fh.read(16) == _HEADER
    except OSError:
        return False


def store_paths(path: str | os.PathLike) -> list[Path]:
    """The paths of the store at ``path``, resolved: the database, its ``-wal``, ``-shm`` and
    ``-journal`` files and its spool folder (an output file must be none of them)."""
    p = Path(path).expanduser().resolve()
    return [p, *(p.with_name(p.name + s) for s in ("-wal", "-shm", "-journal", ".spool"))]


def is_locked(exc: Exception) -> bool:
    """Whether an sqlite3 error says another connection holds the lock."""
    return getattr(exc, "sqlite_errorname", "").startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))


def uri(path: Path, query: str) -> str:
    """The ``file:`` URI of ``path`` with ``query`` (e.g. ``mode=ro``)."""
    return f"file:{quote(str(path.absolute()))}?{query}"


def _wal_header(path: Path) -> bool:
    """Whether the database file's header says WAL journal mode (bytes 18-19 == 2)."""
    with open(path, "rb") as fh:
        return fh.read(20)[18:20] == b"\x02\x02"


def open_readonly(path: Path, *, probe: bool) -> sqlite3.Connection:
    """A connection that cannot write (``mode=ro``, ``query_only``). ``immutable`` when no
    connection has the WAL database open (no ``-wal``/``-shm`` beside it): for a ``probe``, so it
    creates nothing beside the file, and for a reader in a folder where ``-shm`` cannot be made."""
    wal, shm = (path.with_name(path.name + s) for s in ("-wal", "-shm"))
    untouched = probe and _wal_header(path) and not wal.exists() and not shm.exists()
    query = "mode=ro&immutable=1" if untouched else "mode=ro"
    conn = sqlite3.connect(uri(path, query), uri=True, timeout=_READ_TIMEOUT)
    try:
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError as exc:
        conn.close()
        name = getattr(exc, "sqlite_errorname", "")
        if untouched or wal.exists() or not name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN")):
            raise
        conn = sqlite3.connect(uri(path, "mode=ro&immutable=1"), uri=True)
    conn.execute("PRAGMA query_only = 1")
    return conn
