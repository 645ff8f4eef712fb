"""cowley2023_v4 against the values in its README, with plain numpy/scipy references."""

from pathlib import Path

import numpy as np
import pytest
from scipy.stats import pearsonr

import neuroalign.datasets as nd
from neuroalign.data import image_content_id
from neuroalign.errors import DataError

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ROOT = DATA / "cowley2023_v4"
pytestmark = [
    pytest.mark.data,
    pytest.mark.skipif(not ROOT.is_dir(), reason=f"real data folder {ROOT} is absent"),
]


@pytest.fixture(scope="module")
def ds():
    return nd.load("cowley2023_v4", DATA, sessions=["210322", "210325", "210621"])


def test_210325_is_per_repeat_640x50x10(ds):
    rec = ds.recordings["210325"]
    assert rec.responses.shape == (640, 50, 10)
    n_valid = rec.n_valid_repeats()
    assert n_valid.min() == 6 and n_valid.max() == 10 and np.median(n_valid) == 8
    assert (n_valid == n_valid[:, :1]).all()  # same repeats for every neuron of an image
    avg = np.load(ROOT / "responses_repeat_averaged" / "responses_210325.npy")  # (neurons, images)
    np.testing.assert_array_equal(np.nanmean(rec.responses, axis=2), avg.T)


def test_210325_split_half_reliability_matches_readme(ds):
    r = ds.recordings["210325"].responses  # (images, neurons, repeats)
    odd = np.empty(r.shape[:2])
    even = np.empty(r.shape[:2])
    for i in range(r.shape[0]):
        for u in range(r.shape[1]):
            valid = r[i, u][~np.isnan(r[i, u])]
            even[i, u], odd[i, u] = valid[0::2].mean(), valid[1::2].mean()
    rho = np.array([pearsonr(even[:, u], odd[:, u])[0] for u in range(r.shape[1])])
    sb = 2 * rho / (1 + rho)
    assert np.median(sb) == pytest.approx(0.77, abs=0.01)
    assert sb.min() > 0.5


def test_units_and_metadata(ds):
    rec = ds.recordings["210322"]
    assert rec.responses.shape == (1200, 59, 1)
    np.testing.assert_array_equal(
        rec.responses[:, :, 0],
        np.load(ROOT / "responses_repeat_averaged" / "responses_210322.npy").T,
    )
    assert rec.units["unit_id"].str.startswith("210322-").all()
    assert (
        set(rec.units["session"]) == {"210322"} and rec.subjects == ["PE"] and rec.areas == ["V4"]
    )
    assert ds.recordings["210621"].subjects == ["RA"]
    assert rec.metadata["repeats"] == "repeat-averaged"
    assert (
        rec.metadata["source_sha256"]
        == nd.info("cowley2023_v4").files["responses_repeat_averaged/responses_210322.npy"]
    )


def test_shared_images_align_by_content(ds):
    a, b = ds.recordings["210322"], ds.recordings["210325"]
    shared = a.shared_stimuli(b)
    assert len(shared) == 600
    np.testing.assert_array_equal(a.stimulus_ids[600:], b.stimulus_ids[:600])
    pop = ds.population(["210322", "210325"])
    assert pop.responses.shape == (600, 109, 10)
    assert pop.units["session"].value_counts().to_dict() == {"210322": 59, "210325": 50}
    with pytest.raises(DataError, match="unknown recording"):
        ds.population(["190923"])


def test_stimulus_sets_hold_the_images(ds):
    st = ds.stimuli["210325"]
    assert len(st) == 640 and st.has_images
    for i in (0, 333, 639):
        img = st.image(i)
        assert img.shape == (112, 112, 3) and img.dtype == np.uint8
        assert image_content_id(img) == st.ids[i] == ds.recordings["210325"].stimulus_ids[i]
    assert st.metadata["file"].iloc[0] == "image0001.jpg"


def test_duplicate_images_of_210621_are_averaged(ds):
    rec, st = ds.recordings["210621"], ds.stimuli["210621"]
    assert rec.n_stimuli == len(st) == 1198
    avg = np.load(ROOT / "responses_repeat_averaged" / "responses_210621.npy")  # (51, 1200)
    assert rec.metadata["merged_duplicate_images"] == [
        ["image0101.jpg", "image0536.jpg"],
        ["image0425.jpg", "image0697.jpg"],
    ]
    row = list(st.metadata["file"]).index("image0101.jpg")
    np.testing.assert_allclose(rec.responses[row, :, 0], (avg[:, 100] + avg[:, 535]) / 2)
    assert "image0536.jpg" not in set(st.metadata["file"])
    np.testing.assert_array_equal(rec.responses[row + 1, :, 0], avg[:, 101])


def test_averaged_option_and_cached_reload():
    again = nd.load("cowley2023_v4", DATA, sessions=["210325"], per_repeat=False)
    rec = again.recordings["210325"]
    assert rec.responses.shape == (640, 50, 1)
    assert rec.metadata["source_file"] == "responses_repeat_averaged/responses_210325.npy"


def test_one_image_is_shared_across_monkeys(ds):
    # The README says no image is shared across monkeys; byte-identical image0568.jpg (210225,
    # PE) and image1073.jpg (210621, RA) are the single exception.
    pe = nd.load("cowley2023_v4", DATA, sessions=["210225"])
    shared = pe.recordings["210225"].shared_stimuli(ds.recordings["210621"])
    assert len(shared) == 1
    i = list(pe.stimuli["210225"].ids).index(shared[0])
    assert pe.stimuli["210225"].metadata["file"].iloc[i] == "image0568.jpg"


def test_all_sessions_match_readme_table():
    full = nd.load("cowley2023_v4", DATA)
    shapes = {k: (r.n_units, r.n_stimuli, r.n_repeats) for k, r in full.recordings.items()}
    assert shapes == {
        "190923": (33, 1200, 1), "201025": (89, 1200, 1), "210225": (55, 1200, 1),
        "210305": (70, 400, 1), "210322": (59, 1200, 1), "210325": (50, 640, 10),
        "210621": (51, 1198, 1),
    }  # fmt: skip
    assert full.population(["190923"]).subjects == ["WE"]
    assert full.stimuli["190923"].metadata["file"].iloc[0] == "images_190923/image0001.jpg"
