"""``neuroalign reliability`` and ``neuroalign iatc``: the animals alone, no model."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from neuroalign._core.errors import ConfigError
from neuroalign.cli.common import (
    DataDir,
    Device,
    JsonFlag,
    JsonOut,
    NDraws,
    NFolds,
    NoStore,
    Params,
    Recompute,
    Seed,
    Store,
    check_output,
    csv,
    esc,
    frame_table,
    open_store,
    out,
    parse_params,
    print_json,
    spool_notes,
    store_path,
    summary_table,
    write_text,
)
from neuroalign.cli.scoring import score_json, score_or_load, where_stored

app = typer.Typer()


@app.command()
def reliability(
    name: Annotated[str, typer.Argument(help="Dataset name, e.g. henaff2021_v1.")],
    data_dir: DataDir = None,
    n_splits: Annotated[int, typer.Option(min=1, help="Random split-half draws to average.")] = 20,
    method: Annotated[str, typer.Option(help="pearson or spearman.")] = "pearson",
    seed: Seed = 0,
    as_json: JsonFlag = False,
) -> None:
    """Per-subject / per-area split-half noise ceilings (Spearman–Brown corrected) of a dataset."""
    import pandas as pd

    from neuroalign import datasets
    from neuroalign.metrics.ceilings import reliability_table, summarize

    if method not in ("pearson", "spearman"):
        raise ConfigError(f"--method must be pearson or spearman, got {method!r}.")
    ds = datasets.load(name, data_dir=data_dir)
    tables, skipped = [], []
    for key, rec in ds.recordings.items():
        if rec.n_repeats < 2:
            skipped.append(key)
            continue
        t = reliability_table(rec, n_splits=n_splits, seed=seed, method=method)
        tables.append(t.assign(recording=key)[["recording", *t.columns]])
    if not tables:
        raise ConfigError(
            f"{name} has no recording with per-repeat responses, so no split-half ceiling can "
            "be computed."
        )
    table = pd.concat(tables, ignore_index=True)
    summary = summarize(table, by=("subject", "area"))
    params = {"dataset": name, "n_splits": n_splits, "method": method, "seed": seed}
    if as_json:
        print_json(
            {
                "parameters": params,
                "skipped_recordings_without_repeats": skipped,
                "summary": summary.to_dict(orient="records"),
                "units": table.to_dict(orient="records"),
            }
        )
        return
    out.print(
        summary_table(
            summary,
            f"{name}: split-half reliability (Spearman–Brown, {method}, "
            f"{n_splits} splits, seed {seed})",
        )
    )
    if skipped:
        out.print(f"[dim]no repeats, skipped: {esc(', '.join(skipped))}[/]")


@app.command("iatc")
def iatc_cmd(
    dataset: Annotated[str, typer.Argument(help="henaff2021_v1 or synthetic.")],
    data_dir: DataDir = None,
    seed: Seed = 0,
    device: Device = None,
    candidates: Annotated[
        str | None,
        typer.Option(help="Comma-separated transform classes (default: the benchmark's)."),
    ] = None,
    pairing: Annotated[str | None, typer.Option(help="pairwise or pooled.")] = None,
    n_draws: NDraws = None,
    n_folds: NFolds = None,
    n_boot: Annotated[int | None, typer.Option(min=1, help="Bootstrap resamples.")] = None,
    param: Params = None,
    store: Store = None,
    no_store: NoStore = False,
    recompute: Recompute = False,
    out_path: JsonOut = None,
    as_json: JsonFlag = False,
) -> None:
    """Estimate the Inter-Animal Transform Class of a dataset's population of animals."""
    from neuroalign import bench

    iatc_benchmarks = [b for b in bench.all_benchmarks() if b.kind == "iatc"]
    match = [b for b in iatc_benchmarks if dataset in (b.dataset, b.identifier)]
    if not match:
        raise ConfigError(
            f"no IATC benchmark for {dataset!r}; datasets with several animals on shared stimuli: "
            f"{', '.join(b.dataset for b in iatc_benchmarks)}."
        )
    bm = match[0]
    params = parse_params(param, n_draws, n_folds)
    if candidates is not None:
        params["candidates"] = csv([candidates])
        if not params["candidates"]:
            raise ConfigError(
                "--candidates is empty; give transform classes, e.g. ridge,zippering."
            )
    if pairing is not None:
        params["pairing"] = pairing
    if n_boot is not None:
        params["n_boot"] = n_boot
    bm.params(params)
    if out_path is not None:
        check_output(out_path, stores=[] if no_store else [store_path(store)])
    st = None if no_store else open_store(store)
    spooled: list[str] = []
    with spool_notes(spooled):
        s, cached = score_or_load(
            None,
            bm.identifier,
            store=st,
            recompute=recompute,
            label=f"estimating the IATC of {bm.dataset}…",
            seed=seed,
            data_dir=data_dir,
            params=params,
            progress=not as_json,
        )
    res = s.iatc()
    if out_path is not None:
        write_text(out_path, res.to_json())
    if as_json:
        d = score_json(s, cached, spooled)
        d["selected"] = res.selected
        d["best"] = res.best
        d["accuracy"] = json.loads(res.accuracy.to_json(orient="records"))
        print_json(d)
        return
    t = res.accuracy[["transform", "median_ev", "ci_low", "ci_high", "indistinguishable"]]
    out.print(
        frame_table(
            t.rename(columns={"median_ev": "median EV %", "indistinguishable": "≈ best"}),
            f"{bm.identifier}: held-out, noise-corrected EV per transform class (seed {seed})",
        )
    )
    out.print(f"IATC = [bold]{esc(', '.join(res.selected))}[/]; best class: {esc(res.best)}")
    where_stored(s, st, cached, spooled)
