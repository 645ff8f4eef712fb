"""kriegeskorte2008_92 against its README, with scipy references."""

from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.distance import squareform
from scipy.stats import spearmanr

import neuroalign.datasets as nd
from neuroalign.data import image_content_id

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ROOT = DATA / "kriegeskorte2008_92images"
pytestmark = [
    pytest.mark.data,
    pytest.mark.skipif(not ROOT.is_dir(), reason=f"real data folder {ROOT} is absent"),
]


@pytest.fixture(scope="module")
def ds():
    return nd.load("kriegeskorte2008_92", DATA)


def test_stimuli(ds):
    st = ds.stimuli["shared"]
    assert len(st) == 92 and st.has_images and not ds.recordings
    img = st.image(5)
    assert img.shape == (175, 175, 3) and img.dtype == np.uint8
    assert image_content_id(img) == st.ids[5]
    assert st.metadata["category"].value_counts().to_dict() == {
        "natural inanimate": 23, "artificial inanimate": 21, "human bodypart": 12,
        "human face": 12, "nonhuman bodypart": 12, "nonhuman face": 12,
    }  # fmt: skip
    assert st.metadata["animate"].sum() == 48 and st.metadata["face"].sum() == 24
    np.testing.assert_array_equal(ds.rdms.stimulus_ids, st.ids)


def test_rdm_counts(ds):
    desc = ds.rdms.descriptors
    assert len(ds.rdms) == 34
    assert desc["kind"].value_counts().to_dict() == {
        "behaviour": 16, "hIT": 8, "model": 8, "mIT": 1, "hIT_group": 1,
    }  # fmt: skip
    hit = ds.rdms.select(kind="hIT")
    assert sorted(set(hit.descriptors["subject"])) == ["BE", "KO", "SN", "TI"]
    assert hit.select(session=2).names[0] == "hIT | BE | Session: 2"
    assert ds.rdms.select(kind="model").names == [
        "animacy", "FaceBodyManmadeNatobj", "monkeyIT", "EVA", "HMAX", "V1", "Silhouette", "RADON",
    ]  # fmt: skip


def test_mit_vs_hit_spearman_matches_readme(ds):
    v = ds.rdms.select(kind=["mIT", "hIT_group"]).condensed()
    assert spearmanr(v[0], v[1])[0] == pytest.approx(0.44, abs=0.005)


def test_condensed_order_and_consistency(ds):
    mit = ds.rdms.rdm("mIT_674neurons")
    np.testing.assert_array_equal(ds.rdms.select(kind="mIT").condensed()[0], squareform(mit))
    np.testing.assert_array_equal(mit, ds.rdms.rdm("monkeyIT"))  # fig-1 vector = model RDM
    group = squareform(ds.rdms.rdm("hITvisStim_316vx"))
    mean8 = ds.rdms.select(kind="hIT").rdms.mean(axis=0)
    assert spearmanr(group, squareform(mean8, checks=False))[0] > 0.999


def test_human_subjects_consistency_range_matches_readme(ds):
    hit = ds.rdms.select(kind="hIT")
    per_subject = {
        s: squareform(hit.select(subject=s).rdms.mean(axis=0), checks=False)
        for s in ("BE", "KO", "SN", "TI")
    }
    rho = [spearmanr(per_subject[a], per_subject[b])[0] for a, b in combinations(per_subject, 2)]
    assert min(rho) == pytest.approx(0.21, abs=0.005)
    assert max(rho) == pytest.approx(0.43, abs=0.005)
