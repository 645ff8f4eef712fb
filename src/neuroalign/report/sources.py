"""Read results for a report: results stores (opened read-only) and result JSON files.

:func:`load_results` takes any mix of stores and files and returns what :func:`write_report`
takes: a scores frame, the first IATC result and the model comparisons keyed by model name. A
Score document may lack its per-unit table and attachments (what ``neuroalign score --json``
prints): its summary is all a report needs from it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from neuroalign._core.errors import DataError, NeuroAlignError
from neuroalign.analysis.compare import ComparisonResult
from neuroalign.analysis.iatc import IATCResult

__all__ = ["Results", "load_results"]

_KINDS = "Score, IATCResult or ComparisonResult"


@dataclass
class Results:
    """What a report shows: ``scores`` (a results-store frame, or None), ``iatc`` (the first IATC
    result found), ``comparisons`` (model name → ComparisonResult; ``"model · benchmark"`` when
    a model has comparisons on several benchmarks)."""

    scores: pd.DataFrame | None = None
    iatc: IATCResult | None = None
    comparisons: dict[str, ComparisonResult] = field(default_factory=dict)


def _score(d: dict, where: str):
    from neuroalign.bench.score import Score

    d = {"units": {}, "attachments": {}, **d}
    if isinstance(d.get("summary"), list):  # records, as `neuroalign score --json` prints them
        d["summary"] = pd.DataFrame(d["summary"]).to_dict(orient="list")
    try:
        return Score.from_dict(d)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DataError(
            f"{where} is a Score document with a missing or damaged field ({type(exc).__name__}: "
            f"{exc}); write it again with `neuroalign score ... -o FILE`."
        ) from None


def _json(path: Path) -> dict:
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        d = None
    if not isinstance(d, dict):
        raise DataError(
            f"{path} is neither a results store (SQLite) nor a neuroalign result JSON file."
        )
    return d


def _from_json(path: Path, kind, d: dict, scores: list, comps: list, iatcs: list) -> None:
    from neuroalign.bench.score import comparison_frame

    try:
        if kind == "neuroalign.Score/1":
            s = _score(d, str(path))
            scores.append(s.frame())
            iatcs.append(s.iatc())
            comps.append((s.model, s.benchmark, s.comparison()))
        elif kind == "neuroalign.IATCResult/1":
            iatcs.append(IATCResult.from_json(path))
        elif kind == "neuroalign.ComparisonResult/1":
            cmp = ComparisonResult.from_json(path)
            comps.append((path.stem, "", cmp))
            scores.append(comparison_frame(cmp, model=path.stem, benchmark=path.stem))
        else:
            raise DataError(
                f"{path} is a JSON file of kind {kind!r}, not a neuroalign result ({_KINDS})."
            )
    except NeuroAlignError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(
            f"{path} is a {kind} document with a missing or damaged field "
            f"({type(exc).__name__}: {exc}); write it again."
        ) from None


def load_results(paths: Iterable[str | os.PathLike]) -> Results:
    """The :class:`Results` in ``paths``: results stores (``.sqlite``, opened read-only: nothing
    is created, migrated or locked) and result JSON files (``Score``, ``IATCResult``,
    ``ComparisonResult``). Raises :class:`DataError` for a missing, unreadable or foreign file."""
    from neuroalign.bench.store import ResultsStore, is_store_file

    scores: list[pd.DataFrame] = []
    comps: list[tuple[str, str, ComparisonResult | None]] = []
    iatcs: list[IATCResult | None] = []
    for p in map(Path, paths):
        if not p.is_file():
            what = "a folder" if p.is_dir() else "no such results file"
            raise DataError(f"{what}: {p}; give a results store or result JSON files.")
        if is_store_file(p):
            with ResultsStore(p, readonly=True) as st:
                scores.append(st.frame())
                for s in st.scores():
                    iatcs.append(s.iatc())
                    comps.append((s.model, s.benchmark, s.comparison()))
            continue
        d = _json(p)
        _from_json(p, d.get("kind"), d, scores, comps, iatcs)
    comps = [c for c in comps if c[2] is not None]
    n_per_model = pd.Series([m for m, _, _ in comps]).value_counts()
    comparisons = {(m if n_per_model[m] == 1 else f"{m} · {b}"): c for m, b, c in comps}
    frames = [f for f in scores if not f.empty]
    return Results(
        scores=pd.concat(frames, ignore_index=True) if frames else None,
        iatc=next((i for i in iatcs if i is not None), None),
        comparisons=comparisons,
    )
