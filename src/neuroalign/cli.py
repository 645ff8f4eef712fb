"""The ``neuroalign`` command (typer + rich). Holds no science: it calls the library and prints.

Exit codes: 0 success; 1 bad data (missing, corrupt or unusable files, unreadable results) or an
unexpected failure; 2 bad usage or parameters (unknown model, benchmark, dataset, option value);
130 interrupted. Errors are one line on stderr, never a traceback.
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

from neuroalign._core.errors import ConfigError, NeuroAlignError
from neuroalign._core.version import __version__

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
bench_app = typer.Typer(help="The registered benchmarks.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")

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
        except (typer.Exit, typer.Abort, typer.TyperException):  # typer's own usage errors
            raise
        except KeyboardInterrupt:
            err.print("[bold red]interrupted[/] (results already stored are kept)")
            raise typer.Exit(130) from None
        except ImportError as exc:
            err.print(
                f"[bold red]error:[/] {exc}; install the extras: pip install 'neuroalign[torch]'",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(2) from None
        except Exception as exc:  # noqa: BLE001 - a CLI never shows a traceback
            msg = " ".join(str(exc).split()) or type(exc).__name__
            err.print(
                f"[bold red]error:[/] {type(exc).__name__}: {msg} (unexpected; please report it "
                "with the command you ran)",
                highlight=False,
                soft_wrap=True,
            )
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
    from neuroalign.metrics.ceilings import reliability_table, summarize

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
#: real models of the demo and the layer each is compared at (pooled to 4×4 positions)
_DEMO_MODELS = {
    "efficientnet_lite0": "_blocks.4",
    "efficientnet_lite0_untrained": "_blocks.4",
    "expansion_ci": "layer3",
}
_DEMO_POOL = 4
_DEMO_PX = 112  # the crops are 64×64 px; 112 px inputs keep the demo fast on a laptop CPU


def _demo_layer(name: str) -> str:
    from neuroalign.models import zoo

    if name in _DEMO_MODELS:
        return _DEMO_MODELS[name]
    layers = zoo.info(name).layers
    return layers[len(layers) // 2]


@app.command()
@_fail_cleanly
def demo(
    seed: Seed = 0,
    n_draws: Annotated[int, typer.Option(help="Split-half draws per EV (20 for publication).")] = 5,
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
    expansion model (activations on the population's images), beside three reference "models" (the
    true network layer, a held-out animal, random features) → masquerade → an HTML report.
    """
    import dataclasses

    import numpy as np
    import pandas as pd

    from neuroalign.analysis.compare import compare
    from neuroalign.analysis.iatc import estimate_iatc
    from neuroalign.bench.score import comparison_frame
    from neuroalign.data.synthetic import make_population
    from neuroalign.metrics.ceilings import reliability_table, summarize
    from neuroalign.metrics.predictivity import default_transform

    quiet = as_json
    names = [] if no_models else (list(model) if model else list(_DEMO_MODELS))
    demo_layers = {n: _demo_layer(n) for n in names}  # validates the names before any work
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
    model_info = {}
    if names:
        from neuroalign import models as zoo_models

        for name in names:
            layer = demo_layers[name]
            if not quiet:
                err.print(f"activations of {name} ({layer}) on the {len(pop.stimuli)} images…")
            net = zoo_models.load(name, seed=seed)
            pre = dataclasses.replace(net.preprocess, size=_DEMO_PX)
            acts = zoo_models.extract(
                net,
                pop.stimuli,
                [layer],
                preprocess=pre,
                pool=_DEMO_POOL,
                progress=False if quiet else None,
            )
            models[f"{name} ({layer})"] = np.asarray(acts[layer], dtype=np.float64)
            model_info[name] = {
                "layer": layer,
                "pool": _DEMO_POOL,
                "input_px": _DEMO_PX,
                "n_features": int(acts[layer].shape[1]),
                "weights_sha256": acts.provenance["model"]["weights_sha256"],
                "trained": net.trained,
            }
    if not quiet:
        err.print("comparing models with the animals in both directions…")
    cmp = compare(
        models,
        area_pop,
        default_transform(),
        n_folds=5,
        n_draws=n_draws,
        seed=seed,
        show_progress=not quiet,
    )
    from neuroalign.report import write_report

    provenance = {
        "neuroalign": __version__,
        "command": "neuroalign demo",
        "seed": seed,
        "n_draws": n_draws,
        "population": {k: v for k, v in pop.data.metadata.items() if k != "images"},
        "models": model_info,
    }
    report_path = write_report(
        out_path,
        title="neuroalign demo: a simulated population, the IATC and three networks",
        iatc=iatc,
        comparisons={area: cmp},
        scores=comparison_frame(cmp, benchmark="demo"),
        sections=[("About this demo", _DEMO_ABOUT)],
        provenance=provenance,
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
                "models": model_info,
                "comparison": cmp.summary.to_dict(orient="records"),
                "report": str(report_path),
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
    out.print(f"\n[bold]Report:[/] {report_path}")


_DEMO_ABOUT = (
    "<p>Three simulated animals with two areas each respond (Poisson spike counts) to 300 crops of "
    "images bundled with scikit-image and scikit-learn; their units are softplus functions of a "
    "random network's layers, so the true inter-animal transform is the zippering class. The "
    "comparison maps every model and every animal both ways with ridge regression on held-out "
    "stimuli; the real networks are EfficientNet-Lite0 with its ImageNet weights, the same "
    "architecture untrained, and the untrained expansion model, read at one mid-level layer "
    "averaged to 4×4 positions, on the 64×64 crops enlarged to 112×112 pixels (half their native "
    "224 px, to keep the demo quick on a CPU). Nothing was downloaded.</p>"
)


# -------------------------------------------------------------- benchmarks
def _store_path(store: Path | None) -> Path:
    from neuroalign.bench.store import default_store_path

    return store if store is not None else default_store_path()


def _open_store(store: Path | None, no_store: bool = False, create: bool = True):
    from neuroalign.bench.store import ResultsStore

    if no_store:
        return None
    return ResultsStore(_store_path(store), create=create)


def _parse_params(items: list[str] | None) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ConfigError(f"--param takes NAME=VALUE, got {item!r}.")
        try:
            params[name] = json.loads(value)
        except json.JSONDecodeError:
            params[name] = value
    return params


def _score_or_load(model, benchmark, *, store, recompute, progress_label, **kw):
    """A Score from the store when its key is there (unless ``recompute``), else computed and put."""
    from neuroalign.bench import score, score_key

    key = score_key(
        model, benchmark, layers=kw.get("layers"), seed=kw.get("seed", 0), **kw.get("params", {})
    )
    if store is not None and not recompute and store.has(key):
        return store.get(key), True
    with err.status(progress_label):
        s = score(
            model,
            benchmark,
            data_dir=kw.get("data_dir"),
            layers=kw.get("layers"),
            seed=kw.get("seed", 0),
            progress=kw.get("progress", False),
            **kw.get("params", {}),
        )
    if store is not None:
        store.put(s)
    return s, False


def _score_json(s, from_store: bool) -> dict:
    d = s.to_dict()
    d.pop("units")
    d.pop("attachments")
    d["summary"] = json.loads(s.summary.to_json(orient="records"))
    d["from_store"] = from_store
    return d


def _score_table(s) -> Table:
    cols = ["layer", "direction", "raw", "ceiling", "normalised", "error", "n_valid"]
    df = s.summary[cols].copy()
    if s.summary["masquerade_ratio"].notna().any():
        df["masquerade"] = s.summary["masquerade_ratio"]
        df["pct"] = s.summary["percentile"]
    return _frame_table(df, f"{s.model} on {s.benchmark} v{s.benchmark_version} (seed {s.seed})")


Store = Annotated[
    Path | None,
    typer.Option(
        "--store",
        help="Results store (SQLite; default $NEUROALIGN_HOME/results.sqlite, else "
        "./neuroalign-results.sqlite).",
        show_default=False,
    ),
]
NoStore = Annotated[bool, typer.Option("--no-store", help="Do not read or write the store.")]
Recompute = Annotated[
    bool, typer.Option("--recompute", help="Compute even when the store has the result.")
]
Params = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        help="Benchmark parameter NAME=VALUE (repeatable; see `neuroalign bench list --json`).",
        show_default=False,
    ),
]
Layers = Annotated[
    list[str] | None,
    typer.Option(
        "--layer", help="Model layer (repeatable; default: the model's layers).", show_default=False
    ),
]
NDraws = Annotated[
    int | None, typer.Option("--n-draws", help="Split-half draws (default: the benchmark's).")
]
NFolds = Annotated[
    int | None, typer.Option("--n-folds", help="Cross-validation folds (default: the benchmark's).")
]


