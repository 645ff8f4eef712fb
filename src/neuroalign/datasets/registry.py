"""Registry of the real datasets: names, facts, and `load` from a local data folder."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from pathlib import Path

from neuroalign._core.errors import ConfigError, DataError
from neuroalign._core.registry import Registry
from neuroalign.datasets.base import Dataset, DatasetInfo
from neuroalign.datasets.checksums import sha256_file

__all__ = ["DATASETS", "ENV_VAR", "register", "names", "info", "load", "resolve_data_dir", "status"]

ENV_VAR = "NEUROALIGN_DATA"


def _builtins() -> None:
    from neuroalign.datasets import cowley2023, dualneuron2025, henaff2021, kriegeskorte2008

    for m in (cowley2023, henaff2021, kriegeskorte2008, dualneuron2025):
        register(m.INFO, m.load)


#: dataset name → (its DatasetInfo, its ``load(root, **options) -> Dataset``)
DATASETS: Registry[tuple[DatasetInfo, Callable[..., Dataset]]] = Registry(
    "dataset", hint="`neuroalign datasets list`", builtins=_builtins
)


def register(info: DatasetInfo, load: Callable[..., Dataset], *, replace: bool = False) -> None:
    """Add a dataset: its facts and checksums (``info``) and ``load(root, **options)``, which
    reads ``<data_dir>/<info.folder>``. A user's own dataset registers the same way."""
    DATASETS.register(info.name, (info, load), replace=replace)


def names() -> list[str]:
    """Names of the registered datasets, sorted."""
    return DATASETS.names()


def _entry(name: str) -> tuple[DatasetInfo, Callable[..., Dataset]]:
    return DATASETS.get(name)


def info(name: str) -> DatasetInfo:
    """Facts about dataset ``name``: citation, licence, folder, files and checksums, ..."""
    return _entry(name)[0]


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """``data_dir`` if given, else ``$NEUROALIGN_DATA``; :class:`DataError` when neither is set."""
    if data_dir is None:
        data_dir = os.environ.get(ENV_VAR) or None
    if data_dir is None:
        raise DataError(
            "no data folder given: pass data_dir (--data-dir on the command line) or set the "
            f"environment variable {ENV_VAR} to the folder that holds the dataset folders."
        )
    return Path(data_dir).expanduser()


def status(name: str, data_dir: str | os.PathLike | None = None, *, verify: bool = False) -> dict:
    """Whether dataset ``name`` is on disk; never raises for absent data.

    Returns ``{"folder": str | None, "state": str, "missing": [...], "corrupt": [...]}`` with
    state ``"no data folder"`` (neither ``data_dir`` nor ``$NEUROALIGN_DATA``), ``"absent"``,
    ``"incomplete"``, ``"complete"`` (files present, not hashed) or, with ``verify=True``,
    ``"verified"`` / ``"corrupt"`` (SHA-256 checked).
    """
    meta = info(name)
    try:
        root = resolve_data_dir(data_dir) / meta.folder
    except DataError:
        return {
            "folder": None,
            "state": "no data folder",
            "missing": list(meta.files),
            "corrupt": [],
        }
    missing = [f for f in meta.files if not (root / f).is_file()]
    corrupt: list[str] = []
    if not root.is_dir():
        state = "absent"
    elif missing:
        state = "incomplete"
    elif verify:
        corrupt = [f for f, h in meta.files.items() if sha256_file(root / f) != h]
        state = "corrupt" if corrupt else "verified"
    else:
        state = "complete"
    return {"folder": str(root), "state": state, "missing": missing, "corrupt": corrupt}


def load(name: str, data_dir: str | os.PathLike | None = None, **options) -> Dataset:
    """Load dataset ``name`` from ``<data_dir>/<info(name).folder>``, verifying every file first.

    ``options`` go to the dataset's loader: ``sessions``/``per_repeat`` (cowley2023_v4),
    ``recordings``/``conditions`` (henaff2021_v1); kriegeskorte2008_92 takes none.
    """
    meta, loader = _entry(name)
    root = resolve_data_dir(data_dir) / meta.folder
    try:
        inspect.signature(loader).bind(root, **options)
    except TypeError as exc:
        raise ConfigError(f"{name}: bad option(s) {sorted(options)}: {exc}.") from None
    return loader(root, **options)
