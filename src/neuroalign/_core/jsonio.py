"""JSON (de)serialisation shared by the result types: NaN ↔ null, tables as column lists."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from neuroalign._core.errors import DataError
from neuroalign._core.version import package_version

__all__ = ["JsonResult", "frame", "jsonable", "load_json", "package_version"]


class JsonResult:
    """Mixin: ``to_json(path=None)`` from the subclass's ``to_dict()`` (NaN written as null)."""

    def to_dict(self) -> dict[str, Any]:  # pragma: no cover - interface
        raise NotImplementedError

    def to_json(self, path: str | Path | None = None) -> str:
        """JSON text (NaN written as null); also written to ``path`` when given."""
        text = json.dumps(_nan_to_none(self.to_dict()), indent=1)
        if path is not None:
            Path(path).write_text(text)
        return text


def _nan_to_none(obj):
    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_nan_to_none(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return None if not np.isfinite(obj) else float(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def frame(columns: dict[str, list]) -> pd.DataFrame:
    df = pd.DataFrame(columns)
    for col in df.columns:
        if (
            df[col].dtype == object
            and df[col].map(lambda v: v is None or isinstance(v, float)).all()
        ):
            df[col] = df[col].astype(float)
    return df


def load_json(text_or_path, kind: str) -> dict:
    text = str(text_or_path)
    if not text.lstrip().startswith("{"):
        path = Path(text_or_path)
        if not path.exists():
            raise DataError(f"no such results file: {path}")
        text = path.read_text()
    try:
        d = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"not a JSON results file ({exc}); was it written by to_json()?") from exc
    if d.get("kind") != kind:
        raise DataError(f"expected a {kind} document, got {d.get('kind')!r}.")
    return d


def jsonable(v):
    """``v`` as JSON-ready data: arrays as lists, numpy scalars as Python numbers, else ``repr``."""
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    try:
        json.dumps(v)
        return v
    except TypeError:
        return repr(v)
