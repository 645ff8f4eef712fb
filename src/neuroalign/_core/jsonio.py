"""JSON (de)serialisation shared by the result types: NaN ↔ null, tables as column lists."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from neuroalign._core.errors import DataError
from neuroalign._core.version import package_version

__all__ = ["JsonResult", "frame", "jsonable", "load_json", "nan_to_none", "package_version"]


class JsonResult:
    """The one JSON round trip of every result dataclass: ``to_dict`` writes each field, a
    DataFrame as its column lists, with ``"kind": KIND`` (the class's ``kind`` attribute, e.g.
    ``"neuroalign.IATCResult/1"``); ``from_dict`` / ``from_json`` read them back (a field annotated
    as a DataFrame becomes one again; a field absent from an older file takes its default).
    Fields listed in ``_not_saved`` are left out (large arrays kept only in memory)."""

    kind: ClassVar[str] = ""
    _not_saved: ClassVar[tuple[str, ...]] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        for f in dataclasses.fields(self):
            if f.name in self._not_saved:
                continue
            v = getattr(self, f.name)
            out[f.name] = v.to_dict(orient="list") if isinstance(v, pd.DataFrame) else v
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]):
        """Inverse of :meth:`to_dict`."""
        kwargs = {}
        for f in dataclasses.fields(cls):
            if f.name not in d or f.name in cls._not_saved:
                continue
            v = d[f.name]
            if "DataFrame" in str(f.type) and isinstance(v, dict):
                v = frame(v)
            kwargs[f.name] = v
        return cls(**kwargs)

    @classmethod
    def from_json(cls, text_or_path: str | Path):
        """Inverse of :meth:`to_json` (a JSON string or a path)."""
        return cls.from_dict(load_json(text_or_path, cls.kind))

    def to_json(self, path: str | Path | None = None) -> str:
        """JSON text (NaN written as null); also written to ``path`` when given."""
        text = json.dumps(nan_to_none(self.to_dict()), indent=1)
        if path is not None:
            Path(path).write_text(text)
        return text


def nan_to_none(obj):
    """``obj`` (nested dicts, lists, numbers) with NaN and infinities as None and numpy scalars
    as Python ones: what strict JSON can hold."""
    if isinstance(obj, dict):
        return {k: nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [nan_to_none(v) for v in obj]
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
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return {k: jsonable(x) for k, x in dataclasses.asdict(v).items()}
    if isinstance(v, tuple):
        return [jsonable(x) for x in v]
    try:
        json.dumps(v)
        return v
    except TypeError:
        return repr(v)
