"""The ``neuroalign`` command (typer + rich). Holds no science: it calls the library and prints.

Exit codes: 0 success; 1 bad data (missing, corrupt or unusable files); 2 bad usage or parameters.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from neuroalign import __version__
from neuroalign.errors import ConfigError, NeuroAlignError

app = typer.Typer(
    name="neuroalign",
    help="How brain-like is this neural network, and in which way?",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
datasets_app = typer.Typer(
    help="List and describe the datasets neuroalign can load.", no_args_is_help=True
)
app.add_typer(datasets_app, name="datasets")

out = Console()
err = Console(stderr=True)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Folder holding the datasets (default: $NEUROALIGN_DATA).",
        show_default=False,
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]
Seed = Annotated[int, typer.Option("--seed", help="Random seed (results are reproducible).")]


def _fail_cleanly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn neuroalign errors into a one-line message and an exit code, never a traceback."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ConfigError as exc:
            err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except NeuroAlignError as exc:
            err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None

    return wrapper


def _print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, default=_json_default) + "\n")


def _json_default(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON-serialisable: {type(o).__name__}")


_SUMMARY_COLUMNS = {
    "subject": "subject",
    "area": "area",
    "n_units": "units",
    "median": "median",
    "mean": "mean",
    "q25": "q25",
    "q75": "q75",
    "fraction_above_0.5": "> 0.5",
}


def _summary_table(summary, title: str) -> Table:
    cols = [c for c in _SUMMARY_COLUMNS if c in summary.columns]
    return _frame_table(summary[cols].rename(columns=_SUMMARY_COLUMNS), title)


def _frame_table(df, title: str, float_fmt: str = "{:.3f}") -> Table:
    table = Table(title=title, title_justify="left")
    for col in df.columns:
        table.add_column(str(col), justify="right" if df[col].dtype.kind in "iuf" else "left")
    for row in df.itertuples(index=False):
        table.add_row(*[float_fmt.format(v) if isinstance(v, float) else str(v) for v in row])
    return table


def _version(value: bool) -> None:
    if value:
        out.print(f"neuroalign {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """How brain-like is this neural network, and in which way?"""


# ---------------------------------------------------------------- datasets
@datasets_app.command("list")
@_fail_cleanly
def datasets_list(as_json: JsonFlag = False) -> None:
    """List the registered datasets."""
    from neuroalign import datasets

    infos = [datasets.info(n) for n in datasets.names()]
    if as_json:
        _print_json([{"name": i.name, "title": i.title, "has_images": i.has_images} for i in infos])
        return
    table = Table(title="neuroalign datasets", title_justify="left")
    for col in ("name", "title", "images"):
        table.add_column(col)
    for i in infos:
        table.add_row(i.name, i.title, "yes" if i.has_images else "no")
    out.print(table)


@datasets_app.command("info")
@_fail_cleanly
def datasets_info(
    name: Annotated[str, typer.Argument(help="Dataset name (see `neuroalign datasets list`).")],
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Describe a dataset: citation, license, expected files and whether they are present."""
    from neuroalign import datasets

    info = datasets.info(name)
    status = datasets.status(name, data_dir)
    if as_json:
        _print_json({**info.to_dict(), "status": status})
        return
    out.print(f"[bold]{info.name}[/] — {info.title}")
    out.print(info.description)
    out.print(f"[bold]Citation:[/] {info.citation}")
    out.print(f"[bold]License:[/] {info.license}")
    out.print(f"[bold]Folder:[/] {status['folder']}  ({status['state']})")
    if status["missing"]:
        out.print(f"[bold]Missing files:[/] {', '.join(status['missing'])}")
        out.print(f"[bold]Get it:[/] {info.how_to_obtain}")


# ------------------------------------------------------------- reliability
@app.command()
@_fail_cleanly
def reliability(
    name: Annotated[str, typer.Argument(help="Dataset name, e.g. henaff2021_v1.")],
    data_dir: DataDir = None,
    n_splits: Annotated[int, typer.Option(help="Random split-half draws to average.")] = 20,
    method: Annotated[str, typer.Option(help="pearson or spearman.")] = "pearson",
    seed: Seed = 0,
    as_json: JsonFlag = False,
) -> None:
    """Per-subject / per-area split-half noise ceilings (Spearman–Brown corrected) of a dataset."""
    from neuroalign import datasets
    from neuroalign.reliability import reliability_table, summarize

    ds = datasets.load(name, data_dir=data_dir)
    tables = []
    skipped = []
    for key, rec in ds.recordings.items():
        if rec.n_repeats < 2:
            skipped.append(key)
            continue
        t = reliability_table(rec, n_splits=n_splits, seed=seed, method=method)
        t.insert(0, "recording", key)
        tables.append(t)
    if not tables:
        raise ConfigError(
            f"{name} has no recording with per-repeat responses, so no split-half ceiling can be computed."
        )
    import pandas as pd

    table = pd.concat(tables, ignore_index=True)
    summary = summarize(table, by=("subject", "area"))
    params = {"dataset": name, "n_splits": n_splits, "method": method, "seed": seed}
    if as_json:
        _print_json(
            {
                "parameters": params,
                "skipped_recordings_without_repeats": skipped,
                "summary": summary.to_dict(orient="records"),
                "units": table.to_dict(orient="records"),
            }
        )
        return
    out.print(
        _summary_table(
            summary,
            f"{name}: split-half reliability (Spearman–Brown, {method}, "
            f"{n_splits} splits, seed {seed})",
        )
    )
    if skipped:
        out.print(f"[dim]no repeats, skipped: {', '.join(skipped)}[/]")


