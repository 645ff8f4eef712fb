"""Nothing lost: the real `neuroalign` command, in a subprocess, against a real SQLite store.

An output that is an input or the results store is refused before any work; readers never write
to a store (a read-only folder, a foreign SQLite file); a store that stays busy keeps the result
in its spool and the command says where. After each case every stored row is checked.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

SMALL = ["--n-draws", "2", "--n-folds", "3", "--param", "n_stimuli=120",
         "--param", "units_per_subject=10", "--param", "n_subjects=3"]  # fmt: skip
# the installed console script, as a user runs it
_SCRIPT = Path(sys.executable).with_name("neuroalign")
COMMAND = [str(_SCRIPT)] if _SCRIPT.is_file() else [sys.executable, "-m", "neuroalign.cli"]
SCORE = ["score", "small_cnn", "synthetic.relu", "--layer", "pool1", *SMALL]


def neuroalign(*args, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    full = {**os.environ, "NEUROALIGN_HOME": str(cwd / "home"), "COLUMNS": "200", **(env or {})}
    full["NEUROALIGN_CACHE"] = str(cwd / "cache")
    return subprocess.run(
        [*COMMAND, *map(str, args)],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=600,
    )


def rows(store: Path) -> list[tuple]:
    """Every stored row (results and summary rows), read without touching the file."""
    con = sqlite3.connect(f"{store.as_uri()}?mode=ro", uri=True)
    try:
        return [
            *con.execute("SELECT key, model, benchmark, score FROM results ORDER BY key"),
            *con.execute("SELECT * FROM rows ORDER BY key, layer, direction"),
        ]
    finally:
        con.close()


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> tuple[Path, list[tuple]]:
    """A results store with one score, written by the real command, and its rows."""
    d = tmp_path_factory.mktemp("store")
    store = d / "st.sqlite"
    res = neuroalign(*SCORE, "--store", store, "--json", cwd=d)
    assert res.returncode == 0, res.stderr
    return store, rows(store)


@pytest.fixture
def store(stored, tmp_path) -> Path:
    path = tmp_path / "st.sqlite"
    shutil.copyfile(stored[0], path)
    return path


def refused(res, needle: str) -> None:
    assert res.returncode == 2, res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and needle in lines[0], lines
    assert not res.stdout


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm"])
def test_report_onto_its_store_is_refused(store, stored, suffix):
    before = store.read_bytes()
    res = neuroalign("report", store, "-o", f"{store}{suffix}", cwd=store.parent)
    refused(res, "would")
    assert store.read_bytes() == before and rows(store) == stored[1]


def test_report_onto_its_json_input_is_refused(tmp_path):
    res = neuroalign(*SCORE, "--no-store", "-o", "s.json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    doc = (tmp_path / "s.json").read_text()
    # the same file under another name (a relative path through a link) is caught too
    (tmp_path / "link").symlink_to(tmp_path)
    res = neuroalign("report", "s.json", "-o", "link/s.json", cwd=tmp_path)
    refused(res, "is also an input")
    assert (tmp_path / "s.json").read_text() == doc
    assert json.loads(doc)["kind"] == "neuroalign.Score/1"


@pytest.mark.parametrize(
    "command",
    [SCORE, ["iatc", "synthetic", "--candidates", "one_to_one", "--n-boot", "10", *SMALL]],
    ids=["score", "iatc"],
)
def test_json_output_onto_the_store_is_refused_before_any_work(store, stored, command):
    res = neuroalign(*command, "--store", store, "--recompute", "-o", store, cwd=store.parent)
    refused(res, "results store")
    assert rows(store) == stored[1]
    # the default store (no --store) is protected the same way
    home = store.parent / "home"
    home.mkdir()
    shutil.copyfile(store, home / "results.sqlite")
    res = neuroalign(*command, "-o", home / "results.sqlite", cwd=store.parent)
    refused(res, "results store")
    assert rows(home / "results.sqlite") == stored[1]


def test_outputs_are_renamed_into_place(tmp_path):
    """A JSON output replaces the old file only when whole: no temporary file is left over."""
    (tmp_path / "s.json").write_text("old")
    res = neuroalign(*SCORE, "--no-store", "-o", "s.json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert json.loads((tmp_path / "s.json").read_text())["model"] == "small_cnn@seed0"
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["s.json"]


def test_readers_leave_the_store_and_its_folder_untouched(store, stored):
    folder = store.parent / "ro"
    folder.mkdir()
    store = Path(shutil.move(store, folder / "st.sqlite"))
    before = store.read_bytes()
    folder.chmod(0o555)
    try:
        board = neuroalign("leaderboard", "--store", store, "--json", cwd=store.parent.parent)
        report = neuroalign("report", store, "-o", "../r.html", cwd=folder)
    finally:
        folder.chmod(0o755)
    assert board.returncode == 0, board.stderr
    assert json.loads(board.stdout)["leaderboard"][0]["model"] == "small_cnn@seed0"
    assert report.returncode == 0, report.stderr
    # nothing written: SQLite's shared-memory index may appear where the folder allows it,
    # but no journal content, no spool, no other file
    extra = {p.name: p.stat().st_size for p in folder.iterdir() if p.name != "st.sqlite"}
    assert set(extra) <= {"st.sqlite-wal", "st.sqlite-shm"} and extra.get("st.sqlite-wal", 0) == 0
    assert store.read_bytes() == before and rows(store) == stored[1]


def test_a_foreign_sqlite_database_is_refused_untouched(tmp_path):
    other = tmp_path / "other_app.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE notes (x TEXT)")
    con.execute("INSERT INTO notes VALUES ('keep me')")
    con.commit()
    con.close()
    before = other.read_bytes()
    for args in (["leaderboard", "--store", other], ["report", other, "-o", "r.html"]):
        res = neuroalign(*args, cwd=tmp_path)
        assert res.returncode == 1, res.stderr
        assert "not a neuroalign" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert other.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other_app.db"]


def test_a_busy_store_spools_the_result_and_says_where(store, stored, monkeypatch):
    """A writer holds the store's lock past the timeout: the score waits in the spool, the
    command says where, and the result joins the store at its next write."""
    from typer.testing import CliRunner

    from neuroalign.bench.store import ResultsStore
    from neuroalign.cli import app, scoring

    def quick(path, readonly=False):
        return ResultsStore(path, readonly=readonly, timeout=0.5)

    monkeypatch.setattr(scoring, "open_store", lambda s, readonly=False: quick(s, readonly))
    monkeypatch.setenv("NEUROALIGN_CACHE", str(store.parent / "cache"))
    holder = sqlite3.connect(store, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        res = CliRunner().invoke(app, [*SCORE, "--seed", "3", "--store", str(store), "--json"])
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    (spooled,) = out["spooled"]
    assert Path(spooled).is_file() and Path(spooled).parent == store.parent / "st.sqlite.spool"
    assert spooled in " ".join(res.stderr.split())
    assert rows(store) == stored[1]  # the database itself is as it was ...
    with ResultsStore(store) as st:  # ... and the spooled result joins at the next write
        assert st.has(out["key"]) and len(st) == 2
