"""`StimulusSet`: stimulus ids, lazily loaded images (arrays, folders or zips) and metadata."""

from __future__ import annotations

import hashlib
import io
import warnings
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from neuroalign._core.errors import DataError

__all__ = [
    "StimulusSet",
    "DuplicateImagesWarning",
    "image_content_id",
    "zip_content_ids",
    "IMAGE_SUFFIXES",
]

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


class DuplicateImagesWarning(UserWarning):
    """Several image files hold the same pixels and were merged into one stimulus."""


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

    Files that hold the same image (``ids="content"`` in :meth:`from_folder` / :meth:`from_zip`)
    become one stimulus, with a :class:`DuplicateImagesWarning` naming them: ``source_ids`` gives
    the stimulus id of every file in load order (duplicates repeated) and ``merged`` maps each
    merged id to its files. Responses recorded per file are combined with
    :func:`neuroalign.data.merge_rows` (repeats pooled; repeat-averaged rows averaged).
    """

    def __init__(
        self,
        ids: Sequence[str],
        *,
        metadata: pd.DataFrame | None = None,
        source=None,
        index: np.ndarray | None = None,
        name: str = "stimuli",
        source_ids: Sequence[str] | None = None,
        merged: Mapping[str, Sequence[str]] | None = None,
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
        #: stimulus id of every source image in load order (several files may share one id)
        self.source_ids = ids.copy() if source_ids is None else np.asarray(source_ids, dtype=object)
        #: merged stimulus id → the files (zip members or file names) that hold that image
        self.merged = {str(k): list(v) for k, v in (merged or {}).items()}

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
            merged={i: self.merged[i] for i in ids if i in self.merged},
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
        """All image files in ``folder`` (sorted by name); ids ``"content"`` or ``"name"`` (file stem).

        With ``"content"`` ids, files holding the same pixels become one stimulus (see the class).
        """
        folder = Path(folder)
        if not folder.is_dir():
            raise DataError(f"no such folder: {folder}")
        paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not paths:
            raise DataError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {folder}.")
        src = _FileSource(paths)
        id_list = cls._ids(ids, src, [p.stem for p in paths])
        return cls._from_files(id_list, [p.name for p in paths], src, name or folder.name, ids)

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
        With ``"content"`` ids, members holding the same pixels become one stimulus (see the class).
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
        if content_ids is not None and ids == "content":
            id_list = list(content_ids)
        else:
            id_list = cls._ids(ids, src, [Path(m).stem for m in members], zip_path=path)
        return cls._from_files(id_list, members, src, name or path.stem, ids)

    @classmethod
    def _from_files(cls, ids: list[str], files: list[str], src, name: str, kind: str):
        """One stimulus per file; with content ids, files that share an id merge into the first."""
        meta = pd.DataFrame({"file": files})
        repeat = pd.Index(ids).duplicated()
        if kind != "content" or not repeat.any():
            return cls(ids, metadata=meta, source=src, name=name)
        groups: dict[str, list[str]] = {}
        for i, f in zip(ids, files, strict=True):
            groups.setdefault(i, []).append(f)
        merged = {i: fs for i, fs in groups.items() if len(fs) > 1}
        pairs = [f"{f} = {fs[0]}" for fs in merged.values() for f in fs[1:]]
        more = f" and {len(pairs) - 10} more" if len(pairs) > 10 else ""
        warnings.warn(
            f"{name}: {len(pairs)} image file(s) repeat the pixels of another and were merged into "
            f"one stimulus each: {', '.join(pairs[:10])}{more}. Responses recorded per file are "
            "combined by neuroalign.data.merge_rows(responses, stimuli.source_ids) (repeats "
            "pooled, repeat-averaged rows averaged); StimulusSet.merged maps each id to its files.",
            DuplicateImagesWarning,
            stacklevel=3,
        )
        keep = np.nonzero(~repeat)[0]
        return cls(
            [ids[k] for k in keep],
            metadata=meta.iloc[keep],
            source=src,
            index=keep,
            name=name,
            source_ids=ids,
            merged=merged,
        )

    @staticmethod
    def _ids(kind: str, src, stems: list[str], zip_path: Path | None = None) -> list[str]:
        if kind == "name":
            return stems
        if kind != "content":
            raise DataError(f"ids must be 'content' or 'name', got {kind!r}.")
        if zip_path is not None:
            return zip_content_ids(zip_path, src.members)
        return [image_content_id(src(i)) for i in range(len(stems))]
