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
@app.command()
@_fail_cleanly
def demo(
    seed: Seed = 0,
    as_json: JsonFlag = False,
) -> None:
    """Run the embedded default: a synthetic population on bundled images, with its ceilings.

    Needs no data folder and downloads nothing.
    """
    from neuroalign.data.synthetic import make_population
    from neuroalign.reliability import reliability_table, summarize

    with out.status("simulating a population of subjects on bundled images…"):
        pop = make_population(seed=seed)
    table = reliability_table(pop.data, n_splits=20, seed=seed)
    table["true_reliability"] = pop.truth.reliability
    summary = summarize(table, by=("subject", "area"))
    err_abs = (table["reliability"] - table["true_reliability"]).abs()
    if as_json:
        _print_json(
            {
                "population": repr(pop.data),
                "seed": seed,
                "summary": summary.to_dict(orient="records"),
                "max_abs_error_vs_truth": float(err_abs.max()),
            }
        )
        return
    out.print(f"[bold]Synthetic population:[/] {pop.data!r}")
    out.print(_summary_table(summary, "Split-half reliability (Spearman–Brown, 20 splits)"))
    out.print(
        f"Estimated vs true reliability: median |error| {err_abs.median():.3f}, max {err_abs.max():.3f}"
    )
