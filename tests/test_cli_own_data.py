"""`neuroalign score MODEL --responses FILE --stimuli DIR|ZIP`: your own recording from the command
line (.npy, a saved NeuralData .h5, repeat-averaged arrays, an NWB file written here with pynwb),
scored exactly as the library scores it."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from neuroalign import bench
from neuroalign.cli import app
from neuroalign.data.files import read_responses
from neuroalign.data.stimuli import StimulusSet
from neuroalign.data.synthetic import make_population

runner = CliRunner()
FAST = ["--layer", "pool1", "--n-draws", "2", "--n-folds", "3", "--no-store", "--json"]
PARAMS = {"layers": "pool1", "n_draws": 2, "n_folds": 3}


@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROALIGN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("NEUROALIGN_HOME", str(tmp_path / "home"))


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    """One subject's responses to 48 images, the images as PNG files (a folder and a zip)."""
    d = tmp_path_factory.mktemp("own")
    pop = make_population(
        n_subjects=1, n_areas=1, units_per_subject=8, n_stimuli=48, n_repeats=4, seed=3
    )
    (d / "imgs").mkdir()
    with zipfile.ZipFile(d / "imgs.zip", "w") as zf:
        for i, im in enumerate(pop.stimuli.images()):
            Image.fromarray(im).save(d / "imgs" / f"im{i:02d}.png")
            zf.write(d / "imgs" / f"im{i:02d}.png", f"im{i:02d}.png")
    np.save(d / "resp.npy", pop.data.responses)
    np.save(d / "avg.npy", pop.data.responses.mean(axis=2))
    return d, pop


def run(*args) -> dict:
    res = runner.invoke(app, ["score", "small_cnn", *map(str, args), *FAST])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def library(data, stimuli, **kw) -> list[dict]:
    bm = bench.from_data(data, stimuli, name="lib", **kw)
    s = bench.score("small_cnn", bm, **PARAMS)
    return json.loads(s.summary.to_json(orient="records"))


def same_scores(printed: dict, want: list[dict]) -> None:
    got = {r["direction"]: r for r in printed["summary"]}
    assert set(got) == {"forward", "reverse"}
    for w in want:
        for col in ("raw", "ceiling", "normalised", "n_units", "n_valid"):
            assert got[w["direction"]][col] == w[col], (w["direction"], col)


@pytest.mark.parametrize("images", ["imgs", "imgs.zip"])
def test_an_array_and_a_folder_or_zip_of_images(recording, images):
    d, pop = recording
    out = run("--responses", d / "resp.npy", "--stimuli", d / images)
    assert out["benchmark"] == "own.resp" and out["model"] == "small_cnn@seed0"
    assert "without an animal baseline" in out["provenance"]["benchmark"]["description"]
    stimuli = StimulusSet.from_folder(d / "imgs")
    same_scores(out, library(read_responses(d / "resp.npy", stimulus_ids=stimuli), stimuli))


def test_rows_named_by_an_ids_file_in_any_order(recording, tmp_path):
    d, pop = recording
    order = np.random.default_rng(0).permutation(48)
    np.save(tmp_path / "shuffled.npy", pop.data.responses[order])
    (tmp_path / "ids.csv").write_text("stimulus_id\n" + "".join(f"im{i:02d}\n" for i in order))
    out = run("--responses", tmp_path / "shuffled.npy", "--ids", tmp_path / "ids.csv",
              "--stimuli", d / "imgs")  # fmt: skip
    stimuli = StimulusSet.from_folder(d / "imgs", ids="name")
    data = read_responses(tmp_path / "shuffled.npy", stimulus_ids=tmp_path / "ids.csv")
    assert list(data.stimulus_ids) == [f"im{i:02d}" for i in order]
    same_scores(out, library(data, stimuli))


