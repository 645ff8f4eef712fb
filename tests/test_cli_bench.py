"""The benchmark commands: score, compare, iatc, report, leaderboard, bench list; clean errors."""

from __future__ import annotations

import json
import sqlite3

import pytest
from typer.testing import CliRunner

from neuroalign.cli import app

runner = CliRunner()
SMALL = ["--n-draws", "2", "--n-folds", "3", "--param", "n_stimuli=120",
         "--param", "units_per_subject=10", "--param", "n_subjects=3"]  # fmt: skip


@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROALIGN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("NEUROALIGN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("NEUROALIGN_DATA", raising=False)


def _ok(args):
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    return res


def test_bench_list_json():
    out = json.loads(_ok(["bench", "list", "--json"]).stdout)
    ids = {b["identifier"]: b for b in out}
    assert ids["cowley2023_v4.210325"]["directions"] == ["forward", "reverse"]
    assert ids["henaff2021_v1.iatc"]["transform"] == "IATC"
    assert "ceiling" in ids["kriegeskorte2008_92.rsa"]


def test_score_store_compare_leaderboard_report(tmp_path):
    store = tmp_path / "r.sqlite"
    args = ["score", "small_cnn", "synthetic.softplus", "--layer", "relu1", *SMALL]
    first = json.loads(_ok([*args, "--store", str(store), "--json"]).stdout)
    rows = {r["direction"]: r for r in first["summary"]}
    assert set(rows) == {"forward", "reverse"} and first["from_store"] is False
    for r in rows.values():
        assert r["raw"] >= 0 and r["ceiling"] > 0 and r["normalised"] is not None
    assert first["provenance"]["seed"] == 0 and first["params"]["n_draws"] == 2
    again = json.loads(_ok([*args, "--store", str(store), "--json"]).stdout)
    assert again["from_store"] is True and again["key"] == first["key"]
    assert again["summary"] == first["summary"]
    with sqlite3.connect(store) as c:
        assert c.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 1

    cmp = ["compare", "small_cnn", "expansion_ci", "-b", "synthetic.softplus", "--layer", "relu1"]
    res = runner.invoke(app, [*cmp, *SMALL, "--store", str(store)])
    assert res.exit_code == 2 and "relu1" in res.output  # expansion_ci has no layer relu1
    out = json.loads(_ok(["compare", "small_cnn", "-b", "synthetic.softplus", "--layer", "relu1",
                          *SMALL, "--store", str(store), "--json"]).stdout)  # fmt: skip
    assert out["scores"][0]["from_store"] is True and out["ranking"] == {}  # one model: no ranking

    board = json.loads(_ok(["leaderboard", "--store", str(store), "--json"]).stdout)
    assert board["leaderboard"][0]["model"] == "small_cnn@seed0"
    assert "synthetic.softplus forward" in board["leaderboard"][0]

    score_json = tmp_path / "score.json"
    _ok([*args, "--store", str(store), "-o", str(score_json)])
    for src in (store, score_json):
        html = tmp_path / f"report-{src.suffix[1:]}.html"
        _ok(["report", str(src), "-o", str(html)])
        assert html.stat().st_size > 1000 and "small_cnn" in html.read_text()


def _strict_json(text: str):
    def refuse(name):
        raise AssertionError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def test_compare_ranks_models_with_paired_tests(tmp_path):
    """The ranking against the stored scores themselves: each model's best layer, its lead, and
    the paired p-value from the replicate differences (computed here)."""
    import numpy as np

    from neuroalign.bench import ResultsStore

    store = tmp_path / "r.sqlite"
    args = ["compare", "small_cnn", "expansion_ci", "-b", "synthetic.softplus", *SMALL]
    out = _strict_json(_ok([*args, "--store", str(store), "--json"]).stdout)
    assert set(out["ranking"]) == {"forward", "reverse"}
    with ResultsStore(store, readonly=True) as st:
        scores = {s.model: s for s in st.scores("synthetic.softplus")}
    for direction, ranking in out["ranking"].items():
        rows = ranking["models"]
        assert [r["rank"] for r in rows] == [1, 2] and rows[0]["value"] >= rows[1]["value"]
        assert 0 <= ranking["order_holds"] <= 1
        frames = {m: (f := s.frame())[f["direction"] == direction] for m, s in scores.items()}
        for r in rows:  # each model at its best layer
            best = frames[r["model"]].set_index("layer")["normalised"]
            assert r["layer"] == best.idxmax() and r["value"] == pytest.approx(best.max())
        a, b = (scores[r["model"]].bootstrap(direction, r["layer"]) for r in rows)
        d = a - b
        p = min(1.0, 2 * min(np.sum(d <= 0) + 1, np.sum(d >= 0) + 1) / (d.size + 1))
        assert rows[0]["margin"] == pytest.approx(rows[0]["value"] - rows[1]["value"])
        assert rows[0]["p_vs_next"] == pytest.approx(p)
        assert rows[1]["margin"] is None  # the last model leads nobody
    bare = _strict_json(_ok([*args, "--no-store", "--param", "n_boot=0", "--json"]).stdout)
    for ranking in bare["ranking"].values():  # no replicates: margins stay, intervals go
        assert ranking["order_holds"] is None and ranking["models"][0]["margin"] is not None
        assert ranking["models"][0]["p_vs_next"] is None
    text = " ".join(_ok([*args, "--store", str(store)]).stdout.split())  # unwrapped
    assert "lead over next" in text and "the whole order holds in" in text


def test_default_store_is_under_neuroalign_home(tmp_path):
    _ok(["score", "small_cnn", "synthetic.relu", "--layer", "pool1", *SMALL])
    assert (tmp_path / "home" / "results.sqlite").is_file()
    _ok(["leaderboard"])


def test_iatc_synthetic(tmp_path):
    args = ["iatc", "synthetic", "--candidates", "one_to_one,zippering", "--n-boot", "50",
            "--no-store", "--json", "-o", str(tmp_path / "iatc.json"), "--param", "n_areas=1"]  # fmt: skip
    out = json.loads(_ok([*args, *SMALL]).stdout)
    assert "zippering" in out["selected"] and out["summary"][0]["direction"] == "iatc"
    assert {r["transform"] for r in out["accuracy"]} == {"one_to_one", "zippering"}
    assert json.loads((tmp_path / "iatc.json").read_text())["kind"] == "neuroalign.IATCResult/1"


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["score", "nope", "synthetic.softplus"], 2, "unknown model"),
        (["score", "small_cnn", "nope"], 2, "unknown benchmark"),
        (["score", "small_cnn", "cowley2023_v4.210325"], 1, "NEUROALIGN_DATA"),
        (["score", "small_cnn", "cowley2023_v4.210325", "--data-dir", "/nonexistent"], 1, "cowley2023_v4"),
        (["score", "small_cnn", "synthetic.softplus", "--param", "bogus=1"], 2, "no parameter"),
        (["score", "small_cnn", "synthetic.softplus", "--param", "oops"], 2, "NAME=VALUE"),
        (["score", "small_cnn", "henaff2021_v1.iatc"], 2, "neuroalign iatc"),
        (["score", "small_cnn", "synthetic.softplus", "--layer", "nolayer", "--no-store"], 2, "unknown layer"),
        (["compare", "small_cnn", "nope", "-b", "synthetic.softplus"], 2, "unknown model"),
        (["compare", "small_cnn", "-b", "nope"], 2, "unknown benchmark"),
        (["score", "small_cnn", "synthetic.softplus", "--param", "max_model_units=0", "--no-store"], 2, "max_model_units must be a whole number >= 1"),
        (["leaderboard", "--store", "."], 2, "is a folder"),
        (["iatc", "cowley2023_v4"], 2, "no IATC benchmark"),
        (["iatc", "henaff2021_v1"], 1, "NEUROALIGN_DATA"),
        (["iatc", "henaff2021_v1", "--data-dir", "/nonexistent"], 1, "henaff2021"),
        (["iatc", "synthetic", "--candidates", "nope", "--no-store"], 2, "nope"),
        (["report", "/nonexistent.sqlite"], 1, "no such results file"),
        (["leaderboard", "--store", "/nonexistent.sqlite"], 1, "no results store"),
        (["demo", "--model", "nope"], 2, "unknown model"),
    ],
)  # fmt: skip
def test_bad_input_one_line_error(args, code, needle):
    res = runner.invoke(app, args)
    assert res.exit_code == code, res.output
    assert needle in res.output and "Traceback" not in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    assert len([ln for ln in res.stderr.splitlines() if ln.strip()]) == 1


