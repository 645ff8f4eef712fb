"""henaff2021_v1 against its README and the raw HDF5 arrays read directly with h5py."""

from pathlib import Path

import h5py
import numpy as np
import pytest

import neuroalign.datasets as nd
from neuroalign.errors import DataError

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ROOT = DATA / "henaff2021_v1_sequences" / "V1_responses"
pytestmark = [
    pytest.mark.data,
    pytest.mark.skipif(not ROOT.is_dir(), reason=f"real data folder {ROOT} is absent"),
]
UNITS = {
    "ay2_u003": 39, "ay2_u007": 16, "ay3_u001": 47, "ay3_u002": 53, "ay4_u001": 13,
    "ay4_u005": 46, "ay4_u006": 66, "ay5_u002": 31, "ay5_u005": 49,
}  # fmt: skip


@pytest.fixture(scope="module")
def full():
    return nd.load("henaff2021_v1", DATA, conditions="all")


@pytest.fixture(scope="module")
def unique():
    return nd.load("henaff2021_v1", DATA)


def _raw(rec):
    with h5py.File(ROOT / f"{rec}_image_sequences.mat", "r") as f:
        return f["naturalStruct/sortedResponses"][()]  # (reps, units, frames, movies, cats, scales)


def test_recordings_units_monkeys(full):
    assert {k: v.n_units for k, v in full.recordings.items()} == UNITS
    pop = full.population()
    assert pop.n_units == 360 and pop.n_stimuli == 484 and pop.n_repeats == 60
    assert pop.subjects == ["ay2", "ay3", "ay4", "ay5"] and pop.areas == ["V1"]
    assert pop.units["unit_id"].is_unique
    assert pop.units.groupby("subject")["recording"].nunique().to_dict() == {
        "ay2": 2, "ay3": 2, "ay4": 3, "ay5": 2,
    }  # fmt: skip


def test_484_conditions_shown_in_all_recordings(full):
    meta = full.stimuli["shared"].metadata
    assert meta["category"].value_counts().to_dict() == {
        "natural": 220, "synthetic": 220, "contrast": 44,
    }  # fmt: skip
    assert set(meta.loc[meta["category"] == "contrast", "scale"]) == {"zoom1x"}
    for rec in ("ay2_u007", "ay4_u005"):  # every cell not in the table is empty in the raw file
        shown = (~np.isnan(_raw(rec))).any(axis=(0, 1))
        assert shown.sum() == 484


def test_ids_and_orientation_against_raw_hdf5(full):
    rec = full.recordings["ay4_u001"]
    raw = _raw("ay4_u001")
    for sid, (frame, movie, cat, scale) in {
        "natural-zoom1x-movie03-f07": (6, 2, 0, 0),
        "synthetic-zoom2x-movie10-f02": (1, 9, 1, 1),
        "contrast-zoom1x-movie02-f05": (4, 1, 2, 0),
    }.items():
        row = rec.responses[rec.stimulus_index([sid])[0]]  # (units, repeats)
        np.testing.assert_array_equal(row, raw[:, :, frame, movie, cat, scale].T)
    title = (
        full.stimuli["shared"]
        .metadata.set_index(full.stimuli["shared"].ids)
        .loc["natural-zoom1x-movie03-f07", "movie_title"]
    )
    assert title == "movie03-dogville"


def test_valid_repeats(full):
    n_valid = np.concatenate([r.n_valid_repeats().ravel() for r in full.recordings.values()])
    # per (condition, unit): 24-60 valid repeats; 95 % of cells have >= 36 (README's "36-60")
    assert n_valid.min() == 24 and n_valid.max() == 60
    assert np.percentile(n_valid, 5) >= 36
    for key, rec in full.recordings.items():  # every condition was presented 50 (60) times
        presented = (~np.isnan(rec.responses)).any(axis=1).sum(axis=1)
        assert set(presented) == {60 if key == "ay4_u005" else 50}


def test_unique_conditions_drop_exact_duplicates(full, unique):
    meta = full.stimuli["shared"].metadata
    ids = full.stimuli["shared"].ids
    dup = meta["image_id"].duplicated(keep=False)
    assert dup.sum() == 84 and meta["image_id"].nunique() == 440
    for rec in full.recordings.values():  # cells showing one image hold the very same trials
        for _, grp in meta[dup].groupby("image_id"):
            r = rec.responses[grp.index.to_numpy()]
            assert all(np.array_equal(r[0], x, equal_nan=True) for x in r[1:])
    assert len(unique.stimuli["shared"]) == 440
    u = unique.recordings["ay3_u002"]
    sub = full.recordings["ay3_u002"].select(stimuli=u.stimulus_ids)
    np.testing.assert_array_equal(u.responses, sub.responses)
    assert u.units.equals(sub.units) and u.metadata["conditions"] == "unique"
    first = unique.stimuli["shared"].metadata.iloc[0]
    assert ids[0] == unique.stimuli["shared"].ids[0] == "natural-zoom1x-movie01-f01"
    assert first["sequences"] == "natural,synthetic"


def test_no_images(full):
    st = full.stimuli["shared"]
    assert not st.has_images and not full.info.has_images
    with pytest.raises(DataError, match="no images"):
        st.image(0)
    assert full.recordings["ay2_u003"].metadata["response_unit"] == "spike count in a 200 ms window"
