"""The activation cache: content addressing, memory-mapped hits, atomic writes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import neuroalign.models as nm  # noqa: E402
from neuroalign.models.cache import ActivationCache, default_cache_dir, hash_key  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def _images(n=5, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(n, 36, 36, 3), dtype=np.uint8)


def _entries(root: Path) -> list[Path]:
    return sorted(root.glob("*/*.npy"))


def _run(model, imgs, root, layers=("conv2",), **kw):
    return nm.extract(model, imgs, list(layers), cache=root, **kw)


def test_hit_is_memory_mapped_and_identical(tmp_path):
    cnn = nm.load("small_cnn", seed=0)
    a = _run(cnn, _images(), tmp_path)
    assert len(_entries(tmp_path)) == 1
    assert not a.provenance["layers"]["conv2"]["from_cache"]
    b = _run(cnn, _images(), tmp_path)
    assert b.provenance["layers"]["conv2"]["from_cache"]
    assert isinstance(b["conv2"], np.memmap) and b["conv2"].dtype == np.float32
    assert not b["conv2"].flags.writeable
    np.testing.assert_array_equal(a["conv2"], b["conv2"])
    # identical to a run that never touches the cache
    np.testing.assert_array_equal(b["conv2"], _run(cnn, _images(), False)["conv2"])
    assert b.cache_keys == a.cache_keys
    desc = ActivationCache(tmp_path).description(a.cache_keys["conv2"])
    assert desc["layer"] == "conv2" and hash_key(desc) == a.cache_keys["conv2"]


def test_every_input_change_misses(tmp_path, monkeypatch):
    cnn = nm.load("small_cnn", seed=0)
    base = _run(cnn, _images(), tmp_path)
    key = base.cache_keys["conv2"]

    def miss(acts, layer="conv2"):
        assert acts.cache_keys[layer] != key
        assert not acts.provenance["layers"][layer]["from_cache"]

    # weights: one parameter nudged in place (same architecture, same name)
    other = nm.load("small_cnn", seed=0)
    with torch.no_grad():
        other.module.conv1.weight[0, 0, 0, 0] += 1e-3
    miss(_run(other, _images(), tmp_path))
    # a different seed = different weights
    miss(_run(nm.load("small_cnn", seed=1), _images(), tmp_path))
    # stimuli: one pixel of one image changed
    imgs = _images()
    imgs[2, 5, 5, 1] ^= 1
    miss(_run(cnn, imgs, tmp_path))
    # stimuli: same images, different order
    miss(_run(cnn, _images()[::-1], tmp_path))
    # preprocessing
    pre = nm.Preprocessing(size=32, mean=(0.5,) * 3, std=(0.25,) * 3)
    miss(_run(cnn, _images(), tmp_path, preprocess=pre))
    # layer
    miss(_run(cnn, _images(), tmp_path, layers=("conv1",)), "conv1")
    # pooling and projection
    miss(_run(cnn, _images(), tmp_path, pool="avg"))
    miss(_run(cnn, _images(), tmp_path, projection=nm.RandomProjection(8, seed=0)))
    # and the original inputs still hit
    again = _run(cnn, _images(), tmp_path)
    assert again.provenance["layers"]["conv2"]["from_cache"]
    # package version
    monkeypatch.setattr("neuroalign._core.version.__version__", "99.0")
    miss(_run(cnn, _images(), tmp_path))


def test_only_missing_layers_are_computed(tmp_path):
    cnn = nm.load("small_cnn", seed=0)
    _run(cnn, _images(), tmp_path, layers=("conv1",))
    both = _run(cnn, _images(), tmp_path, layers=("conv1", "fc"))
    assert both.provenance["layers"]["conv1"]["from_cache"]
    assert not both.provenance["layers"]["fc"]["from_cache"]


class _Boom(RuntimeError):
    pass


def test_exception_mid_write_leaves_no_entry(tmp_path):
    cnn = nm.load("small_cnn", seed=0)
    calls = []

    def hook(_m, _i, _o):
        calls.append(1)
        if len(calls) == 3:
            raise _Boom("simulated crash in batch 3")

    h = cnn.module.conv1.register_forward_hook(hook)
    try:
        with pytest.raises(_Boom):
            _run(cnn, _images(7), tmp_path, batch_size=2)
    finally:
        h.remove()
    assert _entries(tmp_path) == []
    assert list(tmp_path.glob("*/*.tmp")) == []
    fresh = _run(cnn, _images(7), tmp_path, batch_size=2)
    assert not fresh.provenance["layers"]["conv2"]["from_cache"]
    ref = _run(cnn, _images(7), False, batch_size=2)["conv2"]
    np.testing.assert_array_equal(fresh["conv2"], ref)


def test_hard_crash_mid_write_leaves_no_readable_entry(tmp_path):
    """A process killed (os._exit) while streaming batches publishes nothing."""
    script = textwrap.dedent(
        f"""
        import os, numpy as np
        import neuroalign.models as nm
        cnn = nm.load("small_cnn", seed=0)
        n = [0]
        def hook(m, i, o):
            n[0] += 1
            if n[0] == 3:
                os._exit(17)
        cnn.module.conv1.register_forward_hook(hook)
        imgs = np.random.default_rng(0).integers(0, 256, size=(7, 36, 36, 3), dtype=np.uint8)
        nm.extract(cnn, imgs, ["conv1"], cache={str(tmp_path)!r}, batch_size=2)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True)
    assert proc.returncode == 17, proc.stderr.decode()
    assert _entries(tmp_path) == []
    leftovers = list(tmp_path.glob("*/*.tmp"))
    assert len(leftovers) == 1  # the half-written temporary file, never read
    cnn = nm.load("small_cnn", seed=0)
    acts = _run(cnn, _images(7), tmp_path, layers=("conv1",), batch_size=2)
    assert not acts.provenance["layers"]["conv1"]["from_cache"]
    assert ActivationCache(tmp_path).clean() == 1
    assert list(tmp_path.glob("*/*.tmp")) == []


