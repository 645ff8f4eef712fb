"""The results store: unique keys, atomic writes, the documented frame, clear errors."""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest

from neuroalign.bench import FRAME_COLUMNS, SUMMARY_COLUMNS, ResultsStore, Score
from neuroalign.errors import DataError


def _score(key="k1", model="m", rows=(("l1", "forward", 10.0), ("l1", "reverse", 5.0))):
    summary = pd.DataFrame(
        [
            dict.fromkeys(SUMMARY_COLUMNS, np.nan)
            | {"layer": lay, "direction": d, "raw": v, "ceiling": 50.0, "normalised": 2 * v}
            for lay, d, v in rows
        ]  # fmt: skip
    ).reindex(columns=SUMMARY_COLUMNS)
    return Score(
        model=model,
        benchmark="synthetic.softplus",
        benchmark_version="1",
        seed=0,
        layers=sorted({r[0] for r in rows}),
        summary=summary,
        units=pd.DataFrame({"layer": ["l1"], "unit": ["u0"], "ev": [1.0]}),
        params={"n_draws": 2},
        provenance={"neuroalign": "x"},
        key=key,
        created="2026-01-01T00:00:00+00:00",
    )


def test_put_is_unique_and_frame_has_the_documented_columns(tmp_path):
    store = ResultsStore(tmp_path / "r.sqlite")
    assert store.put(_score()) is True
    assert store.put(_score()) is False  # same key: a no-op, never counted twice
    assert store.put(_score(key="k2", model="other")) is True
    assert len(store) == 2 and store.has("k1") and "k2" in store and not store.has("zz")
    df = store.frame()
    assert list(df.columns) == FRAME_COLUMNS
    assert len(df) == 4 and set(df["direction"]) == {"forward", "reverse"}
    row = df[(df["model"] == "m") & (df["direction"] == "forward")].iloc[0]
    assert (row["raw"], row["ceiling"], row["normalised"]) == (10.0, 50.0, 20.0)
    assert np.isnan(row["error"]) and row["key"] == "k1" and row["seed"] == 0
    got = store.get("k1")
    pd.testing.assert_frame_equal(got.frame(), _score().frame())
    # reopening sees the same results (WAL journal)
    store.close()
    again = ResultsStore(tmp_path / "r.sqlite", create=False)
    assert len(again) == 2
    (mode,) = again._conn.execute("PRAGMA journal_mode").fetchone()
    assert mode == "wal"


def test_a_failed_write_leaves_nothing(tmp_path):
    store = ResultsStore(tmp_path / "r.sqlite")
    bad = _score(rows=(("l1", "forward", 1.0), ("l1", "forward", 2.0)))  # duplicate row key
    with pytest.raises(sqlite3.IntegrityError):
        store.put(bad)
    assert len(store) == 0 and store.frame().empty
    assert store.put(_score()) is True


def test_errors_are_data_errors(tmp_path):
    with pytest.raises(DataError, match="no results store"):
        ResultsStore(tmp_path / "missing.sqlite", create=False)
    junk = tmp_path / "junk.sqlite"
    junk.write_text("not a database at all, really not")
    with pytest.raises(DataError, match="not a neuroalign results store"):
        ResultsStore(junk)
    store = ResultsStore(tmp_path / "r.sqlite")
    with pytest.raises(DataError, match="no result with key"):
        store.get("nope")


def test_default_store_path(monkeypatch, tmp_path):
    from neuroalign.bench import default_store_path

    monkeypatch.setenv("NEUROALIGN_HOME", str(tmp_path))
    assert default_store_path() == tmp_path / "results.sqlite"
    monkeypatch.delenv("NEUROALIGN_HOME")
    assert default_store_path().name == "neuroalign-results.sqlite"
