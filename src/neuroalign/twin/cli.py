"""``neuroalign twin``: pole images and dual-selectivity tables from the V1 digital twin.

Holds no science: it parses options, calls :mod:`neuroalign.twin` and writes files. Torch is
imported only when a command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from neuroalign._core.errors import ConfigError

# Defined before importing neuroalign.cli: that module imports this one at its end to register
# twin_app, so either import order works (typer reads the commands when the app runs).
twin_app = typer.Typer(
    help="Digital twins: most/least exciting images and dual-feature selectivity "
    "(Franke, Karantzas et al. 2025).",
    no_args_is_help=True,
)

from neuroalign.cli import (  # noqa: E402
    DataDir,
    JsonFlag,
    Seed,
    _fail_cleanly,
    _print_json,
    err,
    out,
)


def _parse_neurons(text: str) -> list[int]:
    """``"0,5,9"`` or ``"0-3,7"`` → ``[0, 5, 9]`` / ``[0, 1, 2, 3, 7]``."""
    result: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            if "-" in part[1:]:
                a, b = part[0] + part[1:].split("-", 1)[0], part[1:].split("-", 1)[1]
                lo, hi = int(a), int(b)
                if hi < lo:
                    raise ValueError
                result.extend(range(lo, hi + 1))
            else:
                result.append(int(part))
        except ValueError:
            raise ConfigError(
                f"--neurons: cannot read {part!r}; give indices like 0,5,9 or a range like 0-7."
            ) from None
    if not result:
        raise ConfigError("--neurons is empty; give indices like 0,5,9.")
    return result


@twin_app.command("poles")
@_fail_cleanly
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
        typer.Option("--top-n", help="How many of the best-predicted neurons, without --neurons."),
    ] = 8,
    steps: Annotated[int, typer.Option(help="Optimisation steps per image.")] = 64,
    n_seeds: Annotated[int, typer.Option("--seeds", help="Restarts per neuron (best kept).")] = 2,
    param: Annotated[str, typer.Option(help="Image parametrisation: pixel or fourier.")] = "pixel",
    n_images: Annotated[
        int, typer.Option("--n-images", help="Bundled natural-image crops to screen.")
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
    from neuroalign.twin.plot import save_pole_grids

    if top_n < 1:
        raise ConfigError(f"--top-n must be ≥ 1, got {top_n}.")
    if n_images < 2:
        raise ConfigError(f"--n-images must be ≥ 2, got {n_images}.")
    twin = load_v1_twin(data_dir, centered=centered)
    if neurons is not None:
        idx = _parse_neurons(neurons)
    else:
        idx = sorted(np.argsort(-twin.correlations, kind="stable")[:top_n].tolist())
    source = "bundled" if images is None else images
    quiet = as_json
    if not quiet:
        err.print(
            f"V1 twin: {len(idx)} neuron(s), {steps} steps × {n_seeds} seed(s), {param} images; "
            "screening and synthesising…"
        )
    result = dual_selectivity(
        twin,
        idx,
        source,
        seed=seed,
        n_images=n_images,
        steps=steps,
        n_seeds=n_seeds,
        param=param,
        progress=not quiet,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    pngs = save_pole_grids(result, result.images, out_dir)
    csv = out_dir / "dual_selectivity.csv"
    result.table.to_csv(csv, index=False)
    js = out_dir / "dual_selectivity.json"
    result.to_json(js)
    files = [str(p) for p in (*pngs, csv, js)]
    if as_json:
        _print_json(
            {
                "summary": result.summary,
                "parameters": result.parameters,
                "files": files,
                "table": result.table.to_dict(orient="records"),
            }
        )
        return
    from neuroalign.cli import _frame_table
    from neuroalign.twin.analysis import OVERVIEW_COLUMNS

    out.print(_frame_table(result.table[OVERVIEW_COLUMNS], "Dual-feature selectivity (V1 twin)"))
    s = result.summary
    out.print(
        f"bidirectional (dsi ≥ {result.parameters['dsi_threshold']}): {s['fraction_bidirectional']:.0%}; "
        f"MEI > best screened: {s['fraction_mei_above_mai']:.0%}; LEI < worst screened: "
        f"{s['fraction_lei_below_lai']:.0%}; LEI < grey baseline: {s['fraction_lei_below_baseline']:.0%}"
    )
    out.print(f"wrote {', '.join(files)}")
