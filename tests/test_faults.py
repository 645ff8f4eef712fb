"""Fault injection: processes killed with SIGKILL while they write the results store, the activation
cache or an HDF5 file, a worker of a ``processes:N`` sweep killed, a second process holding the
store's write lock for longer than the timeout, a store in a read-only folder, a foreign SQLite
file as the store, a dataset file edited in place, and a reliability request too large to
enumerate. After each, every result finished before the fault is readable and none is stored
twice. Kills happen in subprocesses; nothing here depends on timing."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from neuroalign import NeuralData, bench
from neuroalign.bench import ResultsStore
from neuroalign.errors import ChecksumError, DataError
from test_store import _score

REPO = Path(__file__).resolve().parents[1]
TESTS = str(Path(__file__).resolve().parent)


def _start(script: str, *args: str) -> subprocess.Popen:
    """A Python subprocess running ``script`` (tests/ importable), stdout and stdin piped."""
    code = f"import sys; sys.path.insert(0, {TESTS!r})\n" + textwrap.dedent(script)
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _check_store(path: Path, keys: list[str]) -> None:
    """The store holds exactly ``keys``, each with its two complete rows, and is intact."""
    with ResultsStore(path, readonly=True) as st:
        assert sorted(st.keys()) == sorted(keys)
        df = st.frame()
    assert len(df) == 2 * len(keys) and not df.duplicated(["key", "layer", "direction"]).any()
    for key, rows in df.groupby("key"):
        model = f"m{key[1:]}"
        assert (rows["model"] == model).all()
        got = rows.set_index("direction")[["raw", "ceiling", "normalised"]]
        assert got.loc["forward"].tolist() == [10.0, 50.0, 20.0]
        assert got.loc["reverse"].tolist() == [5.0, 50.0, 10.0]
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()


# ------------------------------------------------------------------------------------- store
PUT_FOREVER = """
from test_store import _score
from neuroalign.bench import ResultsStore
store = ResultsStore(sys.argv[1])
for i in range(1_000_000):
    store.put(_score(f"k{i}", model=f"m{i}"))
    print(f"k{i}", flush=True)
"""


def test_sigkill_of_a_store_writer_keeps_every_finished_result_once(tmp_path):
    path = tmp_path / "r.sqlite"
    proc = _start(PUT_FOREVER, str(path))
    finished = [proc.stdout.readline().strip() for _ in range(12)]  # put() returned for these
    os.kill(proc.pid, signal.SIGKILL)  # most likely inside the next put's transaction
    proc.wait()
    with ResultsStore(path, readonly=True) as st:
        stored = st.keys()
    assert set(finished) <= set(stored)  # nothing that was stored is lost
    _check_store(path, stored)  # nothing half-written, nothing twice
    with ResultsStore(path) as st:  # a new writer carries on where the killed one stopped
        assert st.put(_score(stored[-1], model=f"m{stored[-1][1:]}")) is False
        assert st.put(_score("k999999", model="m999999")) is True
    _check_store(path, [*stored, "k999999"])


HOLD_THE_LOCK = """
import sqlite3
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("DELETE FROM rows")  # uncommitted: nobody may ever see it
print("locked", flush=True)
sys.stdin.read()  # hold the write lock until the test closes stdin
print("released", flush=True)
"""


def test_a_writer_holding_the_lock_past_the_timeout_loses_nothing(tmp_path):
    from neuroalign.bench.store import SpoolWarning

    path = tmp_path / "r.sqlite"
    with ResultsStore(path) as st:
        st.put(_score("k0", model="m0"))
    holder = _start(HOLD_THE_LOCK, str(path))
    assert holder.stdout.readline() == "locked\n"
    store = ResultsStore(path, timeout=0.2)  # opening a store to write does not need the lock
    with pytest.warns(SpoolWarning) as caught:
        for i in (1, 2, 3):
            assert store.put(_score(f"k{i}", model=f"m{i}")) is True
    assert [w.message.path for w in caught] == [store.spool_file(f"k{i}") for i in (1, 2, 3)]
    assert store.spooled() == sorted(w.message.path for w in caught)
    # a reader neither waits for the writer nor sees its uncommitted change; it sees the spool
    with ResultsStore(path, readonly=True) as reader:
        assert reader.keys() == ["k0", "k1", "k2", "k3"] and len(reader.frame()) == 8
    assert holder.poll() is None  # the lock was held all along
    holder.stdin.close()
    assert holder.stdout.readline() == "released\n"
    holder.wait()
    store.close()
    with ResultsStore(path) as st:  # the next writer drains the spool into the database
        assert st.spooled() == []
        (n,) = st._conn.execute("SELECT COUNT(*) FROM results").fetchone()
        assert n == 4
    _check_store(path, ["k0", "k1", "k2", "k3"])


DROP_PRIVILEGES = """
import ctypes, os
if os.geteuid() == 0:  # root ignores file modes: drop every capability (Linux)
    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]
    class Data(ctypes.Structure):
        _fields_ = [(n, ctypes.c_uint32) for n in ("effective", "permitted", "inheritable")]
    ctypes.CDLL(None).capset(ctypes.byref(Header(0x20080522, 0)), (Data * 2)())
