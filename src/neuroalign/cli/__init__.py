"""The ``neuroalign`` command (typer + rich). Holds no science: it calls the library and prints.

One module per command group (:mod:`~neuroalign.cli.catalog`, :mod:`~neuroalign.cli.neural`,
:mod:`~neuroalign.cli.scoring`, :mod:`~neuroalign.cli.results`, :mod:`~neuroalign.cli.sweep`,
:mod:`~neuroalign.cli.demo`, :mod:`~neuroalign.cli.twin`) and one shared module of options,
printers and error handling (:mod:`~neuroalign.cli.common`).

Exit codes: 0 success; 1 bad data (missing, corrupt or unusable files, unreadable results, a
failed ground-truth control of the demo); 2 bad usage or parameters (unknown model, benchmark,
dataset, option value; an output that would overwrite an input or the results store); 130
interrupted. Errors are one line on stderr, never a traceback; ``--json`` output goes to stdout
and progress to stderr.
"""

from __future__ import annotations

from typing import Annotated

import typer

from neuroalign._core.version import __version__
from neuroalign.cli import catalog, demo, neural, results, scoring, sweep, twin
from neuroalign.cli.common import OneLineErrors, out

__all__ = ["app"]

app = typer.Typer(
    name="neuroalign",
    cls=OneLineErrors,
    help="How brain-like is this neural network, and in which way?",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


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


app.add_typer(catalog.datasets_app, name="datasets")
app.add_typer(neural.app)  # reliability, iatc
app.add_typer(demo.app)
app.add_typer(catalog.bench_app, name="bench")
app.add_typer(scoring.app)  # score, compare
app.add_typer(results.app)  # report, leaderboard
app.add_typer(sweep.app)
app.add_typer(twin.twin_app, name="twin")