def test_cache_false_writes_nothing_and_env_sets_default_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROALIGN_CACHE", str(tmp_path / "env"))
    assert default_cache_dir() == tmp_path / "env"
    cnn = nm.load("small_cnn", seed=0)
    a = nm.extract(cnn, _images(), "conv1", cache=False)
    assert not (tmp_path / "env").exists() and a.cache_keys == {"conv1": None}
    nm.extract(cnn, _images(), "conv1")  # cache=True: the env folder
    assert len(_entries(tmp_path / "env")) == 1
    monkeypatch.delenv("NEUROALIGN_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "neuroalign"


def test_writer_refuses_to_publish_an_incomplete_entry(tmp_path):
    store = ActivationCache(tmp_path)
    w = store.writer("ab" * 32, (4, 3), {"x": 1})
    w.write(0, np.ones((2, 3), np.float32))
    with pytest.raises(RuntimeError, match="incomplete"):
        w.commit()
    w.abort()
    assert store.get("ab" * 32) is None and not os.listdir(tmp_path / "ab")


def _damage(entry: Path, how: str) -> None:
    """Damage a cache entry the ways a disk, a user or another program can."""
    stored = np.load(entry)
    data_start = entry.stat().st_size - stored.nbytes
    raw = bytearray(entry.read_bytes())
    if how == "flipped byte":
        raw[data_start + 37] ^= 0x10
    elif how == "NaN":
        raw[data_start + 8 : data_start + 12] = np.float32(np.nan).tobytes()
    elif how == "values + 1":
        raw[data_start:] = (stored + np.float32(1.0)).tobytes()
    elif how == "wrong width":
        np.save(entry, stored[:, :-1])
        return
    elif how == "zero bytes":
        raw = bytearray()
    elif how == "truncated":
        raw = raw[: len(raw) // 2]
    elif how == "no sidecar":
        entry.with_suffix(".json").unlink()
        return
    entry.write_bytes(bytes(raw))


DAMAGES = [
    "flipped byte",
    "NaN",
    "values + 1",
    "wrong width",
    "zero bytes",
    "truncated",
    "no sidecar",
]


def test_a_damaged_entry_is_a_miss_moved_aside_with_one_warning(tmp_path):
    cnn = nm.load("small_cnn", seed=0)
    reference = _run(cnn, _images(), False)["conv2"]
    first = _run(cnn, _images(), tmp_path)
    (entry,) = _entries(tmp_path)
    assert ActivationCache(tmp_path).description(first.cache_keys["conv2"])["layer"] == "conv2"
    for how in DAMAGES:
        _damage(entry, how)
        damaged_bytes = entry.read_bytes()
        with pytest.warns(UserWarning, match="damaged") as caught:
            again = _run(cnn, _images(), tmp_path)
        messages = [str(w.message) for w in caught if "activation cache" in str(w.message)]
        assert len(messages) == 1 and str(entry) in messages[0], how
        assert not again.provenance["layers"]["conv2"]["from_cache"], how
        np.testing.assert_array_equal(again["conv2"], reference)  # recomputed, never served
        aside = sorted((tmp_path / "damaged").glob("*.npy"), key=lambda p: p.stat().st_mtime_ns)
        assert aside[-1].read_bytes() == damaged_bytes, how  # moved, not deleted
        hit = _run(cnn, _images(), tmp_path)  # the rewritten entry verifies
        assert hit.provenance["layers"]["conv2"]["from_cache"], how
        np.testing.assert_array_equal(hit["conv2"], reference)
    assert len(list((tmp_path / "damaged").glob("*.npy"))) == len(DAMAGES)
    assert [p for p in _entries(tmp_path) if p.parent.name != "damaged"] == [entry]