def test_an_hdf5_file_with_its_ids(recording, tmp_path):
    import h5py

    d, pop = recording
    with h5py.File(tmp_path / "rec.h5", "w") as f:
        f["responses"] = pop.data.responses
        f["stimulus_ids"] = [f"im{i:02d}" for i in range(48)]  # the rows' images, by name
    out = run("--responses", tmp_path / "rec.h5", "--stimuli", d / "imgs.zip")
    stimuli = StimulusSet.from_folder(d / "imgs", ids="name")
    same_scores(out, library(read_responses(tmp_path / "rec.h5"), stimuli))


def test_repeat_averaged_data_need_an_explicit_ceiling(recording):
    d, _ = recording
    res = runner.invoke(app, ["score", "small_cnn", "--responses", str(d / "avg.npy"),
                              "--stimuli", str(d / "imgs"), *FAST])  # fmt: skip
    assert res.exit_code == 2 and "--ceiling none" in res.stderr
    out = run("--responses", d / "avg.npy", "--stimuli", d / "imgs", "--ceiling", "none")
    assert all(r["ceiling"] is None and r["raw"] is not None for r in out["summary"])
    stimuli = StimulusSet.from_folder(d / "imgs")
    data = read_responses(d / "avg.npy", stimulus_ids=stimuli)
    same_scores(out, library(data, stimuli, ceiling=None))


def test_an_nwb_file(recording, tmp_path):
    pynwb = pytest.importorskip("pynwb")
    d, pop = recording
    counts = pop.data.responses  # (stimuli, units, repeats), Poisson counts
    rng = np.random.default_rng(1)
    f = pynwb.NWBFile(session_description="own", identifier="own",
                      session_start_time=datetime(2024, 1, 1, tzinfo=UTC))  # fmt: skip
    f.add_trial_column("stimulus_id", "image shown")
    spikes = [[] for _ in range(counts.shape[1])]
    t = 0.0
    for r in range(counts.shape[2]):
        for s in range(counts.shape[0]):
            f.add_trial(start_time=t, stop_time=t + 0.3, stimulus_id=f"im{s:02d}")
            for u in range(counts.shape[1]):
                spikes[u] += list(t + rng.uniform(0.05, 0.25, int(counts[s, u, r])))
            t += 0.5
    for u, times in enumerate(spikes):
        f.add_unit(spike_times=sorted(times), id=u)
    with pynwb.NWBHDF5IO(str(tmp_path / "rec.nwb"), "w") as io:
        io.write(f)

    res = runner.invoke(app, ["score", "small_cnn", "--responses", str(tmp_path / "rec.nwb"),
                              "--stimuli", str(d / "imgs"), *FAST])  # fmt: skip
    assert res.exit_code == 2 and "--window" in res.stderr
    out = run("--responses", tmp_path / "rec.nwb", "--stimuli", d / "imgs", "--window", "50:250ms")
    data = read_responses(tmp_path / "rec.nwb", window="50:250ms")
    np.testing.assert_array_equal(data.responses, counts)  # every spike counted once
    same_scores(out, library(data, StimulusSet.from_folder(d / "imgs", ids="name")))


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["--responses", "r.npy"], 2, "needs --stimuli"),
        (["synthetic.relu", "--responses", "r.npy", "--stimuli", "."], 2, "not both"),
        (["synthetic.relu", "--window", "50:250ms"], 2, "apply to --responses only"),
        ([], 2, "--responses FILE"),
        (["--responses", "r.npy", "--stimuli", ".", "--window", "1:2ms"], 2, "NWB files only"),
        (["--responses", "r.nwb", "--stimuli", ".", "--window", "1:2ms", "--ids", "i.csv"], 2, "do not apply"),
        (["--responses", "r.npy", "--stimuli", ".", "--ceiling", "x"], 2, "--ceiling"),
        (["--responses", "r.npy", "--stimuli", "/nonexistent"], 1, "no such folder or zip"),
        (["--responses", "/nonexistent.npy", "--stimuli", "."], 1, "no such response file"),
    ],
)  # fmt: skip
def test_bad_own_data_options_are_one_line(args, code, needle, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    np.save(tmp_path / "r.npy", np.zeros((3, 2)))
    res = runner.invoke(app, ["score", "small_cnn", *args])
    assert res.exit_code == code, res.output
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and needle in lines[0], lines