# -------------------------------------------------------------------- demo
_DEMO_CANDIDATES = ["one_to_one", "procrustes", "ridge", "zippering"]


@app.command()
@_fail_cleanly
def demo(
    seed: Seed = 0,
    n_draws: Annotated[int, typer.Option(help="Split-half draws per EV (20 for publication).")] = 5,
    as_json: JsonFlag = False,
) -> None:
    """Run the embedded default end to end: no data folder, no downloads.

    A simulated population (3 animals × 2 areas, Poisson spike counts from softplus units driven by a
    random network on images bundled with scikit-image and scikit-learn) → split-half ceilings
    against the known truth → the Inter-Animal Transform Class → forward and reverse comparison of
    three "models" (the true network layer, a held-out animal, random features) with the animals.
    """
    import numpy as np
    import pandas as pd

    from neuroalign.compare import compare
    from neuroalign.data.synthetic import make_population
    from neuroalign.iatc import estimate_iatc
    from neuroalign.metrics.predictivity import default_transform
    from neuroalign.reliability import reliability_table, summarize

    quiet = as_json
    with err.status("simulating 3 animals × 2 areas on bundled images…"):
        pop = make_population(
            n_subjects=3, n_areas=2, units_per_subject=25, n_stimuli=300, n_repeats=10, seed=seed
        )
    table = reliability_table(pop.data, n_splits=20, seed=seed)
    table["true_reliability"] = pop.truth.reliability
    summary = summarize(table, by=("subject", "area"))
    err_abs = (table["reliability"] - table["true_reliability"]).abs()
    if not quiet:
        out.print(f"[bold]Simulated population:[/] {pop.data!r}")
        out.print(
            _summary_table(
                summary, "1. Noise ceilings: split-half reliability (Spearman–Brown, 20 splits)"
            )
        )
        out.print(f"   estimated vs true reliability: median |error| {err_abs.median():.3f}\n")
        err.print("estimating the IATC (every ordered pair of animals, 4 transform classes)…")
    iatc = estimate_iatc(
        pop.data,
        _DEMO_CANDIDATES,
        n_folds=5,
        n_draws=n_draws,
        n_boot=500,
        seed=seed,
        show_progress=not quiet,
    )
    acc = iatc.accuracy.merge(iatc.specificity, on="transform")
    if not quiet:
        t = acc[["transform", "median_ev", "ci_low", "ci_high", "indistinguishable", "silhouette"]]
        out.print(
            _frame_table(
                t.rename(
                    columns={
                        "median_ev": "median EV %",
                        "indistinguishable": "≈ best",
                        "silhouette": "specificity",
                    }
                ),
                "2. Inter-animal transform classes (held-out, noise-corrected EV; 95% bootstrap CI)",
            )
        )
        out.print(
            f"   IATC = [bold]{', '.join(iatc.selected)}[/] (truth: softplus units → zippering)\n"
        )
        err.print("comparing models with the animals in both directions…")
    area = pop.areas[0]
    area_pop = pop.data.select(area=area)
    rng = np.random.default_rng(seed)
    feats = pop.features(area)
    models = {
        "true layer": feats,
        "true layer + unrelated units": np.hstack(
            [feats, feats.std() * rng.normal(size=(feats.shape[0], 2 * feats.shape[1]))]
        ),
        "held-out animal": pop.extra_subject("M", seed=seed).data.select(area=area).responses,
        "random features": rng.normal(size=(feats.shape[0], 300)),
    }
    cmp = compare(
        models,
        area_pop,
        default_transform(),
        n_folds=5,
        n_draws=n_draws,
        seed=seed,
        show_progress=not quiet,
    )
    if as_json:
        _print_json(
            {
                "seed": seed,
                "n_draws": n_draws,
                "population": repr(pop.data),
                "reliability": summary.to_dict(orient="records"),
                "median_abs_error_vs_truth": float(err_abs.median()),
                "max_abs_error_vs_truth": float(err_abs.max()),
                "iatc": {"selected": iatc.selected, "accuracy": acc.to_dict(orient="records")},
                "comparison": cmp.summary.to_dict(orient="records"),
            }
        )
        return
    s = cmp.summary.pivot(
        index="layer", columns="direction", values=["model_median_ev", "percentile"]
    )
    s.columns = [f"{d} {'EV %' if v == 'model_median_ev' else 'pct'}" for v, d in s.columns]
    s = s.reindex(list(models)).reset_index().rename(columns={"layer": "model"})
    out.print(
        _frame_table(
            pd.DataFrame(s),
            f"3. Model vs animals in {area} (ridge map; animal→animal median EV "
            f"{cmp.summary['animal_median_ev'].iloc[0]:.1f} %; pct = percentile among animal pairs)",
            float_fmt="{:.1f}",
        )
    )
    out.print(
        "   A model can masquerade as an animal when both its forward and reverse scores sit "
        "inside the animal distribution; extra unrelated units keep forward but lose reverse."
    )
