"""The `neuroalign` command: outputs, JSON, exit codes, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from neuroalign.cli import app
from neuroalign.errors import ConfigError

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
runner = CliRunner()


def test_help_and_version():
    res = runner.invoke(app, ["--help"])
    assert res.exit_code == 0 and "reliability" in res.output and "demo" in res.output
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and "neuroalign" in res.output


def test_datasets_list_json():
    res = runner.invoke(app, ["datasets", "list", "--json"])
    assert res.exit_code == 0
    names = [d["name"] for d in json.loads(res.stdout)]
    assert names == ["cowley2023_v4", "dualneuron_v1_twin", "henaff2021_v1", "kriegeskorte2008_92"]


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["reliability", "nope", "--data-dir", "."], 2, "unknown dataset"),
        (["datasets", "info", "nope"], 2, "unknown dataset"),
        (["reliability", "henaff2021_v1", "--data-dir", "/nonexistent-folder"], 1, "henaff2021"),
    ],
)
def test_bad_input_gives_one_line_error_and_exit_code(args, code, needle, monkeypatch):
    monkeypatch.delenv("NEUROALIGN_DATA", raising=False)
    res = runner.invoke(app, args)
    assert res.exit_code == code
    assert needle in res.output
    assert "Traceback" not in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)


def test_missing_data_dir_names_the_fix(monkeypatch):
    monkeypatch.delenv("NEUROALIGN_DATA", raising=False)
    res = runner.invoke(app, ["reliability", "henaff2021_v1"])
    assert res.exit_code == 1 and "NEUROALIGN_DATA" in res.output


def test_demo_json_recovers_the_simulated_truth(tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROALIGN_CACHE", str(tmp_path / "cache"))
    report = tmp_path / "demo" / "report.html"
    args = ["demo", "--json", "--seed", "1", "--n-draws", "2", "--model", "small_cnn"]
    res = runner.invoke(app, [*args, "-o", str(report)])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["report"] == str(report) and report.stat().st_size > 1000
    assert out["models"]["small_cnn"]["layer"] == "conv2"
    models = ["small_cnn", "true layer", "true latents (noise-free)",
              "true layer + unrelated units", "held-out animal",
              "true layer sampled like an animal", "constant layer", "row-shuffled true layer",
              "rank-1 true layer", "random features"]  # fmt: skip
    assert {(r["model"], r["layer"]) for r in out["comparison"]} == {
        (m, "conv2" if m == "small_cnn" else "-") for m in models
    }
    assert out["seed"] == 1 and out["n_draws"] == 2
    assert len(out["reliability"]) == 6  # 3 animals x 2 areas
    # the estimated ceilings agree with the simulation's analytical ones
    assert out["median_abs_error_vs_truth"] < 0.03
    acc = {row["transform"]: row["median_ev"] for row in out["iatc"]["accuracy"]}
    assert acc["zippering"] > acc["ridge"] > acc["one_to_one"]
    assert "one_to_one" not in out["iatc"]["selected"]
    summary = {(r["model"], r["direction"]): r for r in out["comparison"]}
    assert not summary["held-out animal", "forward"]["distinguishable"]
    assert summary["random features", "reverse"]["distinguishable"]
    # the ground-truth controls: ceilings, the IATC, two masqueraders, four impostors, the truth
    controls = {c["control"]: c["passed"] for c in out["controls"]}
    assert set(controls) == {"noise ceilings", "inter-animal transform class", "held-out animal",
                             "true layer sampled like an animal", "constant layer",
                             "row-shuffled true layer", "rank-1 true layer", "random features",
                             "true latents (noise-free)"}  # fmt: skip
    assert out["passed"] and all(controls.values())
    for m in ("held-out animal", "true layer sampled like an animal"):
        assert summary[m, "forward"]["masquerades"] and summary[m, "reverse"]["masquerades"]
    for m in ("constant layer", "row-shuffled true layer", "rank-1 true layer", "random features"):
        assert not summary[m, "forward"]["masquerades"]
    fwd = {m: summary[m, "forward"]["model_median_ev"] for m in models}
    assert fwd["true latents (noise-free)"] >= fwd["held-out animal"]
    assert set(out["timings"]) >= {"iatc", "compare", "report"}

    # the report names the models (not the area) in its model columns, one row per model
    from test_report import parse, table_frame

    p = parse(report.read_text())
    masq = table_frame(p, "masquerade-table", values=False)
    assert sorted(masq["model"]) == sorted(models * 2)  # forward and reverse
    assert set(masq["area"]) == {out["area"]} != set(masq["model"])
    units = table_frame(p, "units-table", values=False)
    assert sorted(units["model"]) == sorted(models)
    assert dict(zip(units["model"], units["layer"], strict=True))["small_cnn"] == "conv2"
    # every model was compared at one layer: no layer profile joins them into a line
    assert not p.sections["layers"]["imgs"] and "single layer" in p.sections["layers"]["notes"][0]
    assert len(p.sections["scores"]["imgs"]) == 1  # the ranking
    controls = table_frame(p, "extra-2-table", values=False)
    assert list(controls["passed"]) == ["yes"] * 9


@pytest.mark.parametrize(
    ("kw", "match"),
    [({"models": ["nope"]}, "unknown model"), ({"seed": -1}, "seed"), ({"n_draws": 0}, "n_draws")],
)
def test_demo_library_refuses_bad_arguments_before_any_work(kw, match, tmp_path):
    from neuroalign import demo

    with pytest.raises(ConfigError, match=match):
        demo.run(report=tmp_path / "r.html", **kw)
    assert not (tmp_path / "r.html").exists()


@pytest.mark.skipif(not DATA.is_dir(), reason=f"real data not found at {DATA}")
def test_reliability_henaff_per_monkey_json():
    res = runner.invoke(
        app, ["reliability", "henaff2021_v1", "--data-dir", str(DATA), "--json", "--n-splits", "5"]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    summary = {row["subject"]: row for row in out["summary"]}
    assert sorted(summary) == ["ay2", "ay3", "ay4", "ay5"]
    assert sum(row["n_units"] for row in summary.values()) == 360
    medians = [row["median"] for row in summary.values()]
    per_unit = {}
    for u in out["units"]:
        per_unit.setdefault(u["subject"], []).append(u["reliability"])
    for subject, values in per_unit.items():
        assert summary[subject]["median"] == pytest.approx(float(np.median(values)))
    assert all(0.0 < m < 1.0 for m in medians)


# ---------------------------------------------------------------------- one-line errors, help
COMMANDS = [[], ["datasets"], ["datasets", "list"], ["datasets", "info"], ["reliability"],
            ["iatc"], ["demo"], ["bench"], ["bench", "list"], ["score"], ["compare"], ["report"],
            ["leaderboard"], ["sweep"], ["twin"], ["twin", "poles"]]  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "neuroalign")
def test_help_everywhere(command):
    res = runner.invoke(app, [*command, "--help"])
    assert res.exit_code == 0, res.output
    assert "Usage:" in res.output and "--help" in res.output


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["score"], "Missing argument"),
        (["score", "small_cnn", "synthetic.relu", "--bogus"], "No such option: --bogus"),
        (["demo", "--seed", "x"], "valid integer"),
        (["demo", "--seed", "-1"], "--seed"),
        (["demo", "--n-draws", "0"], "--n-draws"),
        (["iatc", "synthetic", "--n-boot", "0", "--no-store"], "--n-boot"),
        (["twin", "poles", "--steps", "0"], "--steps"),
        (["nosuchcommand"], "No such command"),
        (["datasets", "nosuch"], "No such command"),
        (["score", "small_cnn", "synthetic.relu", "--store"], "requires an argument"),
    ],
)
def test_usage_errors_are_one_line_with_exit_2(args, needle):
    res = runner.invoke(app, args)
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], lines
    assert "--help" in lines[0]  # where to read more
    assert "╭" not in res.output and "Traceback" not in res.output and not res.stdout


# ------------------------------------------------------------------------------ rich markup
@pytest.mark.parametrize(
    ("args", "literal"),
    [
        (["score", "[/x]", "synthetic.relu"], "'[/x]'"),
        (["score", "small_cnn", "[link=https://evil.example]b[/link]"], "[link=https://evil.example]b[/link]"),
        (["datasets", "info", "[bold]d[/bold]"], "'[bold]d[/bold]'"),
        (["reliability", "[/x]", "--data-dir", "."], "'[/x]'"),
        (["report", "/nonexistent/[/v1].sqlite"], "/nonexistent/[/v1].sqlite"),
        (["leaderboard", "--store", "/nonexistent/[red]s[/red].sqlite"], "[red]s[/red].sqlite"),
        (["twin", "poles", "--neurons", "[/x]"], "'[/x]'"),
    ],
)  # fmt: skip
def test_user_text_is_printed_literally(args, literal):
    res = runner.invoke(app, args)
    assert res.exit_code in (1, 2), res.output
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and literal in lines[0], lines
    assert "MarkupError" not in res.output and "unexpected" not in res.output


# --------------------------------------------------------------------------------- twin poles
def test_twin_neuron_ranges_are_checked_before_expanding_or_loading():
    # no data folder: the range is refused first, without building a billion-element list
    res = runner.invoke(
        app, ["twin", "poles", "--neurons", "0-1000000000", "--data-dir", "/nonexistent"]
    )
    assert res.exit_code == 2, res.output
    assert "1000000000 is out of range" in res.stderr and "458 neurons" in res.stderr


def test_parse_neurons():
    from neuroalign.cli.twin import parse_neurons

    assert parse_neurons("0,5,9", 10) == [0, 5, 9]
    assert parse_neurons("7, 0-3,2", 10) == [7, 0, 1, 2, 3]  # order kept, repeats dropped
    assert parse_neurons("0-9,0-9,0-9", 10) == list(range(10))
    for text, match in (
        ("", "empty"),
        ("5-2", "empty"),
        ("-3", "cannot read"),
        ("a", "cannot read"),
        ("1-", "cannot read"),
        ("0-10", "out of range"),
        (f"0-{10**18}", "out of range"),
    ):
        with pytest.raises(ConfigError, match=match):
            parse_neurons(text, 10)


def test_unwritable_outputs_are_refused_before_any_work(tmp_path):
    (tmp_path / "file").write_text("x")
    for args, needle in (
        (["demo", "-o", str(tmp_path / "file" / "r.html")], "cannot be written"),
        (["demo", "-o", str(tmp_path)], "is a folder"),
        (["score", "small_cnn", "synthetic.relu", "--no-store", "-o", str(tmp_path)], "folder"),
        (["iatc", "synthetic", "--no-store", "-o", str(tmp_path / "file" / "i.json")], "cannot"),
        (["twin", "poles", "--neurons", "0", "--out", str(tmp_path / "file")], "is a file"),
    ):
        res = runner.invoke(app, args)
        assert res.exit_code == 2, (args, res.output)
        lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and needle in lines[0], lines
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]
