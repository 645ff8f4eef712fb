"""HTML-ready tables: a DataFrame → :class:`Table` of :class:`Cell` (shown text + exact value).

Every cell keeps the exact value it shows (``value``, written as the ``data-value`` attribute: a
float's shortest round-trip ``repr``, ``true``/``false``, ``nan``) next to the rounded text a reader
sees, so a program can read the report's numbers back without parsing rounded text. Text is plain;
the template escapes it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["Cell", "Table", "cell", "table_from_frame"]


@dataclass(frozen=True)
class Cell:
    """One table cell: ``text`` (shown), ``value`` (exact, for ``data-value``; None for text) and
    ``numeric`` (right-aligned)."""

    text: str
    value: str | None = None
    numeric: bool = False


@dataclass
class Table:
    """A table: ``id`` (HTML id), ``caption``, ``columns`` as ``(key, label)`` pairs (``key`` is
    the source column, written as ``data-col``) and ``rows`` of :class:`Cell`; ``highlight`` holds
    the indices of rows to emphasise; a ``collapsed`` table starts folded (``<details>``)."""

    id: str
    caption: str
    columns: list[tuple[str, str]]
    rows: list[list[Cell]]
    highlight: set[int] = field(default_factory=set)
    collapsed: bool = False


def _format_float(v: float) -> str:
    if not math.isfinite(v):
        return "—" if math.isnan(v) else ("∞" if v > 0 else "−∞")
    a = abs(v)
    if a != 0 and (a < 1e-3 or a >= 1e6):
        return f"{v:.3g}"
    return f"{v:.2f}" if a >= 10 else f"{v:.3f}"


def cell(v) -> Cell:
    """The :class:`Cell` of one value: bools as yes/no, numbers rounded for display with their
    exact value kept, None/NaN as an em dash, containers as compact JSON, anything else as text."""
    if v is None or v is pd.NA or v is pd.NaT:
        return Cell("—", "nan", True)
    if isinstance(v, (bool, np.bool_)):
        return Cell("yes" if v else "no", "true" if v else "false")
    if isinstance(v, (int, np.integer)):
        return Cell(str(int(v)), str(int(v)), True)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return Cell(_format_float(f), repr(f), True)
    if isinstance(v, (list, tuple, dict, np.ndarray)):
        if isinstance(v, np.ndarray):
            v = v.tolist()
        try:
            return Cell(json.dumps(v, default=str, ensure_ascii=False))
        except (TypeError, ValueError):
            return Cell(str(v))
    return Cell(str(v))


def table_from_frame(
    df: pd.DataFrame,
    id: str,
    caption: str,
    columns: Sequence[tuple[str, str]] | None = None,
    highlight: set[int] | None = None,
    collapsed: bool = False,
) -> Table:
    """A :class:`Table` from ``df``: ``columns`` picks and labels ``(key, label)`` (default: every
    column, labelled by name; keys absent from ``df`` are skipped); rows keep ``df``'s order."""
    cols = [
        (k, lab) for k, lab in (columns or [(c, str(c)) for c in df.columns]) if k in df.columns
    ]
    rows = [[cell(v) for v in rec] for rec in df[[k for k, _ in cols]].itertuples(index=False)]
    return Table(
        id, caption, [(str(k), lab) for k, lab in cols], rows, set(highlight or ()), collapsed
    )
