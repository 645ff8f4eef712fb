"""A results store: one SQLite file (stdlib ``sqlite3``, WAL journal) of :class:`Score` results.

Each result is keyed by :attr:`Score.key` (the SHA-256 of model, layers, benchmark + version,
seed and parameters), a UNIQUE primary key: putting a key that is already there changes nothing,
so a sweep never counts a run twice, and ``has(key)`` lets a sweep skip finished work. A result is
written in one transaction (its record and rows together, or nothing) and is on disk when
:meth:`~ResultsStore.put` returns (``synchronous=FULL``).

**Writers** (``ResultsStore(path)``, several processes at once): a ``put`` waits up to
``timeout`` s (60) for the write lock, SQLite retrying with back-off; a result that still cannot
be written goes to the **spool** ``<store>.spool/`` beside the store (one Score JSON file per
key, written atomically) with a :class:`SpoolWarning` naming the file. Spooled results count as
stored (``has``, ``get``, ``frame`` read them) and move into the database at the next write or
open for writing, by any process.

**Readers** (``ResultsStore(path, readonly=True)``) open with ``mode=ro``: they create, migrate
and lock nothing, work in a read-only folder and never wait behind a writer. A file that is not
a neuroalign store (not SQLite, or another application's database) is refused with a
:class:`DataError`, untouched, by readers and writers alike.

Tables: ``meta`` (schema version), ``results`` (one row per result: key, model, layers,
benchmark, benchmark_version, seed, params JSON, created, the Score JSON) and ``rows`` (one row
per (key, layer, direction): the summary numbers). :meth:`ResultsStore.frame` joins them into
the stable table of :data:`~neuroalign.bench.rows.FRAME_COLUMNS` (model, layer, benchmark,
version, direction, the score with its ceiling, interval, null and baseline). A schema-1 store
(before the null and interval columns) is migrated when opened for writing and read as it is.

The default store is ``$NEUROALIGN_HOME/results.sqlite`` when ``NEUROALIGN_HOME`` is set, else
``./neuroalign-results.sqlite``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import time
import uuid
import warnings
from pathlib import Path

import pandas as pd

from neuroalign._core.errors import ConfigError, DataError
from neuroalign.bench.score import FRAME_COLUMNS, SUMMARY_COLUMNS, Score
from neuroalign.bench.sqlite_files import is_locked, is_store_file, open_readonly, store_paths

__all__ = [
    "HOME_ENV",
    "ResultsStore",
    "SpoolWarning",
    "default_store_path",
    "is_store_file",
    "store_paths",
]

HOME_ENV = "NEUROALIGN_HOME"
_SCHEMA_VERSION = "2"  # 2: the null, the bootstrap interval, population and masquerade columns
_TABLES = {"meta", "results", "rows"}
_ROW_COLUMNS = list(SUMMARY_COLUMNS)  # layer, direction, raw, ...
_SQL_TYPES = dict(layer="TEXT NOT NULL", direction="TEXT NOT NULL", area="TEXT", transform="TEXT")
_SQL_TYPES |= dict(ceiling_kind="TEXT")
_SQL_TYPES |= dict(n_units="INTEGER", n_valid="INTEGER")
_FLOAT_COLUMNS = [c for c in _ROW_COLUMNS if _SQL_TYPES.get(c, "REAL") == "REAL"]
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, model TEXT NOT NULL,
    layers TEXT NOT NULL, benchmark TEXT NOT NULL, benchmark_version TEXT NOT NULL,
    seed INTEGER NOT NULL, params TEXT NOT NULL, created TEXT NOT NULL, score TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rows (key TEXT NOT NULL REFERENCES results(key),
    {", ".join(f'"{c}" {_SQL_TYPES.get(c, "REAL")}' for c in _ROW_COLUMNS)},
    PRIMARY KEY (key, layer, direction));
CREATE INDEX IF NOT EXISTS results_benchmark ON results(benchmark, model);
INSERT OR IGNORE INTO meta(name, value) VALUES ('schema', '{_SCHEMA_VERSION}');
"""


class SpoolWarning(UserWarning):
    """A result could not be written to the store and waits in its spool at :attr:`path`."""

    def __init__(self, message: str, path: Path):
        super().__init__(message)
        self.path = path


def default_store_path() -> Path:
    """``$NEUROALIGN_HOME/results.sqlite`` if ``NEUROALIGN_HOME`` is set, else
    ``./neuroalign-results.sqlite``."""
    home = os.environ.get(HOME_ENV)
    if home:
        return Path(home).expanduser() / "results.sqlite"
    return Path("neuroalign-results.sqlite")


def _sql(v):
    """A summary value as SQLite takes it: numpy scalars as Python ones, NaN as NULL."""
    v = v.item() if hasattr(v, "item") else v
    return None if v is None or (isinstance(v, float) and v != v) else v


