"""Stimulus preprocessing owned by a model entry: resize, centre crop, grey → RGB, normalisation.

The same :class:`Preprocessing` always turns the same image into the same array, so a model in the
zoo sees every stimulus set the way it was trained to see images. Pure numpy + Pillow, no torch.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np

from neuroalign._core.errors import ConfigError, DataError

__all__ = ["Preprocessing", "IMAGENET_MEAN", "IMAGENET_STD", "to_rgb"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_INTERPOLATION = ("nearest", "bilinear", "bicubic", "lanczos")


def to_rgb(image: np.ndarray) -> np.ndarray:
    """One image as ``(height, width, 3)`` float32 in [0, 1].

    Accepts ``(H, W)`` or ``(H, W, 1)`` grey (copied to three channels), ``(H, W, 3)`` RGB and
    ``(H, W, 4)`` RGBA (alpha dropped). uint8 is divided by 255; bool and other integers are
    scaled by their dtype's maximum; floats must already lie in [0, 1].
    """
    a = np.asarray(image)
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in (1, 3, 4):
        raise DataError(
            f"an image must be (height, width[, 1|3|4 channels]), got shape {a.shape}; "
            "give channels last (H, W, C)."
        )
    if a.shape[2] == 4:
        a = a[:, :, :3]
    if a.shape[2] == 1:
        a = np.repeat(a, 3, axis=2)
    if a.dtype == np.bool_:
        return a.astype(np.float32)
    if a.dtype.kind in "iu":
        return a.astype(np.float32) / np.float32(np.iinfo(a.dtype).max)
    if a.dtype.kind != "f":
        raise DataError(f"image dtype {a.dtype} is not numeric.")
    a = a.astype(np.float32)
    if not np.isfinite(a).all() or a.min() < 0 or a.max() > 1:
        raise DataError(
            "float images must hold finite values in [0, 1]; got range "
            f"[{np.nanmin(a):.3g}, {np.nanmax(a):.3g}] — divide 0-255 images by 255 or pass uint8."
        )
    return a


@dataclass(frozen=True)
class Preprocessing:
    """How images become a model's input tensor ``(n, 3, size, size)`` float32.

    Steps, in order: convert to RGB in [0, 1] (:func:`to_rgb`); if ``crop_fraction`` is set,
    centre-crop a square whose side is ``crop_fraction × min(height, width)``; resize to
    ``size × size`` pixels with ``interpolation`` (Pillow, antialiased when shrinking); subtract
    ``mean`` and divide by ``std`` per channel (in [0, 1] units).

    ``crop_fraction=None`` resizes the whole image to a square (aspect ratio not kept);
    ``crop_fraction=0.875`` with ``size=224`` is the usual "resize to 256, centre-crop 224": it
    drops the outer 1/16 of each side, so a 112 px stimulus (Cowley et al.) is cut to its central
    98 px before being enlarged to 224. To show a model whole stimuli, resize without cropping:
    ``dataclasses.replace(pre, crop_fraction=None)`` or the model spec option ``?crop=none``.
    ``size=None`` keeps the stimulus size (all images must then share one size).
    :meth:`describe` says in words what happens to an image of a given size.
    """

    size: int | None = 224
    crop_fraction: float | None = None
    interpolation: str = "bilinear"
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD

    def __post_init__(self):
        if self.size is not None and (not isinstance(self.size, int) or self.size < 1):
            raise ConfigError(f"size must be a positive int or None, got {self.size!r}.")
        if self.crop_fraction is not None and not 0 < self.crop_fraction <= 1:
            raise ConfigError(f"crop_fraction must lie in (0, 1], got {self.crop_fraction!r}.")
        if self.interpolation not in _INTERPOLATION:
            raise ConfigError(
                f"interpolation must be one of {_INTERPOLATION}, got {self.interpolation!r}."
            )
        for name in ("mean", "std"):
            v = tuple(float(x) for x in getattr(self, name))
            if len(v) != 3:
                raise ConfigError(f"{name} needs 3 values (R, G, B), got {v}.")
            object.__setattr__(self, name, v)
        if min(self.std) <= 0:
            raise ConfigError(f"std must be positive, got {self.std}.")

    def to_dict(self) -> dict:
        """JSON-serialisable description (used in cache keys and provenance)."""
        return asdict(self)

    def crop_box(self, height: int, width: int) -> tuple[int, int, int] | None:
        """``(top, left, side)`` in pixels of the centre crop of a ``height × width`` image; None
        without cropping. ``side = round(crop_fraction × min(height, width))``, at least 1."""
        if self.crop_fraction is None:
            return None
        side = max(1, int(round(self.crop_fraction * min(height, width))))
        return (height - side) // 2, (width - side) // 2, side

    def describe(self, height: int | None = None, width: int | None = None) -> str:
        """The steps in words, in pixels for a ``height × width`` stimulus when given, e.g.
        ``"centre crop 98×98 px of 112×112 (crop_fraction 0.875), bicubic resize to 224×224 px,
        normalise (x − mean) / std with mean (…) and std (…) on [0, 1] RGB"``."""
        steps = []
        if self.crop_fraction is not None:
            frac = f"crop_fraction {self.crop_fraction:.4g}"
            if height is None or width is None:
                steps.append(f"centre crop of {frac} of the shorter side")
            else:
                side = self.crop_box(height, width)[2]
                steps.append(f"centre crop {side}×{side} px of {height}×{width} ({frac})")
        else:
            steps.append("no crop")
        if self.size is None:
            steps.append("no resize")
        else:
            steps.append(f"{self.interpolation} resize to {self.size}×{self.size} px")
        mean = ", ".join(f"{v:.4g}" for v in self.mean)
        std = ", ".join(f"{v:.4g}" for v in self.std)
        steps.append(f"normalise (x − mean) / std with mean ({mean}) and std ({std}) on [0, 1] RGB")
        return ", ".join(steps)

    def image(self, image: np.ndarray) -> np.ndarray:
        """One image ``(H, W[, C])`` → ``(3, size, size)`` float32."""
        from PIL import Image

        rgb = to_rgb(image)
        box = self.crop_box(*rgb.shape[:2])
        if box is not None:
            top, left, side = box
            rgb = rgb[top : top + side, left : left + side]
        if self.size is not None and rgb.shape[:2] != (self.size, self.size):
            resample = getattr(Image.Resampling, self.interpolation.upper())
            channels = [
                np.asarray(
                    Image.fromarray(np.ascontiguousarray(rgb[:, :, c]), mode="F").resize(
                        (self.size, self.size), resample=resample
                    )
                )
                for c in range(3)
            ]
            rgb = np.stack(channels, axis=2)
        mean = np.asarray(self.mean, dtype=np.float32)
        std = np.asarray(self.std, dtype=np.float32)
        out = (rgb - mean) / std
        return np.ascontiguousarray(out.transpose(2, 0, 1), dtype=np.float32)

    def batch(self, images: Iterable[np.ndarray]) -> np.ndarray:
        """Images → ``(n, 3, size, size)`` float32; sizes must agree when ``size`` is None."""
        arrays = [self.image(im) for im in images]
        shapes = {a.shape for a in arrays}
        if len(shapes) > 1:
            raise DataError(
                f"preprocessed images differ in size {sorted(shapes)[:3]}; set Preprocessing(size=...) "
                "to resize them to one size."
            )
        return np.stack(arrays) if arrays else np.empty((0, 3, 0, 0), dtype=np.float32)
