"""RSA: RDMs, RDM comparison and noise ceilings agree with rsatoolbox on the same RDMs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.distance import squareform
from scipy.stats import spearmanr

from neuroalign.errors import ConfigError, DataError
from neuroalign.metrics.rsa import compare_rdms, condensed, noise_ceiling, rdm, rdm_similarity

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
