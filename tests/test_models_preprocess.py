"""Preprocessing: RGB conversion, centre crop, resize, normalisation (numpy + Pillow, no torch)."""

from __future__ import annotations

import numpy as np
import pytest

from neuroalign.errors import ConfigError, DataError
from neuroalign.models import Preprocessing
from neuroalign.models.preprocess import to_rgb


def _img(h=20, w=30, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def test_to_rgb_grey_rgba_and_scaling():
    g = _img()[..., 0]
    out = to_rgb(g)
    assert out.shape == (20, 30, 3) and out.dtype == np.float32
    np.testing.assert_array_equal(out[..., 1], g / np.float32(255))
    np.testing.assert_array_equal(to_rgb(g[..., None]), out)
    rgba = np.concatenate([_img(), np.zeros((20, 30, 1), np.uint8)], axis=2)
    np.testing.assert_array_equal(to_rgb(rgba), to_rgb(_img()))
    np.testing.assert_array_equal(to_rgb(np.full((2, 2), 65535, np.uint16)), np.ones((2, 2, 3)))
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        to_rgb(np.full((2, 2, 3), 255.0))
    with pytest.raises(DataError, match="channels"):
        to_rgb(np.zeros((2, 2, 5)))


def test_normalisation_closed_form_without_resize():
    img = _img()
    pre = Preprocessing(size=None, mean=(0.1, 0.2, 0.3), std=(0.5, 0.25, 2.0))
    out = pre.image(img)
    ref = (img / 255.0 - np.array([0.1, 0.2, 0.3])) / np.array([0.5, 0.25, 2.0])
    assert out.shape == (3, 20, 30) and out.dtype == np.float32
    np.testing.assert_allclose(out, ref.transpose(2, 0, 1), rtol=1e-6, atol=1e-6)


def test_centre_crop_is_the_middle_square():
    img = _img(20, 30)
    pre = Preprocessing(size=None, crop_fraction=0.5, mean=(0,) * 3, std=(1,) * 3)
    out = pre.image(img)  # side 10, top 5, left 10
    np.testing.assert_allclose(out, (img[5:15, 10:20] / 255.0).transpose(2, 0, 1), atol=1e-7)


def test_resize_keeps_constant_images():
    const = np.full((40, 60, 3), 100, np.uint8)
    out = Preprocessing(size=16, mean=(0,) * 3, std=(1,) * 3).image(const)
    np.testing.assert_allclose(out, 100 / 255, atol=1e-6)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("size", [16, 80])
def test_resize_matches_torch_antialiased_interpolation(mode, size):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    img = _img(37, 53)
    got = Preprocessing(size=size, interpolation=mode, mean=(0,) * 3, std=(1,) * 3).image(img)
    x = torch.from_numpy(img / 255.0).permute(2, 0, 1)[None].float()
    ref = F.interpolate(x, size=(size, size), mode=mode, antialias=True, align_corners=False)
    np.testing.assert_allclose(got, ref[0].numpy(), atol=1e-5)


def test_batch_and_validation():
    pre = Preprocessing(size=8)
    assert pre.batch([_img(), _img(31, 17)]).shape == (2, 3, 8, 8)
    with pytest.raises(DataError, match="differ in size"):
        Preprocessing(size=None).batch([_img(), _img(31, 17)])
    for bad in (
        {"size": 0},
        {"crop_fraction": 1.5},
        {"interpolation": "cubic"},
        {"mean": (0, 0)},
        {"std": (1, 0, 1)},
    ):
        with pytest.raises(ConfigError):
            Preprocessing(**bad)
    assert Preprocessing().to_dict()["size"] == 224


def test_default_crop_is_stated_and_can_be_switched_off():
    from dataclasses import replace

    from neuroalign.models.efficientnet import PREPROCESS

    img = _img(112, 112)
    assert PREPROCESS.crop_box(112, 112) == (7, 7, 98)  # 0.875 × 112 = 98: 7 px off each side
    assert PREPROCESS.describe(112, 112).startswith(
        "centre crop 98×98 px of 112×112 (crop_fraction 0.875), bicubic resize to 224×224 px"
    )
    whole = replace(PREPROCESS, crop_fraction=None)
    assert whole.crop_box(112, 112) is None and whole.describe().startswith("no crop, bicubic")
    np.testing.assert_array_equal(PREPROCESS.image(img), whole.image(img[7:105, 7:105]))
    assert not np.array_equal(PREPROCESS.image(img), whole.image(img))
    # the default path is unchanged: same description, hence the same activation-cache keys
    assert PREPROCESS.to_dict() == {
        "size": 224,
        "crop_fraction": 0.875,
        "interpolation": "bicubic",
        "mean": (127 / 255,) * 3,
        "std": (128 / 255,) * 3,
    }
    assert Preprocessing(crop_fraction=0.5).crop_box(20, 30) == (5, 10, 10)
