"""NWB (the format of DANDI) → :class:`~neuroalign.data.NeuralData`: spike counts per presentation.

A units table (spike times) and a stimulus presentation table (an intervals table such as
``trials``, ``epochs`` or a ``TimeIntervals`` under ``intervals/``, with ``start_time``,
``stop_time`` and a stimulus id column) become counts ``(n_stimuli, n_units, n_repeats)`` in a
window relative to each presentation's onset; repeats are the presentations of one stimulus.
Needs ``pynwb`` (``pip install 'neuroalign[nwb]'``).
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from neuroalign._core.errors import ConfigError, DataError
from neuroalign.data.neural_data import NeuralData

__all__ = ["ID_COLUMNS", "parse_window", "read_nwb"]

#: stimulus id columns looked for, in this order, when ``id_column`` is not given
ID_COLUMNS = ("stimulus_id", "image_id", "image_name", "stimulus", "image", "frame")
#: unit-table columns that may hold the brain area, in this order
_AREA_COLUMNS = ("area", "brain_area", "location")
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_WINDOW = re.compile(rf"^\s*({_NUMBER})\s*(ms|s)?\s*:\s*({_NUMBER})\s*(ms|s)\s*$")


def parse_window(window: str | tuple[float, float]) -> tuple[float, float]:
    """``"50:250ms"``, ``"0.05:0.25s"``, ``"50ms:250ms"`` or ``(0.05, 0.25)`` → seconds after onset.

    The counting window is half-open, ``[start, stop)``; ``start < stop`` is required.
    """
    if isinstance(window, str):
        m = _WINDOW.match(window)
        if not m or (m.group(2) and m.group(2) != m.group(4)):
            raise ConfigError(
                f"window {window!r} is not START:STOP with one unit, e.g. '50:250ms' or "
                "'0.05:0.25s' (times after each presentation's onset)."
            )
        scale = 1e-3 if m.group(4) == "ms" else 1.0
        start, stop = float(m.group(1)) * scale, float(m.group(3)) * scale
    else:
        try:
            start, stop = (float(v) for v in window)
        except (TypeError, ValueError):
            raise ConfigError(
                f"window must be 'START:STOPms' or (start_s, stop_s), got {window!r}."
            ) from None
    if not (np.isfinite(start) and np.isfinite(stop) and start < stop):
        raise ConfigError(f"window start must come before its stop, got {window!r}.")
    return start, stop


def _ids(values) -> np.ndarray:
    """Stimulus ids as strings (integral floats without ``.0``); missing ones as None."""
    out = []
    for v in values:
        if isinstance(v, bytes):
            v = v.decode()
        if v is None or (isinstance(v, float | np.floating) and np.isnan(v)) or v == "":
            out.append(None)
        elif isinstance(v, float | np.floating) and float(v).is_integer():
            out.append(str(int(v)))
        else:
            out.append(str(v))
    return np.asarray(out, dtype=object)


def _units_table(nwbfile, path: Path):
    if nwbfile.units is not None:
        return nwbfile.units
    found = [
        obj
        for module in nwbfile.processing.values()
        for obj in module.data_interfaces.values()
        if type(obj).__name__ == "Units"
    ]
    if len(found) == 1:
        return found[0]
    raise DataError(
        f"{path} has no units table (nwbfile.units"
        + (f"; {len(found)} under processing/, ambiguous" if found else "")
        + "): spike counts need sorted units with spike times. Files with only raw voltage or "
        "calcium traces need spike sorting / event extraction first."
    )


def _presentation_table(nwbfile, path: Path, table: str | None, id_column: str | None):
    tables = dict(nwbfile.intervals or {})
    described = "; ".join(f"{k} ({', '.join(v.colnames)})" for k, v in tables.items()) or "none"
    if table is not None:
        if table not in tables:
            raise DataError(
                f"{path} has no intervals table {table!r}; its intervals tables: {described}."
            )
        chosen = {table: tables[table]}
    else:
        wanted = (id_column,) if id_column else ID_COLUMNS
        chosen = {k: v for k, v in tables.items() if set(wanted) & set(v.colnames)}
    if not chosen:
        raise DataError(
            f"{path} has no stimulus presentation table with a column "
            f"{' or '.join(map(repr, (id_column,) if id_column else ID_COLUMNS))}; its intervals "
            f"tables: {described}. Name the table (table=...) and its id column (id_column=...)."
        )
    if len(chosen) > 1:
        raise DataError(
            f"{path} has several presentation tables ({', '.join(chosen)}); choose one with "
            "table=NAME."
        )
    name, t = next(iter(chosen.items()))
    column = id_column or next((c for c in ID_COLUMNS if c in t.colnames), None)
    if column not in t.colnames:
        raise DataError(
            f"the {name!r} table of {path} has no column {column!r}; its columns: "
            f"{', '.join(t.colnames)}. Give the column holding the stimulus id (id_column=...)."
        )
    return name, column, t


def _rows(table, column: str):
    """Rows of a ragged column (``spike_times``, ``obs_intervals``), one array at a time, read
    from the file unit by unit (a session's spikes need not fit in memory at once)."""
    data = getattr(table, column).data
    ends = np.asarray(getattr(table, f"{column}_index").data[:], dtype=np.int64)
    for a, b in zip(np.concatenate([[0], ends[:-1]]), ends, strict=True):
        yield np.asarray(data[a:b], dtype=np.float64)


def _counts(units, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Spikes with ``lo <= t < hi``, ``(n_windows, n_units)`` float64; NaN where a unit with
    ``obs_intervals`` was not observed for the whole window."""
    out = np.stack([_count(t, lo, hi) for t in _rows(units, "spike_times")], axis=1)
    out = out.astype(np.float64)
    if "obs_intervals" in units.colnames:
        for j, iv in enumerate(_rows(units, "obs_intervals")):
            if iv.size:
                out[~_observed(iv, lo, hi), j] = np.nan
    return out


def _presentations(t, name, column, path, window, allow_outside):
    """Onsets ``(n,)`` in time order, their stimulus ids and how many rows lacked an id."""
    start, stop = window
    onsets = np.asarray(t["start_time"].data[:], dtype=np.float64)
    duration = np.asarray(t["stop_time"].data[:], dtype=np.float64) - onsets
    ids = _ids(t[column].data[:])
    keep = np.asarray([i is not None for i in ids])
    if not keep.any():
        raise DataError(f"every row of the {name!r} table of {path} lacks a {column!r} value.")
    if not keep.all():
        warnings.warn(
            f"{path}: {int((~keep).sum())} of {keep.size} presentations in {name!r} have no "
            f"{column!r} (blank or NaN) and were left out.",
            UserWarning,
            stacklevel=3,
        )
    onsets, duration, ids = onsets[keep], duration[keep], ids[keep]
    short = np.isfinite(duration) & (duration < stop)
    if not allow_outside and (start < 0 or short.any()):
        why = (
            "it starts before onset"
            if start < 0
            else f"{int(short.sum())} presentation(s) end before {stop * 1e3:g} ms, the shortest "
            f"after {np.min(duration[short]) * 1e3:g} ms"
        )
        raise DataError(
            f"window {start * 1e3:g}–{stop * 1e3:g} ms lies outside presentations of the "
            f"{name!r} table of {path}: {why}. Choose a window inside every presentation, or pass "
            "allow_outside=True to count outside them on purpose (baseline, offset responses)."
        )
    order = np.argsort(onsets, kind="stable")
    return onsets[order], ids[order], int((~keep).sum())


def _unit_table(units, subject: str, area: str | None) -> pd.DataFrame:
    """``unit_id`` (``"<subject>-<id>"``), ``subject``, ``area`` and the scalar unit columns."""
    ids = np.asarray(units.id.data[:])
    table = pd.DataFrame(
        {
            "unit_id": [f"{subject}-{u}" for u in ids],
            "subject": subject,
            "area": _areas(units, area),
        }
    )
    for c in units.colnames:
        col = units[c]
        if type(col).__name__ == "VectorData" and np.ndim(col.data) == 1 and c not in table:
            v = np.asarray(col.data[:])
            table[c] = v.astype(str) if v.dtype.kind in "SO" else v
    return table


def _areas(units, area: str | None) -> np.ndarray | str:
    if area is not None:
        return np.asarray(units[area].data[:]).astype(str) if area in units.colnames else area
    for col in _AREA_COLUMNS:
        if col in units.colnames:
            return np.asarray(units[col].data[:]).astype(str)
    region = getattr(units, "electrodes", None)
    if region is not None and "location" in region.table.colnames:
        ends = np.asarray(units.electrodes_index.data[:], dtype=np.int64)
        first = np.asarray(region.data[:])[np.concatenate([[0], ends[:-1]])]
        return np.asarray(region.table["location"].data[:]).astype(str)[first]
    return "unknown"


def _count(times: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Spikes with ``lo <= t < hi`` for each window, ``(n_windows,)``."""
    t = np.sort(np.asarray(times, dtype=np.float64))
    return np.searchsorted(t, hi, "left") - np.searchsorted(t, lo, "left")


def _observed(intervals: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Windows that lie inside one of a unit's observation intervals ``(k, 2)``."""
    iv = np.asarray(intervals, dtype=np.float64).reshape(-1, 2)
    iv = iv[np.argsort(iv[:, 0])]
    k = np.searchsorted(iv[:, 0], lo, "right") - 1
    return (k >= 0) & (iv[np.maximum(k, 0), 1] >= hi)


def read_nwb(
    path: str | Path,
    *,
    window: str | tuple[float, float],
    table: str | None = None,
    id_column: str | None = None,
    subject: str | None = None,
    area: str | None = None,
    allow_outside: bool = False,
) -> NeuralData:
    """Spike counts ``(n_stimuli, n_units, n_repeats)`` float64 from an NWB file.

    Parameters
    ----------
    window : counting window after each presentation's ``start_time``, ``"50:250ms"`` /
        ``"0.05:0.25s"`` (:func:`parse_window`); spikes at ``onset + start <= t < onset + stop``.
    table : the presentation table under ``intervals/`` (``"trials"``, ``"epochs"``, a
        ``TimeIntervals`` name); default: the only one with an id column.
    id_column : its stimulus id column; default the first of :data:`ID_COLUMNS` it has. Rows
        with a missing id (NaN, empty) are left out with a warning.
    subject : default ``nwbfile.subject.subject_id``, else the file name.
    area : a units-table column or one name for all units; default the units' ``area``,
        ``brain_area`` or ``location`` column, else their first electrode's ``location``, else
        ``"unknown"``.
    allow_outside : count in windows that start before onset or end after ``stop_time``
        (baseline, offset responses); by default such a window is a :class:`DataError`.

    Stimuli are ordered by first presentation, repeats by time, NaN-padded to the most
    presented stimulus. A unit with ``obs_intervals`` has NaN where a window is not observed.
    Unit ids are ``"<subject>-<units table id>">``; the table's scalar columns are kept.
    """
    try:
        from pynwb import NWBHDF5IO
    except ImportError as exc:
        raise ConfigError("reading NWB needs pynwb: pip install 'neuroalign[nwb]'.") from exc
    path = Path(path)
    start, stop = parse_window(window)
    if not path.is_file():
        raise DataError(f"no such NWB file: {path}")
    with NWBHDF5IO(str(path), "r", load_namespaces=True) as io:
        nwbfile = io.read()
        units = _units_table(nwbfile, path)
        name, column, t = _presentation_table(nwbfile, path, table, id_column)
        onsets, ids, left_out = _presentations(t, name, column, path, (start, stop), allow_outside)
        counts = _counts(units, onsets + start, onsets + stop)
        subj = subject or getattr(nwbfile.subject, "subject_id", None) or path.stem
        unit_table = _unit_table(units, subj, area)
    stimuli = list(dict.fromkeys(ids))
    code = pd.Index(stimuli).get_indexer(ids)
    rank = pd.Series(code).groupby(code).cumcount().to_numpy()
    responses = np.full((len(stimuli), counts.shape[1], rank.max() + 1), np.nan)
    responses[code, :, rank] = counts
    meta = {
        "source_file": path.name,
        "response_unit": f"spike count in [{start * 1e3:g}, {stop * 1e3:g}) ms after onset",
        "window_s": [start, stop],
        "presentation_table": name,
        "id_column": column,
        "n_presentations": len(onsets),
        "left_out_presentations": left_out,
    }
    try:
        return NeuralData(responses, stimuli, unit_table, meta)
    except DataError as exc:
        raise DataError(f"{path}: {exc}") from exc
