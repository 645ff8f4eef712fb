"""Read a researcher's own response files into :class:`~neuroalign.data.NeuralData`.

:func:`read_responses` takes ``.npy`` / ``.npz`` arrays, HDF5 (``.h5``, ``.hdf5``: a file written by
:meth:`NeuralData.save`, a netCDF-4 file, or plain datasets), netCDF (``.nc``, through xarray) and
NWB (``.nwb``, :func:`neuroalign.data.nwb.read_nwb`). :func:`read_stimulus_ids` reads the ids of the
response rows from a CSV; :func:`merge_rows` combines rows that belong to the same stimulus.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from neuroalign._core.errors import ConfigError, DataError
from neuroalign.data.neural_data import NeuralData

__all__ = ["ROLES", "read_responses", "read_stimulus_ids", "merge_rows"]

#: the names of the axes of a response array
ROLES = ("stimulus", "unit", "repeat")
_ARRAY = (".npy", ".npz")
_HDF5 = (".h5", ".hdf5", ".hdf", ".he5")
_NETCDF = (".nc", ".nc4", ".cdf", ".netcdf")


def read_stimulus_ids(path: str | Path) -> list[str]:
    """Stimulus ids from a CSV: its column ``stimulus_id``, or one id per row of a one-column file.

    Ids are kept as written (``"007"`` stays ``"007"``, ``"NA"`` is an id); blank rows are errors.
    """
    path = Path(path)
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, header=None)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"cannot read stimulus ids from {path}: {exc}") from exc
    header = [c.strip() for c in table.iloc[0]]
    if "stimulus_id" in header:
        ids = table.iloc[1:, header.index("stimulus_id")]
    elif table.shape[1] == 1:
        ids = table.iloc[:, 0]
    else:
        raise DataError(
            f"{path} has {table.shape[1]} columns ({', '.join(header)}) and none is named "
            "stimulus_id; name the id column stimulus_id or give a one-column file."
        )
    ids = [s.strip() for s in ids]
    blank = [i for i, s in enumerate(ids) if not s]
    if not ids:
        raise DataError(f"{path} holds no stimulus ids.")
    if blank:
        raise DataError(
            f"{path}: {len(blank)} blank stimulus id(s), first on data row {blank[0] + 1}; "
            "every response row needs an id."
        )
    return ids


def merge_rows(
    responses, row_ids: Sequence[str], *, pool: bool | None = None
) -> tuple[list[str], np.ndarray]:
    """Combine rows of ``responses`` that share a stimulus id.

    ``responses``: ``(n_rows, n_units[, n_repeats])``; ``row_ids``: ``n_rows`` ids, repeated
    where rows belong to one stimulus (trials of it, or files holding the same image).
    Returns the ids in order of first appearance and the combined array:

    - ``pool=True`` (default for 3-D): every row's repeats become repeats of its stimulus,
      ``(n_stimuli, n_units, max_rows_per_stimulus × n_repeats)``, NaN-padded. A 2-D row is one
      presentation.
    - ``pool=False`` (default for 2-D, repeat-averaged rows): the rows' NaN-ignoring mean,
      ``(n_stimuli, n_units)``, each row weighted equally.
    """
    r = np.asarray(responses)
    if r.dtype.kind not in "biuf" or r.ndim not in (2, 3):
        raise DataError(
            f"responses must be a numeric (n_rows, n_units[, n_repeats]) array, got {r.dtype} "
            f"{r.shape}."
        )
    r = r if r.dtype.kind == "f" else r.astype(np.float64)
    ids = [str(i) for i in row_ids]
    if len(ids) != r.shape[0]:
        raise DataError(f"{len(ids)} row ids for {r.shape[0]} response rows; give one per row.")
    unique = list(dict.fromkeys(ids))
    codes = pd.Index(unique).get_indexer(ids)
    if pool is None:
        pool = r.ndim == 3
    if not pool:
        if r.ndim != 2:
            raise ConfigError("pool=False averages repeat-averaged (n_rows, n_units) rows only.")
        valid = ~np.isnan(r)
        sums = np.zeros((len(unique), r.shape[1]), dtype=r.dtype)
        counts = np.zeros((len(unique), r.shape[1]), dtype=np.int64)
        np.add.at(sums, codes, np.where(valid, r, 0))
        np.add.at(counts, codes, valid)
        out = np.full_like(sums, np.nan)
        np.divide(sums, counts, out=out, where=counts > 0)
        return unique, out
    r3 = r[:, :, None] if r.ndim == 2 else r
    rank = pd.Series(codes).groupby(codes).cumcount().to_numpy()
    n_rep = r3.shape[2]
    out = np.full((len(unique), r3.shape[1], (rank.max() + 1) * n_rep), np.nan, dtype=r3.dtype)
    for k in range(rank.max() + 1):
        rows = np.nonzero(rank == k)[0]
        out[codes[rows], :, k * n_rep : (k + 1) * n_rep] = r3[rows]
    return unique, out


def _roles(ndim: int, axes, repeats_axis: int | None) -> tuple[str, ...]:
    """Role of each array axis (``"stimulus"``, ``"unit"``, ``"repeat"``), validated."""
    if axes is not None and repeats_axis is not None:
        raise ConfigError("give axes or repeats_axis, not both.")
    if axes is not None:
        roles = tuple(str(a).strip() for a in (axes.split(",") if isinstance(axes, str) else axes))
    elif repeats_axis is not None:
        if ndim != 3 or not -3 <= repeats_axis < 3:
            raise ConfigError(
                f"repeats_axis={repeats_axis} needs a 3-D array (axes 0, 1, 2); this one is "
                f"{ndim}-D."
            )
        roles = ["stimulus", "unit"]
        roles.insert(repeats_axis % 3, "repeat")
        roles = tuple(roles)
    else:
        roles = ROLES[:ndim]
    if len(roles) != ndim or sorted(roles) != sorted(ROLES[: len(roles)]) or ndim not in (2, 3):
        raise ConfigError(
            f"axes {roles} do not describe a {ndim}-D response array; name each axis once: "
            "stimulus and unit, and repeat for a 3-D array (e.g. axes='unit,stimulus,repeat')."
        )
    return roles


def _canonical(array: np.ndarray, roles: Sequence[str], where: str) -> np.ndarray:
    """``array`` with its axes in the order stimulus, unit[, repeat]."""
    if array.dtype.kind not in "biuf":
        raise DataError(f"{where} holds {array.dtype} values; responses must be numeric.")
    return np.moveaxis(array, [roles.index(r) for r in ROLES if r in roles], range(len(roles)))


def _read_array(path: Path, variable: str | None) -> np.ndarray:
    try:
        loaded = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from exc
    if isinstance(loaded, np.ndarray):
        return loaded
    with loaded:
        names = list(loaded.files)
        name = variable or (names[0] if len(names) == 1 else "responses")
        if name not in names:
            raise ConfigError(f"{path} holds arrays {names}; choose one with variable=NAME.")
        return loaded[name]


def _hdf5_kind(path: Path) -> str | None:
    """``"neuroalign"`` (written by NeuralData.save), ``"netcdf"`` (netCDF-4: has dimension scales
    or netCDF properties), ``"plain"`` HDF5, or None for a file that is not HDF5."""
    import h5py

    if not h5py.is_hdf5(path):  # looks past a user block (NeuralData.save writes 512 bytes)
        return None
    with h5py.File(path, "r") as f:
        if str(f.attrs.get("format", "")).startswith("neuroalign.NeuralData"):
            return "neuroalign"
        if "_NCProperties" in f.attrs or any(
            "DIMENSION_LIST" in obj.attrs or obj.attrs.get("CLASS") == b"DIMENSION_SCALE"
            for obj in f.values()
        ):
            return "netcdf"
    return "plain"


def _read_hdf5(path: Path, variable: str | None):
    """Plain HDF5: ``(array, stimulus ids or None, unit columns)``. Optional string datasets
    ``stimulus_ids`` and ``unit_ids`` name the rows and units."""
    import h5py

    with h5py.File(path, "r") as f:
        arrays = [k for k, v in f.items() if isinstance(v, h5py.Dataset) and v.ndim in (2, 3)]
        name = variable or (arrays[0] if len(arrays) == 1 else "responses")
        if name not in f:
            raise ConfigError(
                f"{path} holds datasets {sorted(f)}; choose the responses with variable=NAME."
            )

        def strings(key):
            if key not in f:
                return None
            return [v.decode() if isinstance(v, bytes) else str(v) for v in f[key][()]]

        unit_ids = strings("unit_ids")
        return (
            f[name][()],
            strings("stimulus_ids"),
            {} if unit_ids is None else {"unit_id": unit_ids},
        )


def _read_xarray(path: Path, variable: str | None, axes, repeats_axis: int | None):
    """netCDF through xarray: ``(array, roles, stimulus ids or None, unit columns, metadata)``."""
    import xarray as xr

    try:
        with xr.open_dataset(path) as opened:
            ds = opened.load()
    except ValueError as exc:
        raise ConfigError(
            f"cannot open {path} with xarray: {exc}. netCDF-4 files need h5netcdf: "
            "pip install 'neuroalign[netcdf]'."
        ) from exc
    names = [k for k, v in ds.data_vars.items() if v.ndim in (2, 3)]
    name = variable or (names[0] if len(names) == 1 else "responses")
    if name not in ds.data_vars:
        raise ConfigError(f"{path} holds variables {names}; choose one with variable=NAME.")
    da = ds[name]
    dims = list(da.dims)
    if isinstance(axes, Mapping):
        unknown = sorted(set(axes) - set(dims))
        if unknown:
            raise ConfigError(f"axes names {unknown}, but {name} has dims {dims}.")
        axes = [axes.get(d, d) for d in dims]
    if axes is None and repeats_axis is None:
        axes = dims  # dims named stimulus, unit[, repeat]
    roles = _roles(da.ndim, axes, repeats_axis)
    stim_dim, unit_dim = dims[roles.index("stimulus")], dims[roles.index("unit")]
    ids = [str(s) for s in da[stim_dim].values] if stim_dim in da.coords else None
    units = {}
    if unit_dim in da.coords:
        units["unit_id"] = [str(u) for u in da[unit_dim].values]
    for cname, c in da.coords.items():
        if c.dims == (unit_dim,) and cname != unit_dim:
            units[cname] = c.values
    meta = json.loads(da.attrs.get("neuroalign_metadata", "{}"))
    return da.values, roles, ids, units, meta


def _unit_table(n, columns, units, subject, area, default_subject) -> pd.DataFrame:
    table = pd.DataFrame({k: list(v) for k, v in columns.items()}, index=range(n))
    if units is not None:
        extra = units if isinstance(units, pd.DataFrame) else pd.read_csv(units)
        if len(extra) != n:
            raise DataError(
                f"the unit table has {len(extra)} rows for {n} units; give one per unit."
            )
        for col in extra.columns:
            table[col] = extra[col].to_numpy()
    if subject is not None or "subject" not in table:
        table["subject"] = subject if subject is not None else default_subject
    if area is not None or "area" not in table:
        table["area"] = area if area is not None else "unknown"
    if "unit_id" not in table:
        subj = table["subject"].astype(str)
        table.insert(0, "unit_id", [f"{s}-u{j:0{len(str(n - 1))}d}" for j, s in enumerate(subj)])
    return table


def _row_ids(stimulus_ids, file_ids, n_rows: int, where: str) -> tuple[list[str], bool]:
    """Ids of the response rows and whether rows of one image file-duplicate are to be merged."""
    if stimulus_ids is None:
        return (file_ids or [str(i) for i in range(n_rows)]), False
    source = getattr(stimulus_ids, "source_ids", None)
    if source is not None:  # a StimulusSet: one row per stimulus, or one per image file
        if n_rows == len(source):
            return [str(s) for s in source], len(source) != len(stimulus_ids)
        if n_rows == len(stimulus_ids):
            return [str(s) for s in stimulus_ids.ids], False
        raise DataError(
            f"{where} has {n_rows} stimulus rows but the stimulus set {stimulus_ids.name!r} has "
            f"{len(stimulus_ids)} stimuli ({len(source)} image files); the files do not belong "
            "together, or give the row ids as a CSV."
        )
    ids = (
        read_stimulus_ids(stimulus_ids)
        if isinstance(stimulus_ids, str | Path)
        else [str(s) for s in stimulus_ids]
    )
    if len(ids) != n_rows:
        csv = isinstance(stimulus_ids, str | Path)
        raise DataError(
            f"{len(ids)} stimulus ids for the {n_rows} stimulus rows of {where}; give one id per "
            "row, in row order"
            + (
                " (a one-column CSV has no header row unless it is named stimulus_id)."
                if csv
                else "."
            )
        )
    return ids, False


def read_responses(
    path: str | Path,
    *,
    stimulus_ids=None,
    axes: str | Sequence[str] | Mapping[str, str] | None = None,
    repeats_axis: int | None = None,
    trials: bool = False,
    units: pd.DataFrame | str | Path | None = None,
    subject: str | None = None,
    area: str | None = None,
    variable: str | None = None,
    **nwb,
) -> NeuralData:
    """A response file as :class:`NeuralData` ``(n_stimuli, n_units, n_repeats)``.

    Parameters
    ----------
    path : ``.npy``/``.npz`` array, ``.h5``/``.hdf5`` (NeuralData file, netCDF-4 or plain HDF5),
        ``.nc`` (netCDF via xarray) or ``.nwb`` (keyword arguments go to
        :func:`~neuroalign.data.nwb.read_nwb`, e.g. ``window="50:250ms"``).
    stimulus_ids : ids of the stimulus rows: a sequence, a CSV (:func:`read_stimulus_ids`), or a
        :class:`StimulusSet` whose images are the rows in its order (one row per stimulus, or one
        per image file when files repeating an image were merged: those rows are combined by
        :func:`merge_rows`). Default: ids stored in the file, else the row numbers ``"0"``, ``"1"``…
        (which match no image: give ids to score against a model).
    axes : the role of each array axis, e.g. ``"unit,stimulus,repeat"`` (for netCDF, a mapping
        dim name → role also works). Default ``stimulus, unit[, repeat]``; netCDF dims named so.
    repeats_axis : shortcut for ``axes``: the axis that holds repeats; the others are stimulus,
        unit in that order. A 2-D array is repeat-averaged data: one repeat per stimulus.
    trials : each row is one presentation; rows that share a stimulus id become its repeats
        (2-D ``(n_trials, n_units)`` → ``(n_stimuli, n_units, max presentations)``, NaN-padded).
        Without it, repeated ids are an error.
    units : table (DataFrame or CSV) with one row per unit; its columns join the unit table.
    subject, area : for every unit (default: the file's unit coordinates, else the file name and
        ``"unknown"``). Unit ids default to ``"<subject>-u<index>"``.
    variable : the array inside an ``.npz``, HDF5 or netCDF file holding several.

    NaN marks a missing repeat. Values keep their float dtype (integers become float64).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no such response file: {path}")
    options = {"stimulus_ids": stimulus_ids, "axes": axes, "repeats_axis": repeats_axis}
    options.update(units=units, variable=variable, trials=trials or None)
    if path.suffix.lower() == ".nwb":
        from neuroalign.data.nwb import read_nwb

        _refuse(
            options,
            f"{path} is an NWB file: it names its stimuli in a presentation table "
            "(id_column=...) and its units in its units table, and counts repeats itself",
        )
        return read_nwb(path, subject=subject, area=area, **nwb)
    if nwb:
        raise ConfigError(f"{sorted(nwb)} apply to NWB files only, not to {path}.")
    loaded = _load(path, variable, axes, repeats_axis)
    if isinstance(loaded, NeuralData):
        _refuse(
            {**options, "subject": subject, "area": area},
            f"{path} is a NeuralData file "
            "with its own ids and unit table (read it plainly, then .select(...))",
        )
        return loaded
    array, roles, file_ids, columns, meta = loaded
    roles = roles or _roles(array.ndim, axes, repeats_axis)
    responses = _canonical(array, roles, str(path))
    ids, merge = _row_ids(stimulus_ids, file_ids, responses.shape[0], str(path))
    meta = {**meta, "source_file": path.name, "source_shape": list(array.shape)}
    meta["source_axes"] = list(roles)
    repeated = pd.Index(ids)[pd.Index(ids).duplicated()]
    if len(repeated) and not (trials or merge):
        raise DataError(
            f"stimulus ids of {path} repeat ({len(repeated)} rows, e.g. {repeated[0]!r}); if "
            "each row is one presentation, pass trials=True to make them repeats."
        )
    if trials or merge:
        ids, responses = merge_rows(responses, ids, pool=True if trials else None)
        meta["merged_rows"] = "trials pooled as repeats" if trials else "duplicate images combined"
    if responses.ndim == 2:
        meta.setdefault("repeats", "repeat-averaged (one value per stimulus and unit)")
    table = _unit_table(responses.shape[1], columns, units, subject, area, path.stem)
    try:
        return NeuralData(responses, ids, table, meta)
    except DataError as exc:
        raise DataError(f"{path}: {exc}") from exc


def _refuse(options: dict, why: str) -> None:
    given = [k for k, v in options.items() if v is not None]
    if given:
        raise ConfigError(f"{', '.join(given)} do(es) not apply: {why}.")


def _load(path: Path, variable: str | None, axes, repeats_axis: int | None):
    """A NeuralData file as is; else ``(array, roles or None, stimulus ids or None, unit
    columns, metadata)`` of the file's response array."""
    suffix = path.suffix.lower()
    if suffix in _ARRAY:
        return _read_array(path, variable), None, None, {}, {}
    if suffix not in _HDF5 + _NETCDF:
        raise DataError(
            f"unknown response file type {suffix!r} ({path}); use .npy, .npz, .h5, .nc or .nwb."
        )
    kind = _hdf5_kind(path)
    if kind == "neuroalign":
        return NeuralData.load(path)
    if kind == "plain":
        array, ids, columns = _read_hdf5(path, variable)
        return array, None, ids, columns, {}
    return _read_xarray(path, variable, axes, repeats_axis)
