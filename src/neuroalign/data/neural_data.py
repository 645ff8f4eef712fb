"""`NeuralData`: trial responses of a set of units to a set of stimuli, with a unit table."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from neuroalign._core.errors import ChecksumError, DataError
from neuroalign.data.splits import split_half_means

__all__ = ["NeuralData", "REQUIRED_UNIT_COLUMNS"]

REQUIRED_UNIT_COLUMNS = ("unit_id", "subject", "area")
_FORMAT = "neuroalign.NeuralData/1"
_USERBLOCK = 512  # bytes HDF5 leaves to the user at the start of the file
_PREFIX = f"{_FORMAT} sha256=".encode()
_HDF5 = b"\x89HDF\r\n\x1a\n"  # the HDF5 signature


class NeuralData:
    """Responses ``(n_stimuli, n_units, n_repeats)`` of units to stimuli; NaN marks a missing repeat.

    Parameters
    ----------
    responses : array ``(n_stimuli, n_units, n_repeats)`` or ``(n_stimuli, n_units)``
        Spike counts, rates or model activations. A 2-D array is one repeat per stimulus.
        float32 and float64 are kept; float16 becomes float32 (its 3 digits make correlations and
        EVs NaN); integers, booleans and wider floats become float64.
    stimulus_ids : sequence of str, length ``n_stimuli``
        Unique identifier of each stimulus (row order of ``responses``).
    units : DataFrame with ``n_units`` rows
        Must contain ``unit_id`` (unique), ``subject`` and ``area`` (kept as text); other columns
        are kept. Column names become text.
    metadata : dict
        JSON-serialisable facts (source, citation, units of measurement, ...).

    Construction raises :class:`~neuroalign._core.errors.DataError` for mismatched or empty shapes,
    non-numeric or infinite values, duplicate stimulus or unit ids, missing or duplicate unit
    columns, units with no valid response, and (stimulus, unit) cells with no valid repeat.
    """

    __slots__ = ("responses", "stimulus_ids", "units", "metadata")

    def __init__(
        self,
        responses,
        stimulus_ids: Sequence[str],
        units: pd.DataFrame,
        metadata: dict[str, Any] | None = None,
    ):
        try:
            r = np.asarray(responses)
        except (ValueError, TypeError):  # ragged nested lists: reported as not numeric below
            r = np.empty(0, dtype=object)
        if r.dtype.kind not in "biuf":
            raise DataError(
                f"responses must be numeric (one NaN-padded array), got dtype {r.dtype}; convert "
                "with np.asarray(x, dtype=float)."
            )
        if r.ndim == 2:
            r = r[:, :, None]
        if r.ndim != 3 or 0 in r.shape:
            raise DataError(
                f"responses must have shape (n_stimuli, n_units, n_repeats) > 0, got {r.shape}."
            )
        if r.dtype.kind != "f" or r.itemsize > 8:
            r = r.astype(np.float64)
        elif r.dtype == np.float16:  # too coarse for correlations and sums of squares
            r = r.astype(np.float32)
        if np.isinf(r).any():
            raise DataError(
                "responses contain infinite values; replace them (NaN marks a missing repeat)."
            )
        if isinstance(stimulus_ids, str | bytes) or not isinstance(stimulus_ids, Iterable):
            raise DataError(f"stimulus_ids must be a sequence of ids, got {stimulus_ids!r:.40}.")
        ids = np.asarray([str(s) for s in stimulus_ids], dtype=object)
        if ids.shape != (r.shape[0],):
            raise DataError(
                f"stimulus_ids has {ids.size} entries but responses has {r.shape[0]} stimuli (axis 0); "
                "give one id per response row."
            )
        dup = pd.Index(ids).duplicated()
        if dup.any():
            raise DataError(
                f"duplicate stimulus ids: {sorted(set(ids[dup]))[:5]}; every stimulus needs a unique id "
                "(average repeats of the same image into one stimulus or rename them)."
            )
        if not isinstance(units, pd.DataFrame):
            raise DataError("units must be a pandas DataFrame with columns unit_id, subject, area.")
        units = units.reset_index(drop=True).copy()
        units.columns = [str(c) for c in units.columns]
        if units.columns.duplicated().any():
            twice = sorted(set(units.columns[units.columns.duplicated()]))
            raise DataError(
                f"unit table has duplicate column names {twice} (as text); rename them."
            )
        missing = [c for c in REQUIRED_UNIT_COLUMNS if c not in units.columns]
        if missing:
            raise DataError(
                f"unit table lacks column(s) {missing}; it needs {list(REQUIRED_UNIT_COLUMNS)}."
            )
        if len(units) != r.shape[1]:
            raise DataError(
                f"unit table has {len(units)} rows but responses has {r.shape[1]} units (axis 1); "
                "give one row per unit."
            )
        for col in REQUIRED_UNIT_COLUMNS:
            units[col] = units[col].astype(str)
        dup_u = units["unit_id"].duplicated()
        if dup_u.any():
            raise DataError(
                f"duplicate unit ids: {units['unit_id'][dup_u].tolist()[:5]}; unit_id must be unique "
                "(prefix it with the subject or session)."
            )
        valid = ~np.isnan(r)
        n_valid = valid.sum(axis=2)
        dead = np.nonzero(n_valid.sum(axis=0) == 0)[0]
        if dead.size:
            raise DataError(
                f"unit(s) {units['unit_id'].iloc[dead].tolist()[:5]} have no valid response (all NaN); "
                "drop them with .select(units=[...]) or before construction."
            )
        empty = np.argwhere(n_valid == 0)
        if empty.size:
            s, u = empty[0]
            raise DataError(
                f"{len(empty)} (stimulus, unit) cell(s) have no valid repeat, first stimulus "
                f"{ids[s]!r} of unit {units['unit_id'].iloc[u]!r}; drop those stimuli or units."
            )
        if metadata is not None and not isinstance(metadata, Mapping):
            raise DataError(f"metadata must be a dict, got {type(metadata).__name__}.")
        meta = dict(metadata or {})
        try:
            json.dumps(meta, allow_nan=False)  # strict JSON: NaN is not equal to itself
        except (TypeError, ValueError) as exc:
            raise DataError(f"metadata must be strict JSON (no NaN, no objects): {exc}") from None
        self.responses = r
        self.stimulus_ids = ids
        self.units = units
        self.metadata = meta

    # ------------------------------------------------------------------ shape
    @property
    def n_stimuli(self) -> int:
        return self.responses.shape[0]

    @property
    def n_units(self) -> int:
        return self.responses.shape[1]

    @property
    def n_repeats(self) -> int:
        return self.responses.shape[2]

    @property
    def subjects(self) -> list[str]:
        """Subjects in order of first appearance."""
        return list(dict.fromkeys(self.units["subject"]))

    @property
    def areas(self) -> list[str]:
        """Areas in order of first appearance."""
        return list(dict.fromkeys(self.units["area"]))

    @property
    def unit_ids(self) -> np.ndarray:
        return self.units["unit_id"].to_numpy()

    def n_valid_repeats(self) -> np.ndarray:
        """Valid repeats per cell, ``(n_stimuli, n_units)`` int."""
        return (~np.isnan(self.responses)).sum(axis=2)

    def __repr__(self) -> str:
        return (
            f"NeuralData({self.n_stimuli} stimuli × {self.n_units} units × {self.n_repeats} repeats; "
            f"subjects={self.subjects}, areas={self.areas})"
        )

    def __eq__(self, other) -> bool:
        if not isinstance(other, NeuralData):
            return NotImplemented
        return (
            self.responses.shape == other.responses.shape
            and self.responses.dtype == other.responses.dtype
            and np.array_equal(self.responses, other.responses, equal_nan=True)
            and np.array_equal(self.stimulus_ids, other.stimulus_ids)
            and self.units.equals(other.units)
            and self.metadata == other.metadata
        )

    __hash__ = None  # type: ignore[assignment]

    # ------------------------------------------------------------ statistics
    def mean(self) -> np.ndarray:
        """Trial mean over valid repeats, ``(n_stimuli, n_units)``."""
        r = self.responses
        if not np.isnan(r).any():
            return r.mean(axis=2)
        return np.nanmean(r, axis=2)

    def split_halves(
        self, seed, *, shared_across_units: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Means of two seeded random halves of each cell's valid repeats, two ``(n_stimuli, n_units)``.

        See :func:`neuroalign.data.splits.split_half_masks`.
        """
        return split_half_means(self.responses, seed, shared_across_units=shared_across_units)

    # ------------------------------------------------------------- selection
    def _subset(self, stim_idx=None, unit_idx=None) -> NeuralData:
        r = self.responses
        ids = self.stimulus_ids
        units = self.units
        if stim_idx is not None:
            r = r[stim_idx]
            ids = ids[stim_idx]
        if unit_idx is not None:
            r = r[:, unit_idx]
            units = units.iloc[unit_idx]
        if r.shape[0] == 0 or r.shape[1] == 0:
            raise DataError(
                f"selection is empty ({r.shape[0]} stimuli, {r.shape[1]} units); check the names given."
            )
        # drop repeat slots that became all-NaN
        keep = ~np.isnan(r).all(axis=(0, 1))
        if not keep.all() and keep.any():
            last = int(np.nonzero(keep)[0][-1]) + 1
            r = r[:, :, :last]
        return NeuralData(np.ascontiguousarray(r), ids, units, self.metadata)

    def select(
        self,
        *,
        subject: str | Iterable[str] | None = None,
        area: str | Iterable[str] | None = None,
        units: Iterable[str] | None = None,
        stimuli: Iterable[str] | None = None,
    ) -> NeuralData:
        """Subset by subject(s), area(s), unit ids and/or stimulus ids (given order kept for ids)."""
        mask = np.ones(self.n_units, dtype=bool)
        for col, want in (("subject", subject), ("area", area)):
            if want is None:
                continue
            want = [want] if isinstance(want, str) else [str(w) for w in want]
            unknown = sorted(set(want) - set(self.units[col]))
            if unknown:
                raise DataError(
                    f"unknown {col}(s) {unknown}; available: {sorted(set(self.units[col]))}."
                )
            mask &= self.units[col].isin(want).to_numpy()
        unit_idx = np.nonzero(mask)[0]
        if units is not None:
            units = [str(u) for u in units]
            pos = pd.Index(self.units["unit_id"]).get_indexer(units)
            if (pos < 0).any():
                bad = [u for u, p in zip(units, pos, strict=True) if p < 0]
                raise DataError(f"unknown unit id(s) {bad[:5]}; see .units['unit_id'].")
            unit_idx = np.array([p for p in pos if mask[p]], dtype=int)
        stim_idx = None
        if stimuli is not None:
            stim_idx = self.stimulus_index(stimuli)
        return self._subset(stim_idx, unit_idx)

    def stimulus_index(self, stimuli: Iterable[str]) -> np.ndarray:
        """Row positions of the given stimulus ids; :class:`DataError` names unknown ids."""
        stimuli = [str(s) for s in stimuli]
        pos = pd.Index(self.stimulus_ids).get_indexer(stimuli)
        if (pos < 0).any():
            bad = [s for s, p in zip(stimuli, pos, strict=True) if p < 0]
            raise DataError(f"{len(bad)} unknown stimulus id(s), e.g. {bad[:3]}.")
        return pos

    def shared_stimuli(self, other: NeuralData) -> np.ndarray:
        """Stimulus ids present in both, in this dataset's order."""
        return self.stimulus_ids[np.isin(self.stimulus_ids, other.stimulus_ids)]

    def align(self, other: NeuralData) -> tuple[NeuralData, NeuralData]:
        """Both datasets restricted to their shared stimuli, in this dataset's order.

        Raises :class:`DataError` when they share no stimulus id.
        """
        shared = self.shared_stimuli(other)
        if shared.size == 0:
            raise DataError(
                "the two datasets share no stimulus id, so they cannot be compared; "
                f"e.g. {list(self.stimulus_ids[:2])} vs {list(other.stimulus_ids[:2])}. "
                "Stimulus ids must name the same images the same way in both."
            )
        return self.select(stimuli=shared), other.select(stimuli=shared)

    @classmethod
    def concat(cls, datasets: Sequence[NeuralData], *, align: bool = False) -> NeuralData:
        """Join datasets along units into one population (repeats NaN-padded to the longest).

        All must have the same stimulus ids (same set); with ``align=True`` they are first
        restricted to the stimuli they all share. Metadata: the entries every part agrees on, and
        each part's own under ``"parts"``.
        """
        datasets = list(datasets)
        if not datasets:
            raise DataError("concat needs at least one NeuralData.")
        ids = datasets[0].stimulus_ids
        common = set(ids)
        for d in datasets[1:]:
            common &= set(d.stimulus_ids)
        if not common:
            raise DataError("the datasets share no stimulus id; nothing to concatenate.")
        if not align and any(set(d.stimulus_ids) != set(ids) for d in datasets):
            raise DataError(
                "datasets have different stimulus sets; pass align=True to keep the "
                f"{len(common)} shared stimuli, or select the same stimuli first."
            )
        order = [s for s in ids if s in common]
        parts = [d.select(stimuli=order) if list(d.stimulus_ids) != order else d for d in datasets]
        n_rep = max(p.n_repeats for p in parts)
        dtype = np.result_type(*[p.responses.dtype for p in parts])
        blocks = []
        for p in parts:
            pad = np.full((p.n_stimuli, p.n_units, n_rep), np.nan, dtype=dtype)
            pad[:, :, : p.n_repeats] = p.responses
            blocks.append(pad)
        units = pd.concat([p.units for p in parts], ignore_index=True)
        meta = {
            k: v
            for k, v in parts[0].metadata.items()
            if k != "parts" and all(p.metadata.get(k) == v for p in parts[1:])
        }
        if len(parts) > 1:
            meta["parts"] = [p.metadata for p in parts]
        return cls(np.concatenate(blocks, axis=1), order, units, meta)

    # ----------------------------------------------------------------- files
    def save(self, path: str | Path) -> Path:
        """Write to an HDF5 file (readable by h5py, h5netcdf/NetCDF4 tools); atomic (temp + rename).

        Responses, NaN pattern, dtypes, the unit table (each column with its dtype) and metadata
        round-trip bit-exactly through :meth:`load`; the 512-byte HDF5 user block holds the SHA-256
        of the rest of the file. Text with NUL characters and unit-table values that are not
        numbers, text or JSON (e.g. timestamps) are a :class:`DataError` naming them."""
        import h5py

        path = Path(path)
        text = h5py.string_dtype()
        try:
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        except OSError as exc:
            raise DataError(f"cannot write {path} ({exc}); give a writable folder.") from None
        os.close(fd)
        what = "the metadata"
        try:
            with h5py.File(tmp, "w", userblock_size=_USERBLOCK) as f:
                f.attrs["format"] = _FORMAT
                f.attrs["metadata"] = json.dumps(self.metadata)
                f.create_dataset("responses", data=self.responses)
                what = "the stimulus ids"
                ids = self.stimulus_ids.astype(str).astype(object)
                f.create_dataset("stimulus_ids", data=ids, dtype=text)
                g = f.create_group("units")
                g.attrs["columns"] = json.dumps([str(c) for c in self.units.columns])
                for i, col in enumerate(self.units.columns):
                    s = self.units[col]
                    what = f"unit table column {col!r} (dtype {s.dtype})"
                    if s.dtype.kind in "biuf":
                        ds = g.create_dataset(f"c{i}", data=s.to_numpy())
                        ds.attrs["kind"] = "numeric"
                    elif s.map(lambda v: isinstance(v, str)).all():
                        ds = g.create_dataset(f"c{i}", data=s.to_numpy(object), dtype=text)
                        ds.attrs["kind"] = "str"
                    else:
                        values = np.array([json.dumps(v) for v in s], dtype=object)
                        ds = g.create_dataset(f"c{i}", data=values, dtype=text)
                        ds.attrs["kind"] = "json"
                    ds.attrs["pandas_dtype"] = str(s.dtype)
            with open(tmp, "r+b") as fh:
                fh.seek(_USERBLOCK)
                digest = hashlib.file_digest(fh, "sha256").hexdigest()
                os.pwrite(fh.fileno(), _userblock(digest), 0)
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except (TypeError, ValueError) as exc:
            raise DataError(
                f"cannot save {what} to {path} ({exc}); text must not hold NUL characters or "
                "unpaired surrogates, unit-table values must be numbers, text or JSON (convert "
                "others, e.g. units[col].astype(str))."
            ) from None
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return path

    @classmethod
    def load(cls, path: str | Path) -> NeuralData:
        """Read a file written by :meth:`save`, verifying its SHA-256 before parsing anything:
        :class:`ChecksumError` if it changed since it was saved, :class:`DataError` if it is not a
        NeuralData file; a file saved before checksums existed loads with a warning."""
        import h5py

        path = Path(path)
        if not path.is_file():
            raise DataError(f"no such file: {path}")
        with open(path, "rb") as fh:
            head = fh.read(_USERBLOCK)
            signature = fh.read(len(_HDF5))
            fh.seek(_USERBLOCK)
            actual = hashlib.file_digest(fh, "sha256").hexdigest()
        legacy = head.startswith(_HDF5)
        if not legacy and head != _userblock(actual):
            if not head.startswith(_PREFIX) and signature != _HDF5:
                raise DataError(f"{path} is not a neuroalign NeuralData file (not HDF5).")
            recorded = head[len(_PREFIX) : len(_PREFIX) + 64].decode(errors="replace")
            raise ChecksumError(
                f"{path} was changed, damaged or truncated since it was saved: SHA-256 of its "
                f"contents {actual}, recorded {recorded}. Restore an intact copy or re-create it "
                "with NeuralData.save."
            )
        try:
            with h5py.File(path, "r") as f:
                if f.attrs.get("format") != _FORMAT:
                    raise DataError(
                        f"{path} is not a neuroalign NeuralData file (format attribute missing)."
                    )
                if legacy:
                    warnings.warn(
                        f"{path} has no checksum (saved by an older neuroalign) and was loaded "
                        "unverified; save it again to add one.",
                        stacklevel=3,
                    )
                meta = json.loads(f.attrs["metadata"])
                responses = f["responses"][()]
                ids = [s.decode() if isinstance(s, bytes) else s for s in f["stimulus_ids"][()]]
                g = f["units"]
                columns = json.loads(g.attrs["columns"])
                data = {}
                for i, col in enumerate(columns):
                    ds = g[f"c{i}"]
                    kind, dtype, vals = ds.attrs["kind"], ds.attrs["pandas_dtype"], ds[()]
                    if kind != "numeric":
                        vals = [v.decode() if isinstance(v, bytes) else v for v in vals]
                    if kind == "json":
                        vals = [json.loads(v) for v in vals]  # in the recorded dtype
                    data[col] = pd.Series(vals, dtype=dtype)
        except DataError:
            raise
        except Exception as exc:  # noqa: BLE001 - an unverified (older) file in any state
            raise DataError(
                f"cannot read {path}: {exc}. The file is corrupt or truncated; re-create it."
            ) from None
        return cls(responses, ids, pd.DataFrame(data, columns=columns), meta)

    # ---------------------------------------------------------------- xarray
    def to_xarray(self):
        """``xarray.DataArray`` with dims ``(stimulus, unit, repeat)``; unit columns as unit coords."""
        import xarray as xr

        coords = {"stimulus": self.stimulus_ids.astype(str), "unit": self.units["unit_id"].to_numpy(),
                  "repeat": np.arange(self.n_repeats)}  # fmt: skip
        for col in self.units.columns:
            if col != "unit_id":
                coords[col] = ("unit", self.units[col].to_numpy())
        return xr.DataArray(
            self.responses,
            dims=("stimulus", "unit", "repeat"),
            coords=coords,
            name="responses",
            attrs={"neuroalign_metadata": json.dumps(self.metadata)},
        )

    @classmethod
    def from_xarray(cls, da) -> NeuralData:
        """Build from a DataArray with dims ``(stimulus, unit[, repeat])``; coordinates along
        ``unit`` become unit-table columns (``subject`` and ``area`` are required)."""
        if not hasattr(da, "coords"):
            raise DataError(f"from_xarray needs an xarray.DataArray, got {type(da).__name__}.")
        dims = tuple(da.dims)
        if dims[:2] != ("stimulus", "unit") or len(dims) not in (2, 3):
            raise DataError(
                f"DataArray dims must be ('stimulus', 'unit'[, 'repeat']), got {dims}; "
                "use da.transpose('stimulus', 'unit', 'repeat')."
            )
        table = {"unit_id": np.asarray(da["unit"].values).astype(str)}
        for name, c in da.coords.items():
            if c.dims == ("unit",) and name != "unit":
                table[name] = c.values
        meta = json.loads(da.attrs.get("neuroalign_metadata", "{}"))
        return cls(np.asarray(da.values), da["stimulus"].values, pd.DataFrame(table), meta)


def _userblock(digest: str) -> bytes:
    """The 512-byte HDF5 user block of a saved file: format, SHA-256 of the rest, NUL padding."""
    return (_PREFIX + digest.encode() + b"\n").ljust(_USERBLOCK, b"\0")
