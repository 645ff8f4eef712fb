"""RSA: RDMs, RDM comparison and noise ceilings agree with rsatoolbox on the same RDMs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.distance import squareform
from scipy.stats import spearmanr

from neuroalign.errors import ConfigError, DataError
from neuroalign.metrics import noise_ceiling
from neuroalign.metrics.rsa import compare_rdms, condensed, rdm, rdm_similarity

rsatoolbox = pytest.importorskip("rsatoolbox")
from rsatoolbox.inference import boot_noise_ceiling  # noqa: E402
from rsatoolbox.rdm import RDMs  # noqa: E402
from rsatoolbox.rdm import compare as rsa_compare  # noqa: E402

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
METHODS = [("spearman", "spearman"), ("pearson", "corr"), ("cosine", "cosine"),
           ("kendall_tau_a", "tau-a"), ("rho_a", "rho-a")]  # fmt: skip


def _subject_rdms(rng, k=4, n=20, noise=0.5):
    base = rng.normal(size=(n, 6))
    return np.stack([rdm(base + noise * rng.normal(size=base.shape)) for _ in range(k)])


@pytest.mark.parametrize(("ours", "theirs"), METHODS)
def test_compare_matches_rsatoolbox(ours, theirs):
    rng = np.random.default_rng(0)
    a = _subject_rdms(rng, k=2)
    b = _subject_rdms(rng, k=3)
    b[0] = np.round(b[0], 1)  # ties, where spearman / tau-a / rho-a differ
    ref = rsa_compare(RDMs(condensed(a)), RDMs(condensed(b)), method=theirs)
    np.testing.assert_allclose(compare_rdms(a, b, ours), ref, atol=1e-10)
    np.testing.assert_allclose(compare_rdms(a, b, theirs), ref, atol=1e-10)  # aliases


def test_spearman_is_scipy_spearman_of_the_upper_triangles():
    rng = np.random.default_rng(1)
    a, b = _subject_rdms(rng, k=2)
    ref = spearmanr(squareform(a, checks=False), squareform(b, checks=False)).statistic
    assert rdm_similarity(a, b, "spearman") == pytest.approx(ref, abs=1e-12)


@pytest.mark.parametrize(("ours", "theirs"), [m for m in METHODS if m[0] != "kendall_tau_a"])
def test_noise_ceiling_matches_rsatoolbox(ours, theirs):
    subjects = _subject_rdms(np.random.default_rng(2), k=5)
    lo, up = boot_noise_ceiling(RDMs(condensed(subjects)), method=theirs)
    ours_lo, ours_up = noise_ceiling(subjects, ours)
    assert ours_lo == pytest.approx(lo, abs=1e-10)
    assert ours_up == pytest.approx(up, abs=1e-10)
    assert ours_lo < ours_up


def test_rdm_matches_rsatoolbox_correlation_rdm():
    from rsatoolbox.data import Dataset
    from rsatoolbox.rdm import calc_rdm

    x = np.random.default_rng(3).normal(size=(12, 30))
    ref = calc_rdm(Dataset(x), method="correlation").get_matrices()[0]
    np.testing.assert_allclose(rdm(x), ref, atol=1e-12)


def test_bad_inputs_raise():
    with pytest.raises(ConfigError, match="unknown RDM comparison"):
        compare_rdms(np.ones(3), np.ones(3), "nope")
    with pytest.raises(DataError, match="different sizes"):
        compare_rdms(np.arange(3.0), np.arange(6.0))
    with pytest.raises(DataError, match="constant feature pattern"):
        rdm(np.ones((4, 3)))
    with pytest.raises(DataError, match="at least 2"):
        noise_ceiling(np.arange(6.0)[None])


@pytest.mark.skipif(not DATA.is_dir(), reason=f"real data not found at {DATA}")
@pytest.mark.parametrize(("ours", "theirs"), [("spearman", "spearman"), ("kendall_tau_a", "tau-a"), ("cosine", "cosine")])  # fmt: skip
def test_model_rdm_vs_human_it_matches_rsatoolbox(ours, theirs):
    """A model RDM against the 4 human-IT subject RDMs of Kriegeskorte 2008, ours vs rsatoolbox."""
    from neuroalign import datasets

    ds = datasets.load("kriegeskorte2008_92", data_dir=DATA)
    hit = ds.rdms.select(kind="hIT")
    subjects = np.stack([hit.select(subject=s).rdms.mean(0) for s in ["BE", "KO", "SN", "TI"]])
    model = rdm(
        np.random.default_rng(4).normal(size=(92, 50)) + ds.rdms.rdm("mIT_674neurons")[:, :50]
    )
    ref = rsa_compare(RDMs(condensed(model)), RDMs(condensed(subjects)), method=theirs)
    np.testing.assert_allclose(compare_rdms(model, subjects, ours), ref, atol=1e-6)
    if ours != "kendall_tau_a":
        lo, up = boot_noise_ceiling(RDMs(condensed(subjects)), method=theirs)
        assert noise_ceiling(subjects, ours) == pytest.approx((lo, up), abs=1e-6)


def _categorical(rng, k, n=20):
    """Model RDMs with many ties (category membership)."""
    cats = rng.integers(0, 3, size=(k, n))
    return np.stack([(c[:, None] != c[None, :]).astype(float) for c in cats])


@pytest.mark.parametrize(("ours", "theirs"), [*METHODS, ("kendall_tau_b", "kendall")])
def test_many_models_with_ties_against_many_subjects_match_rsatoolbox(ours, theirs):
    rng = np.random.default_rng(10)
    models = np.concatenate([_categorical(rng, 3), _subject_rdms(rng, k=4)])
    models[4] = np.round(models[4], 1)
    subjects = _subject_rdms(rng, k=5)
    subjects[1] = np.round(subjects[1], 2)
    ref = rsa_compare(RDMs(condensed(models)), RDMs(condensed(subjects)), method=theirs)
    np.testing.assert_allclose(compare_rdms(models, subjects, ours), ref, atol=1e-12)


@pytest.mark.parametrize(("ours", "theirs"), [("kendall_tau_a", "tau-a"), ("kendall_tau_b", "tau-b")])  # fmt: skip
def test_kendall_noise_ceiling_matches_rsatoolbox(ours, theirs):
    subjects = _subject_rdms(np.random.default_rng(11), k=4)
    subjects[0] = np.round(subjects[0], 1)
    with pytest.warns(UserWarning, match="averaged ranks"):
        lo, up = boot_noise_ceiling(RDMs(condensed(subjects)), method=theirs)
    assert noise_ceiling(subjects, ours) == pytest.approx((lo, up), abs=1e-12)


def _kendall_s_brute(x, y):
    """Σ_{i<j} sign(x_i − x_j) sign(y_i − y_j), all pairs."""
    return int(np.triu(np.sign(x[:, None] - x[None]) * np.sign(y[:, None] - y[None]), 1).sum())


def test_kendall_s_is_the_all_pairs_sum_with_ties():
    from neuroalign.metrics.ranks import kendall_s, rank_rows

    rng = np.random.default_rng(12)
    a = np.round(rng.random((3, 300)), 1)
    a[0] = rng.random(300)
    b = np.round(rng.random((2, 300)), 2)
    pairs = np.indices((3, 2)).reshape(2, -1).T
    s = kendall_s(rank_rows(a), rank_rows(b), pairs)
    assert s.tolist() == [_kendall_s_brute(a[i], b[j]) for i, j in pairs]


def test_ranks_equal_scipy_for_ties_and_values_closer_than_the_radix_resolution():
    from scipy.stats import rankdata

    from neuroalign.metrics.ranks import rank_rows

    rng = np.random.default_rng(13)
    v = rng.random((40, 500))
    v[1] = np.round(v[1], 1)  # heavy ties
    v[2, :100] = 0.5 + np.arange(100) * 1e-15  # far below 2^-32 of the row's range
    v[2] = v[2, rng.permutation(500)]
    v[3] = 7.0 + np.arange(500) % 3  # three values
    ranked = rank_rows(v)
    np.testing.assert_array_equal(ranked.ranks, rankdata(v, axis=1))
    np.testing.assert_array_equal(ranked.dense, rankdata(v, axis=1, method="dense"))
    counts = [np.unique(r, return_counts=True)[1] for r in v]
    assert ranked.ties.tolist() == [int((c * (c - 1) // 2).sum()) for c in counts]


def _collection(rdms, ids):
    import pandas as pd

    from neuroalign.data.rdms import RDMCollection

    names = pd.DataFrame({"name": [f"r{i}" for i in range(len(rdms))]})
    return RDMCollection(rdms, names, ids)


def test_rdm_collections_are_joined_on_stimulus_ids():
    rng = np.random.default_rng(14)
    a, b = _subject_rdms(rng, k=2), _subject_rdms(rng, k=3)
    ids = [f"s{i}" for i in range(20)]
    perm = rng.permutation(20)
    shuffled = _collection(b[:, perm][:, :, perm], [ids[i] for i in perm])
    ref = compare_rdms(a, b, "spearman")
    np.testing.assert_allclose(compare_rdms(_collection(a, ids), shuffled, "spearman"), ref,
                               atol=1e-14)  # fmt: skip
    with pytest.raises(DataError, match="share no stimulus id"):
        compare_rdms(_collection(a, ids), _collection(b, [f"t{i}" for i in range(20)]))


def test_rdm_runs_through_the_compute_setting():
    pytest.importorskip("torch")
    x = np.random.default_rng(15).normal(size=(12, 50))
    np.testing.assert_allclose(rdm(x, compute="torch:cpu"), rdm(x), atol=1e-14)
