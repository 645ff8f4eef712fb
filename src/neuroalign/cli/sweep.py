"""``neuroalign sweep``: every model × layer × benchmark × seed into the results store; resumable."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from neuroalign._core.errors import ConfigError
from neuroalign.cli.common import (
    DataDir,
    Device,
    JsonFlag,
    NDraws,
    NFolds,
    Params,
    Store,
    csv,
    err,
    esc,
    open_store,
    out,
    parse_params,
    print_json,
    spool_notes,
)

app = typer.Typer()

CsvOption = list[str] | None


@app.command("sweep")
def sweep_cmd(
    models: Annotated[
        CsvOption, typer.Option("--models", help="Zoo models (comma-separated or repeated).")
    ] = None,
    benchmarks: Annotated[
        CsvOption, typer.Option("--benchmarks", help="Benchmarks (comma-separated or repeated).")
    ] = None,
    layers: Annotated[
        CsvOption,
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
    device: Device = None,
    as_json: JsonFlag = False,
) -> None:
    """Score every model × layer × benchmark × seed into the results store; resumable.

    Tasks already in the store are skipped, so re-running a finished sweep does no work and an
    interrupted one resumes. Runs serially by default, or on local processes or Dask workers
    (see docs/cluster.md): each benchmark's data and each model's activations are prepared once
    and sent to every worker once; only this process writes to the store.
    """
    from rich.progress import Progress

    from neuroalign import bench
    from neuroalign.models import zoo

    model_list, bench_list = csv(models), csv(benchmarks)
    if not bench_list:
        raise ConfigError("give --benchmarks (see `neuroalign bench list`).")
    for m in model_list:
        zoo.info(m.partition("@seed")[0])  # NAME@seedN: an untrained model's initialisation
    for b in bench_list:
        bench.get(b)
    try:
        seed_list = [int(x) for x in csv([seeds])]
    except ValueError:
        raise ConfigError(f"--seeds takes integers, e.g. 0,1,2; got {seeds!r}.") from None
    if not seed_list or min(seed_list) < 0:
        raise ConfigError(f"--seeds takes non-negative integers, e.g. 0,1,2; got {seeds!r}.")
    if cluster and scheduler:
        raise ConfigError("give --cluster or --scheduler, not both.")
    params = parse_params(param, n_draws, n_folds)
    st = open_store(store)
    executor: Any = scheduler or "serial"
    own = None
    if cluster and cluster.endswith((".yaml", ".yml")):
        from neuroalign.bench.cluster import make_cluster

        executor = own = make_cluster(cluster)
    elif cluster:
        executor = cluster
    counts = {"done": 0, "skipped": 0, "failed": 0}
    progress = Progress(console=err, transient=True, disable=as_json)
    bar = progress.add_task("sweep", total=None)

    def note(task, status: str) -> None:
        counts[status] += 1
        progress.update(bar, advance=1, description=esc(f"sweep: {counts}"))

    spooled: list[str] = []
    try:
        with progress, spool_notes(spooled):
            report = bench.run_sweep(
                model_list,
                bench_list,
                st,
                layers=csv(layers) or None,
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
        "spooled": spooled,
    }
    if as_json:
        print_json(summary)
    else:
        out.print(
            f"sweep: {summary['done']} computed, {summary['skipped']} already stored, "
            f"{len(report.failed)} failed → {esc(st.path)}"
        )
        for key, msg in report.failed.items():
            err.print(f"[red]failed[/] {key[:12]}: {esc(msg)}", soft_wrap=True)
    if report.failed:
        raise typer.Exit(1)