def test_unreadable_results_files(tmp_path):
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"\x00\x01garbage" * 10)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"kind": "something else"}))
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    for path, needle in (
        (junk, "neither"),
        (other, "not a neuroalign result"),
        (broken, "neither"),
    ):
        res = runner.invoke(app, ["report", str(path), "-o", str(tmp_path / "r.html")])
        assert res.exit_code == 1 and needle in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["leaderboard", "--store", str(junk)])
    assert res.exit_code == 1 and "not a neuroalign results store" in res.output


def test_sweep_stores_each_task_once_and_resumes(tmp_path):
    store = tmp_path / "sweep.sqlite"
    args = ["sweep", "--models", "small_cnn@seed0,small_cnn@seed1", "--benchmarks",
            "synthetic.softplus", "--layers", "relu1,fc", "--seeds", "0", *SMALL,
            "--store", str(store), "--json"]  # fmt: skip
    first = json.loads(_ok(args).stdout)
    assert first["done"] == 4 and first["skipped"] == 0 and first["failed"] == {}
    again = json.loads(_ok(args).stdout)
    assert again["done"] == 0 and again["skipped"] == 4
    with sqlite3.connect(store) as con:
        keys = [k for (k,) in con.execute("SELECT key FROM results")]
    assert len(keys) == len(set(keys)) == 4


