"""The model zoo: registry, EfficientNet-Lite0 weights, the expansion model, adapters, lazy torch."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import neuroalign.models as nm  # noqa: E402
from neuroalign.data import StimulusSet  # noqa: E402
from neuroalign.errors import ConfigError  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def test_registry_names_info_and_unknown_name():
    names = nm.names()
    for n in (
        "efficientnet_lite0",
        "efficientnet_lite0_untrained",
        "expansion_ci",
        "expansion_3000",
        "expansion_30000",
        "small_cnn",
    ):
        assert n in names
    e = nm.info("expansion_30000")
    assert e.input_size == 224 and "Kazemian" in e.citation and not e.trained
    assert nm.info("efficientnet_lite0").trained
    with pytest.raises(ConfigError, match="known models: efficientnet_lite0, "):
        nm.load("resnet9000")
    with pytest.raises(ConfigError, match="seed"):
        nm.load("small_cnn", seed=None)


def test_import_without_torch():
    code = (
        "import sys, importlib.abc\n"
        "class NoTorch(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'torch' or name.startswith('torch.'):\n"
        "            raise ImportError('torch is not installed (simulated)')\n"
        "sys.meta_path.insert(0, NoTorch())\n"
        "import neuroalign, neuroalign.models as nm\n"
        "assert 'torch' not in sys.modules\n"
        "assert 'expansion_ci' in nm.names() and nm.info('efficientnet_lite0').input_size == 224\n"
        "nm.Preprocessing(size=32)\n"
        "assert nm.info('efficientnet_lite0?crop=none').preprocess.crop_fraction is None\n"
        "try:\n"
        "    nm.info('timm:resnet18')\n"
        "except neuroalign.ConfigError as e:\n"
        "    assert 'pip install timm' in str(e)\n"
        "assert 'torch' not in sys.modules\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode()


def _skimage_stimuli() -> StimulusSet:
    from skimage import data

    images = {"chelsea": data.chelsea(), "coffee": data.coffee()}  # different sizes
    names = list(images)
    return StimulusSet(names, source=lambda i: images[names[i]])


def test_efficientnet_lite0_imagenet_weights_classify_cat_and_coffee(tmp_path):
    model = nm.load("efficientnet_lite0")
    assert model.seed is None and model.input_size == 224
    logits = nm.extract(model, _skimage_stimuli(), ["_fc"], cache=False)["_fc"]
    top5 = np.argsort(-logits, axis=1)[:, :5]
    cats, coffee = set(range(281, 286)), {967, 968, 504}
    assert top5[0, 0] in cats, top5[0]  # chelsea: a domestic cat
    assert top5[1, 0] in coffee and 967 in top5[1], top5[1]  # coffee: espresso / cup
    assert not cats & set(top5[1]) and not coffee & set(top5[0])


def test_efficientnet_untrained_twin_is_seeded_and_differs():
    trained = nm.load("efficientnet_lite0").module.state_dict()
    a = nm.load("efficientnet_lite0_untrained", seed=0).module.state_dict()
    b = nm.load("efficientnet_lite0_untrained", seed=0).module.state_dict()
    c = nm.load("efficientnet_lite0_untrained", seed=1).module.state_dict()
    assert a.keys() == trained.keys()
    w = "_blocks.3._expand_conv.weight"
    assert a[w].shape == trained[w].shape
    assert torch.equal(a[w], b[w]) and not torch.equal(a[w], c[w])
    assert not torch.equal(a[w], trained[w])
    state = torch.get_rng_state()
    nm.load("efficientnet_lite0_untrained", seed=5)
    assert torch.equal(state, torch.get_rng_state())  # global random state untouched


def _reference_banana(s, fre, theta, cur, gamma, sigx, sigy, sz):
    """Transcription of banana_filter from github.com/akazemian/untrained_models_of_visual_cortex
    (models/layer_operations/preset_filters.py)."""
    xv, yv = np.meshgrid(
        np.arange(np.fix(-sz / 2).item(), np.fix(sz / 2).item() + sz % 2),
        np.arange(np.fix(sz / 2).item(), np.fix(-sz / 2).item() - sz % 2, -1),
    )
    xv, yv = xv.T, yv.T
    xc = xv * np.cos(theta) + yv * np.sin(theta)
    xs = -xv * np.sin(theta) + yv * np.cos(theta)
    bias = np.exp(-sigx / 2)
    k = xc + cur * (xs**2)
    k2 = (k / sigx) ** 2 + (xs / (sigy * s)) ** 2
    G = np.exp(-k2 * fre**2 / 2)
    F = np.exp(fre * k * 1j)
    filt = np.real(gamma * G * (F - bias))
    return filt - filt.mean()


def test_curvature_bank_matches_reference_code():
    from neuroalign.models.expansion import curvature_filter_bank

    bank = curvature_filter_bank()
    assert bank.shape == (36, 1, 15, 15)
    curves = np.logspace(-2, -0.1, 3)
    np.testing.assert_allclose(curves[[0, -1]], [0.01, 0.794], atol=1e-3)
    ories = np.arange(0, 2 * np.pi, 2 * np.pi / 12)
    i = 0
    for cur in curves:
        for theta in ories:
            ref = _reference_banana(5, 1.2, theta, cur, 1, 1, 1, 15)
            np.testing.assert_allclose(bank[i, 0], ref, rtol=1e-5, atol=1e-6)
            i += 1


def test_expansion_ci_architecture_and_layer1_per_channel():
    from neuroalign.models.expansion import curvature_filter_bank

    model = nm.load("expansion_ci", seed=0)
    x = torch.from_numpy(np.random.default_rng(0).random((2, 3, 224, 224), dtype=np.float32))
    shapes = {}
    hooks = [
        getattr(model.module, f"layer{i}").register_forward_hook(
            lambda m, _i, o, i=i: shapes.__setitem__(i, tuple(o.shape))
        )
        for i in range(1, 6)
    ]
    with torch.no_grad():
        out = model.module(x)
        l1 = model.module.layer1.conv(x)
    for h in hooks:
        h.remove()
    assert shapes == {
        1: (2, 108, 111, 111),
        2: (2, 32, 52, 52),
        3: (2, 64, 24, 24),
        4: (2, 128, 11, 11),
        5: (2, 256, 6, 6),
    }
    assert out.shape == (2, 256 * 36)
    # channel c * 36 + j = filter j on colour channel c (scipy correlation as reference)
    from scipy.signal import correlate2d

    bank = curvature_filter_bank()
    for c, j in [(0, 0), (1, 17), (2, 35)]:
        ref = correlate2d(np.pad(x[0, c].numpy(), 6), bank[j, 0], mode="valid")
        np.testing.assert_allclose(l1[0, c * 36 + j].numpy(), ref, rtol=1e-4, atol=1e-4)


def test_expansion_weights_are_seeded_kaiming_uniform_without_bias():
    a = nm.load("expansion_ci", seed=0).module
    b = nm.load("expansion_ci", seed=0).module
    c = nm.load("expansion_ci", seed=1).module
    for i in range(2, 6):
        w = getattr(a, f"layer{i}").conv.weight.detach()
        assert getattr(a, f"layer{i}").conv.bias is None
        assert torch.equal(w, getattr(b, f"layer{i}").conv.weight)
        assert not torch.equal(w, getattr(c, f"layer{i}").conv.weight)
        fan_in = w.shape[1] * w.shape[2] * w.shape[3]
        bound = math.sqrt(6 / fan_in)  # kaiming_uniform_, a=0: gain sqrt(2) * sqrt(3 / fan_in)
        assert w.abs().max() <= bound
        assert abs(w.std().item() - bound / math.sqrt(3)) < 0.05 * bound
    assert nm.info("expansion_30000").description.count("N = 30000") == 1


def test_expansion_extracts_all_layers_at_its_224px_and_refuses_small_inputs():
    model = nm.load("expansion_ci", seed=0)
    imgs = np.random.default_rng(1).integers(0, 256, size=(2, 60, 80, 3), dtype=np.uint8)
    acts = model.extract(imgs, cache=False, pool="avg", batch_size=2)
    assert acts.layers == ["layer1", "layer2", "layer3", "layer4", "layer5"]
    assert acts["layer5"].shape == (2, 256) and (acts["layer5"] >= 0).all()
    with pytest.raises(ConfigError, match="expects 224×224 px"):
        model.extract(imgs, ["layer5"], preprocess=nm.Preprocessing(size=48), cache=False)


def test_adapters_wrap_and_fail_cleanly_without_optional_packages():
    cnn = nm.load("small_cnn", seed=0)
    z = nm.wrap(cnn.module, name="mine", preprocess=cnn.preprocess, layers=["conv2"])
    assert z.layers == ("conv2",) and "conv1" in z.layer_names and z.input_size == 32
    with pytest.raises(ConfigError, match="available layers"):
        nm.wrap(cnn.module, name="mine", layers=["nope"])
    for mod, fn in (("torchvision", nm.from_torchvision), ("timm", nm.from_timm)):
        try:
            __import__(mod)
        except Exception:
            with pytest.raises(ConfigError, match=mod):
                fn("resnet18")


def test_specs_of_zoo_models_options_and_stable_identities():
    from neuroalign.models import zoo

    assert zoo.parse_spec("timm:resnet18?weights=/w/r.pth&num_classes=10") == (
        "timm",
        "resnet18",
        {"weights": "/w/r.pth", "num_classes": "10"},
    )
    assert zoo.parse_spec("nets/mine.py:make") == ("file", "nets/mine.py:make", {})
    assert zoo.parse_spec("small_cnn?crop=none") == (None, "small_cnn", {"crop": "none"})
    # zoo names keep the identities (result keys) they had: name, or name@seed<N> if untrained
    assert zoo.identity("efficientnet_lite0", 5) == "efficientnet_lite0"
    assert zoo.identity("small_cnn", 2) == "small_cnn@seed2"
    whole = zoo.info("efficientnet_lite0?crop=none")
    assert whole.name == "efficientnet_lite0?crop=none" and whole.preprocess.crop_fraction is None
    assert whole.preprocess.interpolation == "bicubic" and whole.trained
    # options are sorted into one canonical name; builder options reach the builder
    a = nm.load("small_cnn?n_outputs=3&crop=0.5", seed=1)
    assert (
        a.name == "small_cnn?crop=0.5&n_outputs=3" == nm.info("small_cnn?crop=0.5&n_outputs=3").name
    )
    assert a.module.fc.out_features == 3 and a.preprocess.crop_fraction == 0.5
    assert (
        zoo.identity("small_cnn?n_outputs=3&crop=0.5", 1) == "small_cnn?crop=0.5&n_outputs=3@seed1"
    )
    for bad, words in (
        ("small_cnn?crop=1.5", "crop=none"),
        ("small_cnn?crop", "KEY=VALUE"),
        ("small_cnnn", "Did you mean 'small_cnn'"),
        ("timmm:resnet18", "unknown model source"),
    ):
        with pytest.raises(ConfigError, match=words):
            nm.info(bad)