try:
    open(os.path.join(sys.argv[1], "probe"), "w")
    print("CAN-WRITE"); sys.exit()
except OSError:
    pass
"""

READ_ONLY_FOLDER = """
import json
from neuroalign.bench import ResultsStore
from neuroalign.errors import DataError
with ResultsStore(sys.argv[2], readonly=True) as st:
    df = st.frame()
    out = {"keys": st.keys(), "raw": df["raw"].tolist(), "model": st.get("k1").model}
try:
    ResultsStore(sys.argv[2])
except DataError as exc:
    out["writer"] = str(exc)
print(json.dumps(out))
"""


def test_a_store_in_a_read_only_folder_is_readable_and_refused_for_writing(tmp_path):
    folder = tmp_path / "shared"
    folder.mkdir()
    path = folder / "r.sqlite"
    with ResultsStore(path) as st:
        st.put(_score("k0", model="m0"))
        st.put(_score("k1", model="m1"))
    before = sorted(folder.iterdir())
    path.chmod(0o444)
    folder.chmod(0o555)
    try:
        proc = _start(DROP_PRIVILEGES + READ_ONLY_FOLDER, str(folder), str(path))
        out, err = proc.communicate()
    finally:
        folder.chmod(0o755)
        path.chmod(0o644)
    if out.startswith("CAN-WRITE"):
        pytest.skip("this process can write to a read-only folder (no way to drop privileges)")
    assert proc.returncode == 0, err
    got = json.loads(out.strip().splitlines()[-1])
    assert got["keys"] == ["k0", "k1"] and got["model"] == "m1"
    assert got["raw"] == [10.0, 5.0, 10.0, 5.0]
    assert "read-only" in got["writer"] and str(path) in got["writer"]
    assert sorted(folder.iterdir()) == before  # nothing was created beside the store
    _check_store(path, ["k0", "k1"])


def test_a_sweep_refuses_a_foreign_database_before_any_work(tmp_path, monkeypatch):
    path = tmp_path / "other_app.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT)")
    conn.commit()
    conn.close()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    monkeypatch.setenv("NEUROALIGN_CACHE", str(tmp_path / "cache"))
    with pytest.raises(DataError, match="not a neuroalign results store"):
        bench.run_sweep(["small_cnn"], ["synthetic.softplus"], path, layers=["fc"])
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other_app.db"]  # no cache, no work


# ---------------------------------------------------------------------------------- sweeps
SMALL = {
    "n_draws": 2,
    "n_folds": 3,
    "n_stimuli": 90,
    "units_per_subject": 8,
    "n_subjects": 3,
    "max_model_units": 200,
}


def test_a_processes_sweep_survives_a_killed_worker(tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROALIGN_CACHE", str(tmp_path / "cache"))
    store = ResultsStore(tmp_path / "s.sqlite")
    killed = []

    def kill_a_worker(task, status):  # after the first stored result: SIGKILL one pool worker
        if status == "done" and not killed:
            worker = multiprocessing.active_children()[0]
            os.kill(worker.pid, signal.SIGKILL)
            killed.append(worker.pid)

    grid = bench.tasks(
        ["small_cnn"],
        ["synthetic.softplus", "synthetic.relu"],
        layers=["relu2", "fc"],
        params=SMALL,
    )
    report = bench.run_sweep(
        ["small_cnn"],
        ["synthetic.softplus", "synthetic.relu"],
        store,
        layers=["relu2", "fc"],
        params=SMALL,
        executor="processes:2",
        progress=kill_a_worker,
    )
    assert killed and not report.failed
    assert sorted(report.done) == sorted(t.key for t in grid)  # every task once
    df = store.frame()
    assert sorted(store.keys()) == sorted(report.done)
    assert len(df) == 2 * len(grid) and not df.duplicated(["key", "layer", "direction"]).any()
    assert np.isfinite(df["raw"]).all()
    again = bench.run_sweep(
        ["small_cnn"],
        ["synthetic.softplus", "synthetic.relu"],
        store,
        layers=["relu2", "fc"],
        params=SMALL,
        executor="processes:2",
    )
    assert again.done == [] and len(again.skipped) == len(grid)


# ------------------------------------------------------------------------- cache and files
KILLED_EXTRACTION = """
import os, signal
import numpy as np
import neuroalign.models as nm
cnn = nm.load("small_cnn", seed=0)
imgs = np.random.default_rng(0).integers(0, 256, size=(7, 36, 36, 3), dtype=np.uint8)
nm.extract(cnn, imgs, ["conv1"], cache=sys.argv[1], batch_size=2)  # finished and stored
calls = []
def hook(module, inputs, output):
    calls.append(1)
    if len(calls) == 3:
        os.kill(os.getpid(), signal.SIGKILL)