@pytest.mark.parametrize(
    "extra, code, match",
    [
        (["--models", "nonet", "--benchmarks", "synthetic.softplus"], 2, "nonet"),
        (["--models", "small_cnn", "--benchmarks", "nobench"], 2, "nobench"),
        (["--models", "small_cnn@seedx", "--benchmarks", "synthetic.softplus"], 2, "@seed"),
        (["--models", "small_cnn", "--benchmarks", "synthetic.softplus", "--seeds", "a"], 2, "seeds"),
        (["--models", "small_cnn", "--benchmarks", "synthetic.softplus", "--cluster", "threads:2"], 2, "executor"),
        (["--models", "small_cnn"], 2, "benchmarks"),
    ],
)  # fmt: skip
def test_sweep_bad_input_is_one_line(tmp_path, extra, code, match):
    res = runner.invoke(app, ["sweep", *extra, "--store", str(tmp_path / "s.sqlite")])
    assert res.exit_code == code, res.output
    assert match in res.output and "Traceback" not in res.output


def test_report_of_what_score_json_prints(tmp_path):
    """`score --json > s.json; report s.json` (the printed document has no per-unit table)."""
    args = ["score", "small_cnn", "synthetic.relu", "--layer", "pool1", *SMALL, "--no-store"]
    printed = json.loads(_ok([*args, "--json"]).stdout)
    assert "units" not in printed
    path = tmp_path / "s.json"
    path.write_text(json.dumps(printed))
    html = tmp_path / "r.html"
    _ok(["report", str(path), "-o", str(html)])
    from test_report import parse, table_frame

    scores = table_frame(parse(html.read_text()), "scores-table")
    assert set(scores["model"]) == {printed["model"]}
    got = scores.set_index("direction")["normalised"]
    for row in printed["summary"]:
        assert got[row["direction"]] == row["normalised"]


