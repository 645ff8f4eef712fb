"""``neuroalign datasets list|info`` and ``neuroalign bench list``: what the registries hold."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from neuroalign.cli.common import DataDir, JsonFlag, esc, out, print_json

datasets_app = typer.Typer(
    help="List and describe the datasets neuroalign can load.", no_args_is_help=True
)
bench_app = typer.Typer(help="The registered benchmarks.", no_args_is_help=True)


@datasets_app.command("list")
def datasets_list(as_json: JsonFlag = False) -> None:
    """List the registered datasets."""
    from neuroalign import datasets

    infos = [datasets.info(n) for n in datasets.names()]
    if as_json:
        print_json([{"name": i.name, "title": i.title, "has_images": i.has_images} for i in infos])
        return
    table = Table(title="neuroalign datasets", title_justify="left")
    for col in ("name", "title", "images"):
        table.add_column(col)
    for i in infos:
        table.add_row(Text(i.name), Text(i.title), "yes" if i.has_images else "no")
    out.print(table)


@datasets_app.command("info")
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
        print_json({**info.to_dict(), "status": status})
        return
    out.print(f"[bold]{esc(info.name)}[/] — {esc(info.title)}")
    out.print(Text(info.description))
    out.print(f"[bold]Citation:[/] {esc(info.citation)}")
    out.print(f"[bold]License:[/] {esc(info.license)}")
    out.print(f"[bold]Folder:[/] {esc(status['folder'])}  ({esc(status['state'])})")
    if status["missing"]:
        out.print(f"[bold]Missing files:[/] {esc(', '.join(status['missing']))}")
        out.print(f"[bold]Get it:[/] {esc(info.how_to_obtain)}")


@bench_app.command("list")
def bench_list(as_json: JsonFlag = False) -> None:
    """List the registered benchmarks."""
    from neuroalign import bench

    bms = bench.all_benchmarks()
    if as_json:
        print_json([b.to_dict() for b in bms])
        return
    table = Table(title="neuroalign benchmarks", title_justify="left")
    for col in ("benchmark", "version", "kind", "transform", "directions"):
        table.add_column(col, no_wrap=col == "benchmark")
    for b in bms:
        cells = (b.identifier, b.version, b.kind, b.transform, ", ".join(b.directions))
        table.add_row(*(Text(str(c)) for c in cells))
    out.print(table)
    out.print("[dim]ceilings, citations and parameters: `neuroalign bench list --json`[/]")
