"""Image sets for screening: bundled natural-image crops, stimulus sets, folders, arrays.

Every image becomes a grey ``(H, W)`` array in a twin's standardised pixel units, centred (mean 0,
the grey level) and scaled to one L2 norm (contrast), so responses to different images compare.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from neuroalign._core.errors import ConfigError, DataError
from neuroalign._core.validation import check_seed
from neuroalign.data.stimuli import StimulusSet
from neuroalign.twin.base import project_norm

__all__ = ["ImageSet", "bundled_crops", "prepare", "load_images"]

_LUMA = np.array([0.299, 0.587, 0.114])


class ImageSet:
    """Images at a fixed contrast: ``images (n, H, W)`` float32 standardised, ``ids (n,)``, ``norm``.

    ``source`` says where they came from (recorded in results).
    """

    def __init__(self, images: np.ndarray, ids, norm: float, source: str):
        self.images = np.ascontiguousarray(images, dtype=np.float32)
        self.ids = np.asarray([str(i) for i in ids], dtype=object)
        self.norm = float(norm)
        self.source = source
        if len(self.ids) != len(self.images):
            raise DataError(f"{len(self.ids)} ids for {len(self.images)} images.")

    def __len__(self) -> int:
        return len(self.images)

    def __repr__(self) -> str:
        return f"ImageSet({self.source!r}, {len(self)} images {self.images.shape[1:]}, norm {self.norm:g})"


def _grey(image: np.ndarray) -> np.ndarray:
    """One image ``(H, W[, C])`` → grey float64 on the 0–255 scale."""
    a = np.asarray(image)
    if a.ndim == 3:
        if a.shape[2] == 1:
            a = a[:, :, 0]
        elif a.shape[2] in (3, 4):
            a = a[:, :, :3].astype(np.float64) @ _LUMA
        else:
            raise DataError(f"an image must be (H, W) or (H, W, 1|3|4), got shape {a.shape}.")
    elif a.ndim != 2:
        raise DataError(f"an image must be (H, W) or (H, W, 1|3|4), got shape {a.shape}.")
    if a.dtype.kind == "f" and a.size and np.nanmax(a) <= 1.0:
        a = a * 255.0
    return np.asarray(a, dtype=np.float64)


def _resize(grey: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    from PIL import Image

    if grey.shape == tuple(shape):
        return grey
    im = Image.fromarray(np.ascontiguousarray(grey, dtype=np.float32), mode="F")
    return np.asarray(im.resize((shape[1], shape[0]), Image.Resampling.BILINEAR), dtype=np.float64)


def prepare(
    images,
    twin,
    norm: float | None = None,
    *,
    resize: bool = True,
    ids=None,
    source: str = "arrays",
) -> ImageSet:
    """Turn images into a twin's screening input at one contrast.

    ``images``: a sequence or array of ``(H, W[, C])`` images (uint8 0–255 or floats in [0, 1]
    or 0–255), colour converted to luminance. Each is resized (bilinear) to ``twin.image_shape``
    when ``resize`` (else a size mismatch raises :class:`DataError`), standardised with the twin's
    pixel mean/std, centred and scaled to ``norm`` (default ``twin.default_norm``).
    Uniform images (no contrast) are refused.
    """
    norm = float(twin.default_norm if norm is None else norm)
    if not norm > 0:
        raise ConfigError(f"norm (contrast) must be > 0, got {norm}.")
    shape = tuple(twin.image_shape)
    out = []
    for i, im in enumerate(images):
        g = _grey(im)
        if g.shape != shape:
            if not resize:
                raise DataError(
                    f"image {i} is {g.shape[0]}×{g.shape[1]} px but twin {twin.name!r} takes "
                    f"{shape[0]}×{shape[1]}; resize it (prepare(..., resize=True))."
                )
            g = _resize(g, shape)
        x = (g - twin.pixel_mean) / twin.pixel_std
        if np.ptp(x) == 0:
            raise DataError(f"image {i} is uniform: it has no contrast to scale to norm {norm}.")
        out.append(x)
    if not out:
        raise DataError("no images to prepare.")
    arr = project_norm(np.stack(out), norm).astype(np.float32)
    if ids is None:
        ids = [f"{source}:{i}" for i in range(len(arr))]
    return ImageSet(arr, ids, norm, source)


def bundled_crops(
    twin, n: int = 1000, *, seed: int = 0, norm: float | None = None, min_side: int | None = None
) -> ImageSet:
    """``n`` square crops of the natural images bundled with scikit-image and scikit-learn.

    Crops have a random base image, log-uniform side between ``min_side`` (default the twin's
    image size) and the base image's short side, random position and horizontal flip; they are
    made grey, resized to the twin's size and set to contrast ``norm``. Deterministic in ``seed``.
    """
    from PIL import Image

    from neuroalign.data.synthetic import _base_images

    if not isinstance(n, int) or n < 1:
        raise ConfigError(f"n must be a positive int, got {n!r}.")
    rng = check_seed(seed)
    bases = [(name, np.asarray(pil.convert("L"), dtype=np.float32)) for name, pil in _base_images()]
    h, w = twin.image_shape
    lo = max(h, w) if min_side is None else int(min_side)
    crops, ids = [], []
    while len(crops) < n:
        b = int(rng.integers(len(bases)))
        name, base = bases[b]
        bh, bw = base.shape
        side = int(round(np.exp(rng.uniform(np.log(min(lo, bh, bw)), np.log(min(bh, bw))))))
        y0 = int(rng.integers(0, bh - side + 1))
        x0 = int(rng.integers(0, bw - side + 1))
        flip = bool(rng.random() < 0.5)
        crop = base[y0 : y0 + side, x0 : x0 + side]
        im = np.asarray(
            Image.fromarray(np.ascontiguousarray(crop), mode="F").resize(
                (w, h), Image.Resampling.BILINEAR, reducing_gap=2.0
            ),
            dtype=np.float64,
        )
        if flip:
            im = im[:, ::-1]
        if np.ptp(im) < 1.0:  # (nearly) uniform crop: no usable contrast
            continue
        crops.append(im)
        ids.append(f"{name}@{x0},{y0},{side}{'f' if flip else ''}")
    return prepare(crops, twin, norm, ids=ids, source=f"bundled crops (seed {seed})")


def load_images(
    source, twin, norm: float | None = None, *, n: int = 1000, seed: int = 0
) -> ImageSet:
    """An :class:`ImageSet` from ``"bundled"``, a folder of image files, a zip, a
    :class:`~neuroalign.data.stimuli.StimulusSet` or an array ``(n, H, W[, C])``."""
    if isinstance(source, str) and source == "bundled":
        return bundled_crops(twin, n, seed=seed, norm=norm)
    if isinstance(source, StimulusSet):
        return prepare(list(source), twin, norm, ids=list(source.ids), source=source.name)
    if isinstance(source, str | os.PathLike):
        p = Path(source)
        if p.is_dir():
            ss = StimulusSet.from_folder(p, ids="name")
        elif p.suffix.lower() == ".zip" and p.is_file():
            ss = StimulusSet.from_zip(p, ids="name")
        else:
            raise DataError(
                f"image source {p} is neither a folder of images nor a zip file; give a folder, a "
                "zip, a StimulusSet, an array or 'bundled'."
            )
        return prepare(list(ss), twin, norm, ids=list(ss.ids), source=str(p))
    arr = np.asarray(source)
    if arr.ndim not in (3, 4):
        raise DataError(f"images must be (n, H, W[, C]), got shape {arr.shape}.")
    return prepare(list(arr), twin, norm)
