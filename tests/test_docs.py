"""The Python of docs/your_own_data.md runs as written (a small model in place of
EfficientNet-Lite0) on a folder of images and a recording made here."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

DOC = Path(__file__).resolve().parents[1] / "docs" / "your_own_data.md"


def _python_blocks(section: str) -> list[str]:
    text = DOC.read_text()
    body = text.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", body, flags=re.S)


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEUROALIGN_CACHE", str(tmp_path / "cache"))
    rng = np.random.default_rng(0)
    (tmp_path / "images").mkdir()
    drive = rng.normal(size=(48, 8))
    for i in range(48):
        img = (128 + 60 * np.tanh(drive[i] @ rng.normal(size=(8, 24 * 24 * 3)) / 3)).clip(0, 255)
        Image.fromarray(img.reshape(24, 24, 3).astype(np.uint8)).save(
            tmp_path / f"images/{i:02d}.png"
        )
    rates = np.exp(0.3 * drive @ rng.normal(size=(8, 6)))
    np.save(
        tmp_path / "responses.npy", rng.poisson(rates[:, :, None], size=(48, 6, 4)).astype(float)
    )
    np.save(tmp_path / "averaged.npy", rates)
    return tmp_path


@pytest.mark.parametrize(
    ("section", "ceiling_kind"),
    [("A `(stimuli, units, repeats)` array and a folder of images", "split_half"),
     ("A repeat-averaged `(stimuli, units)` array", "none")],
)  # fmt: skip
def test_the_doc_scores_your_own_recording(folder, capsys, section, ceiling_kind):
    code = "\n".join(_python_blocks("A `(stimuli, units, repeats)` array and a folder of images"))
    if section != "A `(stimuli, units, repeats)` array and a folder of images":
        setup = code.split("data = read_responses", 1)[0]
        code = setup + "\n".join(_python_blocks(section))
    code = code.replace('"efficientnet_lite0"', '"small_cnn"')
    code = code.replace('name="my-v4"', 'name="my-v4", n_draws=2, n_folds=3, n_boot=20, n_null=2')
    scope: dict = {}
    exec(compile(code, str(DOC), "exec"), scope)
    assert "Score('small_cnn@seed0' on own.my-v4" in capsys.readouterr().out
    bm = scope["bench"].from_data(scope["data"], scope["stimuli"], name="x",
                                  **({"ceiling": None} if ceiling_kind == "none" else {}))  # fmt: skip
    assert bm.to_dict()["defaults"]["ceiling"] == ceiling_kind
