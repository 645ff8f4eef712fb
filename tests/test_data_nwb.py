"""NWB → NeuralData: spike counts per (stimulus, unit, repeat) from a file written here with pynwb."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

pynwb = pytest.importorskip("pynwb")

from pynwb.epoch import TimeIntervals  # noqa: E402
from pynwb.file import Subject  # noqa: E402

from neuroalign import ConfigError, DataError  # noqa: E402
from neuroalign.data import parse_window, read_nwb, read_responses  # noqa: E402

# presentations: (start, stop, stimulus id); "b" is shown twice, "a" three times
PRESENTATIONS = [
    (0.0, 0.5, "a"),
    (1.0, 1.5, "b"),
    (2.0, 2.5, "a"),
    (3.0, 3.5, "c"),
    (4.0, 4.5, "b"),
    (5.0, 5.5, "a"),
]
# spikes per unit; the 50:250 ms window of each onset t is [t + 0.05, t + 0.25)
SPIKES = [
    [0.04, 0.05, 0.1, 0.249, 0.25, 1.06, 2.2, 3.1, 3.11, 3.12, 5.3],
    [0.3, 1.051, 1.12, 1.2, 4.06, 4.07, 4.249999],
    [],
]
# expected counts: (stimulus, unit, repeat); stimuli in order of first presentation a, b, c
EXPECTED = np.array(
    [
        [[3, 1, 0], [0, 0, 0], [0, 0, 0]],
        [[1, 0, np.nan], [3, 3, np.nan], [0, 0, np.nan]],
        [[3, np.nan, np.nan], [0, np.nan, np.nan], [0, np.nan, np.nan]],
    ]
)


def _file(**kw):
    start = datetime(2024, 1, 1, tzinfo=UTC)
    return pynwb.NWBFile(
        session_description="synthetic", identifier="test", session_start_time=start, **kw
    )


def _write(f, path):
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(f)
    return path


def _nwb(path, *, units=True, trials=True, id_column="stimulus_id"):
    f = _file(subject=Subject(subject_id="monkeyA"))
    if units:
        f.add_unit_column("location", "brain area")
        f.add_unit_column("quality", "sorting quality")
        for j, s in enumerate(SPIKES):
            f.add_unit(spike_times=s, location="V4", quality=["good", "mua", "good"][j], id=10 + j)
    if trials:
        f.add_trial_column(id_column, "image shown")
        for start, stop, sid in PRESENTATIONS:
            f.add_trial(start_time=start, stop_time=stop, **{id_column: sid})
    return _write(f, path)


def test_spike_counts_per_presentation_are_exact(tmp_path):
    data = read_nwb(_nwb(tmp_path / "s.nwb"), window="50:250ms")
    assert list(data.stimulus_ids) == ["a", "b", "c"]
    np.testing.assert_array_equal(data.responses, EXPECTED)
    assert data.units["unit_id"].tolist() == ["monkeyA-10", "monkeyA-11", "monkeyA-12"]
    assert data.subjects == ["monkeyA"] and data.areas == ["V4"]
    assert data.units["quality"].tolist() == ["good", "mua", "good"]
    assert data.metadata["presentation_table"] == "trials"
    assert data.metadata["window_s"] == [0.05, 0.25]
    # the same window in seconds, through the generic reader
    same = read_responses(tmp_path / "s.nwb", window="0.05:0.25s")
    np.testing.assert_array_equal(same.responses, EXPECTED)


def test_window_shifts_the_counts(tmp_path):
    data = read_nwb(_nwb(tmp_path / "s.nwb"), window="0:100ms", subject="m", area="IT")
    # unit 0, stimulus a: spikes in [0, .1) after 0.0, 2.0, 5.0 → 0.04, 0.05 | none | none
    np.testing.assert_array_equal(data.responses[0, 0], [2, 0, 0])
    # unit 1, stimulus b: [1.0, 1.1) → 1.051 ; [4.0, 4.1) → 4.06, 4.07
    np.testing.assert_array_equal(data.responses[1, 1, :2], [1, 2])
    assert data.units["unit_id"][0] == "m-10" and data.areas == ["IT"]


def test_time_intervals_table_with_frame_ids_and_obs_intervals(tmp_path):
    f = _file()
    for j, s in enumerate(SPIKES[:2]):
        f.add_unit(spike_times=s, obs_intervals=[[0.0, 2.1]] if j == 0 else [[0.0, 10.0]])
    table = TimeIntervals(name="natural_scenes_presentations", description="flashes")
    table.add_column("frame", "image index")
    frames = [3.0, 7.0, 3.0, np.nan, 7.0, 3.0]
    for (start, stop, _), frame in zip(PRESENTATIONS, frames, strict=True):
        table.add_row(start_time=start, stop_time=stop, frame=frame)
    f.add_time_intervals(table)
    path = _write(f, tmp_path / "f.nwb")
    with pytest.warns(UserWarning, match="1 of 6 presentations"):
        data = read_nwb(path, window="50:250ms")
    assert list(data.stimulus_ids) == ["3", "7"]  # integral floats as ints, NaN left out
    assert data.metadata["left_out_presentations"] == 1 and data.areas == ["unknown"]
    # unit 0 is observed until 2.1 s only: the windows at 2.0 and 5.0 s are missing (NaN)
    np.testing.assert_array_equal(data.responses[0, 0], [3, np.nan, np.nan])
    np.testing.assert_array_equal(data.responses[0, 1], [0, 0, 0])


def test_clear_errors(tmp_path):
    with pytest.raises(DataError, match="no units table"):
        read_nwb(_nwb(tmp_path / "nu.nwb", units=False), window="50:250ms")
    with pytest.raises(DataError, match="no stimulus presentation table"):
        read_nwb(_nwb(tmp_path / "nt.nwb", trials=False), window="50:250ms")
    path = _nwb(tmp_path / "img.nwb", id_column="image_name")
    assert list(read_nwb(path, window="50:250ms").stimulus_ids) == ["a", "b", "c"]
    with pytest.raises(DataError, match="no column 'stim'.*image_name"):
        read_nwb(path, window="50:250ms", table="trials", id_column="stim")
    with pytest.raises(DataError, match="no intervals table 'presentations'.*trials"):
        read_nwb(path, window="50:250ms", table="presentations")
    with pytest.raises(DataError, match="6 presentation.*end before 600 ms.*allow_outside"):
        read_nwb(path, window="100:600ms")
    with pytest.raises(DataError, match="starts before onset"):
        read_nwb(path, window="-50:100ms")
    outside = read_nwb(path, window="-50:600ms", allow_outside=True)
    assert outside.responses[0, 0, 0] == 5  # [-0.05, 0.6): 0.04, 0.05, 0.1, 0.249, 0.25
    with pytest.raises(ConfigError, match="stimulus_ids.*NWB"):
        read_responses(path, window="50:250ms", stimulus_ids=["a"])


def test_parse_window():
    assert parse_window("50:250ms") == (0.05, 0.25)
    assert parse_window("0.05:0.25s") == (0.05, 0.25)
    assert parse_window(" 50ms : 250ms ") == (0.05, 0.25)
    assert parse_window("-20:0ms") == (-0.02, 0.0)
    assert parse_window((0.1, 0.2)) == (0.1, 0.2)
    for bad in ("50:250", "250:50ms", "50s:250ms", "a:bms", (1,)):
        with pytest.raises(ConfigError):
            parse_window(bad)


def test_area_from_the_units_electrodes(tmp_path):
    f = _file()
    device = f.create_device("probe")
    group = f.create_electrode_group("shank", description="s", location="brain", device=device)
    for loc in ("VISp", "VISl"):
        f.add_electrode(group=group, location=loc)
    f.add_unit(spike_times=SPIKES[0], electrodes=[1])
    f.add_unit(spike_times=SPIKES[1], electrodes=[0, 1])
    f.add_trial_column("stimulus_id", "image shown")
    for start, stop, sid in PRESENTATIONS:
        f.add_trial(start_time=start, stop_time=stop, stimulus_id=sid)
    data = read_nwb(_write(f, tmp_path / "e.nwb"), window="50:250ms")
    assert data.units["area"].tolist() == ["VISl", "VISp"]  # each unit's first electrode
    np.testing.assert_array_equal(data.responses[:, :2], EXPECTED[:, :2])
