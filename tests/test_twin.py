"""neuroalign.twin without external data: hand-built neurons with known poles, model twins."""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from neuroalign.errors import ConfigError, DataError
from neuroalign.twin import (
    DualSelectivityResult,
    FunctionTwin,
    amplitude_spectrum,
    bundled_crops,
    dual_selectivity,
    fit_model_twin,
    model_units,
    prepare,
    screen,
    synthesize,
    synthesize_poles,
)
from neuroalign.twin.report import poles_section

H = W = 24
NORM = 3.0
C_LIN = 0.5


def _gabor(theta: float, phase: float) -> np.ndarray:
    yy, xx = np.mgrid[:H, :W] - (H - 1) / 2
    u = xx * np.cos(theta) + yy * np.sin(theta)
    g = np.exp(-(xx**2 + yy**2) / (2 * 4.0**2)) * np.cos(2 * np.pi * u / 8 + phase)
    g = g - g.mean()
    return g / np.linalg.norm(g)


W1 = _gabor(0.0, 0.0)
W2 = _gabor(np.pi / 2, 0.5)


def _softplus(v):
    return np.logaddexp(0.0, v)


def _fn(x):
    w1 = torch.as_tensor(W1, dtype=x.dtype)
    w2 = torch.as_tensor(W2, dtype=x.dtype)
    a = (x * w1).sum((1, 2))
    b = (x * w2).sum((1, 2))
    linear = F.softplus(a + C_LIN)  # preferred +w1, anti-preferred -w1
    dual = F.softplus(1.0 + F.softplus(3 * a) / 3 - F.softplus(3 * b) / 3)  # +w1 up, +w2 down
    return torch.stack([linear, dual], 1)


@pytest.fixture(scope="module")
def twin():
    return FunctionTwin(_fn, (H, W), 2, default_norm=NORM, name="handbuilt")


def _corr(a, b):
    a = np.ravel(a) - np.mean(a)
    b = np.ravel(b) - np.mean(b)
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


# ------------------------------------------------------------------------------------- synthesis
def test_pixel_synthesis_recovers_known_poles(twin):
    opts = dict(steps=96, jitter=0, noise=0.0, n_seeds=1, seed=0)
    mei = synthesize(twin, [0, 1], "max", **opts)
    lei = synthesize(twin, [0, 1], "min", **opts)
    assert _corr(mei.images[0], W1) > 0.9
    assert _corr(lei.images[0], -W1) > 0.9
    assert _corr(mei.images[1], W1) > 0.9  # the dual neuron's exciting feature
    assert _corr(lei.images[1], W2) > 0.9  # ... and its (orthogonal) suppressing feature
    # responses near the analytic optimum softplus(±NORM + c) of the linear neuron
    assert mei.responses[0] > 0.97 * _softplus(NORM + C_LIN)
    assert lei.responses[0] < _softplus(-NORM + C_LIN) + 0.05


def test_jittered_synthesis_finds_the_jitter_averaged_filter(twin):
    """With random shifts the optimum is the filter averaged over the shifts (computed here)."""
    j = 2
    smoothed = np.mean(
        [np.roll(W1, (a, b), (0, 1)) for a in range(-j, j + 1) for b in range(-j, j + 1)], 0
    )
    mei = synthesize(twin, 0, "max", steps=96, jitter=j, n_copies=4, n_seeds=1, seed=1)
    assert _corr(mei.images[0], smoothed) > 0.9


def test_norm_holds_exactly_and_seed_is_bit_reproducible(twin):
    for param in ("pixel", "fourier"):
        a = synthesize(twin, [0, 1], "max", param=param, steps=8, n_seeds=2, seed=5)
        b = synthesize(twin, [0, 1], "max", param=param, steps=8, n_seeds=2, seed=5)
        c = synthesize(twin, [0, 1], "max", param=param, steps=8, n_seeds=2, seed=6)
        assert np.array_equal(a.images, b.images)
        assert not np.array_equal(a.images, c.images)
        norms = np.sqrt(((a.images - a.images.mean((1, 2), keepdims=True)) ** 2).sum((1, 2)))
        np.testing.assert_allclose(norms, NORM, rtol=1e-12)
        np.testing.assert_allclose(a.images.mean((1, 2)), 0, atol=1e-12)
        # the kept restart is the best of its seeds
        np.testing.assert_array_equal(a.responses, a.seed_responses.max(1))
    # one neuron's image does not depend on which other neurons share the batch
    alone = synthesize(twin, 1, "max", steps=8, n_seeds=2, seed=5)
    both = synthesize(twin, [0, 1], "max", steps=8, n_seeds=2, seed=5)
    np.testing.assert_array_equal(alone.images[0], both.images[1])


