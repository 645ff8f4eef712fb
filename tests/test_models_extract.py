"""extract(): hooks, determinism, pooling, projections, errors (tiny CNNs, a few images)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import neuroalign.models as nm  # noqa: E402
from neuroalign.data import StimulusSet  # noqa: E402
from neuroalign.errors import ConfigError, DataError  # noqa: E402
from neuroalign.models.reduce import pca_scores  # noqa: E402

PRE32 = nm.Preprocessing(size=32, mean=(0.5,) * 3, std=(0.5,) * 3)


def _images(n=6, size=40, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, size, size, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def cnn():
    return nm.load("small_cnn", seed=3)


def test_hook_outputs_equal_manual_forward(cnn):
    imgs = _images()
    acts = nm.extract(cnn, imgs, ["conv1", "relu2", "pool2", "fc"], cache=False, batch_size=4)
    x = torch.from_numpy(PRE32.batch(imgs))
    m = cnn.module
    with torch.no_grad():
        conv1 = m.conv1(x)
        relu2 = m.relu2(m.conv2(m.pool1(m.relu1(conv1))))
        pool2 = m.pool2(relu2)
        fc = m.fc(m.flatten(pool2))
    for name, ref in [("conv1", conv1), ("relu2", relu2), ("pool2", pool2), ("fc", fc)]:
        np.testing.assert_array_equal(acts[name], ref.reshape(len(imgs), -1).numpy())
        assert acts[name].dtype == np.float32
    assert list(acts.stimulus_ids) == list(StimulusSet.from_arrays(imgs).ids)


def test_bit_identical_across_runs_and_batch_composition(cnn):
    imgs = _images(7)
    a = nm.extract(cnn, imgs, ["conv2", "fc"], cache=False, batch_size=3)
    b = nm.extract(cnn, imgs, ["conv2", "fc"], cache=False, batch_size=3)
    for layer in ("conv2", "fc"):
        assert a[layer].tobytes() == b[layer].tobytes()
    c = nm.extract(cnn, imgs, ["conv2"], cache=False, batch_size=7)
    np.testing.assert_allclose(a["conv2"], c["conv2"], rtol=1e-5, atol=1e-6)


def test_stimulus_set_and_array_give_the_same_rows(cnn):
    imgs = _images(4)
    s = StimulusSet.from_arrays(imgs, ids=["a", "b", "c", "d"])
    a = nm.extract(cnn, s, "fc", cache=False)
    b = nm.extract(cnn, imgs, "fc", cache=False)
    np.testing.assert_array_equal(a["fc"], b["fc"])
    assert list(a.stimulus_ids) == ["a", "b", "c", "d"]
    assert list(a.select(["c", "a"]).stimulus_ids) == ["c", "a"]
    np.testing.assert_array_equal(a.select(["c", "a"])["fc"], a["fc"][[2, 0]])


def test_grey_images_become_three_identical_channels(cnn):
    grey = _images(3)[..., 0]
    rgb = np.repeat(grey[..., None], 3, axis=3)
    a = nm.extract(cnn, grey, "conv1", cache=False)
    b = nm.extract(cnn, rgb, "conv1", cache=False)
    np.testing.assert_array_equal(a["conv1"], b["conv1"])


def test_pooling_matches_torch_reductions(cnn):
    imgs = _images(3)
    x = torch.from_numpy(PRE32.batch(imgs))
    with torch.no_grad():
        ref = cnn.module.conv1(x)
    for pool, expect in [
        ("avg", ref.mean(dim=(2, 3))),
        ("max", ref.amax(dim=(2, 3))),
        (2, torch.nn.functional.adaptive_avg_pool2d(ref, 2).flatten(1)),
    ]:
        got = nm.extract(cnn, imgs, "conv1", pool=pool, cache=False)["conv1"]
        np.testing.assert_allclose(got, expect.numpy(), rtol=1e-6, atol=1e-6)
    with pytest.raises(ConfigError, match="pool must be"):
        nm.extract(cnn, imgs, "conv1", pool="median", cache=False)


def test_random_projection_is_seeded_sparse_and_norm_preserving():
    rp = nm.RandomProjection(k=400, seed=1)
    P = rp.matrix(10_000)
    assert P.shape == (10_000, 400) and P.dtype == np.float32
    assert abs(P.nnz / (10_000 * 400) - 0.01) < 0.002  # density 1/sqrt(d)
    assert (P != nm.RandomProjection(k=400, seed=1).matrix(10_000)).nnz == 0
    assert (P != nm.RandomProjection(k=400, seed=2).matrix(10_000)).nnz > 0
    x = np.random.default_rng(0).standard_normal((50, 10_000)).astype(np.float32)
    ratio = np.linalg.norm(x @ P, axis=1) ** 2 / np.linalg.norm(x, axis=1) ** 2
    assert abs(ratio.mean() - 1) < 0.05  # Johnson-Lindenstrauss: E|xP|^2 = |x|^2


def test_extract_with_random_projection_equals_projecting_full_features(cnn):
    imgs = _images(5)
    full = nm.extract(cnn, imgs, "conv2", cache=False)["conv2"]
    rp = nm.RandomProjection(k=64, seed=0)
    proj = nm.extract(cnn, imgs, "conv2", projection=rp, cache=False, batch_size=2)["conv2"]
    np.testing.assert_allclose(proj, full @ rp.matrix(full.shape[1]), rtol=1e-4, atol=1e-5)
    small = nm.extract(cnn, imgs, "fc", projection=rp, cache=False)["fc"]  # 10 <= k: kept
    assert small.shape == (5, 10)


def test_pca_matches_scikit_learn(cnn, tmp_path):
    from sklearn.decomposition import PCA as SkPCA

    imgs = _images(12)
    full = nm.extract(cnn, imgs, "conv2", cache=False)["conv2"]
    ref = SkPCA(n_components=5, svd_solver="full").fit_transform(full.astype(np.float64))
    got = nm.extract(cnn, imgs, "conv2", projection=nm.PCA(5), cache=tmp_path, batch_size=5)
    np.testing.assert_allclose(got["conv2"], ref, rtol=1e-3, atol=1e-3 * np.abs(ref).max())
    # blockwise streaming gives the same scores as one block
    np.testing.assert_allclose(pca_scores(full, 5, block=37), pca_scores(full, 5), atol=1e-4)
    with pytest.raises(ConfigError, match="at most 11"):
        pca_scores(full, 12)


def test_unknown_layer_lists_available_names(cnn):
    with pytest.raises(ConfigError, match="available layers: conv1, relu1, pool1, conv2"):
        nm.extract(cnn, _images(2), ["conv9"], cache=False)
    with pytest.raises(ConfigError, match="available layers"):
        nm.extract(cnn.module, _images(2), None, cache=False)


class _SharedReLU(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3)
        self.conv2 = nn.Conv2d(4, 4, 3)
        self.act = nn.ReLU()  # used twice per forward

    def forward(self, x):
        return self.act(self.conv2(self.act(self.conv1(x))))


def test_layer_firing_twice_is_refused():
    model = _SharedReLU()
    with pytest.raises(ConfigError, match=r"'act' ran 2 times in one forward pass"):
        nm.extract(model, _images(2), ["act"], preprocess=PRE32, cache=False)
    acts = nm.extract(model, _images(2), ["conv2"], preprocess=PRE32, cache=False)
    assert acts["conv2"].shape == (2, 4 * 28 * 28)


def test_wrong_input_size_says_which_size_the_model_expects(cnn):
    # a zoo model forced to 64 px: its entry declares 32 px
    with pytest.raises(ConfigError, match=r"expects 32×32 px"):
        nm.extract(cnn, _images(2), "fc", preprocess=nm.Preprocessing(size=64), cache=False)
    # a bare module: the size is found by probing
    with pytest.raises(ConfigError, match=r"runs on 32×32 px"):
        nm.extract(cnn.module, _images(2), "fc", preprocess=nm.Preprocessing(size=48), cache=False)
    # layers that run before the failing point are still extracted at that size
    acts = nm.extract(cnn, _images(3), "conv2", preprocess=nm.Preprocessing(size=48), cache=False)
    assert acts["conv2"].shape == (3, 16 * 24 * 24)


def test_identical_images_in_an_array_need_explicit_ids(cnn):
    imgs = _images(3)
    imgs[2] = imgs[0]
    with pytest.raises(DataError, match="identical images"):
        nm.extract(cnn, imgs, "fc", cache=False)
    s = StimulusSet.from_arrays(imgs, ids=["a", "b", "c"])
    acts = nm.extract(cnn, s, "fc", cache=False)
    np.testing.assert_array_equal(acts["fc"][0], acts["fc"][2])


def test_model_mode_and_layers_restored_after_extraction(cnn):
    cnn.module.train()
    nm.extract(cnn, _images(2), "conv1", cache=False)
    assert cnn.module.training
    cnn.module.eval()
    assert not any(m._forward_hooks for m in cnn.module.modules())


class _ConvInplaceReLU(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.act = nn.ReLU(inplace=True)  # overwrites the conv's output tensor

    def forward(self, x):
        return self.act(self.conv(x))


def test_layer_followed_by_an_inplace_op_keeps_its_own_output():
    torch.manual_seed(0)
    model = _ConvInplaceReLU()
    imgs = _images(3, size=32)
    acts = nm.extract(model, imgs, ["conv", "act"], preprocess=PRE32, cache=False)
    with torch.no_grad():
        ref = model.conv(torch.from_numpy(PRE32.batch(imgs))).reshape(3, -1).numpy()
    assert ref.min() < 0  # the pre-activation has negative values ...
    np.testing.assert_array_equal(acts["conv"], ref)  # ... which the ReLU must not clip away
    np.testing.assert_array_equal(acts["act"], np.maximum(ref, 0))


def test_cache_key_and_entry_do_not_depend_on_the_device(cnn, tmp_path):
    imgs = _images(4)
    first = nm.extract(cnn, imgs, "conv2", cache=tmp_path)  # default: the model's device
    key = first.provenance["layers"]["conv2"]["cache_key"]
    for device in ("cpu", torch.device("cpu")):
        again = nm.extract(cnn, imgs, "conv2", cache=tmp_path, device=device)
        assert again.provenance["layers"]["conv2"] == {"cache_key": key, "from_cache": True}
        np.testing.assert_array_equal(again["conv2"], first["conv2"])
    fresh = nm.extract(cnn, imgs, "conv2", cache=False, device="cpu")
    np.testing.assert_array_equal(fresh["conv2"], first["conv2"])


def test_unknown_or_absent_device_is_a_config_error(cnn):
    with pytest.raises(ConfigError, match="unknown torch device 'gpu0'"):
        nm.extract(cnn, _images(2), "fc", cache=False, device="gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="no CUDA device"):
            nm.extract(cnn, _images(2), "fc", cache=False, device="cuda")
    assert next(cnn.module.parameters()).device.type == "cpu"  # the model was not moved
