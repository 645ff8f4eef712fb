"""A researcher's own response files → NeuralData: arrays, HDF5, netCDF, id CSVs, merged rows."""

from __future__ import annotations

import zipfile

import h5py
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from neuroalign import ConfigError, DataError, NeuralData, StimulusSet
from neuroalign.data import DuplicateImagesWarning, merge_rows, read_responses, read_stimulus_ids

IDS = ["cat", "dog", "007", "NA"]


def _responses():
    """(4 stimuli, 3 units, 2 repeats) with known values and one missing repeat."""
    r = np.arange(24, dtype=np.float64).reshape(4, 3, 2)
    r[1, 2, 1] = np.nan
    return r


def test_npy_round_trip_with_ids_units_and_missing_repeats(tmp_path):
    np.save(tmp_path / "r.npy", _responses())
    data = read_responses(tmp_path / "r.npy", stimulus_ids=IDS, subject="m1", area="V4")
    np.testing.assert_array_equal(data.responses, _responses())
    assert list(data.stimulus_ids) == IDS
    assert data.units["unit_id"].tolist() == ["m1-u0", "m1-u1", "m1-u2"]
    assert data.subjects == ["m1"] and data.areas == ["V4"]
    assert data.n_valid_repeats()[1, 2] == 1
    assert data.metadata["source_file"] == "r.npy"


@pytest.mark.parametrize(
    ("order", "kw"),
    [
        ((2, 0, 1), {"repeats_axis": 0}),
        ((0, 2, 1), {"repeats_axis": 1}),
        ((0, 1, 2), {"repeats_axis": -1}),
        ((1, 0, 2), {"axes": "unit,stimulus,repeat"}),  # e.g. Cowley's raw files
        ((2, 1, 0), {"axes": ["repeat", "unit", "stimulus"]}),
    ],
)
def test_axes_say_where_stimuli_units_and_repeats_are(tmp_path, order, kw):
    np.save(tmp_path / "r.npy", _responses().transpose(order))
    data = read_responses(tmp_path / "r.npy", stimulus_ids=IDS, **kw)
    np.testing.assert_array_equal(data.responses, _responses())


def test_repeat_averaged_array_is_one_repeat(tmp_path):
    mean = np.nanmean(_responses(), axis=2).astype(np.float32)
    np.save(tmp_path / "m.npy", mean)
    data = read_responses(tmp_path / "m.npy", stimulus_ids=IDS)
    assert data.responses.shape == (4, 3, 1) and data.responses.dtype == np.float32
    np.testing.assert_array_equal(data.responses[:, :, 0], mean)
    assert data.metadata["repeats"].startswith("repeat-averaged")
    assert list(read_responses(tmp_path / "m.npy").stimulus_ids) == ["0", "1", "2", "3"]


def test_stimulus_ids_from_csv(tmp_path):
    (tmp_path / "plain.csv").write_text("\n".join(IDS) + "\n")
    (tmp_path / "col.csv").write_text("file,stimulus_id\n" + "".join(f"{i}.png,{i}\n" for i in IDS))
    assert read_stimulus_ids(tmp_path / "plain.csv") == IDS  # "007" and "NA" kept as written
    assert read_stimulus_ids(tmp_path / "col.csv") == IDS
    np.save(tmp_path / "r.npy", _responses())
    data = read_responses(tmp_path / "r.npy", stimulus_ids=tmp_path / "col.csv")
    assert list(data.stimulus_ids) == IDS
    (tmp_path / "two.csv").write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="none is named stimulus_id"):
        read_stimulus_ids(tmp_path / "two.csv")
    (tmp_path / "blank.csv").write_text('stimulus_id\na\n""\nc\n')
    with pytest.raises(DataError, match="blank stimulus id.*row 2"):
        read_stimulus_ids(tmp_path / "blank.csv")
    with pytest.raises(DataError, match="3 stimulus ids for the 4 stimulus rows"):
        read_responses(tmp_path / "r.npy", stimulus_ids=IDS[:3])