class ResultsStore:
    """SQLite store of :class:`Score` results at ``path`` (see the module doc).

    ``readonly=True``: a reader (nothing written, created or waited for; ``put`` refused).
    ``create=False``: refuse a missing file (a reader always does). ``timeout``: seconds a ``put``
    waits for the write lock before spooling the result. A missing file (reader), a file that is
    not a neuroalign store, a store of another schema, a damaged store or a store a writer cannot
    write are :class:`DataError` s naming the file.
    """

    def __init__(self, path: str | os.PathLike, *, create=True, readonly=False, timeout=60.0):
        if not timeout >= 0:
            raise ConfigError(f"timeout must be a number of seconds >= 0, got {timeout!r}.")
        self.path = Path(path).expanduser()
        if self.path.is_dir() or not self.path.name:
            raise DataError(f"{path} is a folder, not a results store; give a .sqlite file.")
        self.readonly = readonly
        self.timeout = float(timeout)
        self.spool_dir = self.path.with_name(self.path.name + ".spool")
        self._conn: sqlite3.Connection | None = None
        if not self.path.exists() and (readonly or not create):
            raise DataError(
                f"no results store at {self.path}; score something first "
                "(`neuroalign score MODEL BENCHMARK --store PATH`) or give the right path."
            )
        ready = self.path.exists() and self._check()
        if readonly:
            with self._errors("open"):
                self._conn = open_readonly(self.path, probe=False)
            return
        self._open_writer(initialise=not ready)
        self._drain()

    # ------------------------------------------------------------------------------ opening
    def _check(self) -> bool:
        """Whether the existing file is an initialised neuroalign store (False: an empty file or
        database, for a writer to initialise); reads it without changing anything beside it."""
        empty = self.path.stat().st_size == 0
        if empty and not self.readonly:
            return False
        if not is_store_file(self.path):
            kind = "an empty file" if empty else "not an SQLite file"
            raise DataError(
                f"{self.path} is not a neuroalign results store ({kind}); give a .sqlite file "
                "written by neuroalign, or result JSON files."
            )
        with self._errors("read"):
            conn = open_readonly(self.path, probe=True)
            try:
                tables = {t for (t,) in conn.execute("SELECT name FROM sqlite_master")}
                meta = (
                    dict(conn.execute("SELECT name, value FROM meta")) if _TABLES <= tables else {}
                )
            finally:
                conn.close()
        if not tables and not self.readonly:
            return False
        if "schema" not in meta:
            raise DataError(
                f"{self.path} is an SQLite database but not a neuroalign results store (its "
                f"tables: {', '.join(sorted(tables)) or 'none'}); it was left untouched. Give "
                "another file name for the store."
            )
        if meta["schema"] not in ("1", _SCHEMA_VERSION):
            raise DataError(
                f"{self.path} has results-store schema {meta['schema']}; this neuroalign reads "
                f"schemas 1 and {_SCHEMA_VERSION}. Use a new store file."
            )
        self._schema = meta["schema"]
        return True

    def _open_writer(self, *, initialise: bool) -> None:
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DataError(
                f"cannot create the folder of the results store {self.path}: {exc}; give a "
                "--store path in a writable folder."
            ) from None
        if not all(os.access(p, os.W_OK) for p in (folder, self.path) if p.exists()):
            raise DataError(
                f"cannot write the results store {self.path}: the file or its folder is "
                "read-only (SQLite writes a -wal file beside it). Read it with "
                "ResultsStore(path, readonly=True), or give a --store path in a writable folder."
            )
        with self._errors("open"):
            self._conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
            self._conn.execute("PRAGMA synchronous=FULL")
            if initialise:
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.executescript(_SCHEMA)
            elif getattr(self, "_schema", _SCHEMA_VERSION) != _SCHEMA_VERSION:
                self._migrate()

    def _migrate(self) -> None:
        """Schema 1 → 2: the rows table gains the columns added since (NULL in old rows)."""
        present = {r[1] for r in self._conn.execute("PRAGMA table_info(rows)")}
        self._conn.execute("BEGIN IMMEDIATE")
        for c in (c for c in _ROW_COLUMNS if c not in present):
            self._conn.execute(f'ALTER TABLE rows ADD COLUMN "{c}" {_SQL_TYPES.get(c, "REAL")}')
        self._conn.execute("UPDATE meta SET value = ? WHERE name = 'schema'", (_SCHEMA_VERSION,))
        self._conn.execute("COMMIT")
        self._schema = _SCHEMA_VERSION

    @contextlib.contextmanager
    def _errors(self, what: str):
        """SQLite errors of reading or opening (and values a damaged file decodes to) as
        :class:`DataError` s naming the store."""
        try:
            yield
        except (sqlite3.DatabaseError, ValueError, TypeError) as exc:
            if is_locked(exc):
                raise DataError(
                    f"the results store {self.path} stayed locked by another process while "
                    f"trying to {what} it ({exc}); try again when that process is done."
                ) from None
            raise DataError(
                f"cannot {what} the results store {self.path}: {exc}. The file is damaged or "
                "not a neuroalign store; restore it from a copy (`sqlite3 FILE .recover` may "
                "save its rows) or give another file."
            ) from None

    # -------------------------------------------------------------------------------- access
    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ResultsStore({str(self.path)!r}, {len(self)} results)"

    def __len__(self) -> int:
        return len(self.keys())

    def __contains__(self, key: str) -> bool:
        return self.has(key)

    def _query(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._errors("read"):
            return self._conn.execute(sql, args).fetchall()

    def has(self, key: str) -> bool:
        """Whether a result with ``key`` is stored (in the database or its spool)."""
        if self._query("SELECT 1 FROM results WHERE key = ?", (key,)):
            return True
        return self.spool_file(key) is not None

    def keys(self) -> list[str]:
        """Every stored key (spooled ones included), oldest first."""
        stored = self._query("SELECT created, key FROM results")
        return [k for _, k in sorted(stored + [(s.created, s.key) for s in self._spooled()])]

    def get(self, key: str) -> Score:
        """The stored :class:`Score` with ``key``; :class:`DataError` when absent."""
        rows = self._query("SELECT score FROM results WHERE key = ?", (key,))
        if rows:
            return self._parse(rows[0][0], f"the result {key[:16]}… in {self.path}")
        spooled = self.spool_file(key)
        if spooled is None:
            raise DataError(f"no result with key {key[:16]}… in {self.path}.")
        return self._parse(spooled.read_text(errors="replace"), str(spooled))

    @staticmethod
    def _parse(text: str, where: str) -> Score:
        try:
            return Score.from_json(text)
        except (DataError, ValueError, KeyError, TypeError) as exc:
            raise DataError(
                f"{where} is not a readable Score ({type(exc).__name__}: {exc}); the file is "
                "damaged. Recompute it (`--recompute`) or restore the store from a copy."
            ) from None

    def scores(self, benchmark: str | None = None) -> list[Score]:
        """Every stored Score (optionally of one benchmark), oldest first."""
        where, args = ("", ()) if benchmark is None else (" WHERE benchmark = ?", (benchmark,))
        rows = self._query("SELECT key, score FROM results" + where, args)
        out = [self._parse(s, f"the result {k[:16]}… in {self.path}") for k, s in rows]
        out += [s for s in self._spooled() if benchmark in (None, s.benchmark)]
        return sorted(out, key=lambda s: (s.created, s.key))

    def frame(self) -> pd.DataFrame:
        """One row per (result, layer, direction), columns :data:`FRAME_COLUMNS` (see module doc),
        sorted by benchmark, model, layer, direction; spooled results included."""
        present = {r[1] for r in self._query("PRAGMA table_info(rows)")}  # schema 1: fewer
        row_cols = [c for c in _ROW_COLUMNS if c in present]
        names = ["model", "benchmark", "benchmark_version", "seed", "key", "created", *row_cols]
        cols = (
            ", ".join(f"r.{c}" for c in names[:6]) + ", " + ", ".join(f'w."{c}"' for c in names[6:])
        )
        rows = self._query(f"SELECT {cols} FROM rows w JOIN results r ON r.key = w.key")
        df = pd.DataFrame.from_records(rows, columns=names, coerce_float=True)
        extra = [s.frame() for s in self._spooled()]
        if extra:
            df = pd.concat([df, *extra] if len(df) else extra, ignore_index=True)
        with self._errors("read"):
            df = df.reindex(columns=FRAME_COLUMNS)
            for c in _FLOAT_COLUMNS:
                df[c] = df[c].astype(float)
        return df.sort_values(["benchmark", "model", "layer", "direction"], ignore_index=True)

    # -------------------------------------------------------------------------------- writing
    def put(self, score: Score) -> bool:
        """Store ``score`` atomically; returns False (and changes nothing) when its key is there.

        When the write lock stays taken for ``timeout`` s (or the database refuses the write), the
        result goes to the spool (:meth:`spool_file` names it) with a :class:`SpoolWarning`."""
        if self.readonly:
            raise ConfigError(f"{self.path} was opened read-only; use ResultsStore(path) to write.")
        rows = _rows(score)
        if self.spool_file(score.key) is not None:
            return False
        try:
            inserted = self._write(lambda c: _insert(c, score, rows), self.timeout)
        except sqlite3.DatabaseError as exc:
            path = self._spool(score)
            reason = "stayed locked by another writer" if is_locked(exc) else f"failed ({exc})"
            warnings.warn(
                SpoolWarning(
                    f"the results store {self.path} {reason}; the result {score.key[:16]}… was "
                    f"kept in {path} and joins the store at its next write.",
                    path,
                ),
                stacklevel=2,
            )
            return True
        self._drain()
        return inserted

    def _write(self, fn, timeout: float):
        """Run ``fn(conn)`` in one IMMEDIATE transaction, waiting up to ``timeout`` s for the lock
        (SQLite's busy handler retries with back-off; an immediate SQLITE_BUSY is retried here)."""
        c = self._conn
        deadline = time.monotonic() + timeout
        delay = 0.01
        while True:
            c.execute(f"PRAGMA busy_timeout = {int(1000 * max(deadline - time.monotonic(), 0))}")
            try:
                c.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError as exc:
                if not is_locked(exc) or time.monotonic() + delay > deadline:
                    raise
                time.sleep(delay)
                delay = min(2 * delay, 1.0)
        try:
            out = fn(c)
            c.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                c.execute("ROLLBACK")
            raise
        return out

    # ---------------------------------------------------------------------------------- spool
    def spool_file(self, key: str) -> Path | None:
        """The spool file holding the result ``key`` while it waits outside the database."""
        p = self.spool_dir / _spool_name(key)
        return p if p.is_file() else None

    def spooled(self) -> list[Path]:
        """Every spool file waiting to join the database."""
        return sorted(self.spool_dir.glob("*.json")) if self.spool_dir.is_dir() else []

    def _spool(self, score: Score) -> Path:
        final = self.spool_dir / _spool_name(score.key)
        tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex}.tmp")
        try:
            self.spool_dir.mkdir(exist_ok=True)
            with open(tmp, "w") as fh:
                fh.write(score.to_json())
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, final)
            fd = os.open(self.spool_dir, os.O_RDONLY)
            os.fsync(fd)
            os.close(fd)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise DataError(
                f"the results store {self.path} cannot take the result {score.key[:16]}… and "
                f"its spool {self.spool_dir} cannot be written ({exc}); save the result with "
                "score.to_json(PATH) and free the store or its folder."
            ) from None
        return final

    def _read_spool(self) -> list[tuple[Path, Score]]:
        """Every readable spooled result (an unreadable file stays where it is, with a warning)."""
        out = []
        for p in self.spooled():
            try:
                score = self._parse(p.read_text(), str(p))
                _rows(score)  # a Score the database would refuse stays in the spool too
                out.append((p, score))
            except (OSError, ValueError) as exc:  # unreadable bytes or no valid Score
                warnings.warn(f"a spooled result was left where it is: {exc}", stacklevel=3)
        return out

    def _spooled(self) -> list[Score]:
        """Spooled results not (yet) in the database."""
        inside = "SELECT 1 FROM results WHERE key = ?"
        return [s for _, s in self._read_spool() if not self._query(inside, (s.key,))]

    def _drain(self) -> None:
        """Move spooled results into the database (without waiting: later if the lock is busy)."""
        for p, s in self._read_spool():
            try:
                self._write(lambda c, s=s: _insert(c, s, _rows(s)), 0.0)
            except sqlite3.DatabaseError:
                return
            p.unlink(missing_ok=True)


