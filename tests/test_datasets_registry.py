"""Registry, data folder resolution, missing data and checksum verification before parsing."""

import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import neuroalign.datasets as nd
from neuroalign.datasets import checksums
from neuroalign.errors import ChecksumError, ConfigError, DataError

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"real data folder {DATA} is absent")


def test_names_and_info():
    assert nd.names() == [
        "cowley2023_v4",
        "dualneuron_v1_twin",
        "henaff2021_v1",
        "kriegeskorte2008_92",
    ]
    for name in nd.names():
        meta = nd.info(name)
        assert meta.name == name and meta.citation and meta.how_to_obtain and meta.license
        assert all(len(h) == 64 and int(h, 16) >= 0 for h in meta.files.values())
    assert nd.info("henaff2021_v1").has_images is False
    assert "NOT available" in nd.info("henaff2021_v1").description
    assert len(nd.info("cowley2023_v4").files) == 15
    assert "Cowley" in str(nd.info("cowley2023_v4"))


def test_unknown_name_lists_known():
    with pytest.raises(ConfigError, match="kriegeskorte2008_92"):
        nd.info("allen_brain")
    with pytest.raises(ConfigError, match="known datasets"):
        nd.load("allen_brain", "/nonexistent")


def test_resolve_data_dir(monkeypatch, tmp_path):
    monkeypatch.delenv(nd.ENV_VAR, raising=False)
    with pytest.raises(DataError, match="--data-dir.*NEUROALIGN_DATA"):
        nd.resolve_data_dir(None)
    monkeypatch.setenv(nd.ENV_VAR, str(tmp_path))
    assert nd.resolve_data_dir(None) == tmp_path
    assert nd.resolve_data_dir(tmp_path / "x") == tmp_path / "x"


def test_missing_folder_names_folder_and_files(tmp_path):
    with pytest.raises(DataError) as err:
        nd.load("kriegeskorte2008_92", tmp_path)
    msg = str(err.value)
    assert str(tmp_path / "kriegeskorte2008_92images") in msg
    assert "92_brainRDMs.mat" in msg and "rsatoolbox" in msg


def test_missing_file_is_named(tmp_path):
    (tmp_path / "henaff2021_v1_sequences" / "V1_responses").mkdir(parents=True)
    with pytest.raises(DataError, match="lacks 1 file.*ay2_u007_image_sequences.mat"):
        nd.load("henaff2021_v1", tmp_path, recordings=["ay2_u007"])


def test_bad_options_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="bad option"):
        nd.load("kriegeskorte2008_92", tmp_path, sessions=["1"])
    with pytest.raises(ConfigError, match="unknown session"):
        nd.load("cowley2023_v4", tmp_path, sessions=["999999"])
    with pytest.raises(ConfigError, match="conditions"):
        nd.load("henaff2021_v1", tmp_path, conditions="some")


def test_sha256_file_chunked_and_cache_tracks_changes(tmp_path):
    p = tmp_path / "blob.bin"
    data = np.random.default_rng(0).bytes(3 * (1 << 20) + 17)  # spans several 1 MiB chunks
    p.write_bytes(data)
    assert nd.sha256_file(p) == hashlib.sha256(data).hexdigest()
    assert nd.sha256_file(p) == hashlib.sha256(data).hexdigest()  # cached
    st = p.stat()
    p.write_bytes(data[:-1])  # new size -> new cache key
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert nd.sha256_file(p) == hashlib.sha256(data[:-1]).hexdigest()


def _copy(src_root: Path, dst_root: Path, names):
    for n in names:
        (dst_root / n).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src_root / n, dst_root / n)


def _flip(path: Path, offset: int):
    b = bytearray(path.read_bytes())
    b[offset] ^= 0xFF
    path.write_bytes(bytes(b))


def _explode(*args, **kwargs):
    raise AssertionError("a parser ran before the checksum was verified")