def test_units_table_and_unit_columns(tmp_path):
    np.save(tmp_path / "r.npy", _responses())
    table = pd.DataFrame(
        {"unit_id": ["x", "y", "z"], "area": ["V1", "V1", "V2"], "depth": [1, 2, 3]}
    )
    table.to_csv(tmp_path / "units.csv", index=False)
    data = read_responses(tmp_path / "r.npy", stimulus_ids=IDS, units=tmp_path / "units.csv")
    assert data.units["unit_id"].tolist() == ["x", "y", "z"]
    assert data.areas == ["V1", "V2"] and data.units["depth"].tolist() == [1, 2, 3]
    assert data.subjects == ["r"]  # the file name when no subject is given
    with pytest.raises(DataError, match="2 rows for 3 units"):
        read_responses(tmp_path / "r.npy", units=table.iloc[:2])


def test_trials_pool_rows_of_one_stimulus_into_repeats(tmp_path):
    trials = np.array([[1.0, 10], [2, 20], [3, 30], [4, 40], [5, 50]])
    np.save(tmp_path / "t.npy", trials)
    ids = ["a", "b", "a", "a", "b"]
    with pytest.raises(DataError, match="repeat.*trials=True"):
        read_responses(tmp_path / "t.npy", stimulus_ids=ids)
    data = read_responses(tmp_path / "t.npy", stimulus_ids=ids, trials=True)
    assert list(data.stimulus_ids) == ["a", "b"]
    np.testing.assert_array_equal(data.responses[0], [[1, 3, 4], [10, 30, 40]])
    np.testing.assert_array_equal(data.responses[1], [[2, 5, np.nan], [20, 50, np.nan]])


def test_merge_rows_pools_repeats_or_averages_repeat_averaged_rows():
    ids, mean = merge_rows([[1.0, np.nan], [2, 3], [5, 7]], ["x", "y", "x"])
    assert ids == ["x", "y"]
    np.testing.assert_array_equal(mean, [[3, 7], [2, 3]])  # NaN ignored
    r = np.arange(12, dtype=float).reshape(3, 2, 2)  # 3 rows, 2 units, 2 repeats
    ids, pooled = merge_rows(r, ["x", "y", "x"])
    np.testing.assert_array_equal(pooled[0, 0], [0, 1, 8, 9])
    np.testing.assert_array_equal(pooled[1, 1], [6, 7, np.nan, np.nan])
    with pytest.raises(DataError, match="2 row ids for 3"):
        merge_rows(r, ["x", "y"])


def _zip_with_duplicates(tmp_path):
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (3, 8, 8, 3), dtype=np.uint8)
    files = {
        "a.png": imgs[0],
        "b.png": imgs[1],
        "c.png": imgs[0],
        "d.png": imgs[2],
        "e.png": imgs[1],
    }
    with zipfile.ZipFile(tmp_path / "set.zip", "w") as zf:
        for name, im in files.items():
            Image.fromarray(im).save(tmp_path / name)
            zf.write(tmp_path / name, name)
    return tmp_path / "set.zip"


def test_responses_per_image_file_merge_with_the_stimulus_set(tmp_path):
    with pytest.warns(DuplicateImagesWarning):
        stim = StimulusSet.from_zip(_zip_with_duplicates(tmp_path))
    per_file = np.arange(5 * 2 * 2, dtype=float).reshape(5, 2, 2)  # one row per file a..e
    np.save(tmp_path / "r.npy", per_file)
    data = read_responses(tmp_path / "r.npy", stimulus_ids=stim)
    assert list(data.stimulus_ids) == list(stim.ids)
    np.testing.assert_array_equal(data.responses[0, 0], [0, 1, 8, 9])  # a.png + c.png
    np.testing.assert_array_equal(data.responses[1, 1], [6, 7, 18, 19])  # b.png + e.png
    np.testing.assert_array_equal(data.responses[2, 0], [12, 13, np.nan, np.nan])  # d.png
    averaged = per_file.mean(axis=2)
    np.save(tmp_path / "m.npy", averaged)
    data = read_responses(tmp_path / "m.npy", stimulus_ids=stim)
    np.testing.assert_array_equal(data.responses[:, :, 0], [[4.5, 6.5], [10.5, 12.5], [12.5, 14.5]])
    # responses already one row per stimulus are taken in the set's order
    np.save(tmp_path / "u.npy", averaged[:3])
    assert list(read_responses(tmp_path / "u.npy", stimulus_ids=stim).stimulus_ids) == list(
        stim.ids
    )
    np.save(tmp_path / "bad.npy", averaged[:4])
    with pytest.raises(DataError, match="4 stimulus rows.*3 stimuli \\(5 image files\\)"):
        read_responses(tmp_path / "bad.npy", stimulus_ids=stim)