def _spool_name(key: str) -> str:
    return f"{hashlib.sha256(key.encode()).hexdigest()}.json"


def _rows(score: Score) -> list[tuple]:
    """The ``rows`` records of ``score``; duplicate (layer, direction) rows are a DataError."""
    summary = score.summary
    dup = summary.duplicated(["layer", "direction"])
    if dup.any():
        first = summary[dup].iloc[0]
        raise DataError(
            f"the score {score.key[:16]}… has two summary rows for layer {first['layer']!r}, "
            f"direction {first['direction']!r}; each (layer, direction) needs one row."
        )
    return [
        (score.key, *(_sql(r[col]) for col in _ROW_COLUMNS))
        for r in summary.to_dict(orient="records")
    ]


def _insert(c: sqlite3.Connection, score: Score, rows: list[tuple]) -> bool:
    cur = c.execute(
        "INSERT OR IGNORE INTO results(key, model, layers, benchmark, benchmark_version, "
        "seed, params, created, score) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            score.key,
            score.model,
            json.dumps(score.layers),
            score.benchmark,
            score.benchmark_version,
            int(score.seed),
            json.dumps(score.params, sort_keys=True, default=str),
            score.created,
            score.to_json(),
        ),
    )
    if cur.rowcount != 1:
        return False
    cols = ", ".join(f'"{c}"' for c in _ROW_COLUMNS)
    marks = ", ".join("?" * (len(_ROW_COLUMNS) + 1))
    c.executemany(f"INSERT INTO rows(key, {cols}) VALUES ({marks})", rows)
    return True
