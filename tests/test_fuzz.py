"""Property-based fuzzing (hypothesis): NeuralData construction from odd shapes, dtypes, ids, unit
tables and metadata, and the parsing of files the tests write then damage (a saved NeuralData,
a results store, an activation-cache entry, a spooled result). No input may produce anything
but a result (the right one, for a damaged file) or a NeuroAlignError; budgets stay small."""

from __future__ import annotations

import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

from neuroalign import NeuralData  # noqa: E402
from neuroalign.bench import ResultsStore  # noqa: E402
from neuroalign.errors import NeuroAlignError  # noqa: E402
from neuroalign.models.cache import ActivationCache  # noqa: E402
from test_store import _score  # noqa: E402

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# ------------------------------------------------------------------------------ construction
DTYPES = ["float64", "float32", "float16", "int8", "uint16", "bool", "complex64", "<U3", "O"]
ANY_VALUE = st.one_of(st.none(), st.integers(-5, 5), st.floats(), st.text(max_size=3))


def _often(draw) -> bool:
    """True four times in five: most examples are valid but for one thing."""
    return draw(st.integers(0, 4)) > 0


@st.composite
def responses(draw):
    if _often(draw):  # valid values, odd dtypes and NaN patterns
        dtype = np.dtype(draw(st.sampled_from(["float64", "float32", "float16", "int16", "bool"])))
        shape = tuple(draw(st.lists(st.integers(1, 4), min_size=2, max_size=3)))
        finite = st.floats(-1e4, 1e4, width=16) if dtype.kind == "f" else None
        values = draw(hnp.arrays(dtype, shape, elements=finite))
        if dtype.kind == "f" and values.ndim == 3 and draw(st.booleans()):
            values[..., -1] = np.nan  # a missing last repeat
        return values
    if draw(st.booleans()):  # nested lists, possibly ragged
        return draw(st.lists(st.lists(st.lists(st.floats(), max_size=3), max_size=3), max_size=3))
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    shape = tuple(draw(st.lists(st.integers(0, 3), max_size=4)))
    elements = ANY_VALUE if dtype.kind == "O" else None
    return draw(hnp.arrays(dtype, shape, elements=elements))


COLUMN_VALUES = [st.integers(-3, 3), st.floats(), st.booleans(), st.text(max_size=3), ANY_VALUE]


@st.composite
def unit_tables(draw, n):
    if not _often(draw):
        n = draw(st.sampled_from([max(n - 1, 0), n + 1]))
    extra = draw(st.lists(st.sampled_from(["depth", "tag", 3, "unit_id"]), max_size=3))
    names = ["unit_id", "subject", "area", *extra]
    columns = []
    for name in names:
        if name == "unit_id" and _often(draw):
            values = [f"u{j}" for j in range(n)]
        else:
            kind = draw(st.sampled_from(COLUMN_VALUES))  # one type per column, or a mix
            values = draw(st.lists(kind, min_size=n, max_size=n))
        columns.append(values)
    table = pd.DataFrame(dict(enumerate(columns)), index=range(n))
    table.columns = names
    return table


@st.composite
def constructions(draw):
    r = draw(responses())
    shape = np.shape(r) if not isinstance(r, list) else (len(r), len(r[0]) if r else 0)
    n_stim = shape[0] if len(shape) else 0
    n_units = shape[1] if len(shape) > 1 else 0
    valid_ids = st.just([f"s{i}" for i in range(n_stim)])
    odd_ids = st.one_of(
        st.lists(st.one_of(st.text(max_size=2), st.integers(0, 3)), max_size=4),
        st.sampled_from(["abc", 7, None]),
    )
    ids = draw(valid_ids if _often(draw) else odd_ids)
    valid_meta = st.dictionaries(st.text(max_size=3), ANY_VALUE, max_size=3)
    odd_meta = st.sampled_from([["x"], {"f": object()}, "text", None])
    meta = draw(valid_meta if _often(draw) else odd_meta)
    return r, ids, draw(unit_tables(n_units)), meta


@FUZZ
@given(constructions())
def test_construction_gives_valid_data_or_a_neuroalign_error(tmp_path, args):
    try:
        d = NeuralData(*args)
    except NeuroAlignError:
        return
    assert d.responses.ndim == 3 and 0 not in d.responses.shape
    assert d.responses.dtype in (np.float32, np.float64)
    assert not np.isinf(d.responses).any() and (d.n_valid_repeats() > 0).all()
    assert d.units["unit_id"].is_unique and len(set(d.stimulus_ids)) == d.n_stimuli
    path = Path(tempfile.mkdtemp(dir=tmp_path)) / "d.h5"
    try:
        d.save(path)
    except NeuroAlignError:
        assert not path.exists()
        return
    assert NeuralData.load(path) == d  # whatever was accepted and saved comes back unchanged