@pytest.mark.parametrize("param", ["pixel", "fourier"])
def test_poles_do_not_depend_on_batch_size_or_grouping(twin, param):
    """Jitter and noise are drawn per job: a neuron's poles are the same alone, in a batch of
    several neurons and both directions, and at any batch size."""
    opts = dict(param=param, steps=6, n_seeds=2, n_copies=3, seed=2)
    alone = [synthesize(twin, 1, d, batch_size=1, **opts) for d in ("max", "min")]
    mei, lei = synthesize_poles(twin, [0, 1, 1], batch_size=5, **opts)
    for one, joint in zip(alone, (mei, lei), strict=True):
        np.testing.assert_array_equal(one.images[0], joint.images[1])
        np.testing.assert_array_equal(one.images[0], joint.images[2])
        np.testing.assert_array_equal(one.seed_responses[0], joint.seed_responses[1])
    assert (mei.direction, lei.direction) == ("max", "min")
    assert mei.parameters == {**lei.parameters, "direction": "max"}
    # jitter and noise were drawn: without them the poles differ
    plain = synthesize(twin, 1, "max", batch_size=1, **{**opts, "jitter": 0, "noise": 0.0})
    assert not np.array_equal(plain.images[0], alone[0].images[0])


def test_gradient_blur_is_the_reflected_gaussian_filter():
    from scipy.ndimage import gaussian_filter

    from neuroalign.twin.synthesis import _blur, _gaussian_kernel

    g = torch.randn(3, 17, 20, generator=torch.Generator().manual_seed(0))
    ref = gaussian_filter(g.double().numpy(), sigma=(0, 1.5, 1.5), mode="mirror", truncate=3.0)
    got = _blur(g, _gaussian_kernel(1.5)).numpy()
    np.testing.assert_allclose(got, ref, atol=1e-6)
    assert torch.equal(_blur(g[1:2], _gaussian_kernel(1.5))[0], _blur(g, _gaussian_kernel(1.5))[1])


def test_twins_report_their_device_and_refuse_a_missing_one(twin):
    from neuroalign.models import zoo

    assert twin.device == torch.device("cpu")  # no weights: the CPU
    units = model_units(zoo.load("small_cnn", seed=0), "conv2", image_size=32, device="cpu")
    assert units.device == torch.device("cpu")
    with pytest.raises(ConfigError, match="unknown torch device"):
        model_units("small_cnn", "conv2", image_size=32, device="gpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="no CUDA device"):
            model_units("small_cnn", "conv2", image_size=32, device="cuda")


def test_fourier_keeps_natural_spectrum_and_beats_random_phases(twin):
    mei = synthesize(twin, 0, "max", param="fourier", steps=64, n_seeds=1, seed=0)
    lei = synthesize(twin, 0, "min", param="fourier", steps=64, n_seeds=1, seed=0)
    amp = amplitude_spectrum((H, W)).numpy()
    for img in (mei.images[0], lei.images[0]):
        spec = np.abs(np.fft.rfft2(img))
        ratio = spec[amp > 0] / amp[amp > 0]
        np.testing.assert_allclose(ratio, ratio[0], rtol=1e-6)  # amplitude fixed, phase learned
    # reference: random-phase images with the same spectrum and contrast
    rng = np.random.default_rng(0)
    phases = rng.uniform(-np.pi, np.pi, size=(200, *amp.shape))
    rand = np.fft.irfft2(amp * np.exp(1j * phases), s=(H, W))
    rand -= rand.mean((1, 2), keepdims=True)
    rand *= NORM / np.sqrt((rand**2).sum((1, 2), keepdims=True))
    r_rand = _softplus(np.einsum("nhw,hw->n", rand, W1) + C_LIN)
    assert mei.responses[0] > r_rand.max()
    assert lei.responses[0] < r_rand.min()


def test_adam_and_sgd_both_ascend(twin):
    for opt in ("adam", "sgd"):
        s = synthesize(twin, 0, "max", optimizer=opt, steps=32, n_seeds=1, jitter=0, seed=0)
        assert s.responses[0] > _softplus(0.5 * NORM + C_LIN)
        assert s.parameters["optimizer"] == opt


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"neurons": 2}, "out of range"),
        ({"neurons": -1}, "out of range"),
        ({"direction": "up"}, "direction"),
        ({"param": "wavelet"}, "param"),
        ({"steps": 0}, "steps"),
        ({"seed": None}, "seed"),
        ({"norm": -1.0}, "norm"),
    ],
)
def test_bad_synthesis_options_raise_config_error(twin, kwargs, needle):
    args = {"neurons": 0, "direction": "max", "steps": 1, **kwargs}
    with pytest.raises(ConfigError, match=needle):
        synthesize(twin, args.pop("neurons"), args.pop("direction"), **args)


