"""The V1 digital twin of Franke, Karantzas et al. (2025): loading, readout, poles, CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from typer.testing import CliRunner

from neuroalign.errors import ChecksumError, ConfigError, DataError
from neuroalign.twin import (
    bundled_crops,
    dual_selectivity,
    load_v1_twin,
    screen,
    synthesize,
    synthesize_poles,
)
from neuroalign.twin.v1 import INFO

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
FOLDER = DATA / "dualneuron_v1_twin"
needs_data = pytest.mark.skipif(
    not (FOLDER / "v1_convnext_5.pth.tar").is_file(),
    reason=f"V1 twin weights not found in {FOLDER} (see neuroalign.twin.v1.INFO.how_to_obtain)",
)
runner = CliRunner()


@pytest.fixture(scope="module")
def twin():
    return load_v1_twin(DATA)


# ------------------------------------------------------------------------------------ bad input
def test_missing_folder_names_folder_files_and_source(tmp_path):
    with pytest.raises(DataError) as info:
        load_v1_twin(tmp_path)
    msg = str(info.value)
    assert str(tmp_path / "dualneuron_v1_twin") in msg
    assert all(name in msg for name in INFO.files)
    assert "github.com/enigma-brain/dualneuron" in msg


def test_incomplete_folder_lists_the_missing_files(tmp_path):
    folder = tmp_path / "dualneuron_v1_twin"
    folder.mkdir()
    (folder / "v1_convnext_1.pth.tar").write_bytes(b"x")
    with pytest.raises(DataError) as info:
        load_v1_twin(tmp_path)
    msg = str(info.value)
    assert "v1_convnext_5.pth.tar" in msg and "correlations.npy" in msg
    assert "lacks 5 file(s)" in msg


def test_altered_file_is_refused_before_loading(tmp_path):
    folder = tmp_path / "dualneuron_v1_twin"
    folder.mkdir()
    for name in INFO.files:
        (folder / name).write_bytes(b"not the published weights")
    with pytest.raises(ChecksumError, match="SHA-256"):
        load_v1_twin(tmp_path)


def test_cli_missing_data_exits_1_with_one_line(tmp_path):
    from neuroalign.cli import app

    res = runner.invoke(app, ["twin", "poles", "--data-dir", str(tmp_path), "--neurons", "0"])
    assert res.exit_code == 1
    assert "dualneuron_v1_twin" in res.output and "Traceback" not in res.output


# ----------------------------------------------------------------------------------- the twin
@needs_data
def test_loads_strictly_all_members_every_key(twin):
    assert len(twin.members) == 5
    for k, member in enumerate(twin.members, start=1):
        state = torch.load(
            FOLDER / f"v1_convnext_{k}.pth.tar", map_location="cpu", weights_only=True
        )
        mine = member.state_dict()
        assert set(mine) == set(state)  # every published key used, no extra parameter
        for key, value in state.items():
            assert torch.equal(mine[key], value), key
    np.testing.assert_array_equal(twin.correlations, np.load(FOLDER / "correlations.npy"))
    assert twin.checksums == INFO.files


@needs_data
def test_rates_positive_and_ensemble_is_member_mean(twin):
    x = torch.as_tensor(bundled_crops(twin, 8, seed=0).images)
    noise = torch.randn(8, 93, 93, generator=torch.Generator().manual_seed(0)) * 2.0
    with torch.no_grad():
        for inp in (x, noise, torch.zeros(1, 93, 93)):
            r = twin(inp)
            assert r.shape == (len(inp), 458) and bool((r > 0).all())
        mean = torch.stack([m(x) for m in twin.members]).mean(0)
        torch.testing.assert_close(twin(x), mean, rtol=1e-5, atol=1e-6)


def _manual_readout(member, x, mu):
    """Independent readout: bilinear interpolation by hand at mu (align_corners=True)."""
    fmap = member.core(x[:, None].expand(-1, 3, -1, -1)).double()  # (n, 80, 11, 11)
    ro = member.readout.all_sessions
    w = ro._features.detach().double()[0, :, 0]  # (80, 458)
    n, c, hh, ww = fmap.shape
    px = (mu[:, 0].double() + 1) / 2 * (ww - 1)
    py = (mu[:, 1].double() + 1) / 2 * (hh - 1)
    x0, y0 = px.floor().long().clamp(0, ww - 2), py.floor().long().clamp(0, hh - 2)
    fx, fy = px - x0, py - y0
    sample = (
        fmap[:, :, y0, x0] * (1 - fx) * (1 - fy)
        + fmap[:, :, y0, x0 + 1] * fx * (1 - fy)
        + fmap[:, :, y0 + 1, x0] * (1 - fx) * fy
        + fmap[:, :, y0 + 1, x0 + 1] * fx * fy
    )  # (n, 80, 458)
    lin = (sample * w[None]).sum(1) + ro.bias.detach().double()
    return F.elu(lin - 1) + 1


@needs_data
def test_readout_positions_learned_and_centred(twin):
    x = torch.as_tensor(bundled_crops(twin, 3, seed=1).images)
    member = twin.members[2]
    mu = member.readout.all_sessions._mu.detach()[0, :, 0].clamp(-1, 1)  # (458, 2)
    try:
        with torch.no_grad():
            twin.centered = False
            torch.testing.assert_close(
                member(x).double(), _manual_readout(member, x, mu), rtol=1e-4, atol=1e-5
            )
            twin.centered = True
            centre = member(x).double()
            torch.testing.assert_close(
                centre, _manual_readout(member, x, torch.zeros_like(mu)), rtol=1e-4, atol=1e-5
            )
    finally:
        twin.centered = False


@needs_data
def test_wrong_size_and_neuron_index_are_clear_errors(twin):
    with pytest.raises(DataError, match=r"\(n, 93, 93\)"):
        twin(torch.zeros(1, 64, 64))
    with pytest.raises(ConfigError, match="458 neurons"):
        dual_selectivity(twin, [458], "bundled", n_images=4, steps=1)


@needs_data
def test_poles_beat_screened_images_on_well_predicted_neurons():
    """A small sample (the benchmark and example run many more neurons and steps)."""
    twin = load_v1_twin(DATA, centered=True)
    good = np.flatnonzero(twin.correlations > 0.4)
    neurons = good[np.random.default_rng(0).choice(len(good), 3, replace=False)]
    res = dual_selectivity(
        twin, neurons, "bundled", n_images=64, steps=24, n_seeds=1, n_copies=1, seed=0
    )
    t = res.table
    assert t["mei_above_mai"].mean() > 0.5
    assert t["lei_below_lai"].mean() > 0.5
    assert t["lei_below_baseline"].mean() > 0.5
    # the reported responses are the twin's responses to the returned images
    with torch.no_grad():
        r = twin(torch.as_tensor(res.images["LEI"], dtype=torch.float32)).double().numpy()
    np.testing.assert_allclose(t["r_lei"], r[np.arange(3), neurons], rtol=1e-5)


@needs_data
def test_device_option_places_the_weights_and_is_checked():
    twin = load_v1_twin(DATA, device="cpu")
    assert twin.device == torch.device("cpu")
    assert {p.device.type for p in twin.parameters()} == {"cpu"}
    with pytest.raises(ConfigError, match="unknown torch device"):
        load_v1_twin(DATA, device="gpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="no CUDA device"):
            load_v1_twin(DATA, device="cuda")


@needs_data
def test_poles_reproducible_and_independent_of_the_batch():
    """One neuron's poles: bit-identical across runs; the same (to the network's rounding, which
    depends on the batch size) alone and in a batch of several neurons and both directions."""
    twin = load_v1_twin(DATA, centered=True)
    opts = dict(steps=4, n_seeds=1, n_copies=2, seed=4)
    alone = synthesize(twin, 11, "min", batch_size=1, **opts)
    again = synthesize(twin, 11, "min", batch_size=1, **opts)
    np.testing.assert_array_equal(alone.images, again.images)
    _, lei = synthesize_poles(twin, [3, 11], batch_size=3, **opts)
    np.testing.assert_allclose(lei.images[1], alone.images[0], atol=1e-4)
    np.testing.assert_allclose(lei.responses[1], alone.responses[0], rtol=1e-5)


@needs_data
def test_screening_in_batches_equals_one_pass(twin):
    images = bundled_crops(twin, 10, seed=2)
    small = screen(twin, images, batch_size=3, cache=False).responses
    with torch.no_grad():
        ref = twin(torch.as_tensor(images.images)).double().numpy()
    np.testing.assert_allclose(small, ref, rtol=1e-5, atol=1e-6)


@needs_data
def test_cli_poles_writes_grid_and_table(tmp_path):
    from neuroalign.cli import app

    out = tmp_path / "poles"
    res = runner.invoke(
        app,
        ["twin", "poles", "--data-dir", str(DATA), "--neurons", "4", "--steps", "2",
         "--seeds", "1", "--n-images", "8", "--out", str(out), "--json"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    import pandas as pd

    table = pd.read_csv(out / "dual_selectivity.csv")
    assert table["neuron"].tolist() == [4]
    assert (out / "poles_000.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    res = runner.invoke(app, ["twin", "poles", "--data-dir", str(DATA), "--neurons", "0,999"])
    assert res.exit_code == 2 and "out of range" in res.output