# ------------------------------------------------------------------------------ damaged files
@st.composite
def damage(draw, size):
    """A list of edits: flip a byte, overwrite a run, cut the file, or insert bytes."""
    edits = []
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, max(size - 1, 0)))
        kind = draw(st.sampled_from(["flip", "overwrite", "truncate", "insert"]))
        payload = draw(st.binary(min_size=1, max_size=300))
        edits.append((kind, at, payload))
    return edits


def _apply(raw: bytes, edits) -> bytes:
    b = bytearray(raw)
    for kind, at, payload in edits:
        at = min(at, max(len(b) - 1, 0))
        if kind == "flip" and b:
            b[at] ^= payload[0] or 0xFF
        elif kind == "overwrite":
            b[at : at + len(payload)] = payload
        elif kind == "truncate":
            del b[at:]
        else:
            b[at:at] = payload
    return bytes(b)


def _copy_damaged(src: Path, edits, tmp_path: Path) -> Path:
    dst = Path(tempfile.mkdtemp(dir=tmp_path)) / src.name
    raw = src.read_bytes()
    dst.write_bytes(_apply(raw, edits))
    return dst


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    rng = np.random.default_rng(0)
    units = pd.DataFrame({"unit_id": ["a", "b", "c"], "subject": "m", "area": "V1"})
    units["depth"] = [1.0, np.nan, 3.5]
    units["tag"] = [1, "x", None]
    d = NeuralData(rng.normal(size=(6, 3, 4)), [f"s{i}" for i in range(6)], units, {"n": 1})
    return d, d.save(tmp_path_factory.mktemp("nd") / "d.h5")


@FUZZ
@given(edits=damage(12_000))
def test_a_damaged_neural_data_file_is_refused(saved, tmp_path, edits):
    d, path = saved
    copy = _copy_damaged(path, edits, tmp_path)
    try:
        got = NeuralData.load(copy)
    except NeuroAlignError:
        return
    assert copy.read_bytes() == path.read_bytes() and got == d  # only an undamaged copy loads


@pytest.fixture(scope="module")
def store_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("store") / "r.sqlite"
    with ResultsStore(path) as s:
        for i in range(3):
            s.put(_score(f"k{i}", model=f"m{i}"))
    return path


@FUZZ
@given(edits=damage(40_000), write=st.booleans())
def test_a_damaged_store_is_read_or_refused(store_file, tmp_path, edits, write):
    copy = _copy_damaged(store_file, edits, tmp_path)
    try:
        with warnings.catch_warnings(), ResultsStore(copy, readonly=not write, timeout=0) as s:
            warnings.simplefilter("ignore")  # a write the damaged file refuses is spooled
            s.frame()
            for score in s.scores():
                assert s.get(score.key).key == score.key
            if write:
                s.put(_score("new", model="new"))
    except NeuroAlignError:
        pass


@FUZZ
@given(edits=damage(30_000))
def test_a_damaged_spooled_result_is_left_aside_with_a_warning(store_file, tmp_path, edits):
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    shutil.copy(store_file, folder / "r.sqlite")
    spool = folder / "r.sqlite.spool"
    spool.mkdir()
    good = _score("spooled", model="m9")
    name = "0" * 64 + ".json"
    (spool / name).write_bytes(_apply(good.to_json().encode(), edits))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with ResultsStore(folder / "r.sqlite", readonly=True) as s:
            seen = s.keys()
            s.frame()
        with ResultsStore(folder / "r.sqlite") as s:  # drains what it can read, keeps the rest
            stored = s.keys()
    assert {"k0", "k1", "k2"} <= set(seen) and {"k0", "k1", "k2"} <= set(stored)
    if (spool / name).exists():  # unreadable: kept, and said so
        assert any("spooled result" in str(w.message) for w in caught)


@pytest.fixture(scope="module")
def cache_entry(tmp_path_factory):
    root = tmp_path_factory.mktemp("cache")
    cache = ActivationCache(root)
    values = np.random.default_rng(0).normal(size=(5, 7)).astype(np.float32)
    w = cache.writer("ab" * 32, values.shape, {"layer": "x"})
    w.write(0, values)
    w.commit()
    return root, values


@FUZZ
@given(edits=damage(400), sidecar=st.booleans())
def test_a_damaged_cache_entry_is_a_miss(cache_entry, tmp_path, edits, sidecar):
    root, values = cache_entry
    copy = Path(tempfile.mkdtemp(dir=tmp_path))
    shutil.copytree(root, copy, dirs_exist_ok=True)
    target = copy / "ab" / ("ab" * 32 + (".json" if sidecar else ".npy"))
    target.write_bytes(_apply(target.read_bytes(), edits))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = ActivationCache(copy).get("ab" * 32)
    if got is not None:
        np.testing.assert_array_equal(got, values)
        assert got.dtype == np.float32