def test_wrong_image_size_is_a_data_error(twin):
    with pytest.raises(DataError, match=r"\(n, 24, 24\)"):
        twin(torch.zeros(2, 20, 24))
    with pytest.raises(DataError, match="resize"):
        prepare(np.random.default_rng(0).integers(0, 255, (3, 30, 30)), twin, resize=False)


# ----------------------------------------------------------------------------- images, screening
def test_bundled_crops_are_deterministic_at_fixed_contrast(twin):
    a = bundled_crops(twin, 12, seed=3)
    b = bundled_crops(twin, 12, seed=3)
    np.testing.assert_array_equal(a.images, b.images)
    assert a.images.shape == (12, H, W)
    norms = np.linalg.norm(a.images.reshape(12, -1), axis=1)
    np.testing.assert_allclose(norms, NORM, rtol=1e-5)
    np.testing.assert_allclose(a.images.mean((1, 2)), 0, atol=1e-5)


def test_screen_finds_most_and_least_activating_images(twin):
    imgs = bundled_crops(twin, 40, seed=0)
    sc = screen(twin, imgs, batch_size=7, cache=True)
    ref = _softplus(np.einsum("nhw,hw->n", imgs.images.astype(np.float64), W1) + C_LIN)
    np.testing.assert_allclose(sc.responses[:, 0], ref, rtol=1e-5)
    assert sc.top(0)[0] == np.argmax(ref) and sc.top(0, least=True)[0] == np.argmin(ref)
    again = screen(twin, imgs, batch_size=64)
    assert again.from_cache and np.array_equal(again.responses, sc.responses)


# -------------------------------------------------------------------------------------- analysis
def test_dual_selectivity_matches_analytic_values(twin):
    res = dual_selectivity(
        twin, [0, 1], "bundled", n_images=30, steps=64, n_seeds=1, jitter=0, noise=0.0, seed=0
    )
    t = res.table
    b, n = _softplus(C_LIN), NORM
    # linear neuron: baseline, poles and index from the closed form
    assert t.loc[0, "baseline"] == pytest.approx(b, rel=1e-6)
    dsi_true = (b - _softplus(C_LIN - n)) / (_softplus(C_LIN + n) - _softplus(C_LIN - n))
    assert t.loc[0, "dsi"] == pytest.approx(dsi_true, abs=0.02)
    # the index is the documented formula of the recorded responses
    want = (t["baseline"] - t["r_lei"]) / (t["r_mei"] - t["r_lei"])
    np.testing.assert_allclose(t["dsi"], want)
    # responses re-evaluated independently on the returned images
    with torch.no_grad():
        for pole, col in (("MEI", "r_mei"), ("LEI", "r_lei"), ("MAI", "r_mai"), ("LAI", "r_lai")):
            r = _fn(torch.as_tensor(res.images[pole], dtype=torch.float32)).numpy()
            np.testing.assert_allclose(t[col], r[[0, 1], [0, 1]], rtol=1e-5)
    assert t["mei_above_mai"].all() and t["lei_below_lai"].all()
    assert t["lei_below_baseline"].all() and t["bidirectional"].all()
    assert res.summary["fraction_bidirectional"] == 1.0


