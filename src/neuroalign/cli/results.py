"""``neuroalign report`` and ``neuroalign leaderboard``: read stored results, never write them.

Stores are opened read-only (nothing created, migrated or locked; a read-only folder is fine); an
output file that is one of the inputs is refused before anything is read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from neuroalign._core.errors import DataError
from neuroalign._core.version import __version__
from neuroalign.cli.common import (
    JsonFlag,
    Store,
    check_output,
    esc,
    frame_table,
    open_store,
    out,
    print_json,
    records,
)

app = typer.Typer()


@app.command("report")
def report_cmd(
    results: Annotated[
        list[Path], typer.Argument(help="Results stores (.sqlite) and/or result JSON files.")
    ],
    out_path: Annotated[Path, typer.Option("--out", "-o", help="HTML file to write.")] = Path(
        "report.html"
    ),
    title: Annotated[str, typer.Option(help="Report title.")] = "neuroalign report",
) -> None:
    """Write an HTML report of stored results (scores, IATC, comparisons)."""
    from neuroalign.report import load_results, write_report

    # an input store's journal and spool files are inputs too
    check_output(out_path, inputs=results, stores=[p for p in results if p.is_file()])
    res = load_results(results)
    path = write_report(
        out_path,
        title=title,
        iatc=res.iatc,
        comparisons=res.comparisons or None,
        scores=res.scores,
        provenance={"neuroalign": __version__, "sources": [str(p) for p in results]},
    )
    out.print(f"[bold]Report:[/] {esc(path)}")


@app.command("leaderboard")
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
    """Rank the models in the results store by the score of each model's best layer.

    The score is the normalised one (raw where the data have no ceiling); its null (row-permuted
    features) and interval are shown beside it when the store has them.
    """
    from neuroalign.report.summaries import leaderboard

    with open_store(store, readonly=True) as st:
        df = st.frame()
    if benchmark is not None:
        df = df[df["benchmark"] == benchmark]
    if direction is not None:
        df = df[df["direction"] == direction]
    board, best = leaderboard(df)
    if board.empty:
        raise DataError(
            "the store holds no scores for that selection; score some models first "
            "(`neuroalign score MODEL BENCHMARK`) or check --benchmark and --direction."
        )
    if as_json:
        print_json({"leaderboard": records(board), "best_layers": records(best)})
        return
    out.print(
        frame_table(
            _display(board),
            "leaderboard: score at each model's best layer (selected on the same data)",
            float_fmt="{:.2f}",
        )
    )
    if any(c.endswith(" above_null") for c in board.columns):
        out.print(Text("✗: not above its null (the same pipeline on row-permuted features)"))


_EXTRAS = (" null", " ci_low", " ci_high", " above_null")


def _display(board):
    """The board for a terminal: each score with its interval (and ✗ when not above its null),
    its null in the next column."""
    import pandas as pd

    def num(v) -> str:
        return "—" if pd.isna(v) else f"{v:.2f}"

    shown = board[["model", "mean"]].copy()
    for col in [c for c in board.columns[2:] if not c.endswith(_EXTRAS)]:
        text = board[col].map(num)
        if f"{col} ci_low" in board and f"{col} ci_high" in board:
            lo, hi = board[f"{col} ci_low"], board[f"{col} ci_high"]
            text += [
                "" if pd.isna(a) or pd.isna(b) else f" [{a:.2f}, {b:.2f}]"
                for a, b in zip(lo, hi, strict=True)
            ]
        if f"{col} above_null" in board:
            text += board[f"{col} above_null"].map(
                lambda v: " ✗" if not pd.isna(v) and not bool(v) else ""
            )
        shown[col] = text
        if f"{col} null" in board:
            shown[f"{col} null"] = board[f"{col} null"].map(num)
    return shown
