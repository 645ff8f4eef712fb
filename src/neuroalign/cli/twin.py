"""``neuroalign twin``: pole images and dual-selectivity tables from the V1 digital twin.

Parses options, calls :mod:`neuroalign.twin` and writes files (each written to a temporary name
and renamed). Torch is imported only when a command runs.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from neuroalign._core.errors import ConfigError
from neuroalign.cli.common import (
    DataDir,
    JsonFlag,
    Seed,
    atomic_output,
    err,
    esc,
    frame_table,
    out,
    print_json,
    write_text,
)

twin_app = typer.Typer(
    help="Digital twins: most/least exciting images and dual-feature selectivity "
    "(Franke, Karantzas et al. 2025).",
    no_args_is_help=True,
)


def parse_neurons(text: str, n_neurons: int) -> list[int]:
    """``"0,5,9"`` or ``"0-3,7"`` → ``[0, 5, 9]`` / ``[0, 1, 2, 3, 7]`` (first occurrence order,
    repeats dropped); every index is checked against ``n_neurons`` before a range is expanded."""
    ranges: list[range] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        lo, sep, hi = part.partition("-")
        try:
            r = range(int(lo), int(hi) + 1) if sep else range(int(part), int(part) + 1)
        except ValueError:
            raise ConfigError(
                f"--neurons: cannot read {part!r}; give indices like 0,5,9 or a range like 0-7."
            ) from None
        if not r:
            raise ConfigError(f"--neurons: the range {part!r} is empty; write it low-high.")
        for v in (r.start, r.stop - 1):
            if not 0 <= v < n_neurons:
                raise ConfigError(
                    f"--neurons: {v} is out of range: the V1 twin has {n_neurons} neurons "
                    f"(valid indices 0–{n_neurons - 1})."
                )
        ranges.append(r)
    if not ranges:
        raise ConfigError("--neurons is empty; give indices like 0,5,9.")
    return list(dict.fromkeys(i for r in ranges for i in r))


def _write_outputs(result, out_dir: Path) -> list[Path]:
    """The pole grids, the CSV and the JSON in ``out_dir``, each renamed into place when whole."""
    from neuroalign.twin.plot import save_pole_grids

    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".poles-") as tmp:
        paths = []
        for png in save_pole_grids(result, result.images, tmp):
            with atomic_output(out_dir / png.name) as dest:
                png.replace(dest)
            paths.append(out_dir / png.name)
    csv = out_dir / "dual_selectivity.csv"
    write_text(csv, result.table.to_csv(index=False))
    js = write_text(out_dir / "dual_selectivity.json", result.to_json())
    return [*paths, csv, js]


@twin_app.command("poles")
def poles(
    data_dir: DataDir = None,
    neurons: Annotated[
        str | None,
        typer.Option(
            help="Neuron indices, e.g. 0,5,9 or 0-7 (default: the --top-n best predicted)."
        ),
    ] = None,
    top_n: Annotated[
        int,
        typer.Option(
            "--top-n", min=1, help="How many of the best-predicted neurons, without --neurons."
        ),
    ] = 8,
    steps: Annotated[int, typer.Option(min=1, help="Optimisation steps per image.")] = 64,
    n_seeds: Annotated[
        int, typer.Option("--seeds", min=1, help="Restarts per neuron (best kept).")
    ] = 2,
    param: Annotated[str, typer.Option(help="Image parametrisation: pixel or fourier.")] = "pixel",
    n_images: Annotated[
        int, typer.Option("--n-images", min=2, help="Bundled natural-image crops to screen.")
    ] = 500,
    images: Annotated[
        Path | None,
        typer.Option(help="Screen this folder or zip of images instead of the bundled crops."),
    ] = None,
    centered: Annotated[
        bool,
        typer.Option(
            "--centered/--learned-positions",
            help="Read every neuron at the image centre (the paper's synthesis setting) or at its "
            "learned receptive-field position.",
        ),
    ] = True,
    seed: Seed = 0,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for the PNG grids, CSV and JSON.")
    ] = Path("twin_poles"),
    as_json: JsonFlag = False,
) -> None:
    """MEI / MAI / LAI / LEI per neuron of the macaque V1 twin, and the dual-selectivity table.

    Writes poles_000.png, ... (columns MEI, MAI, LAI, LEI per neuron), dual_selectivity.csv and
    dual_selectivity.json to --out.
    """
    import numpy as np

    from neuroalign.twin import dual_selectivity, load_v1_twin
    from neuroalign.twin.analysis import OVERVIEW_COLUMNS
    from neuroalign.twin.v1 import N_NEURONS

    if param not in ("pixel", "fourier"):
        raise ConfigError(f"--param must be pixel or fourier, got {param!r}.")
    idx = None if neurons is None else parse_neurons(neurons, N_NEURONS)
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"--out {out_dir} is a file; give a folder for the images and tables.")
    if images is not None and out_dir.resolve() == images.resolve():
        raise ConfigError(f"--out {out_dir} is the --images folder; write to another folder.")
    twin = load_v1_twin(data_dir, centered=centered)
    if idx is None:
        idx = sorted(np.argsort(-twin.correlations, kind="stable")[:top_n].tolist())
    if not as_json:
        err.print(
            f"V1 twin: {len(idx)} neuron(s), {steps} steps × {n_seeds} seed(s), {esc(param)} "
            "images; screening and synthesising…"
        )
    result = dual_selectivity(
        twin,
        idx,
        "bundled" if images is None else images,
        seed=seed,
        n_images=n_images,
        steps=steps,
        n_seeds=n_seeds,
        param=param,
        progress=not as_json,
    )
    files = [str(p) for p in _write_outputs(result, out_dir)]
    if as_json:
        print_json(
            {
                "summary": result.summary,
                "parameters": result.parameters,
                "files": files,
                "table": result.table.to_dict(orient="records"),
            }
        )
        return
    out.print(frame_table(result.table[OVERVIEW_COLUMNS], "Dual-feature selectivity (V1 twin)"))
    s = result.summary
    out.print(
        f"bidirectional (dsi ≥ {result.parameters['dsi_threshold']}): "
        f"{s['fraction_bidirectional']:.0%}; MEI > best screened: {s['fraction_mei_above_mai']:.0%}; "
        f"LEI < worst screened: {s['fraction_lei_below_lai']:.0%}; LEI < grey baseline: "
        f"{s['fraction_lei_below_baseline']:.0%}"
    )
    out.print(f"wrote {esc(', '.join(files))}")