def test_result_round_trips_through_json(twin):
    res = dual_selectivity(twin, [0, 1], "bundled", n_images=10, steps=4, n_seeds=1, seed=0)
    back = DualSelectivityResult.from_json(res.to_json())
    pd.testing.assert_frame_equal(back.table, res.table, check_dtype=False)
    assert back.summary == res.summary and back.parameters == res.parameters
    assert back.images is None and back.parameters["seed"] == 0


def test_poles_section_is_self_contained_html(twin):
    res = dual_selectivity(twin, [0, 1], "bundled", n_images=10, steps=4, n_seeds=1, seed=0)
    html = poles_section(res, res.images)
    assert html.startswith("<section") and html.rstrip().endswith("</section>")
    srcs = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert len(srcs) == 8 and html.count("<tr><td>") == 2
    from PIL import Image

    im = Image.open(io.BytesIO(base64.b64decode(srcs[0])))
    assert im.mode == "L" and im.size[0] >= W
    with pytest.raises(DataError, match="images"):
        poles_section(DualSelectivityResult.from_json(res.to_json()))


# ----------------------------------------------------------------------------------- model twins
def _crops(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n, 8, 8))
    up = np.kron(base, np.ones((4, 4)))  # 32x32 blocky natural-ish images
    return np.clip(128 + 40 * up, 0, 255).astype(np.uint8)


def test_model_twin_recovers_known_readouts():
    from neuroalign.models import zoo
    from neuroalign.twin.model import LayerFeatures

    model = zoo.load("small_cnn", seed=0)
    ims = _crops(240, 0)
    g = ims.astype(np.float64)
    feats = LayerFeatures(model.module, "relu2", model.preprocess, g.mean(), g.std())
    with torch.no_grad():
        f = feats(torch.as_tensor((g - g.mean()) / g.std(), dtype=torch.float32)).double().numpy()
    n, c, h, w = f.shape
    rng = np.random.default_rng(1)
    spatial = np.zeros((3, h, w))
    for k in range(3):
        spatial[k, rng.integers(h), rng.integers(w)] = 1.0
    feature = rng.normal(size=(3, c))
    y = np.einsum("nchw,khw,kc->nk", f, spatial, feature) + 2.0
    y += 0.1 * y.std(0) * rng.normal(size=y.shape)
    for readout in ("ridge", "factorised"):
        tw = fit_model_twin(model, "relu2", ims, y, readout=readout, seed=0)
        assert tw.correlations.shape == (3,)
        assert np.all(tw.correlations > 0.8), (readout, tw.correlations)
        assert len(np.intersect1d(tw.train_index, tw.test_index)) == 0
        assert tw.image_shape == (32, 32)
        mei = synthesize(tw, [0], "max", steps=4, n_seeds=1, seed=0)
        assert np.isfinite(mei.responses).all()


def test_model_units_read_the_channel_centre():
    from neuroalign.models import zoo

    model = zoo.load("small_cnn", seed=0)
    units = model_units(model, "conv2", image_size=32, channels=[0, 3, 5])
    ims = _crops(4, 2)
    with torch.no_grad():
        got = units(torch.as_tensor(units.standardise(ims))).numpy()
    # reference: the zoo preprocessing (numpy + Pillow) and a forward hook
    grab = {}
    handle = model.module.conv2.register_forward_hook(lambda _m, _i, o: grab.setdefault("o", o))
    with torch.no_grad():
        model.module(torch.from_numpy(model.preprocess.batch(list(ims))))
    handle.remove()
    o = grab["o"].numpy()
    ref = o[:, [0, 3, 5], o.shape[2] // 2, o.shape[3] // 2]
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-5)
    with pytest.raises(ConfigError, match="channels"):
        model_units(model, "conv2", image_size=32, channels=[99])
