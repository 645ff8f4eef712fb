"""The results store: unique keys, atomic writes, the documented frame, clear errors, read-only
readers, foreign files left untouched, and the spool that keeps results a busy store cannot take
(the multi-process cases are in test_faults.py)."""

from __future__ import annotations

import hashlib
import sqlite3
import warnings

import numpy as np
import pandas as pd
import pytest

from neuroalign.bench import FRAME_COLUMNS, SUMMARY_COLUMNS, ResultsStore, Score
from neuroalign.errors import ConfigError, DataError


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
    with pytest.raises(DataError, match="two summary rows for layer 'l1', direction 'forward'"):
        store.put(bad)
    assert len(store) == 0 and store.frame().empty and not store.spooled()
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


def _snapshot(folder):
    """Every file in ``folder`` with its SHA-256: what "untouched" means."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def _expected_rows(*scores):
    return pd.concat([s.frame() for s in scores], ignore_index=True).sort_values(
        ["benchmark", "model", "layer", "direction"], ignore_index=True
    )


def _check_rows(store, *scores):
    """Every stored row equals the row of the Score that was put, once."""
    got = store.frame()
    want = _expected_rows(*scores)
    cols = ["key", "model", "layer", "direction", "raw", "ceiling", "normalised", "seed"]
    pd.testing.assert_frame_equal(got[cols], want[cols], check_dtype=False)


def test_readers_are_read_only(tmp_path):
    path = tmp_path / "r.sqlite"
    with ResultsStore(path) as st:
        st.put(_score("k1"))
        st.put(_score("k2", model="other"))
    before = _snapshot(tmp_path)
    with ResultsStore(path, readonly=True) as reader:
        assert len(reader) == 2 and reader.keys() == ["k1", "k2"] and reader.has("k2")
        _check_rows(reader, _score("k1"), _score("k2", model="other"))
        assert reader.get("k1").model == "m" and [s.key for s in reader.scores()] == ["k1", "k2"]
        with pytest.raises(ConfigError, match="read-only"):
            reader.put(_score("k3"))
        assert reader._conn.execute("PRAGMA query_only").fetchone() == (1,)
    after = _snapshot(tmp_path)
    assert after[path.name] == before[path.name]
    assert set(after) <= set(before) | {f"{path.name}-wal", f"{path.name}-shm"}
    with pytest.raises(DataError, match="no results store"):
        ResultsStore(tmp_path / "missing.sqlite", readonly=True)
    assert not (tmp_path / "missing.sqlite").exists()


@pytest.mark.parametrize("journal", ["delete", "wal"])
@pytest.mark.parametrize("readonly", [True, False])
def test_a_foreign_sqlite_database_is_refused_untouched(tmp_path, journal, readonly):
    path = tmp_path / "other_app.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(f"PRAGMA journal_mode={journal}")
    conn.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO accounts(name) VALUES ('ada')")
    conn.close()
    before = _snapshot(tmp_path)
    with pytest.raises(
        DataError, match=r"other_app\.db is an SQLite database but not a neuroalign"
    ):
        ResultsStore(path, readonly=readonly)
    assert _snapshot(tmp_path) == before  # no table, no journal-mode switch, no -wal/-shm
    conn = sqlite3.connect(path)
    assert [t for (t,) in conn.execute("SELECT name FROM sqlite_master")] == ["accounts"]
    assert conn.execute("PRAGMA journal_mode").fetchone() == (journal,)
    conn.close()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "an empty file"),
        (b"not a database at all, really not", "not an SQLite file"),
        (b"SQLite format 3\x00" + bytes(range(256)) * 8, "cannot read the results store"),
    ],
)
def test_unusable_files_are_data_errors_naming_the_file(tmp_path, content, message):
    path = tmp_path / "junk.sqlite"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message) as err:
        ResultsStore(path, readonly=True)
    assert str(path) in str(err.value)
    if content:  # a writer refuses it too, and leaves it as it was
        with pytest.raises(DataError, match=message):
            ResultsStore(path)
        assert path.read_bytes() == content
    with pytest.raises(DataError, match="is a folder"):
        ResultsStore(tmp_path)
    with pytest.raises(DataError, match="is a folder"):
        ResultsStore(".")  # a path without a file name


def test_an_empty_file_becomes_a_store_for_a_writer(tmp_path):
    path = tmp_path / "new.sqlite"
    path.touch()
    with ResultsStore(path) as st:
        assert st.put(_score()) is True
    with ResultsStore(path, readonly=True) as reader:
        _check_rows(reader, _score())


def test_a_busy_store_spools_the_result_and_takes_it_in_later(tmp_path):
    from neuroalign.bench.store import SpoolWarning

    path = tmp_path / "r.sqlite"
    store = ResultsStore(path, timeout=0.05)
    assert store.put(_score("k1"))
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the write lock
    with pytest.warns(SpoolWarning) as caught:
        assert store.put(_score("k2", model="other")) is True
    spooled = store.spool_file("k2")
    assert caught[0].message.path == spooled and str(spooled) in str(caught[0].message)
    assert spooled.parent == path.with_name("r.sqlite.spool") and store.spooled() == [spooled]
    assert Score.from_json(spooled.read_text()).key == "k2"
    # a spooled result counts as stored: a resumed sweep skips it, readers see it
    assert store.has("k2") and store.get("k2").model == "other" and len(store) == 2
    assert store.put(_score("k2", model="other")) is False
    with ResultsStore(path, readonly=True) as reader:
        _check_rows(reader, _score("k1"), _score("k2", model="other"))
    holder.execute("ROLLBACK")
    holder.close()
    with ResultsStore(path) as again:  # the next open for writing drains the spool
        assert again.spooled() == [] and store.spool_file("k2") is None
        (n,) = again._conn.execute("SELECT COUNT(*) FROM results").fetchone()
        assert n == 2
        _check_rows(again, _score("k1"), _score("k2", model="other"))
    store.close()


def test_a_spooled_result_already_stored_is_not_stored_twice(tmp_path):
    from neuroalign.bench.store import SpoolWarning

    path = tmp_path / "r.sqlite"
    with ResultsStore(path) as st:
        st.put(_score("k1"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SpoolWarning)
            holder = sqlite3.connect(path, isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")
            st.timeout = 0.0
            st.put(_score("k2"))
            holder.execute("ROLLBACK")
        # the same result reaches the database another way before the spool drains
        st.timeout = 5.0
        spooled = st.spool_file("k2")
        spooled.rename(tmp_path / "aside.json")
        st.put(_score("k2"))
        (tmp_path / "aside.json").rename(spooled)
    with ResultsStore(path) as st:
        assert st.spooled() == [] and st.keys() == ["k1", "k2"]
        assert len(st.frame()) == 4


def test_store_paths_name_the_database_its_journal_files_and_spool(tmp_path):
    from neuroalign.bench.store import store_paths

    paths = store_paths(tmp_path / "r.sqlite")
    names = [p.name for p in paths]
    assert names == [
        "r.sqlite",
        "r.sqlite-wal",
        "r.sqlite-shm",
        "r.sqlite-journal",
        "r.sqlite.spool",
    ]
    assert all(p.is_absolute() for p in paths)
    with pytest.raises(ConfigError, match="timeout"):
        ResultsStore(tmp_path / "r.sqlite", timeout=-1)
