"""``neuroalign demo``: prints what :func:`neuroalign.demo.run` found; exit 1 if a control fails."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from neuroalign.cli.common import (
    JsonFlag,
    Seed,
    check_output,
    err,
    esc,
    frame_table,
    out,
    print_json,
    summary_table,
)

app = typer.Typer()


@app.command()
def demo(
    seed: Seed = 0,
    n_draws: Annotated[
        int, typer.Option(min=1, help="Split-half draws per EV (20 for publication).")
    ] = 5,
    out_path: Annotated[
        Path, typer.Option("--out", "-o", help="Where to write the HTML report.")
    ] = Path("report.html"),
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            help="Zoo model to compare (repeatable; default: efficientnet_lite0, its untrained "
            "twin, expansion_ci).",
            show_default=False,
        ),
    ] = None,
    no_models: Annotated[
        bool, typer.Option("--no-models", help="Skip the neural network models (faster).")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Run the embedded default end to end: no data folder, no downloads.

    A simulated population (3 animals × 2 areas, Poisson spike counts from softplus units driven by a
    random network on images bundled with scikit-image and scikit-learn) → split-half ceilings
    against the known truth → the Inter-Animal Transform Class → forward and reverse comparison
    with the animals of the real pretrained EfficientNet-Lite0, its untrained twin and the untrained
    expansion model (activations on the population's images), beside reference "models" (the
    true network layer, a held-out animal, random features) → masquerade → an HTML report.
    Exits 1 when a ground-truth control fails.
    """
    from neuroalign import demo as library

    check_output(out_path)
    res = library.run(
        seed=seed,
        n_draws=n_draws,
        models=[] if no_models else model,
        report=out_path,
        progress=not as_json,
        say=None if as_json else lambda line: err.print(esc(line)),
    )
    if as_json:
        print_json(res.to_dict())
    else:
        _print(res)
    if not res.passed:
        failed = res.controls.loc[~res.controls["passed"].astype(bool), "control"]
        err.print(
            f"[bold red]error:[/] ground-truth control failed: {esc(', '.join(failed))}; "
            "the demo's numbers are not trustworthy on this machine (please report it).",
            soft_wrap=True,
        )
        raise typer.Exit(1)


def _print(res) -> None:
    import pandas as pd

    err_abs = (res.reliability["reliability"] - res.reliability["true_reliability"]).abs()
    out.print(f"[bold]Simulated population:[/] {esc(repr(res.population.data))}")
    out.print(
        summary_table(
            res.reliability_summary,
            "1. Noise ceilings: split-half reliability (Spearman–Brown, 20 splits)",
        )
    )
    out.print(f"   estimated vs true reliability: median |error| {err_abs.median():.3f}\n")
    acc = res.iatc.accuracy.merge(res.iatc.specificity, on="transform", how="left")
    t = acc[["transform", "median_ev", "ci_low", "ci_high", "indistinguishable", "silhouette"]]
    names = {"median_ev": "median EV %", "indistinguishable": "≈ best", "silhouette": "specificity"}
    out.print(
        frame_table(
            t.rename(columns=names),
            "2. Inter-animal transform classes (held-out, noise-corrected EV; 95% bootstrap CI)",
        )
    )
    out.print(
        f"   IATC = [bold]{esc(', '.join(res.iatc.selected))}[/] (truth: softplus units → "
        "zippering)\n"
    )
    m = res.masquerade
    wide = m.pivot(index="model", columns="direction", values=["model_median_ev", "percentile"])
    wide.columns = [f"{d} {'EV %' if v == 'model_median_ev' else 'pct'}" for v, d in wide.columns]
    wide = wide.reindex(list(res.comparisons)).reset_index()
    wide.insert(1, "layer", [res.comparisons[n].summary["layer"].iloc[0] for n in wide["model"]])
    out.print(
        frame_table(
            pd.DataFrame(wide),
            f"3. Models vs animals in {res.area} (ridge map; animal→animal median EV "
            f"{m['animal_median_ev'].iloc[0]:.1f} %; pct = percentile among animal pairs)",
            float_fmt="{:.1f}",
        )
    )
    out.print(
        "   A model can masquerade as an animal when both its forward and reverse scores sit "
        "inside the animal distribution; extra unrelated units keep forward but lose reverse.\n"
    )
    out.print(frame_table(res.controls, "4. Ground-truth controls"))
    if res.report is not None:
        out.print(f"\n[bold]Report:[/] {esc(res.report)}")
