"""Cowley et al. 2023: macaque V4 spike counts to 112×112 natural images, 7 sessions, 3 monkeys."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from neuroalign._core.errors import ConfigError, DataError
from neuroalign.data.files import merge_rows
from neuroalign.data.neural_data import NeuralData
from neuroalign.data.stimuli import StimulusSet, zip_content_ids
from neuroalign.datasets.base import Dataset, DatasetInfo
from neuroalign.datasets.checksums import verify_files

__all__ = ["INFO", "SESSIONS", "load"]

# session -> (monkey, nominal repeats per image from the original readme's table)
SESSIONS: dict[str, tuple[str, int]] = {
    "190923": ("WE", 14),
    "201025": ("PE", 12),
    "210225": ("PE", 6),
    "210305": ("PE", 22),
    "210322": ("PE", 4),
    "210325": ("PE", 8),
    "210621": ("RA", 16),
}

_FILES = {
    "images/images_190923.zip": "e99a4df1c7476bdc4d565ff4408bc421976ecc3a22c41af6bfd0cfbddb508c0c",
    "images/images_201025.zip": "3abb63679107665eab7220bdeaf7863832a1df943bf3d7792501f5082a55b2e8",
    "images/images_210225.zip": "79bfb1066949a7f7bbd3c632ab420c2230b966b80cade76593d8745aea49b7f6",
    "images/images_210305.zip": "9fab651e9c2d0b44091c2ea238c78d68fedf573cd7d4ae6b0545c5d84c121776",
    "images/images_210322.zip": "a72f357c73381fc6e496403820b38abe38c78b92f6d1c0b7153d6fe6d3986c32",
    "images/images_210325.zip": "992774eca3508a2ad01accb1a31f5f3e3d90248c49f4eec314f2a915a263e454",
    "images/images_210621.zip": "aff4d1639a04fb0d964ee09f8e76b07707e8435283c8e0ea47b0fd398ffcc233",
    "responses_raw/responses_210325.npy": (
        "4008dbbf31a47d9b1b8d8da609f4a7a3433c7071f0e45c611c220b217dd75b76"
    ),
    "responses_repeat_averaged/responses_190923.npy": (
        "741672d36541ce39930c8a3b5bd1cfd33c187aa47b1549c9c5569bc21aa97a28"
    ),
    "responses_repeat_averaged/responses_201025.npy": (
        "f729f3dc0d29aa38bd380c0da9e39aba916f9e2580949929b65d1714e7217a8a"
    ),
    "responses_repeat_averaged/responses_210225.npy": (
        "853f196247504fa2526b507f56ee5237711ed166f295f7cb23ec5441a7bf789b"
    ),
    "responses_repeat_averaged/responses_210305.npy": (
        "00dce8d39558bfc3f5dd55c6f678c05de1b63895d56193379fd7dfe41fc703f0"
    ),
    "responses_repeat_averaged/responses_210322.npy": (
        "1d643594633c7ad6d5281147bf1742275135507c8b283550e00e7028c65a5373"
    ),
    "responses_repeat_averaged/responses_210325.npy": (
        "555e67037182611969ab90da291dcc39601de4411f651a64ad60e90572cf59d3"
    ),
    "responses_repeat_averaged/responses_210621.npy": (
        "28e57e8eefe774b455087a62f039931b9547b2300908a0af85eee5baa49aa1ba"
    ),
}

INFO = DatasetInfo(
    name="cowley2023_v4",
    title="Cowley et al. 2023: macaque V4 spike counts to natural images (7 sessions)",
    description=(
        "Utah-array V4 spike counts (100 ms window) to 112x112 RGB JPEG images, 7 of the 48 "
        "sessions (those whose images are available). One recording per session; six sessions are "
        "repeat-averaged (1 repeat slot); session 210325 is per-repeat (6-10 valid repeats of 10 "
        "slots, NaN-padded). Stimulus ids come from image pixels, so images 600-1199 of 210322 and "
        "0-599 of 210325 share ids. No image set is shared across monkeys. Two images of 210621 "
        "appear twice; their responses are averaged into one stimulus (see metadata)."
    ),
    citation=(
        "Cowley, B. R., Stan, P. L., Pillow, J. W., & Smith, M. A. (2023). Compact deep neural "
        "network models of visual cortex. bioRxiv 2023.11.22.568315. "
        "https://doi.org/10.1101/2023.11.22.568315 (published as: Compact deep neural network "
        "models of the visual cortex. Nature, 2026. https://doi.org/10.1038/s41586-026-10150-1)"
    ),
    license="GPL-3.0 (repository licence; no separate data licence given)",
    folder="cowley2023_v4",
    files=_FILES,
    has_images=True,
    subjects="3 macaques (WE, PE, RA); sessions 190923 (WE), 201025/210225/210305/210322/210325 "
    "(PE), 210621 (RA)",
    areas=("V4",),
    how_to_obtain=(
        "Get data_V4_responses/{responses_raw,responses_repeat_averaged,images} from "
        "github.com/cowleygroup/V4_compact_models (commit f4552ad9) into <data_dir>/cowley2023_v4/."
    ),
)

# zip SHA-256 -> content ids of its images in sorted member order (decoding: ~0.5 s per 1200)
_CONTENT_IDS: dict[str, list[str]] = {}


def _session_files(session: str, per_repeat: bool) -> list[str]:
    """Image zip and response file of a session (the per-repeat file where there is one)."""
    raw = f"responses_raw/responses_{session}.npy"
    avg = f"responses_repeat_averaged/responses_{session}.npy"
    return [f"images/images_{session}.zip", raw if per_repeat and raw in _FILES else avg]


def _content_ids(zip_path: Path, members: list[str], digest: str) -> list[str]:
    ids = _CONTENT_IDS.get(digest)
    if ids is None:
        ids = _CONTENT_IDS[digest] = zip_content_ids(zip_path, members)
    return ids


def _session(root: Path, session: str, per_repeat: bool, digests: dict[str, str]):
    """One session's NeuralData and StimulusSet, duplicate images merged into one stimulus."""
    monkey, nominal = SESSIONS[session]
    zip_name, resp_name = _session_files(session, per_repeat)
    resp = np.load(root / resp_name, allow_pickle=False)  # (neurons, images[, repeats])
    by_name = StimulusSet.from_zip(root / zip_name, ids="name", name=f"cowley2023_v4/{session}")
    members = by_name.metadata["file"].tolist()
    if resp.ndim not in (2, 3) or resp.shape[1] != len(members):
        raise DataError(
            f"{root / resp_name} has shape {resp.shape} but {zip_name} holds {len(members)} "
            "images; the files do not belong together."
        )
    ids = _content_ids(root / zip_name, members, digests[zip_name])
    groups: dict[str, list[int]] = {}
    for i, c in enumerate(ids):
        groups.setdefault(c, []).append(i)
    dups = [g for g in groups.values() if len(g) > 1]
    resp = resp[:, :, None] if resp.ndim == 2 else resp
    responses = resp.transpose(1, 0, 2)  # (images, neurons, repeats)
    if dups:
        if responses.shape[2] != 1:
            raise DataError(f"{zip_name} repeats images in a per-repeat session; cannot merge.")
        responses = merge_rows(responses[:, :, 0], ids, pool=False)[1][:, :, None]
    unique = [g[0] for g in groups.values()]
    tmp_ids = [c if groups[c][0] == i else f"{c}#{i}" for i, c in enumerate(ids)]
    stimuli = StimulusSet.from_zip(
        root / zip_name, content_ids=tmp_ids, name=f"cowley2023_v4/{session}"
    ).select([ids[i] for i in unique])
    units = pd.DataFrame(
        {
            "unit_id": [f"{session}-n{j:03d}" for j in range(resp.shape[0])],
            "subject": monkey,
            "area": "V4",
            "session": session,
            "neuron": np.arange(resp.shape[0]),
        }
    )
    meta = {
        "dataset": INFO.name,
        "session": session,
        "subject": monkey,
        "area": "V4",
        "response_unit": "spike count in a 100 ms window",
        "source_file": resp_name,
        "source_sha256": digests[resp_name],
        "images_sha256": digests[zip_name],
        "repeats": "per-repeat (NaN-padded)" if responses.shape[2] > 1 else "repeat-averaged",
        "nominal_repeats_per_image": nominal,
        "merged_duplicate_images": [[members[i] for i in g] for g in dups],
    }
    return NeuralData(np.ascontiguousarray(responses), stimuli.ids, units, meta), stimuli


def load(root: Path, *, sessions: Iterable[str] | None = None, per_repeat: bool = True) -> Dataset:
    """Load ``sessions`` (default all 7) from ``root`` = ``<data_dir>/cowley2023_v4``.

    Each session is one recording keyed by its id, responses ``(n_images, n_neurons, n_repeats)``
    (``n_repeats`` = 1 for repeat-averaged files; 10 NaN-padded slots for 210325 when
    ``per_repeat``), and one :class:`StimulusSet` with content ids under the same key.
    """
    chosen = list(SESSIONS) if sessions is None else [str(s) for s in sessions]
    unknown = sorted(set(chosen) - set(SESSIONS))
    if unknown or not chosen:
        raise ConfigError(f"unknown session(s) {unknown}; available: {list(SESSIONS)}.")
    files = [f for s in chosen for f in _session_files(s, per_repeat)]
    digests = verify_files(INFO, root, files)
    recordings, stimuli = {}, {}
    for s in chosen:
        recordings[s], stimuli[s] = _session(root, s, per_repeat, digests)
    return Dataset(INFO, recordings, stimuli, checksums=digests)