@needs_data
@pytest.mark.data
@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_henaff_corrupt_file_fails_before_parsing(tmp_path, monkeypatch, damage):
    import h5py

    name = "V1_responses/ay4_u001_image_sequences.mat"
    _copy(DATA / "henaff2021_v1_sequences", tmp_path / "henaff2021_v1_sequences", [name])
    path = tmp_path / "henaff2021_v1_sequences" / name
    if damage == "flip":
        _flip(path, 5000)
    else:
        path.write_bytes(path.read_bytes()[:-100])
    monkeypatch.setattr(h5py, "File", _explode)
    with pytest.raises(ChecksumError) as err:
        nd.load("henaff2021_v1", tmp_path, recordings=["ay4_u001"])
    msg = str(err.value)
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    assert str(path) in msg and actual in msg and nd.info("henaff2021_v1").files[name] in msg
    assert "intact copy" in msg


@needs_data
@pytest.mark.data
def test_cowley_corrupt_zip_fails_before_parsing(tmp_path, monkeypatch):
    names = ["images/images_210305.zip", "responses_repeat_averaged/responses_210305.npy"]
    _copy(DATA / "cowley2023_v4", tmp_path / "cowley2023_v4", names)
    _flip(tmp_path / "cowley2023_v4" / names[0], 100_000)
    monkeypatch.setattr(np, "load", _explode)
    monkeypatch.setattr(checksums, "_HASH_CACHE", {})
    with pytest.raises(ChecksumError, match="images_210305.zip"):
        nd.load("cowley2023_v4", tmp_path, sessions=["210305"])


@needs_data
@pytest.mark.data
def test_kriegeskorte_truncated_file_fails_before_parsing(tmp_path, monkeypatch):
    import scipy.io

    meta = nd.info("kriegeskorte2008_92")
    _copy(DATA / meta.folder, tmp_path / meta.folder, meta.files)
    path = tmp_path / meta.folder / "92_modelRDMs.mat"
    path.write_bytes(path.read_bytes()[:1000])
    monkeypatch.setattr(scipy.io, "loadmat", _explode)
    with pytest.raises(ChecksumError, match="92_modelRDMs.mat"):
        nd.load("kriegeskorte2008_92", tmp_path)


@needs_data
@pytest.mark.data
def test_load_reads_the_environment_variable(monkeypatch):
    monkeypatch.setenv(nd.ENV_VAR, str(DATA))
    ds = nd.load("kriegeskorte2008_92")
    assert ds.info is nd.info("kriegeskorte2008_92") and len(ds.rdms) == 34
    with pytest.raises(DataError, match="no neural recordings"):
        ds.population()


def test_status_never_raises_for_absent_data(monkeypatch, tmp_path):
    monkeypatch.delenv(nd.ENV_VAR, raising=False)
    assert nd.status("henaff2021_v1")["state"] == "no data folder"
    st = nd.status("henaff2021_v1", tmp_path)
    assert st["state"] == "absent" and len(st["missing"]) == 9
    assert st["folder"] == str(tmp_path / "henaff2021_v1_sequences")
    assert nd.info("henaff2021_v1").to_dict()["areas"] == ["V1"]


@needs_data
@pytest.mark.data
def test_status_states(tmp_path):
    assert nd.status("kriegeskorte2008_92", DATA)["state"] == "complete"
    assert nd.status("kriegeskorte2008_92", DATA, verify=True)["state"] == "verified"
    meta = nd.info("kriegeskorte2008_92")
    names = list(meta.files)
    _copy(DATA / meta.folder, tmp_path / meta.folder, names[:3])
    assert nd.status("kriegeskorte2008_92", tmp_path)["missing"] == names[3:]
    _copy(DATA / meta.folder, tmp_path / meta.folder, names[3:])
    _flip(tmp_path / meta.folder / names[0], 10)
    st = nd.status("kriegeskorte2008_92", tmp_path, verify=True)
    assert st["state"] == "corrupt" and st["corrupt"] == names[:1]
