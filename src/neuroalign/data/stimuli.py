"""`StimulusSet`: stimulus ids, lazily loaded images (arrays, folders or zips) and metadata."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from neuroalign._core.errors import DataError

__all__ = ["StimulusSet", "image_content_id", "zip_content_ids", "IMAGE_SUFFIXES"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif")


def image_content_id(image: np.ndarray) -> str:
    """Stable id from pixel content: ``"img-"`` + 16 hex digits of SHA-256 over shape, dtype, pixels.

    Two byte-identical (or pixel-identical) images get the same id wherever they come from.
    """
    a = np.ascontiguousarray(image)
    h = hashlib.sha256()
    h.update(repr((a.shape, a.dtype.str)).encode())
    h.update(a.tobytes())
    return "img-" + h.hexdigest()[:16]


def _decode(data: bytes, where: str) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as im:
            return np.asarray(im.convert("RGB"))
    except (UnidentifiedImageError, OSError) as exc:
        raise DataError(
            f"cannot decode image {where}: {exc}; the file is corrupt or not an image."
        ) from exc


def zip_content_ids(path: str | Path, members: Sequence[str]) -> list[str]:
    """Content ids (:func:`image_content_id`) of the given zip members, decoded in one pass."""
    path = Path(path)
    with zipfile.ZipFile(path) as zf:
        return [image_content_id(_decode(zf.read(m), f"{path}:{m}")) for m in members]


class _ArraySource:
    def __init__(self, images: np.ndarray):
        self.images = images

    def __call__(self, i: int) -> np.ndarray:
        return self.images[i]


class _FileSource:
    def __init__(self, paths: Sequence[Path]):
        self.paths = list(paths)

    def __call__(self, i: int) -> np.ndarray:
        p = self.paths[i]
        return _decode(p.read_bytes(), str(p))


class _ZipSource:
    def __init__(self, path: Path, members: Sequence[str]):
        self.path = path
        self.members = list(members)

    def __call__(self, i: int) -> np.ndarray:
        with zipfile.ZipFile(self.path) as zf:
            return _decode(zf.read(self.members[i]), f"{self.path}:{self.members[i]}")


class StimulusSet:
    """An ordered set of stimuli: ``ids`` (n_stimuli,), images loaded on demand, a metadata table.

    ``image(i)`` returns one image as ``(height, width, channels)`` uint8 (or the array's own
    dtype for :meth:`from_arrays`); ``images()`` stacks them to ``(n, height, width, channels)``.
    Build with :meth:`from_arrays`, :meth:`from_folder` or :meth:`from_zip`; ``ids="content"``
    derives each id from its pixels (:func:`image_content_id`) so the same image aligns across sets.
    A set without images (``has_images=False``) carries ids and metadata only.
    """

    def __init__(
        self,
        ids: Sequence[str],
        *,
        metadata: pd.DataFrame | None = None,
        source=None,
        index: np.ndarray | None = None,
        name: str = "stimuli",
    ):
        ids = np.asarray([str(i) for i in ids], dtype=object)
        dup = pd.Index(ids).duplicated()
        if dup.any():
            raise DataError(
                f"duplicate stimulus ids in {name}: {list(ids[dup][:3])}; ids must be unique."
            )
        if metadata is None:
            metadata = pd.DataFrame(index=range(len(ids)))
        if len(metadata) != len(ids):
            raise DataError(f"metadata has {len(metadata)} rows for {len(ids)} stimuli.")
        self.ids = ids
        self.metadata = metadata.reset_index(drop=True)
        self.name = name
        self._source = source
        self._index = np.arange(len(ids)) if index is None else np.asarray(index)

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        return f"StimulusSet({self.name!r}, {len(self)} stimuli, images={'yes' if self.has_images else 'no'})"

    @property
    def has_images(self) -> bool:
        return self._source is not None

    def image(self, i: int) -> np.ndarray:
        """Image ``i`` as ``(height, width, channels)``."""
        if not self.has_images:
            raise DataError(f"{self.name} has no images (neural-only stimulus set).")
        if not 0 <= i < len(self):
            raise DataError(f"stimulus index {i} out of range for {len(self)} stimuli.")
        return self._source(int(self._index[i]))

    def __iter__(self):
        for i in range(len(self)):
            yield self.image(i)

    def images(self, indices: Iterable[int] | None = None) -> np.ndarray:
        """Stack of images ``(n, height, width, channels)``; all must share one size."""
        idx = range(len(self)) if indices is None else list(indices)
        imgs = [self.image(i) for i in idx]
        shapes = {im.shape for im in imgs}
        if len(shapes) > 1:
            raise DataError(
                f"images differ in size {sorted(shapes)[:3]}; resize them before stacking."
            )
        return np.stack(imgs) if imgs else np.empty((0, 0, 0, 3), dtype=np.uint8)

    def select(self, ids: Iterable[str]) -> StimulusSet:
        """Subset in the given id order."""
        ids = [str(i) for i in ids]
        pos = pd.Index(self.ids).get_indexer(ids)
        if (pos < 0).any():
            bad = [i for i, p in zip(ids, pos, strict=True) if p < 0]
            raise DataError(f"{len(bad)} unknown stimulus id(s) in {self.name}, e.g. {bad[:3]}.")
        return StimulusSet(
            self.ids[pos],
            metadata=self.metadata.iloc[pos],
            source=self._source,
            index=self._index[pos],
            name=self.name,
        )

    # ---------------------------------------------------------------- builders
    @classmethod
    def from_arrays(
        cls,
        images,
        ids: Sequence[str] | str = "content",
        *,
        metadata: pd.DataFrame | None = None,
        name: str = "arrays",
    ) -> StimulusSet:
        """From an array ``(n, height, width[, channels])``; ids given or derived from content."""
        images = np.asarray(images)
        if images.ndim not in (3, 4):
            raise DataError(
                f"images must be (n, height, width[, channels]), got shape {images.shape}."
            )
        if isinstance(ids, str):
            if ids != "content":
                raise DataError("ids must be a sequence of ids or 'content'.")
            ids = [image_content_id(im) for im in images]
        if len(ids) != len(images):
            raise DataError(f"{len(ids)} ids for {len(images)} images.")
        return cls(ids, metadata=metadata, source=_ArraySource(images), name=name)

    @classmethod
    def from_folder(
        cls, folder: str | Path, ids: str = "content", *, name: str | None = None
    ) -> StimulusSet:
        """All image files in ``folder`` (sorted by name); ids ``"content"`` or ``"name"`` (file stem)."""
        folder = Path(folder)
        if not folder.is_dir():
            raise DataError(f"no such folder: {folder}")
        paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not paths:
            raise DataError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {folder}.")
        src = _FileSource(paths)
        meta = pd.DataFrame({"file": [p.name for p in paths]})
        return cls(
            cls._ids(ids, src, [p.stem for p in paths]),
            metadata=meta,
            source=src,
            name=name or folder.name,
        )

    @classmethod
    def from_zip(
        cls,
        path: str | Path,
        ids: str = "content",
        *,
        name: str | None = None,
        content_ids: Sequence[str] | None = None,
    ) -> StimulusSet:
        """All images inside a zip (sorted by member name); ids ``"content"`` or ``"name"``.

        ``content_ids`` may pass precomputed content ids (e.g. from a cache) to skip decoding.
        """
        path = Path(path)
        try:
            with zipfile.ZipFile(path) as zf:
                members = sorted(
                    n
                    for n in zf.namelist()
                    if n.lower().endswith(IMAGE_SUFFIXES) and not Path(n).name.startswith(".")
                )
        except (zipfile.BadZipFile, OSError) as exc:
            raise DataError(
                f"cannot open zip {path}: {exc}; the file is missing or corrupt."
            ) from exc
        if not members:
            raise DataError(f"no images in zip {path}.")
        src = _ZipSource(path, members)
        meta = pd.DataFrame({"file": members})
        if content_ids is not None and ids == "content":
            id_list = list(content_ids)
        else:
            id_list = cls._ids(ids, src, [Path(m).stem for m in members], zip_path=path)
        return cls(id_list, metadata=meta, source=src, name=name or path.stem)

    @staticmethod
    def _ids(kind: str, src, stems: list[str], zip_path: Path | None = None) -> list[str]:
        if kind == "name":
            return stems
        if kind != "content":
            raise DataError(f"ids must be 'content' or 'name', got {kind!r}.")
        if zip_path is not None:
            return zip_content_ids(zip_path, src.members)
        return [image_content_id(src(i)) for i in range(len(stems))]
