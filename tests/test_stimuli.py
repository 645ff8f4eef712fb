"""StimulusSet: arrays, folders and zips; content ids align identical images."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
from PIL import Image

from neuroalign import DataError, StimulusSet
from neuroalign.data import DuplicateImagesWarning, image_content_id


def _images(n=4, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 8, 8, 3), dtype=np.uint8)


def test_content_ids_are_pixel_identity():
    imgs = _images()
    assert image_content_id(imgs[0]) == image_content_id(imgs[0].copy())
    assert len({image_content_id(im) for im in imgs}) == 4
    # same bytes, other shape -> other id
    assert image_content_id(imgs[0].reshape(4, 16, 3)) != image_content_id(imgs[0])


def test_folder_and_zip_give_the_same_ids_as_arrays(tmp_path):
    imgs = _images()
    for i, im in enumerate(imgs):
        Image.fromarray(im).save(tmp_path / f"image{i:04d}.png")
    with zipfile.ZipFile(tmp_path / "set.zip", "w") as zf:
        for i in range(4):
            zf.write(tmp_path / f"image{i:04d}.png", f"prefix/image{i:04d}.png")
    a = StimulusSet.from_arrays(imgs)
    f = StimulusSet.from_folder(tmp_path)
    z = StimulusSet.from_zip(tmp_path / "set.zip")
    assert list(a.ids) == list(f.ids) == list(z.ids)
    np.testing.assert_array_equal(z.images(), imgs)
    named = StimulusSet.from_zip(tmp_path / "set.zip", ids="name")
    assert list(named.ids) == [f"image{i:04d}" for i in range(4)]
    sub = z.select([z.ids[3], z.ids[1]])
    np.testing.assert_array_equal(sub.image(0), imgs[3])
    np.testing.assert_array_equal(sub.image(1), imgs[1])


def test_errors(tmp_path):
    with pytest.raises(DataError, match="duplicate"):
        StimulusSet(["a", "a"])
    with pytest.raises(DataError, match="no images"):
        StimulusSet(["a"]).image(0)
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="corrupt"):
        StimulusSet.from_zip(tmp_path / "bad.zip")
    (tmp_path / "x.png").write_bytes(b"garbage")
    with pytest.raises(DataError, match="cannot decode"):
        StimulusSet.from_folder(tmp_path)
    with pytest.raises(DataError, match="unknown stimulus"):
        StimulusSet.from_arrays(_images()).select(["nope"])


def test_repeated_images_merge_into_one_stimulus_with_a_warning(tmp_path):
    imgs = _images(3)
    files = ["a.png", "b.png", "c.png", "d.png", "e.png"]
    which = [0, 1, 0, 2, 0]  # c.png and e.png repeat a.png
    with zipfile.ZipFile(tmp_path / "set.zip", "w") as zf:
        for name, k in zip(files, which, strict=True):
            Image.fromarray(imgs[k]).save(tmp_path / name)
            zf.write(tmp_path / name, f"stim/{name}")
    with pytest.warns(
        DuplicateImagesWarning,
        match=r"2 image file.*stim/c.png = stim/a.png, stim/e.png = stim/a.png",
    ):
        z = StimulusSet.from_zip(tmp_path / "set.zip")
    ids = [image_content_id(im) for im in imgs]
    assert list(z.ids) == ids
    assert list(z.source_ids) == [ids[k] for k in which]
    assert z.merged == {ids[0]: ["stim/a.png", "stim/c.png", "stim/e.png"]}
    assert z.metadata["file"].tolist() == ["stim/a.png", "stim/b.png", "stim/d.png"]
    np.testing.assert_array_equal(z.images(), imgs)
    sub = z.select([ids[2], ids[0]])
    np.testing.assert_array_equal(sub.image(0), imgs[2])
    assert sub.merged == {ids[0]: ["stim/a.png", "stim/c.png", "stim/e.png"]}
    with pytest.warns(DuplicateImagesWarning, match="c.png = a.png"):
        folder = StimulusSet.from_folder(tmp_path)
    assert list(folder.ids) == ids and folder.merged == {ids[0]: ["a.png", "c.png", "e.png"]}
    named = StimulusSet.from_zip(tmp_path / "set.zip", ids="name")  # names stay distinct
    assert len(named) == 5 and named.merged == {} and list(named.source_ids) == list(named.ids)