def _with_common(params: dict, n_draws: int | None, n_folds: int | None) -> dict:
    if n_draws is not None:
        params["n_draws"] = n_draws
    if n_folds is not None:
        params["n_folds"] = n_folds
    return params


@bench_app.command("list")
@_fail_cleanly
def bench_list(as_json: JsonFlag = False) -> None:
    """List the registered benchmarks."""
    from neuroalign import bench

    bms = bench.all_benchmarks()
    if as_json:
        _print_json([b.to_dict() for b in bms])
        return
    table = Table(title="neuroalign benchmarks", title_justify="left")
    for col in ("benchmark", "version", "kind", "transform", "directions"):
        table.add_column(col, no_wrap=col == "benchmark")
    for b in bms:
        table.add_row(b.identifier, b.version, b.kind, b.transform, ", ".join(b.directions))
    out.print(table)
    out.print("[dim]ceilings, citations and parameters: `neuroalign bench list --json`[/]")


@app.command("score")
@_fail_cleanly
def score_cmd(
    model: Annotated[str, typer.Argument(help="Zoo model name (e.g. efficientnet_lite0).")],
    benchmark: Annotated[str, typer.Argument(help="Benchmark (see `neuroalign bench list`).")],
    layer: Layers = None,
    data_dir: DataDir = None,
    seed: Seed = 0,
    n_draws: NDraws = None,
    n_folds: NFolds = None,
    param: Params = None,
    store: Store = None,
    no_store: NoStore = False,
    recompute: Recompute = False,
    out_path: Annotated[
        Path | None, typer.Option("--out", "-o", help="Also write the full Score JSON here.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Score a model on a benchmark: raw score, ceiling, normalised score, error, provenance."""
    from neuroalign import bench
    from neuroalign.models import zoo

    bm = bench.get(benchmark)
    if not bm.needs_model:
        raise ConfigError(
            f"{benchmark} is neural only; run `neuroalign iatc {bm.dataset}` instead."
        )
    zoo.info(model)
    params = _with_common(_parse_params(param), n_draws, n_folds)
    bm.params(params)
    st = _open_store(store, no_store)
    s, cached = _score_or_load(
        model,
        benchmark,
        store=st,
        recompute=recompute,
        progress_label=f"scoring {model} on {benchmark}…",
        layers=layer,
        seed=seed,
        data_dir=data_dir,
        params=params,
        progress=not as_json,
    )
    if out_path is not None:
        s.to_json(out_path)
    if as_json:
        _print_json(_score_json(s, cached))
        return
    out.print(_score_table(s))
    if cached:
        out.print(f"[dim]from the store {st.path} (key {s.key[:12]}…; --recompute to redo)[/]")
    elif st is not None:
        out.print(f"[dim]stored in {st.path} (key {s.key[:12]}…)[/]")


@app.command("compare")
@_fail_cleanly
def compare_cmd(
    models: Annotated[list[str], typer.Argument(help="Zoo model names.")],
    benchmark: Annotated[
        str, typer.Option("--benchmark", "-b", help="Benchmark (see `neuroalign bench list`).")
    ],
    layer: Layers = None,
    data_dir: DataDir = None,
    seed: Seed = 0,
    n_draws: NDraws = None,
    n_folds: NFolds = None,
    param: Params = None,
    store: Store = None,
    no_store: NoStore = False,
    recompute: Recompute = False,
    as_json: JsonFlag = False,
) -> None:
    """Score several models on one benchmark and put them side by side (best layer each)."""
    import pandas as pd

    from neuroalign import bench
    from neuroalign.models import zoo

    bm = bench.get(benchmark)
    if not bm.needs_model:
        raise ConfigError(
            f"{benchmark} is neural only; run `neuroalign iatc {bm.dataset}` instead."
        )
    for m in models:
        zoo.info(m)
    params = _with_common(_parse_params(param), n_draws, n_folds)
    bm.params(params)
    st = _open_store(store, no_store)
    scores = []
    for i, m in enumerate(models, 1):
        s, cached = _score_or_load(
            m,
            benchmark,
            store=st,
            recompute=recompute,
            progress_label=f"[{i}/{len(models)}] scoring {m} on {benchmark}…",
            layers=layer,
            seed=seed,
            data_dir=data_dir,
            params=params,
            progress=False,
        )
        scores.append((s, cached))
    if as_json:
        _print_json([_score_json(s, c) for s, c in scores])
        return
    df = pd.concat([s.frame() for s, _ in scores], ignore_index=True)
    best = _best_layers(df)
    cols = ["model", "direction", "layer", "raw", "ceiling", "normalised", "error"]
    out.print(
        _frame_table(
            best[cols],
            f"{benchmark}: each model at its best layer per direction (chosen on these data)",
        )
    )


def _best_layers(df):
    """Per (model, benchmark, direction) the row of the layer with the highest normalised score
    (raw where normalised is NaN)."""
    df = df.copy()
    df["_rank"] = df["normalised"].fillna(df["raw"])
    df = df[df["_rank"].notna()]
    idx = df.groupby(["model", "benchmark", "direction"], sort=True)["_rank"].idxmax()
    return df.loc[idx].drop(columns="_rank").reset_index(drop=True)


@app.command("iatc")
@_fail_cleanly
def iatc_cmd(
    dataset: Annotated[str, typer.Argument(help="henaff2021_v1 or synthetic.")],
    data_dir: DataDir = None,
    seed: Seed = 0,
    candidates: Annotated[
        str | None,
        typer.Option(help="Comma-separated transform classes (default: the benchmark's)."),
    ] = None,
    pairing: Annotated[str | None, typer.Option(help="pairwise or pooled.")] = None,
    n_draws: NDraws = None,
    n_folds: NFolds = None,
    n_boot: Annotated[int | None, typer.Option(help="Bootstrap resamples.")] = None,
    param: Params = None,
    store: Store = None,
    no_store: NoStore = False,
    recompute: Recompute = False,
    out_path: Annotated[
        Path | None, typer.Option("--out", "-o", help="Also write the IATCResult JSON here.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Estimate the Inter-Animal Transform Class of a dataset's population of animals."""
    from neuroalign import bench

    iatc_benchmarks = [b for b in bench.all_benchmarks() if b.kind == "iatc"]
    match = [b for b in iatc_benchmarks if b.dataset == dataset or b.identifier == dataset]
    if not match:
        raise ConfigError(
            f"no IATC benchmark for {dataset!r}; datasets with several animals on shared stimuli: "
            f"{', '.join(b.dataset for b in iatc_benchmarks)}."
        )
    bm = match[0]
    params = _with_common(_parse_params(param), n_draws, n_folds)
    if candidates is not None:
        params["candidates"] = [c.strip() for c in candidates.split(",") if c.strip()]
    if pairing is not None:
        params["pairing"] = pairing
    if n_boot is not None:
        params["n_boot"] = n_boot
    st = _open_store(store, no_store)
    s, cached = _score_or_load(
        None,
        bm.identifier,
        store=st,
        recompute=recompute,
        progress_label=f"estimating the IATC of {bm.dataset}…",
        seed=seed,
        data_dir=data_dir,
        params=params,
        progress=not as_json,
    )
    res = s.iatc()
    if out_path is not None:
        res.to_json(out_path)
    if as_json:
        d = _score_json(s, cached)
        d["selected"] = res.selected
        d["best"] = res.best
        d["accuracy"] = json.loads(res.accuracy.to_json(orient="records"))
        _print_json(d)
        return
    t = res.accuracy[["transform", "median_ev", "ci_low", "ci_high", "indistinguishable"]]
    out.print(
        _frame_table(
            t.rename(columns={"median_ev": "median EV %", "indistinguishable": "≈ best"}),
            f"{bm.identifier}: held-out, noise-corrected EV per transform class (seed {seed})",
        )
    )
    out.print(f"IATC = [bold]{', '.join(res.selected)}[/]; best class: {res.best}")


def _load_results(paths: list[Path]):
    """(scores frame, first IATCResult, comparisons) from stores and JSON result files."""
    import pandas as pd

    from neuroalign._core.errors import DataError
    from neuroalign._core.jsonio import load_json
    from neuroalign.analysis.compare import ComparisonResult
    from neuroalign.analysis.iatc import IATCResult
    from neuroalign.bench import ResultsStore, Score, is_store_file
    from neuroalign.bench.score import comparison_frame

    frames, iatc, comparisons = [], None, {}
    for p in paths:
        if not p.is_file():
            raise DataError(
                f"no such results file: {p}; give a results store or result JSON files."
            )
        if is_store_file(p):
            with ResultsStore(p, create=False) as st:
                frames.append(st.frame())
                for s in st.scores():
                    iatc = iatc or s.iatc()
                    if s.attachments.get("comparison"):
                        comparisons[f"{s.model} on {s.benchmark}"] = s.comparison()
            continue
        try:
            kind = json.loads(p.read_text()).get("kind")
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
            raise DataError(
                f"{p} is neither a results store (SQLite) nor a neuroalign result JSON file."
            ) from None
        if kind == "neuroalign.Score/1":
            s = Score.from_dict(load_json(p, kind))
            frames.append(s.frame())
            iatc = iatc or s.iatc()
            if s.attachments.get("comparison"):
                comparisons[f"{s.model} on {s.benchmark}"] = s.comparison()
        elif kind == "neuroalign.IATCResult/1":
            iatc = iatc or IATCResult.from_json(p)
        elif kind == "neuroalign.ComparisonResult/1":
            cmp = ComparisonResult.from_json(p)
            comparisons[p.stem] = cmp
            frames.append(comparison_frame(cmp, benchmark=p.stem))
        else:
            raise DataError(
                f"{p} is a JSON file of kind {kind!r}, not a neuroalign result (Score, "
                "IATCResult or ComparisonResult)."
            )
    scores = pd.concat(frames, ignore_index=True) if frames else None
    return scores, iatc, comparisons


@app.command("report")
@_fail_cleanly
def report_cmd(
    results: Annotated[
        list[Path], typer.Argument(help="A results store (.sqlite) and/or result JSON files.")
    ],
    out_path: Annotated[Path, typer.Option("--out", "-o", help="HTML file to write.")] = Path(
        "report.html"
    ),
    title: Annotated[str, typer.Option(help="Report title.")] = "neuroalign report",
) -> None:
    """Write an HTML report of stored results (scores, IATC, comparisons)."""
    scores, iatc, comparisons = _load_results(results)
    from neuroalign.report import write_report

    path = write_report(
        out_path,
        title=title,
        iatc=iatc,
        comparisons=comparisons or None,
        scores=scores,
        provenance={"neuroalign": __version__, "sources": [str(p) for p in results]},
    )
    out.print(f"[bold]Report:[/] {path}")


@app.command("leaderboard")
@_fail_cleanly
def leaderboard_cmd(
    store: Store = None,
    benchmark: Annotated[
        str | None, typer.Option("--benchmark", "-b", help="Only this benchmark.")
    ] = None,
    direction: Annotated[
        str | None, typer.Option(help="Only this direction (forward, reverse, rsa, ...).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Rank the models in the results store: normalised score of each model's best layer."""
    from neuroalign._core.errors import DataError
    from neuroalign.bench import ResultsStore

    with ResultsStore(_store_path(store), create=False) as st:
        df = st.frame()
    if benchmark is not None:
        df = df[df["benchmark"] == benchmark]
    if direction is not None:
        df = df[df["direction"] == direction]
    if df.empty:
        raise DataError("the store holds no results for that selection; score some models first.")
    best = _best_layers(df)
    best["column"] = best["benchmark"] + " " + best["direction"]
    board = best.pivot_table(index="model", columns="column", values="normalised", aggfunc="first")
    board.insert(0, "mean", board.mean(axis=1))
    board = board.sort_values("mean", ascending=False).reset_index()
    if as_json:
        _print_json(
            {
                "leaderboard": json.loads(board.to_json(orient="records")),
                "best_layers": json.loads(best.drop(columns="column").to_json(orient="records")),
            }
        )
        return
    out.print(
        _frame_table(
            board,
            "leaderboard: normalised score at each model's best layer (selected on the same data)",
            float_fmt="{:.2f}",
        )
    )


# ------------------------------------------------------------------------------------ sweep
def _csv(values: list[str] | None) -> list[str]:
    return [v.strip() for item in values or [] for v in item.split(",") if v.strip()]


@app.command("sweep")
@_fail_cleanly
def sweep_cmd(
    models: Annotated[
        list[str] | None, typer.Option("--models", help="Zoo models (comma-separated or repeated).")
    ] = None,
    benchmarks: Annotated[
        list[str] | None,
        typer.Option("--benchmarks", help="Benchmarks (comma-separated or repeated)."),
    ] = None,
    layers: Annotated[
        list[str] | None,
        typer.Option("--layers", help="Layers for every model (default: each model's own)."),
    ] = None,
    seeds: Annotated[str, typer.Option("--seeds", help="Seeds, comma-separated.")] = "0",
    cluster: Annotated[
        str | None,
        typer.Option(
            "--cluster",
            help="local:N (Dask LocalCluster), processes:N, or a cluster file (docs/cluster.yaml).",
        ),
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Address of a running Dask scheduler.")
    ] = None,
    keep_going: Annotated[
        bool, typer.Option("--keep-going", help="Record failed tasks and go on.")
    ] = False,
    data_dir: DataDir = None,
    n_draws: NDraws = None,
    n_folds: NFolds = None,
    param: Params = None,
    store: Store = None,
    as_json: JsonFlag = False,
) -> None:
    """Score every model × layer × benchmark × seed into the results store; resumable.

    Tasks already in the store are skipped, so re-running a finished sweep does no work and an
    interrupted one resumes. Runs serially by default, or on local processes or Dask workers
    (see docs/cluster.md): each benchmark's data and each model's activations are prepared once
    and sent to every worker once; only this process writes to the store.
    """
    from neuroalign import bench
    from neuroalign.models import zoo

    model_list, bench_list = _csv(models), _csv(benchmarks)
    if not bench_list:
        raise ConfigError("give --benchmarks (see `neuroalign bench list`).")
    for m in model_list:
        zoo.info(m.partition("@seed")[0])  # NAME@seedN: an untrained model's initialisation
    for b in bench_list:
        bench.get(b)
    try:
        seed_list = [int(x) for x in _csv([seeds])]
    except ValueError:
        raise ConfigError(f"--seeds takes integers, e.g. 0,1,2; got {seeds!r}.") from None
    if cluster and scheduler:
        raise ConfigError("give --cluster or --scheduler, not both.")
    executor: Any = scheduler or "serial"
    own = None
    if cluster and cluster.endswith((".yaml", ".yml")):
        from neuroalign.bench.cluster import make_cluster

        executor = own = make_cluster(cluster)
    elif cluster:
        executor = cluster
    params = _with_common(_parse_params(param), n_draws, n_folds)
    st = _open_store(store)
    counts = {"done": 0, "skipped": 0, "failed": 0}
    from rich.progress import Progress

    progress = Progress(console=err, transient=True, disable=as_json)
    bar = progress.add_task("sweep", total=None)

    def note(task, status: str) -> None:
        counts[status] += 1
        progress.update(bar, advance=1, description=f"sweep: {counts}")

    try:
        with progress:
            report = bench.run_sweep(
                model_list,
                bench_list,
                st,
                layers=_csv(layers) or None,
                seeds=seed_list,
                params=params,
                data_dir=data_dir,
                executor=executor,
                on_error="continue" if keep_going else "raise",
                progress=note,
            )
    finally:
        if own is not None:
            own.close()
    summary = {
        "store": str(st.path),
        "done": len(report.done),
        "skipped": len(report.skipped),
        "failed": report.failed,
    }
    if as_json:
        _print_json(summary)
    else:
        out.print(
            f"sweep: {summary['done']} computed, {summary['skipped']} already stored, "
            f"{len(report.failed)} failed → {st.path}"
        )
        for key, msg in report.failed.items():
            err.print(f"[red]failed[/] {key[:12]}: {msg}", highlight=False)
    if report.failed:
        raise typer.Exit(1)


from neuroalign.twin.cli import twin_app  # noqa: E402

app.add_typer(twin_app, name="twin")