@pytest.mark.parametrize(
    ("doc", "needle"),
    [
        ({"kind": "neuroalign.Score/1"}, "Score document"),
        ({"kind": "neuroalign.IATCResult/1"}, "IATCResult/1 document"),
        ({"kind": "neuroalign.ComparisonResult/1"}, "ComparisonResult/1 document"),
        ([1, 2], "neither"),
    ],
)
def test_report_of_damaged_documents_is_a_data_error(tmp_path, doc, needle):
    path = tmp_path / "d.json"
    path.write_text(json.dumps(doc))
    res = runner.invoke(app, ["report", str(path), "-o", str(tmp_path / "r.html")])
    assert res.exit_code == 1, res.output
    assert needle in res.stderr and "unexpected" not in res.stderr
    assert not (tmp_path / "r.html").exists()


def test_store_path_with_markup_is_printed_literally(tmp_path):
    store = tmp_path / "run[/v1].sqlite"
    res = _ok(["score", "small_cnn", "synthetic.relu", "--layer", "pool1", *SMALL, "--store", str(store)])  # fmt: skip
    assert "run[/v1].sqlite" in " ".join(res.stdout.split())
    board = _ok(["leaderboard", "--store", str(store)])
    assert "small_cnn" in board.stdout


def test_leaderboard_shows_model_names_literally_and_the_null(tmp_path):
    """A stored model named like rich markup is shown as written; the null and interval columns
    are shown beside the score when the store has them, and absent ones change nothing."""
    import dataclasses

    from neuroalign.bench import ResultsStore, score

    s = score("small_cnn", "synthetic.relu", layers="pool1", n_draws=2, n_folds=3,
              n_stimuli=120, units_per_subject=10, n_subjects=3)  # fmt: skip
    evil = "[link=https://evil.example]evil[/link]"
    store = tmp_path / "s.sqlite"
    with ResultsStore(store) as st:
        st.put(s)
        st.put(dataclasses.replace(s, model=evil, key="0" * 64))
    res = runner.invoke(app, ["leaderboard", "--store", str(store)], env={"COLUMNS": "250"})
    assert res.exit_code == 0, res.output
    assert evil in res.stdout and "\x1b]8;" not in res.stdout
    board = json.loads(_ok(["leaderboard", "--store", str(store), "--json"]).stdout)
    assert {r["model"] for r in board["leaderboard"]} == {evil, "small_cnn@seed0"}
    # the null beside each score, as stored (when the benchmark computed one)
    for row in board["leaderboard"]:
        for d in ("forward", "reverse"):
            null = s.summary.set_index("direction")["null"].get(d) if "null" in s.summary else None
            if null is not None and null == null:
                assert row[f"synthetic.relu {d} null"] == pytest.approx(null)
                assert f"synthetic.relu {d} null" in res.stdout


def test_leaderboard_table_with_null_columns():
    import numpy as np
    import pandas as pd

    from neuroalign.cli.results import _display
    from neuroalign.report.summaries import leaderboard

    frame = pd.DataFrame(
        {
            "model": ["a", "a", "b", "b"],
            "layer": ["l1", "l2", "l1", "l2"],
            "benchmark": "bm",
            "direction": "forward",
            "raw": [1.0, 2.0, 3.0, 0.5],
            "normalised": [10.0, 20.0, np.nan, 5.0],
            "null": [0.5, 0.7, 0.2, 6.0],
            "ci_low": [9.0, 18.0, np.nan, 4.0],
            "ci_high": [11.0, 22.0, np.nan, 6.0],
            "above_null": [True, True, True, False],
        }
    )
    board, best = leaderboard(frame)
    assert list(board["model"]) == ["a", "b"]  # a: 20 at l2; b: 5 at l2 (l1 has raw 3 only)
    assert list(best["layer"]) == ["l2", "l2"]
    assert list(board.columns) == ["model", "mean", "bm forward", "bm forward null",
                                   "bm forward ci_low", "bm forward ci_high",
                                   "bm forward above_null"]  # fmt: skip
    shown = _display(board)
    assert list(shown.columns) == ["model", "mean", "bm forward", "bm forward null"]
    assert list(shown["bm forward"]) == ["20.00 [18.00, 22.00]", "5.00 [4.00, 6.00] ✗"]
    assert list(shown["bm forward null"]) == ["0.70", "6.00"]
