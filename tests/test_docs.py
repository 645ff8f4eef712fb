"""The Python of README.md's "Your own data" and of docs/your_own_data.md runs as written (a
small model in place of EfficientNet-Lite0, few draws) on images and recordings made here; the
NWB route is run by tests/test_cli_own_data.py."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
ARRAY = "A `(stimuli, units, repeats)` array and a folder of images"
AVERAGED = "A repeat-averaged `(stimuli, units)` array"


def _python_blocks(path: Path, section: str) -> list[str]:
    body = path.read_text().split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", body, flags=re.S)


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEUROALIGN_CACHE", str(tmp_path / "cache"))
    rng = np.random.default_rng(0)
    (tmp_path / "images").mkdir()
    drive = rng.normal(size=(48, 8))
    pixels = 128 + 60 * np.tanh(drive @ rng.normal(size=(8, 24 * 24 * 3)) / 3)
    for i, img in enumerate(pixels.clip(0, 255).astype(np.uint8)):
        Image.fromarray(img.reshape(24, 24, 3)).save(tmp_path / f"images/{i:02d}.png")
    rates = np.exp(0.3 * drive @ rng.normal(size=(8, 6)))
    counts = rng.poisson(rates[:, :, None], size=(48, 6, 4)).astype(float)
    np.save(tmp_path / "responses.npy", counts)
    np.save(tmp_path / "averaged.npy", rates)
    return tmp_path


def _run(code: str) -> dict:
    code = code.replace('"efficientnet_lite0"', '"small_cnn"')
    code = re.sub(r'name="([^"]+)"', r'name="\1", n_draws=2, n_folds=3, n_boot=20, n_null=2', code)
    scope: dict = {}
    exec(compile(code, "<doc>", "exec"), scope)
    return scope


@pytest.mark.parametrize(
    ("blocks", "ceiling"),
    [
        (lambda: _python_blocks(ROOT / "README.md", "Your own data")[:1], "split_half"),
        (lambda: _python_blocks(ROOT / "README.md", "Your own data")[:2], "none"),
        (lambda: _python_blocks(ROOT / "docs/your_own_data.md", ARRAY), "split_half"),
        (lambda: _python_blocks(ROOT / "docs/your_own_data.md", ARRAY)
         + _python_blocks(ROOT / "docs/your_own_data.md", AVERAGED), "none"),
    ],
    ids=["readme-array", "readme-averaged", "doc-array", "doc-averaged"],
)  # fmt: skip
def test_the_docs_score_your_own_recording(folder, capsys, blocks, ceiling):
    scope = _run("\n".join(blocks()))
    printed = capsys.readouterr().out.strip().splitlines()
    assert printed[-1].startswith("Score('small_cnn@seed0' on own.my-v4")
    assert ("forward=" in printed[-1]) and ("reverse=" in printed[-1])
    data = scope["data"]
    assert data.n_repeats == (4 if ceiling == "split_half" else 1)
    # the recording's rows follow the images in file-name order, as the doc says
    assert list(data.stimulus_ids) == list(scope["stimuli"].ids)
    expect = np.load(folder / ("responses.npy" if ceiling == "split_half" else "averaged.npy"))
    np.testing.assert_array_equal(data.responses.reshape(expect.shape), expect)
