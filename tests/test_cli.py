"""The `neuroalign` command: outputs, JSON, exit codes, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from neuroalign.cli import app

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
    assert "<html" in report.read_text().lower()
    assert out["models"]["small_cnn"]["layer"] == "conv2"
    assert any(r["layer"] == "small_cnn (conv2)" for r in out["comparison"])
    assert out["seed"] == 1 and out["n_draws"] == 2
    assert len(out["reliability"]) == 6  # 3 animals x 2 areas
    # the estimated ceilings agree with the simulation's analytical ones
    assert out["median_abs_error_vs_truth"] < 0.03
    acc = {row["transform"]: row["median_ev"] for row in out["iatc"]["accuracy"]}
    assert acc["zippering"] > acc["ridge"] > acc["one_to_one"]
    assert "one_to_one" not in out["iatc"]["selected"]
    summary = {(r["layer"], r["direction"]): r for r in out["comparison"]}
    assert not summary["held-out animal", "forward"]["distinguishable"]
    assert summary["random features", "reverse"]["distinguishable"]


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
