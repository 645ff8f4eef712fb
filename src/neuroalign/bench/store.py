"""A results store: one SQLite file (stdlib ``sqlite3``, WAL journal) of :class:`Score` results.

Each result is keyed by :attr:`Score.key` (the SHA-256 of model, layers, benchmark + version,
seed and parameters), a UNIQUE primary key: putting a key that is already there changes nothing,
so a sweep never counts a run twice, and ``has(key)`` lets a sweep skip finished work. A result is
written in one transaction (its record and its rows together, or nothing), so an interrupted
sweep leaves only complete results; several processes may write the same store (SQLite locks;
a 60 s busy timeout).

Tables: ``results`` (one row per result: key, model, layers, benchmark, benchmark_version, seed,
params JSON, created, the full Score JSON) and ``rows`` (one row per (key, layer, direction): the
summary numbers). :meth:`ResultsStore.frame` joins them into the stable table the report, the
leaderboard and sweeps build on, with columns :data:`~neuroalign.bench.score.FRAME_COLUMNS`:

``model, layer, benchmark, benchmark_version, direction, raw, ceiling, normalised, error, seed,
key, created, area, transform, n_units, n_valid, animal_median, masquerade_ratio, percentile``.

The default store is ``$NEUROALIGN_HOME/results.sqlite`` when ``NEUROALIGN_HOME`` is set, else
``./neuroalign-results.sqlite``.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pandas as pd

from neuroalign._core.errors import DataError
from neuroalign.bench.score import FRAME_COLUMNS, SUMMARY_COLUMNS, Score

__all__ = ["HOME_ENV", "ResultsStore", "default_store_path", "is_store_file"]

HOME_ENV = "NEUROALIGN_HOME"
_SCHEMA_VERSION = "1"
_ROW_COLUMNS = [c for c in SUMMARY_COLUMNS]  # layer, direction, raw, ...
_SQL_TYPES = {
    "layer": "TEXT NOT NULL",
    "direction": "TEXT NOT NULL",
    "area": "TEXT",
    "transform": "TEXT",
    "n_units": "INTEGER",
    "n_valid": "INTEGER",
}
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS results (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    layers TEXT NOT NULL,
    benchmark TEXT NOT NULL,
    benchmark_version TEXT NOT NULL,
    seed INTEGER NOT NULL,
    params TEXT NOT NULL,
    created TEXT NOT NULL,
    score TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rows (
    key TEXT NOT NULL REFERENCES results(key),
    {", ".join(f"{c} {_SQL_TYPES.get(c, 'REAL')}" for c in _ROW_COLUMNS)},
    PRIMARY KEY (key, layer, direction)
);
CREATE INDEX IF NOT EXISTS results_benchmark ON results(benchmark, model);
"""


def default_store_path() -> Path:
    """``$NEUROALIGN_HOME/results.sqlite`` if ``NEUROALIGN_HOME`` is set, else
    ``./neuroalign-results.sqlite``."""
    home = os.environ.get(HOME_ENV)
    if home:
        return Path(home).expanduser() / "results.sqlite"
    return Path("neuroalign-results.sqlite")


def is_store_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` is an SQLite file (by its 16-byte header)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def _num(v):
    return None if v is None or (isinstance(v, float) and v != v) else v


class ResultsStore:
    """SQLite store of :class:`Score` results at ``path``.

    ``create=False`` refuses a missing file (for readers: report, leaderboard) with a
    :class:`DataError`; a file that is not a neuroalign store is a :class:`DataError` too.
    """

    def __init__(self, path: str | os.PathLike, *, create: bool = True):
        self.path = Path(path).expanduser()
        if not self.path.exists():
            if not create:
                raise DataError(
                    f"no results store at {self.path}; score something first "
                    "(`neuroalign score MODEL BENCHMARK --store PATH`) or give the right path."
                )
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif not is_store_file(self.path) and self.path.stat().st_size > 0:
            raise DataError(
                f"{self.path} is not a neuroalign results store (not an SQLite file); give a "
                ".sqlite file written by neuroalign, or result JSON files."
            )
        try:
            self._conn = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SCHEMA)
            self._conn.execute(
                "INSERT OR IGNORE INTO meta(name, value) VALUES ('schema', ?)", (_SCHEMA_VERSION,)
            )
            (version,) = self._conn.execute("SELECT value FROM meta WHERE name='schema'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise DataError(
                f"{self.path} is not a usable neuroalign results store ({exc})."
            ) from None
        if version != _SCHEMA_VERSION:
            raise DataError(
                f"{self.path} has results-store schema {version}; this neuroalign reads schema "
                f"{_SCHEMA_VERSION}. Use a new store file."
            )

    # -------------------------------------------------------------------------------- access
    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ResultsStore({str(self.path)!r}, {len(self)} results)"

    def __len__(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM results").fetchone()[0])

    def __contains__(self, key: str) -> bool:
        return self.has(key)

    def has(self, key: str) -> bool:
        """Whether a result with ``key`` is stored."""
        row = self._conn.execute("SELECT 1 FROM results WHERE key = ?", (key,)).fetchone()
        return row is not None

    def keys(self) -> list[str]:
        return [k for (k,) in self._conn.execute("SELECT key FROM results ORDER BY created, key")]

    def put(self, score: Score) -> bool:
        """Store ``score`` atomically; returns False (and changes nothing) when its key is there."""
        c = self._conn
        c.execute("BEGIN IMMEDIATE")
        try:
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
            inserted = cur.rowcount == 1
            if inserted:
                cols = ", ".join(_ROW_COLUMNS)
                marks = ", ".join("?" * (len(_ROW_COLUMNS) + 1))
                c.executemany(
                    f"INSERT INTO rows(key, {cols}) VALUES ({marks})",
                    [
                        (score.key, *(_num(_py(r[col])) for col in _ROW_COLUMNS))
                        for r in score.summary.to_dict(orient="records")
                    ],
                )
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise
        return inserted

    def get(self, key: str) -> Score:
        """The stored :class:`Score` with ``key``; :class:`DataError` when absent."""
        row = self._conn.execute("SELECT score FROM results WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise DataError(f"no result with key {key[:16]}… in {self.path}.")
        return Score.from_json(row[0])

    def scores(self, benchmark: str | None = None) -> list[Score]:
        """Every stored Score (optionally of one benchmark), oldest first."""
        q = "SELECT score FROM results"
        args: tuple = ()
        if benchmark is not None:
            q += " WHERE benchmark = ?"
            args = (benchmark,)
        return [
            Score.from_json(s) for (s,) in self._conn.execute(q + " ORDER BY created, key", args)
        ]

    def frame(self) -> pd.DataFrame:
        """One row per (result, layer, direction), columns :data:`FRAME_COLUMNS` (see module doc),
        sorted by benchmark, model, layer, direction."""
        cols = ", ".join(f"w.{c}" for c in _ROW_COLUMNS)
        q = (
            f"SELECT r.model, r.benchmark, r.benchmark_version, r.seed, r.key, r.created, {cols} "
            "FROM rows w JOIN results r ON r.key = w.key"
        )
        df = pd.read_sql_query(q, self._conn)
        for c in ("raw", "ceiling", "normalised", "error", "animal_median", "masquerade_ratio", "percentile"):  # fmt: skip
            df[c] = df[c].astype(float)
        df = df.reindex(columns=FRAME_COLUMNS)
        return df.sort_values(["benchmark", "model", "layer", "direction"], ignore_index=True)


def _py(v):
    return v.item() if hasattr(v, "item") else v
