"""``neuroalign score`` and ``neuroalign compare``: models on registered benchmarks, via the store.

A result already in the results store is read from it (``--recompute`` to redo it); a new one is
stored. A store that stays busy keeps the result in its spool, and the command says where.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from neuroalign._core.errors import ConfigError
from neuroalign.cli import own
from neuroalign.cli.common import (
    DataDir,
    Device,
    JsonFlag,
    JsonOut,
    Layers,
    NDraws,
    NFolds,
    NoStore,
    Params,
    Recompute,
    Seed,
    Store,
    check_output,
    err,
    esc,
    frame_table,
    open_store,
    out,
    parse_params,
    print_json,
    records,
    spool_notes,
    store_path,
    write_text,
)

app = typer.Typer()

Benchmark = Annotated[
    str, typer.Option("--benchmark", "-b", help="Benchmark (see `neuroalign bench list`).")
]


def score_or_load(model, benchmark: str, *, store, recompute: bool, label: str, **kw):
    """``(Score, from_store)``: the stored Score when its key is in ``store`` (unless
    ``recompute``), else computed by :func:`neuroalign.bench.score` and put in ``store``."""
    from neuroalign.bench import score, score_key

    params = kw.pop("params", {})
    key = score_key(model, benchmark, layers=kw.get("layers"), seed=kw.get("seed", 0), **params)
    if store is not None and not recompute and store.has(key):
        return store.get(key), True
    with err.status(esc(label)):
        s = score(model, benchmark, **kw, **params)
    if store is not None:
        store.put(s)
    return s, False


def score_json(s, from_store: bool, spooled: list[str] = ()) -> dict[str, Any]:
    """A Score for ``--json``: its document without the per-unit table and attachments (``-o``
    writes those), the summary as records, whether it came from the store and any spool file."""
    d = s.to_dict()
    d.pop("units")
    d.pop("attachments")
    d["summary"] = records(s.summary)
    d["from_store"] = from_store
    if spooled:
        d["spooled"] = list(spooled)
    return d


def where_stored(s, store, cached: bool, spooled: list[str]) -> None:
    """Say on stdout where the result came from or went (never when it went to the spool: that
    was said on stderr)."""
    if cached:
        out.print(
            f"[dim]from the store {esc(store.path)} (key {s.key[:12]}…; --recompute to redo)[/]"
        )
    elif store is not None and not spooled:
        out.print(f"[dim]stored in {esc(store.path)} (key {s.key[:12]}…)[/]")


def _model_benchmark(benchmark: str):
    from neuroalign import bench

    bm = bench.get(benchmark)
    if not bm.needs_model:
        raise ConfigError(
            f"{benchmark} is neural only; run `neuroalign iatc {bm.dataset}` instead."
        )
    return bm


def _score_table(s):
    cols = ["layer", "direction", "raw", "ceiling", "normalised", "error", "n_valid"]
    df = s.summary[[c for c in cols if c in s.summary]].copy()
    if s.summary["masquerade_ratio"].notna().any():
        df["masquerade"] = s.summary["masquerade_ratio"]
        df["pct"] = s.summary["percentile"]
    return frame_table(df, f"{s.model} on {s.benchmark} v{s.benchmark_version} (seed {s.seed})")


@app.command("score")
def score_cmd(
    model: Annotated[str, typer.Argument(help="Zoo model name (e.g. efficientnet_lite0).")],
    benchmark: Annotated[
        str | None,
        typer.Argument(help="Benchmark (see `neuroalign bench list`); omit with --responses."),
    ] = None,
    responses: own.Responses = None,
    stimuli: own.Stimuli = None,
    repeats_axis: own.RepeatsAxis = None,
    ids: own.Ids = None,
    window: own.Window = None,
    ceiling: own.Ceiling = "split_half",
    layer: Layers = None,
    data_dir: DataDir = None,
    seed: Seed = 0,
    device: Device = None,
    n_draws: NDraws = None,
    n_folds: NFolds = None,
    param: Params = None,
    store: Store = None,
    no_store: NoStore = False,
    recompute: Recompute = False,
    out_path: JsonOut = None,
    as_json: JsonFlag = False,
) -> None:
    """Score a model on a benchmark, or on your own recording: raw score, ceiling, normalised
    score, error, provenance.

    Your recording: `neuroalign score MODEL --responses FILE --stimuli DIR|ZIP` (one subject: the
    model's forward and reverse scores without an animal baseline; several subjects with repeats:
    also the animal baseline and masquerade).
    """
    from neuroalign.models import zoo

    given = {"--stimuli": stimuli, "--repeats-axis": repeats_axis, "--ids": ids}
    given |= {"--window": window, "--ceiling": None if ceiling == "split_half" else ceiling}
    if responses is not None and benchmark is not None:
        raise ConfigError("give a BENCHMARK or --responses FILE, not both.")
    if responses is None:
        if benchmark is None:
            raise ConfigError(
                "give a BENCHMARK (see `neuroalign bench list`) or your recording with "
                "--responses FILE --stimuli DIR."
            )
        extra = [k for k, v in given.items() if v is not None]
        if extra:
            raise ConfigError(f"{', '.join(extra)} apply to --responses only.")
    zoo.info(model)
    params = parse_params(param, n_draws, n_folds)
    if out_path is not None:
        check_output(
            out_path,
            inputs=[p for p in (responses, ids) if p is not None],
            stores=[] if no_store else [store_path(store)],
        )
    if responses is None:
        bm = _model_benchmark(benchmark)
    else:
        bm = own.own_benchmark(
            responses, stimuli, repeats_axis=repeats_axis, ids=ids, window=window, ceiling=ceiling
        )
    bm.params(params)
    st = None if no_store else open_store(store)
    spooled: list[str] = []
    with spool_notes(spooled):
        s, cached = score_or_load(
            model,
            bm if responses is not None else benchmark,
            store=st,
            recompute=recompute,
            label=f"scoring {model} on {bm.identifier}…",
            layers=layer,
            seed=seed,
            data_dir=data_dir,
            params=params,
            progress=not as_json,
        )
    if out_path is not None:
        write_text(out_path, s.to_json())
    if as_json:
        print_json(score_json(s, cached, spooled))
        return
    out.print(_score_table(s))
    if responses is not None:
        out.print(f"[dim]{esc(bm.description)} Ceiling: {esc(bm.ceiling)}.[/]")
    where_stored(s, st, cached, spooled)


@app.command("compare")
def compare_cmd(
    models: Annotated[list[str], typer.Argument(help="Zoo model names.")],
    benchmark: Benchmark,
    layer: Layers = None,
    data_dir: DataDir = None,
    seed: Seed = 0,
    device: Device = None,
    n_draws: NDraws = None,
    n_folds: NFolds = None,
    param: Params = None,
    store: Store = None,
    no_store: NoStore = False,
    recompute: Recompute = False,
    as_json: JsonFlag = False,
) -> None:
    """Score several models on one benchmark and put them side by side (best layer each).

    With two or more models, a ranking per direction: how often each model keeps its rank over
    the bootstrap replicates, and a paired bootstrap test of each model against the next one down
    (the scores share their resamples, so the margin's interval is the paired one).
    """
    import pandas as pd

    from neuroalign.models import zoo
    from neuroalign.report.summaries import best_layers

    bm = _model_benchmark(benchmark)
    for m in models:
        zoo.info(m)
    params = parse_params(param, n_draws, n_folds)
    bm.params(params)
    st = None if no_store else open_store(store)
    scores, spooled = [], []
    with spool_notes(spooled):
        for i, m in enumerate(models, 1):
            s, cached = score_or_load(
                m,
                benchmark,
                store=st,
                recompute=recompute,
                label=f"[{i}/{len(models)}] scoring {m} on {benchmark}…",
                layers=layer,
                seed=seed,
                data_dir=data_dir,
                params=params,
                progress=False,
            )
            scores.append((s, cached))
    rankings = _rankings([s for s, _ in scores])
    if as_json:
        print_json(
            {
                "scores": [score_json(s, c) for s, c in scores],
                "ranking": {
                    d: {"order_holds": t.attrs["order_holds"], "models": records(t)}
                    for d, t in rankings.items()
                },
            }
        )
        return
    best = best_layers(pd.concat([s.frame() for s, _ in scores], ignore_index=True))
    cols = ["model", "direction", "layer", "raw", "ceiling", "normalised", "error"]
    cols += [c for c in ("null", "ci_low", "ci_high", "above_null") if c in best]
    out.print(
        frame_table(
            best[cols],
            f"{benchmark}: each model at its best layer per direction (chosen on these data)",
        )
    )
    for direction, table in rankings.items():
        holds = table.attrs["order_holds"]
        out.print(
            frame_table(
                _ranking_display(table),
                f"{direction}: ranking; rank holds = share of bootstrap replicates keeping the "
                f"rank; lead = margin over the next model, its paired 95 % interval and p"
                + (
                    f"; the whole order holds in {100 * holds:.0f} %"
                    if holds == holds
                    else "; this direction has no bootstrap replicates, so no interval"
                ),
            )
        )


def _ranking_display(table):
    """A :func:`~neuroalign.bench.rank_stability` table for a terminal, the lead in one column."""
    lead = [
        "—" if m != m else f"{m:.2f} [{lo:.2f}, {hi:.2f}] p={p:.3g}" if p == p else f"{m:.2f}"
        for m, lo, hi, p in table[
            ["margin", "margin_ci_low", "margin_ci_high", "p_vs_next"]
        ].to_numpy()  # fmt: skip
    ]
    holds = ["—" if h != h else f"{100 * h:.0f} %" for h in table["rank_holds"]]
    shown = table[["rank", "model", "layer", "value"]].assign(**{"rank holds": holds})
    return shown.assign(**{"lead over next": lead})


def _rankings(scores) -> dict:
    """Direction → :func:`~neuroalign.bench.rank_stability` table of two or more scores."""
    from neuroalign.bench import best_layer, rank_stability

    directions = dict.fromkeys(d for s in scores for d in s.summary["direction"].dropna())
    return {
        d: rank_stability(scores, d)
        for d in directions
        if sum(best_layer(s, d) is not None for s in scores) >= 2
    }


__all__ = ["app", "score_json", "score_or_load", "where_stored"]