def test_hdf5_plain_and_neuroalign_files(tmp_path):
    with h5py.File(tmp_path / "p.h5", "w") as f:
        f["spikes"] = _responses().transpose(1, 0, 2)
        f["stimulus_ids"] = np.array(IDS, dtype="S")
        f["unit_ids"] = np.array(["n1", "n2", "n3"], dtype=object).astype("S")
    data = read_responses(tmp_path / "p.h5", axes="unit,stimulus,repeat", area="IT")
    np.testing.assert_array_equal(data.responses, _responses())
    assert list(data.stimulus_ids) == IDS and data.units["unit_id"].tolist() == ["n1", "n2", "n3"]
    with h5py.File(tmp_path / "two.h5", "w") as f:
        f["a"], f["b"] = np.zeros((2, 2)), np.zeros((2, 2))
    with pytest.raises(ConfigError, match="variable=NAME"):
        read_responses(tmp_path / "two.h5")
    assert read_responses(tmp_path / "two.h5", variable="b").n_stimuli == 2
    saved = read_responses(tmp_path / "p.h5", area="IT", axes="unit,stimulus,repeat")
    saved.save(tmp_path / "n.h5")
    assert read_responses(tmp_path / "n.h5") == saved
    with pytest.raises(ConfigError, match="NeuralData file"):
        read_responses(tmp_path / "n.h5", subject="x")


@pytest.mark.parametrize("engine", ["scipy", "h5netcdf"])
def test_netcdf_round_trip_through_xarray(tmp_path, engine):
    pytest.importorskip(engine)
    units = pd.DataFrame(
        {"unit_id": ["u1", "u2", "u3"], "subject": "m2", "area": ["V1", "V4", "V4"]}
    )
    data = NeuralData(_responses(), IDS, units, {"lab": "x"})
    data.to_xarray().to_netcdf(tmp_path / "d.nc", engine=engine)
    back = read_responses(tmp_path / "d.nc")
    np.testing.assert_array_equal(back.responses, data.responses)
    assert list(back.stimulus_ids) == IDS and back.units[["unit_id", "subject", "area"]].equals(
        units
    )
    assert back.metadata["lab"] == "x"


def test_netcdf_with_other_dim_names(tmp_path):
    import xarray as xr

    da = xr.DataArray(
        _responses().transpose(1, 2, 0),
        dims=("neuroid", "rep", "image"),
        coords={"image": IDS, "neuroid": ["a", "b", "c"]},
        name="rates",
    )
    da.to_netcdf(tmp_path / "o.nc", engine="scipy")
    with pytest.raises(ConfigError, match="name each axis"):
        read_responses(tmp_path / "o.nc")
    roles = {"image": "stimulus", "neuroid": "unit", "rep": "repeat"}
    data = read_responses(tmp_path / "o.nc", axes=roles, subject="m3")
    np.testing.assert_array_equal(data.responses, _responses())
    assert list(data.stimulus_ids) == IDS and data.units["unit_id"].tolist() == ["a", "b", "c"]


def test_errors_name_the_file_and_the_fix(tmp_path):
    with pytest.raises(DataError, match="no such response file"):
        read_responses(tmp_path / "missing.npy")
    (tmp_path / "r.txt").write_text("1")
    with pytest.raises(DataError, match="unknown response file type"):
        read_responses(tmp_path / "r.txt")
    np.save(tmp_path / "r.npy", _responses())
    with pytest.raises(ConfigError, match="name each axis once"):
        read_responses(tmp_path / "r.npy", axes="stimulus,unit")
    with pytest.raises(ConfigError, match="not both"):
        read_responses(tmp_path / "r.npy", axes="stimulus,unit,repeat", repeats_axis=2)
    with pytest.raises(ConfigError, match="NWB files only"):
        read_responses(tmp_path / "r.npy", window="50:250ms")
    bad = _responses()
    bad[2, 1, :] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    with pytest.raises(DataError, match="nan.npy.*no valid repeat.*'007'"):
        read_responses(tmp_path / "nan.npy", stimulus_ids=IDS)