cnn.module.conv2.register_forward_hook(hook)
nm.extract(cnn, imgs, ["conv2"], cache=sys.argv[1], batch_size=2)
"""


def test_sigkill_during_a_cache_write_keeps_the_finished_entry(tmp_path):
    pytest.importorskip("torch")
    import neuroalign.models as nm

    proc = _start(KILLED_EXTRACTION, str(tmp_path))
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    assert len(list(tmp_path.glob("*/*.npy"))) == 1 and len(list(tmp_path.glob("*/*.tmp"))) == 1
    cnn = nm.load("small_cnn", seed=0)
    imgs = np.random.default_rng(0).integers(0, 256, size=(7, 36, 36, 3), dtype=np.uint8)
    acts = nm.extract(cnn, imgs, ["conv1", "conv2"], cache=tmp_path, batch_size=2)
    assert acts.provenance["layers"]["conv1"]["from_cache"]  # verified and served
    assert not acts.provenance["layers"]["conv2"]["from_cache"]  # the killed one: recomputed
    fresh = nm.extract(cnn, imgs, ["conv1", "conv2"], cache=False, batch_size=2)
    for layer in ("conv1", "conv2"):
        np.testing.assert_array_equal(acts[layer], fresh[layer])
    assert not (tmp_path / "damaged").exists()


KILLED_SAVE = """
import os, signal
import h5py
from test_neural_data import _data
_data().save(sys.argv[1])  # version 1, complete
def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
h5py.Group.create_group = die  # version 2 dies half-written
_data(seed=1).save(sys.argv[1])
"""


def test_sigkill_during_an_hdf5_save_keeps_the_previous_file(tmp_path):
    from test_neural_data import _data

    path = tmp_path / "d.h5"
    proc = _start(KILLED_SAVE, str(path))
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    assert NeuralData.load(path) == _data()  # the complete first version, verified
    leftovers = [p for p in tmp_path.iterdir() if p != path]
    assert len(leftovers) == 1 and leftovers[0].name.endswith(".tmp")  # never read


def test_a_dataset_file_edited_in_place_is_hashed_again(tmp_path):
    """Same size, same mtime (restored), new bytes: the per-process memo must not answer."""
    from neuroalign.datasets import sha256_file, verify_files
    from neuroalign.datasets.base import DatasetInfo

    path = tmp_path / "toy" / "data.bin"
    path.parent.mkdir()
    original = np.random.default_rng(0).bytes(4096)
    path.write_bytes(original)
    info = DatasetInfo(
        name="toy",
        title="toy",
        description="",
        citation="",
        license="",
        folder="toy",
        files={"data.bin": hashlib.sha256(original).hexdigest()},
        has_images=False,
        subjects="",
        areas=(),
        how_to_obtain="",
    )
    assert verify_files(info, path.parent) == {"data.bin": info.files["data.bin"]}
    st = path.stat()
    edited = bytearray(original)
    edited[100] ^= 0xFF
    with open(path, "r+b") as fh:  # in place: same inode, same size
        fh.write(edited)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # and the old mtime
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns
    assert sha256_file(path) == hashlib.sha256(edited).hexdigest()
    with pytest.raises(ChecksumError, match="truncated or altered"):
        verify_files(info, path.parent)


# ---------------------------------------------------------------------------------- memory
EXACT_RELIABILITY_40_REPEATS = """
import resource
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))  # a runaway allocation fails here
import numpy as np
from neuroalign.errors import ConfigError
from neuroalign.metrics.ceilings import split_half_reliability
x = np.random.default_rng(0).normal(size=(5, 2, 40))
try:
    split_half_reliability(x, n_splits="all")
except ConfigError as exc:
    print("ConfigError:", exc)
"""


def test_exact_reliability_with_40_repeats_refuses_before_allocating():
    proc = _start(EXACT_RELIABILITY_40_REPEATS)
    out, err = proc.communicate()
    assert out.startswith("ConfigError: n_splits='all' would enumerate more than 1e+06"), err
    assert "integer n_splits" in out
