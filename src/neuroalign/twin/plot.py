"""Figures of pole images: image grids (PNG) with columns MEI / MAI / LAI / LEI per neuron."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from neuroalign._core.errors import DataError

__all__ = ["COLUMNS", "to_grey_uint8", "pole_grid", "save_pole_grids", "png_bytes"]

COLUMNS = ("MEI", "MAI", "LAI", "LEI")
_RESP = {"MEI": "r_mei", "MAI": "r_mai", "LAI": "r_lai", "LEI": "r_lei"}


def to_grey_uint8(images: np.ndarray, scale: float | None = None) -> np.ndarray:
    """Standardised images ``(..., H, W)`` → uint8 for display, 0 (the grey level) → 128.

    All images share one linear scale, ``scale`` (default: the largest |value|), so contrast
    compares across images: ``±scale`` → 0 / 255.
    """
    a = np.asarray(images, dtype=np.float64)
    s = float(np.max(np.abs(a))) if scale is None else float(scale)
    if s <= 0:
        return np.full(a.shape, 128, dtype=np.uint8)
    return np.clip(np.round(127.5 + 127.5 * a / s), 0, 255).astype(np.uint8)


def _check(result, images) -> dict[str, np.ndarray]:
    images = images if images is not None else result.images
    if images is None:
        raise DataError(
            "no pole images: pass the images dict (result.images of a fresh analysis); results "
            "read back from JSON do not carry images."
        )
    missing = [c for c in COLUMNS if c not in images]
    if missing:
        raise DataError(f"pole images lack {missing}; expected keys {list(COLUMNS)}.")
    n = len(result.table)
    for c in COLUMNS:
        if len(images[c]) != n:
            raise DataError(f"{len(images[c])} {c} images for {n} neurons in the table.")
    return images


def pole_grid(result, images=None, rows=None):
    """A matplotlib Figure: one row per neuron (``rows``: table positions, default all), columns
    MEI / MAI / LAI / LEI, each titled with its response; the grey baseline and index in the row
    label. One grey scale for the whole figure (0 = mean grey)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    images = _check(result, images)
    t = result.table
    rows = list(range(len(t))) if rows is None else list(rows)
    scale = max(float(np.max(np.abs(images[c][rows]))) for c in COLUMNS)
    fig, axes = plt.subplots(
        len(rows), 4, figsize=(6.4, 1.7 * len(rows) + 0.3), squeeze=False, constrained_layout=True
    )
    for i, row in enumerate(rows):
        rec = t.iloc[row]
        for j, c in enumerate(COLUMNS):
            ax = axes[i, j]
            ax.imshow(images[c][row], cmap="gray", vmin=-scale, vmax=scale, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"{c} {rec[_RESP[c]]:.3g}", fontsize=8)
            if j == 0:
                ax.set_ylabel(
                    f"{rec['neuron_id']}\nb={rec['baseline']:.3g}\ndsi={rec['dsi']:.2f}", fontsize=7
                )
    return fig


def save_pole_grids(result, images, folder: str | Path, per_page: int = 8) -> list[Path]:
    """Write ``poles_000.png``, ``poles_001.png``, ... (``per_page`` neurons each) to ``folder``."""
    import matplotlib.pyplot as plt

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    n = len(result.table)
    for k, start in enumerate(range(0, n, per_page)):
        fig = pole_grid(result, images, range(start, min(start + per_page, n)))
        p = folder / f"poles_{k:03d}.png"
        fig.savefig(p, dpi=110)
        plt.close(fig)
        paths.append(p)
    return paths


def png_bytes(image: np.ndarray, scale: float | None = None, upscale: int = 1) -> bytes:
    """PNG bytes of one standardised image ``(H, W)`` (see :func:`to_grey_uint8`)."""
    from PIL import Image

    u8 = to_grey_uint8(image, scale)
    im = Image.fromarray(u8, mode="L")
    if upscale > 1:
        im = im.resize((u8.shape[1] * upscale, u8.shape[0] * upscale), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()
