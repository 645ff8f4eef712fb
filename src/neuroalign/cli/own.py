"""Your own recording for ``neuroalign score MODEL --responses FILE --stimuli DIR|ZIP``.

The options, and the benchmark they make: the responses read by
:func:`neuroalign.data.files.read_responses` (``.npy``/``.npz``, ``.h5``, ``.nc``, ``.nwb``), the
images by :class:`~neuroalign.data.StimulusSet`, joined by :func:`neuroalign.bench.from_data`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from neuroalign._core.errors import ConfigError, DataError

_PANEL = "Your own recording (instead of BENCHMARK)"

Responses = Annotated[
    Path | None,
    typer.Option(
        "--responses",
        help="Response file: .npy/.npz, .h5, .nc (stimuli × units [× repeats]) or .nwb.",
        rich_help_panel=_PANEL,
        show_default=False,
    ),
]
Stimuli = Annotated[
    Path | None,
    typer.Option(
        "--stimuli",
        help="Folder or zip of the images, named by the response file's stimulus ids, --ids or "
        "the NWB presentation table (file name without extension, or content); a file without "
        "ids has one row per image, in file-name order.",
        rich_help_panel=_PANEL,
        show_default=False,
    ),
]
RepeatsAxis = Annotated[
    int | None,
    typer.Option(
        "--repeats-axis",
        min=0,
        help="Axis of the array holding repeats (the others: stimulus, unit).",
        rich_help_panel=_PANEL,
        show_default=False,
    ),
]
Ids = Annotated[
    Path | None,
    typer.Option(
        "--ids",
        help="CSV of each response row's stimulus id (its image's file name without extension).",
        rich_help_panel=_PANEL,
        show_default=False,
    ),
]
Window = Annotated[
    str | None,
    typer.Option(
        "--window",
        help="NWB: spikes counted in this window after each presentation onset, e.g. 50:250ms.",
        rich_help_panel=_PANEL,
        show_default=False,
    ),
]
Ceiling = Annotated[
    str,
    typer.Option(
        "--ceiling",
        help="split_half (needs repeats) or none (repeat-averaged data: uncorrected scores).",
        rich_help_panel=_PANEL,
    ),
]


def own_benchmark(
    responses: Path,
    stimuli: Path | None,
    *,
    repeats_axis: int | None,
    ids: Path | None,
    window: str | None,
    ceiling: str,
):
    """The benchmark of a recording given on the command line; every option is checked before
    a file is read."""
    from neuroalign import bench
    from neuroalign.data.files import read_responses

    nwb = responses.suffix.lower() == ".nwb"
    if stimuli is None:
        raise ConfigError("--responses needs --stimuli: the folder or zip of the images shown.")
    if ceiling not in ("split_half", "none"):
        raise ConfigError(f"--ceiling must be split_half or none, got {ceiling!r}.")
    if nwb and window is None:
        raise ConfigError(
            f"{responses} is an NWB file: give --window, e.g. --window 50:250ms (spikes counted "
            "in that window after each presentation onset)."
        )
    if nwb and (ids is not None or repeats_axis is not None):
        raise ConfigError(
            "--ids and --repeats-axis do not apply to an NWB file: its presentation table names "
            "the stimuli and its repeats are the presentations."
        )
    if not nwb and window is not None:
        raise ConfigError("--window applies to NWB files only.")
    if not responses.is_file():
        raise DataError(f"no such response file: {responses}")
    if not stimuli.exists():
        raise DataError(f"no such folder or zip of images: {stimuli}")
    if nwb:
        data, images = read_responses(responses, window=window), _images(stimuli, "name")
    elif ids is not None:
        data = read_responses(responses, stimulus_ids=ids, repeats_axis=repeats_axis)
        images = _images(stimuli, "name")
    else:
        data, images = _rows_to_images(responses, stimuli, repeats_axis)
    if data.n_repeats < 2 and ceiling == "split_half":
        raise ConfigError(
            f"{responses} holds repeat-averaged responses (one per stimulus), which have no "
            "split-half ceiling; score them with --ceiling none (uncorrected scores)."
        )
    return bench.from_data(
        data, images, name=responses.stem, ceiling=None if ceiling == "none" else ceiling
    )


def _images(stimuli: Path, ids: str):
    """The images of a folder or zip, identified by file ``"name"`` or ``"content"``."""
    from neuroalign.data.stimuli import StimulusSet

    load = StimulusSet.from_zip if stimuli.suffix.lower() == ".zip" else StimulusSet.from_folder
    return load(stimuli, ids=ids)


def _rows_to_images(responses: Path, stimuli: Path, repeats_axis: int | None):
    """``(data, images)``: the file's own stimulus ids matched to the images by file name or by
    content; a file without ids (rows numbered 0, 1, ...) has one row per image in file-name
    order (files repeating an image merged)."""
    from neuroalign.data.files import read_responses

    data = read_responses(responses, repeats_axis=repeats_axis)
    ids = set(map(str, data.stimulus_ids))
    for how in ("name", "content"):
        images = _images(stimuli, how)
        if ids <= set(map(str, images.ids)):
            return data, images
    if list(data.stimulus_ids) != [str(i) for i in range(data.n_stimuli)]:
        raise DataError(
            f"the stimulus ids of {responses} (e.g. {sorted(ids)[:3]}) name no image of "
            f"{stimuli} by file name or content; give --ids with each row's image name."
        )
    return read_responses(responses, stimulus_ids=images, repeats_axis=repeats_axis), images
