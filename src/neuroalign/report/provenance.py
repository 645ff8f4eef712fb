"""Gather the report's provenance: versions, parameters, seeds and data checksums.

Everything comes from the results' own ``params`` (which record the seed, the package version and
the population's metadata), the scores frame's ``seed`` column and the caller's ``provenance``
dict. Nested dicts are flattened to dotted keys; any key naming a checksum (``sha256``,
``checksum``, ``md5``, ``hash``) is also listed under the data checksums.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Mapping
from typing import Any

import pandas as pd

__all__ = ["checksum_rows", "environment_rows", "flatten", "seed_rows"]

_CHECKSUM_WORDS = ("sha256", "sha1", "md5", "checksum", "hash", "digest")


def flatten(d: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """``(dotted key, value)`` pairs of a nested mapping, in insertion order (lists stay values)."""
    out: list[tuple[str, Any]] = []
    for k, v in d.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, Mapping) and v:
            out.extend(flatten(v, key))
        else:
            out.append((key, v))
    return out


def _json(v) -> str:
    if isinstance(v, str):
        return v
    try:
        return json.dumps(v, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(v)


def environment_rows() -> pd.DataFrame:
    """The software that wrote the report: neuroalign, Python, numpy, pandas, matplotlib versions."""
    import matplotlib
    import numpy

    from neuroalign._core.version import package_version

    return pd.DataFrame(
        {
            "item": ["neuroalign", "python", "numpy", "pandas", "matplotlib", "platform"],
            "value": [
                package_version(),
                platform.python_version(),
                numpy.__version__,
                pd.__version__,
                matplotlib.__version__,
                platform.platform(),
            ],
        }
    )


def params_frame(sources: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """One row per (source, dotted parameter key) with the value as text (JSON for containers)."""
    rows = [
        {"source": src, "parameter": k, "value": _json(v)}
        for src, params in sources.items()
        for k, v in flatten(params)
    ]
    return pd.DataFrame(rows, columns=["source", "parameter", "value"])


def seed_rows(
    sources: Mapping[str, Mapping[str, Any]], scores: pd.DataFrame | None
) -> pd.DataFrame:
    """Every seed recorded: ``(source, key, seed)`` from the flattened parameters (keys ending in
    ``seed``) and the distinct seeds of each (model, benchmark) in ``scores``."""
    rows = [
        {"source": src, "key": k, "seed": _json(v)}
        for src, params in sources.items()
        for k, v in flatten(params)
        if k.rsplit(".", 1)[-1].lower() in ("seed", "seeds", "random_state")
    ]
    if scores is not None and not scores.empty and "seed" in scores:
        for (model, bench), g in scores.groupby(["model", "benchmark"], sort=False):
            seeds = sorted({_json(s) for s in g["seed"] if pd.notna(s)})
            if seeds:
                rows.append(
                    {"source": f"scores: {model}", "key": str(bench), "seed": ", ".join(seeds)}
                )
    return pd.DataFrame(rows, columns=["source", "key", "seed"])


def checksum_rows(sources: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """Every value whose dotted key names a checksum: ``(source, key, checksum)``, deduplicated."""
    rows, seen = [], set()
    for src, params in sources.items():
        for k, v in flatten(params):
            if any(w in k.lower() for w in _CHECKSUM_WORDS):
                if isinstance(v, Mapping):
                    continue
                if (k, _json(v)) in seen:
                    continue
                seen.add((k, _json(v)))
                rows.append({"source": src, "key": k, "checksum": _json(v)})
    return pd.DataFrame(rows, columns=["source", "key", "checksum"])
