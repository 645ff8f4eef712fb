"""NeuralData: validation, selection, alignment, concatenation, splits, files and xarray."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from neuroalign import DataError, NeuralData
from neuroalign.data.splits import split_half_masks, split_half_means
from neuroalign.errors import ChecksumError


def _units(n, subject="m1", area="V1", prefix="u"):
    return pd.DataFrame(
        {"unit_id": [f"{prefix}{i}" for i in range(n)], "subject": subject, "area": area}
    )


def _data(n_stim=12, n_units=3, n_rep=6, seed=0, subject="m1", prefix="u", ids=None):
    rng = np.random.default_rng(seed)
    r = rng.poisson(4.0, (n_stim, n_units, n_rep)).astype(float)
    ids = ids if ids is not None else [f"s{i}" for i in range(n_stim)]
    return NeuralData(r, ids, _units(n_units, subject, prefix=prefix), {"source": "test"})


def test_construction_and_mean_ignores_missing_repeats():
    r = np.arange(2 * 2 * 3, dtype=float).reshape(2, 2, 3)
    r[0, 1, 2] = np.nan
    d = NeuralData(r, ["a", "b"], _units(2))
    expected = np.array([[1.0, 3.5], [7.0, 10.0]])
    np.testing.assert_array_equal(d.mean(), expected)
    np.testing.assert_array_equal(d.n_valid_repeats(), [[3, 2], [3, 3]])
    assert d.subjects == ["m1"] and d.areas == ["V1"]


def test_integer_responses_become_float64_and_2d_is_one_repeat():
    d = NeuralData(np.ones((3, 2), dtype=int), ["a", "b", "c"], _units(2))
    assert d.responses.dtype == np.float64 and d.responses.shape == (3, 2, 1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"responses": np.ones((3, 2, 2)), "ids": ["a", "b"]}, "stimulus_ids has 2"),
        ({"responses": np.ones((3, 3, 2))}, "unit table has 2 rows"),
        ({"ids": ["a", "a", "b"]}, "duplicate stimulus ids"),
        ({"responses": np.array([[["x", "y"]] * 2] * 3)}, "must be numeric"),
        ({"responses": np.full((3, 2, 2), np.inf)}, "infinite"),
        ({"responses": np.ones((3, 2))[:, :, None, None]}, "must have shape"),
    ],
)
def test_bad_input_is_a_data_error(kwargs, message):
    responses = kwargs.get("responses", np.ones((3, 2, 2)))
    ids = kwargs.get("ids", ["a", "b", "c"])
    with pytest.raises(DataError, match=message):
        NeuralData(responses, ids, _units(2))


def test_all_nan_unit_and_empty_cell_are_refused():
    r = np.ones((3, 2, 2))
    r[:, 1, :] = np.nan
    with pytest.raises(DataError, match="no valid response"):
        NeuralData(r, ["a", "b", "c"], _units(2))
    r = np.ones((3, 2, 2))
    r[1, 0, :] = np.nan
    with pytest.raises(DataError, match="no valid repeat"):
        NeuralData(r, ["a", "b", "c"], _units(2))


def test_unit_table_checks():
    with pytest.raises(DataError, match="lacks column"):
        NeuralData(np.ones((2, 2, 2)), ["a", "b"], pd.DataFrame({"unit_id": ["x", "y"]}))
    units = _units(2)
    units["unit_id"] = ["x", "x"]
    with pytest.raises(DataError, match="duplicate unit ids"):
        NeuralData(np.ones((2, 2, 2)), ["a", "b"], units)
    with pytest.raises(DataError, match="JSON"):
        NeuralData(np.ones((2, 2, 2)), ["a", "b"], _units(2), {"bad": object()})


def test_select_by_subject_area_units_and_stimuli():
    pop = NeuralData.concat(
        [_data(subject="m1", prefix="a"), _data(seed=1, subject="m2", prefix="b")]
    )
    m2 = pop.select(subject="m2")
    assert list(m2.units["unit_id"]) == ["b0", "b1", "b2"]
    np.testing.assert_array_equal(m2.responses, pop.responses[:, 3:])
    sub = pop.select(units=["b1", "a0"], stimuli=["s5", "s2"])
    assert list(sub.stimulus_ids) == ["s5", "s2"]
    np.testing.assert_array_equal(sub.responses, pop.responses[[5, 2]][:, [4, 0]])
    with pytest.raises(DataError, match="unknown subject"):
        pop.select(subject="m9")
    with pytest.raises(DataError, match="unknown stimulus"):
        pop.select(stimuli=["nope"])


def test_align_on_shared_ids_and_refuse_disjoint():
    a = _data(ids=[f"s{i}" for i in range(12)])
    b = _data(seed=3, ids=[f"s{i}" for i in range(6, 18)][::-1], prefix="b")
    a2, b2 = a.align(b)
    assert list(a2.stimulus_ids) == [f"s{i}" for i in range(6, 12)]
    assert list(b2.stimulus_ids) == list(a2.stimulus_ids)
    row = list(b.stimulus_ids).index("s7")
    np.testing.assert_array_equal(b2.responses[1], b.responses[row])
    c = _data(ids=[f"x{i}" for i in range(12)])
    with pytest.raises(DataError, match="share no stimulus"):
        a.align(c)


def test_concat_pads_repeats_and_requires_same_stimuli():
    a = _data(n_rep=4)
    b = _data(seed=2, n_rep=6, subject="m2", prefix="b")
    b.metadata["session"] = "b"
    pop = NeuralData.concat([a, b])
    assert pop.metadata == {"source": "test", "parts": [a.metadata, b.metadata]}
    assert pop.responses.shape == (12, 6, 6)
    assert np.isnan(pop.responses[:, :3, 4:]).all()
    np.testing.assert_array_equal(pop.mean()[:, :3], a.mean())
    c = _data(ids=[f"s{i}" for i in range(2, 14)], subject="m3", prefix="c")
    with pytest.raises(DataError, match="align=True"):
        NeuralData.concat([a, c])
    assert NeuralData.concat([a, c], align=True).n_stimuli == 10


def test_split_halves_partition_valid_repeats():
    rng = np.random.default_rng(0)
    r = rng.normal(size=(30, 4, 7))
    r[rng.random(r.shape) < 0.2] = np.nan
    r[:, :, :2] = 1.0  # at least two valid repeats everywhere
    a, b = split_half_masks(r, 5)
    valid = ~np.isnan(r)
    assert not (a & b).any() and ((a | b) == valid).all()
    n = valid.sum(axis=2)
    np.testing.assert_array_equal(a.sum(axis=2), n // 2)
    # same seed, same halves; shared split: units with equal valid slots get the same trials
    a2, _ = split_half_masks(r, 5)
    np.testing.assert_array_equal(a, a2)
    full = rng.normal(size=(10, 3, 6))
    sa, _ = split_half_masks(full, 1)
    assert (sa[:, 0] == sa[:, 1]).all() and (sa[:, 1] == sa[:, 2]).all()
    ma, mb = split_half_means(r, 5)
    ref = np.nanmean(np.where(a, r, np.nan), axis=2)
    np.testing.assert_allclose(ma, ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize("reps", [6, 7])
def test_split_half_means_without_missing_repeats_are_the_masked_means(reps):
    r = np.random.default_rng(2).normal(size=(30, 4, reps))
    a, b = split_half_masks(r, 9)
    ma, mb = split_half_means(r, 9)
    np.testing.assert_allclose(ma, np.where(a, r, 0).sum(2) / (reps // 2), rtol=0, atol=1e-12)
    np.testing.assert_allclose(mb, np.where(b, r, 0).sum(2) / (reps - reps // 2), atol=1e-12)


def test_split_halves_are_uniform_over_partitions():
    # 4 repeats -> 6 equally likely halves {A of size 2}
    r = np.zeros((1, 1, 4))
    counts = {}
    rng = np.random.default_rng(0)
    for _ in range(3000):
        a, _ = split_half_masks(r, rng)
        key = tuple(np.nonzero(a[0, 0])[0])
        counts[key] = counts.get(key, 0) + 1
    assert len(counts) == 6
    assert max(counts.values()) / min(counts.values()) < 1.35


def test_split_refuses_single_repeat():
    r = np.ones((5, 2, 3))
    r[2, 1, 1:] = np.nan
    with pytest.raises(DataError, match="at least 2 valid"):
        split_half_masks(r, 0)


def test_save_load_round_trip_is_bit_exact(tmp_path):
    rng = np.random.default_rng(4)
    r = rng.normal(size=(5, 3, 4)).astype(np.float32)
    r[1, 2, 3] = np.nan
    units = _units(3)
    units["depth_um"] = [120.5, 300.25, np.nan]
    units["channel"] = np.array([3, 7, 9], dtype=np.int16)
    units["good"] = [True, False, True]
    d = NeuralData(r, ["é", "b", "c", "d", "e"], units, {"citation": "x", "n": [1, 2]})
    loaded = NeuralData.load(d.save(tmp_path / "d.h5"))
    assert loaded == d
    assert loaded.responses.dtype == np.float32
    assert loaded.units.dtypes.equals(d.units.dtypes)
    assert np.array_equal(loaded.responses.view(np.uint32), d.responses.view(np.uint32))


def test_load_refuses_corrupt_or_foreign_file(tmp_path):
    d = _data()
    path = d.save(tmp_path / "d.h5")
    raw = path.read_bytes()
    (tmp_path / "trunc.h5").write_bytes(raw[: len(raw) // 3])
    with pytest.raises(ChecksumError, match=r"trunc\.h5 was changed, damaged or truncated"):
        NeuralData.load(tmp_path / "trunc.h5")
    (tmp_path / "text.h5").write_text("x" * 2000)
    with pytest.raises(DataError, match="not a neuroalign NeuralData file"):
        NeuralData.load(tmp_path / "text.h5")
    import h5py

    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["x"] = 1
    with pytest.raises(DataError, match="not a neuroalign"):
        NeuralData.load(tmp_path / "other.h5")
    assert not list(tmp_path.glob("*.tmp"))


def test_xarray_round_trip():
    d = _data()
    d.units["snr"] = [1.0, 2.0, 3.0]
    da = d.to_xarray()
    assert da.dims == ("stimulus", "unit", "repeat")
    assert list(da["subject"].values) == ["m1"] * 3
    assert NeuralData.from_xarray(da) == d
    with pytest.raises(DataError, match="dims"):
        NeuralData.from_xarray(da.transpose("unit", "stimulus", "repeat"))
    with pytest.raises(DataError, match="needs an xarray.DataArray, got ndarray"):
        NeuralData.from_xarray(d.responses)


def _stored_responses_offset(path, d) -> int:
    """Where the responses array starts in the file (HDF5 stores it contiguously)."""
    offset = path.read_bytes().find(d.responses.tobytes()[:64])
    assert offset > 0
    return offset


@pytest.mark.parametrize("damage", ["changed byte", "8 bytes NaN", "256 bytes of garbage"])
def test_load_verifies_the_checksum_of_every_byte(tmp_path, damage):
    d = _data()
    path = d.save(tmp_path / "d.h5")
    raw = bytearray(path.read_bytes())
    at = _stored_responses_offset(path, d)
    if damage == "changed byte":
        raw[at + 100] ^= 0x01
    elif damage == "8 bytes NaN":
        raw[at + 80 : at + 88] = np.float64(np.nan).tobytes()
    else:
        middle = len(raw) // 2
        raw[middle : middle + 256] = np.random.default_rng(0).bytes(256)
    path.write_bytes(bytes(raw))
    with pytest.raises(ChecksumError, match="changed, damaged or truncated") as err:
        NeuralData.load(path)
    assert str(path) in str(err.value)


def _save_without_checksum(d, path):
    """The layout NeuralData.save wrote before it had checksums (no HDF5 user block)."""
    import h5py

    text = h5py.string_dtype()
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "neuroalign.NeuralData/1"
        f.attrs["metadata"] = json.dumps(d.metadata)
        f.create_dataset("responses", data=d.responses)
        f.create_dataset("stimulus_ids", data=d.stimulus_ids.astype(object), dtype=text)
        g = f.create_group("units")
        g.attrs["columns"] = json.dumps(list(d.units.columns))
        for i, col in enumerate(d.units.columns):
            ds = g.create_dataset(f"c{i}", data=d.units[col].to_numpy(object), dtype=text)
            ds.attrs["kind"] = "str"
            ds.attrs["pandas_dtype"] = str(d.units[col].dtype)


def test_a_file_saved_before_checksums_loads_with_a_warning(tmp_path):
    d = _data()
    _save_without_checksum(d, tmp_path / "old.h5")
    with pytest.warns(UserWarning, match=r"old\.h5 has no checksum"):
        assert NeuralData.load(tmp_path / "old.h5") == d
    with pytest.raises(DataError, match="corrupt or truncated"):
        raw = (tmp_path / "old.h5").read_bytes()
        (tmp_path / "old.h5").write_bytes(raw[: len(raw) // 2])
        NeuralData.load(tmp_path / "old.h5")


def test_float16_responses_are_computed_in_float32():
    from neuroalign.metrics import interanimal_ev

    rng = np.random.default_rng(0)
    signal = rng.normal(size=(40, 1, 1)) * np.array([1.0, 0.8, 1.2, 0.9])[None, :, None]
    counts = 30 * (3 + signal + 0.3 * rng.normal(size=(40, 4, 6)))  # ~90 spikes: float16
    r = counts.astype(np.float16)  # sums of squares overflow
    units = pd.DataFrame(
        {"unit_id": list("abcd"), "subject": ["m1"] * 2 + ["m2"] * 2, "area": "V1"}
    )
    d = NeuralData(r, [f"s{i}" for i in range(40)], units)
    res = interanimal_ev(d.select(subject="m1"), d.select(subject="m2"), n_draws=3, n_folds=4)
    assert np.isfinite(res.ev).all() and (res.ev > 50).all()
    assert d.responses.dtype == np.float32
    np.testing.assert_array_equal(d.responses, r.astype(np.float32))  # widened exactly
    assert NeuralData(r.astype(np.longdouble), d.stimulus_ids, units).responses.dtype == np.float64


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda u: NeuralData([[[1.0, 2.0]], [[1.0]]], ["a", "b"], u(1)), "must be numeric"),
        (lambda u: NeuralData(np.ones((3, 2, 2)), "abc", u(2)), "sequence of ids"),
        (lambda u: NeuralData(np.ones((3, 2, 2)), 7, u(2)), "sequence of ids"),
        (lambda u: NeuralData(np.ones((3, 0, 2)), ["a", "b", "c"], u(0)), "must have shape"),
        (lambda u: NeuralData(np.ones((0, 2, 2)), [], u(2)), "must have shape"),
        (lambda u: NeuralData(np.ones((2, 2, 2)), ["a", "b"], u(2), ["x"]), "metadata must be"),
        (
            lambda u: NeuralData(
                np.ones((2, 2, 2)), ["a", "b"], u(2).set_axis(["unit_id"] * 3, axis=1)
            ),
            "duplicate column names",
        ),
    ],
)
def test_odd_construction_inputs_are_data_errors(build, message):
    with pytest.raises(DataError, match=message):
        build(_units)


def test_save_errors_name_the_problem(tmp_path):
    with pytest.raises(DataError, match="stimulus ids .*NUL"):
        NeuralData(np.ones((2, 1, 2)), ["a\x00b", "c"], _units(1)).save(tmp_path / "n.h5")
    units = _units(2)
    units["when"] = pd.to_datetime(["2024-01-01", "2024-01-02"])
    with pytest.raises(DataError, match="unit table column 'when'"):
        NeuralData(np.ones((2, 2, 2)), ["a", "b"], units).save(tmp_path / "t.h5")
    with pytest.raises(DataError, match="writable folder"):
        _data().save(tmp_path / "no" / "such" / "folder.h5")
    assert list(tmp_path.iterdir()) == []  # nothing half-written left behind


def test_column_names_become_text_so_files_round_trip(tmp_path):
    units = _units(2)
    units[7] = [1.5, 2.5]
    d = NeuralData(np.ones((2, 2, 2)), ["a", "b"], units)
    assert list(d.units.columns) == ["unit_id", "subject", "area", "7"]
    assert NeuralData.load(d.save(tmp_path / "c.h5")) == d
