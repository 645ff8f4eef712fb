"""NeuralData: validation, selection, alignment, concatenation, splits, files and xarray."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neuroalign import DataError, NeuralData
from neuroalign.data.splits import split_half_masks, split_half_means


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
    with pytest.raises(DataError, match="corrupt"):
        NeuralData.load(tmp_path / "trunc.h5")
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
