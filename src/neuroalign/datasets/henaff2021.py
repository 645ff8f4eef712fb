"""Hénaff, Bai et al. 2021: macaque V1 spike counts to movie-frame sequences, 9 recordings, 4 monkeys.

The files are MATLAB v7.3 (HDF5); h5py sees MATLAB arrays with their axes reversed, so
``sortedResponses`` reads as ``(repeats, units, 11 frames, 10 movies, 3 categories, 2 scales)``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from neuroalign._core.errors import ConfigError, DataError
from neuroalign.data.neural_data import NeuralData
from neuroalign.data.stimuli import StimulusSet
from neuroalign.datasets.base import Dataset, DatasetInfo
from neuroalign.datasets.checksums import verify_files

__all__ = ["INFO", "RECORDINGS", "CATEGORIES", "SCALES", "load"]

CATEGORIES = ("natural", "synthetic", "contrast")
SCALES = ("zoom1x", "zoom2x")
N_MOVIES, N_FRAMES = 10, 11

_FILES = {
    "V1_responses/ay2_u003_image_sequences.mat": (
        "46563979388f70c8f04fa066c05bfe63a51c32467b85fafef29826c4f2de4c53"
    ),
    "V1_responses/ay2_u007_image_sequences.mat": (
        "a5343150e49f7c7a3bf0e49e86c6ee4563e88311c4787603d2041b0c1fc72d07"
    ),
    "V1_responses/ay3_u001_image_sequences.mat": (
        "d9a1f61476fd2f5e898b8ef150b7890bc817be0a2c4831fda796fc5ab6020e23"
    ),
    "V1_responses/ay3_u002_image_sequences.mat": (
        "3d4a9ae0aa4756b726594bf83de3b049062fd0d6e63335f1bb6ea685b51a6a9e"
    ),
    "V1_responses/ay4_u001_image_sequences.mat": (
        "712bc324c25a9111d3d6888b029117c3e9f8ee4ec6547791091c63e54ca1cc25"
    ),
    "V1_responses/ay4_u005_image_sequences.mat": (
        "2022b01fd10bc9285502b96384a17b7fae76fb0d3ac679d0fa027f1df8056a66"
    ),
    "V1_responses/ay4_u006_image_sequences.mat": (
        "8ce71d622a7f54995c87283e71c3d21ccc3df3a2cea50dc4a51f0c5f8be8a7d2"
    ),
    "V1_responses/ay5_u002_image_sequences.mat": (
        "c1b8a03e624a1e79b6c8c77fb3f9d83cd6fc9ee364f5ed334883bbc81c38ca0f"
    ),
    "V1_responses/ay5_u005_image_sequences.mat": (
        "6186b6ec035d35238e62c4bc0ace41ea8da0666911b23fd748a60dea0b334bfd"
    ),
}
RECORDINGS = tuple(Path(f).name.removesuffix("_image_sequences.mat") for f in _FILES)

INFO = DatasetInfo(
    name="henaff2021_v1",
    title="Hénaff, Bai et al. 2021: macaque V1 spike counts to movie-frame sequences",
    description=(
        "Anaesthetised macaque V1, 9 penetrations in 4 monkeys, 360 sorted units, 200 ms spike "
        "counts to static frames of 10 movies (11 frames; natural, synthetic and contrast "
        "sequences at 2 zooms). All recordings saw the same 484 conditions, 50 (60 in ay4_u005) "
        "presentations each; per (condition, unit) 24-60 valid repeats (NaN-padded). The synthetic "
        "sequences start and end on the natural frames and contrast sequences end on it: those 44 "
        "cells show the same images and hold the same trials as the natural cells, so by default "
        "they are merged (440 unique stimuli; conditions='all' keeps all 484). "
        "The stimulus images are NOT available: stimuli carry ids and metadata only."
    ),
    citation=(
        "Hénaff, O. J., Bai, Y., Charlton, J. A., Nauhaus, I., Simoncelli, E. P., & Goris, R. L. T. "
        "(2021). Primary visual cortex straightens natural video trajectories. Nature "
        "Communications, 12, 5982. https://doi.org/10.1038/s41467-021-25939-z"
    ),
    license="none stated: cite the paper; ask the authors before redistributing",
    folder="henaff2021_v1_sequences",
    files=_FILES,
    has_images=False,
    subjects="4 macaques (ay2, ay3, ay4, ay5); 9 recordings: " + ", ".join(RECORDINGS),
    areas=("V1",),
    how_to_obtain=(
        "Get V1_responses/*_image_sequences.mat from github.com/wongyoJung/Primary-visual-cortex-"
        "straightens-natural-video-trajectories (commit 2e5e0603; original release on OSF) into "
        "<data_dir>/henaff2021_v1_sequences/."
    ),
)


def _text(f, ref_or_ds) -> str:
    """A MATLAB char array (uint16 codes) as str; follows an HDF5 object reference."""
    ds = f[ref_or_ds] if not hasattr(ref_or_ds, "shape") else ref_or_ds
    return "".join(map(chr, np.asarray(ds).ravel()))


def _conditions(f, titles: tuple[str, ...]) -> pd.DataFrame:
    """All 660 cells in (category, scale, movie, frame) order with the experiment's image ids.

    A cell without its own image file (synthetic frames 1 and 11, contrast frame 11) shows the
    natural frame of the same movie, scale and frame number.
    """
    st = f["naturalStruct/stimulusStruct"]
    own: dict[tuple[str, str, int, int], int] = {}
    for scale in SCALES:
        for cat in st[scale]:
            for m, title in enumerate(titles, start=1):
                key = title.replace("-", "")
                if key not in st[scale][cat]:
                    continue
                entry = st[scale][cat][key]
                paths = [_text(f, r) for r in entry["file_paths"][()].ravel()]
                ids = entry["stimulus_id"][()].ravel()
                for p, i in zip(paths, ids, strict=True):
                    frame = int(re.search(r"(\d+)\.\w+$", p).group(1))
                    own[(cat, scale, m, frame)] = int(i)
    rows = []
    for cat in CATEGORIES:
        for scale in SCALES:
            for m, title in enumerate(titles, start=1):
                for fr in range(1, N_FRAMES + 1):
                    image = own.get((cat, scale, m, fr), own.get(("natural", scale, m, fr), -1))
                    prefix = title.split("-")[0]
                    rows.append(
                        (f"{cat}-{scale}-{prefix}-f{fr:02d}", cat, scale, m, title, fr, image)
                    )
    cols = ["stimulus_id", "category", "scale", "movie", "movie_title", "frame", "image_id"]
    return pd.DataFrame(rows, columns=cols)


def _read(path: Path, with_conditions: bool):
    """Responses ``(660 cells, units, repeat slots)`` in (category, scale, movie, frame) order,
    unit columns, recording facts, movie titles and (if asked, ~0.4 s) the condition table."""
    import h5py

    with h5py.File(path, "r") as f:
        g = f["naturalStruct"]
        r = g["sortedResponses"][()]
        n_rep, n_units = r.shape[:2]
        if r.shape[2:] != (N_FRAMES, N_MOVIES, len(CATEGORIES), len(SCALES)):
            raise DataError(f"{path}: sortedResponses has unexpected shape {r.shape}.")
        # (reps, units, frames, movies, cats, scales) -> (cats, scales, movies, frames, units, reps)
        r = r.transpose(4, 5, 3, 2, 1, 0).reshape(-1, n_units, n_rep)
        unit = {
            "cluster": g["cluster_list"][()].ravel().astype(int),
            "cluster_group": g["cluster_group"][()].ravel().astype(int),
            "mean_blank_rate": g["mean_blank_rates"][()].ravel().astype(float),
        }
        facts = {
            "subject": _text(f, g["monkey_ID"]),
            "area": _text(f, g["cortical_area"]),
            "penetration": _text(f, g["penetration_ID"]),
            "integration_period_s": float(g["integrationPeriod"][()].ravel()[0]),
            "response_latency_s": float(g["response_latency"][()].ravel()[0]),
        }
        titles = tuple(_text(f, ref) for ref in g["movie_titles"][()].ravel())
        conditions = _conditions(f, titles) if with_conditions else None
    return r, unit, facts, titles, conditions


def load(
    root: Path, *, recordings: Iterable[str] | None = None, conditions: str = "unique"
) -> Dataset:
    """Load ``recordings`` (default all 9) from ``root`` = ``<data_dir>/henaff2021_v1_sequences``.

    ``conditions="unique"`` (default) keeps the 440 distinct images of the 484 conditions shown in
    every recording; ``"all"`` keeps all 484 cells, 44 of which duplicate natural cells.
    Recordings: responses ``(n_stimuli, n_units, 50 or 60 repeat slots)``, NaN = missing repeat.
    """
    if conditions not in ("unique", "all"):
        raise ConfigError(f"conditions must be 'unique' or 'all', got {conditions!r}.")
    chosen = list(RECORDINGS) if recordings is None else [str(r) for r in recordings]
    unknown = sorted(set(chosen) - set(RECORDINGS))
    if unknown or not chosen:
        raise ConfigError(f"unknown recording(s) {unknown}; available: {list(RECORDINGS)}.")
    files = {rec: f"V1_responses/{rec}_image_sequences.mat" for rec in chosen}
    digests = verify_files(INFO, root, files.values())
    parsed = {rec: _read(root / files[rec], rec == chosen[0]) for rec in chosen}
    cond = parsed[chosen[0]][4]
    for rec in chosen[1:]:
        if parsed[rec][3] != parsed[chosen[0]][3]:
            raise DataError(f"{files[rec]} has other movie titles than {files[chosen[0]]}.")
    shown = np.logical_and.reduce([(~np.isnan(p[0])).any(axis=(1, 2)) for p in parsed.values()])
    table = cond[shown]
    if (table["image_id"] < 0).any():
        raise DataError(f"{files[chosen[0]]}: shown conditions without an image id.")
    seqs = table.groupby("image_id")["category"].agg(lambda c: ",".join(dict.fromkeys(c)))
    if conditions == "unique":
        table = table[~table["image_id"].duplicated()]
    keep = table.index.to_numpy()
    table = table.reset_index(drop=True)
    table["sequences"] = table["image_id"].map(seqs)
    ids = table.pop("stimulus_id").tolist()
    out = {}
    for rec, (r, unit, facts, _, _) in parsed.items():
        units = pd.DataFrame(
            {
                "unit_id": [f"{rec}-c{c:03d}" for c in unit["cluster"]],
                "subject": facts["subject"],
                "area": facts["area"],
                "recording": rec,
                **unit,
            }
        )
        meta = {
            "dataset": INFO.name,
            "recording": rec,
            **facts,
            "response_unit": f"spike count in a {facts['integration_period_s'] * 1000:.0f} ms window",
            "conditions": conditions,
            "source_file": files[rec],
            "source_sha256": digests[files[rec]],
            "images": "not available (stim_matrix.mat absent)",
        }
        out[rec] = NeuralData(np.ascontiguousarray(r[keep]), ids, units, meta)
    stimuli = {"shared": StimulusSet(ids, metadata=table, name=INFO.name)}
    return Dataset(INFO, out, stimuli, checksums=digests)
