"""Models by spec: timm:, torchvision:, hf: (fake libraries injected into sys.modules: none is a
dependency) and path/file.py:factory; weights only from local files, identities from their hashes."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import types
from enum import Enum
from types import SimpleNamespace

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from neuroalign.errors import ConfigError  # noqa: E402
from neuroalign.models import zoo  # noqa: E402
from neuroalign.models.adapters import from_timm, from_torchvision, read_state_dict  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_resolutions(monkeypatch):
    monkeypatch.setattr(zoo, "_RESOLVED", {})


class Tiny(nn.Module):
    """A small conv net with timm-style ``feature_info``."""

    def __init__(self, num_classes=5):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3)
        self.act1 = nn.ReLU()
        self.layer1 = nn.Conv2d(4, 6, 3)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(6, num_classes)
        self.feature_info = [{"module": "act1"}, {"module": "layer1"}]

    def forward(self, x):
        return self.fc(self.pool(self.layer1(self.act1(self.conv1(x)))).flatten(1))


def _sha16(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _images(n=3, size=20):
    return np.random.default_rng(0).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


# ------------------------------------------------------------------------------------------ timm
@pytest.fixture
def fake_timm(monkeypatch):
    calls = []
    timm = types.ModuleType("timm")
    timm.__version__ = "0.fake"
    data = types.ModuleType("timm.data")

    def create_model(name, pretrained=False, **kw):
        calls.append((name, pretrained, kw))
        if name != "tiny":
            raise RuntimeError(f"Unknown model ({name})")
        return Tiny(**kw)

    def resolve_data_config(args, model):
        return {
            "input_size": (3, 32, 32),
            "interpolation": "bicubic",
            "crop_pct": 0.9,
            "mean": (0.5, 0.5, 0.5),
            "std": (0.25, 0.25, 0.25),
        }

    timm.create_model, data.resolve_data_config, timm.data = create_model, resolve_data_config, data
    monkeypatch.setitem(sys.modules, "timm", timm)
    monkeypatch.setitem(sys.modules, "timm.data", data)
    return calls


def test_timm_untrained_is_seeded_with_timm_preprocessing_and_stages(fake_timm):
    state = torch.get_rng_state()
    a = zoo.load("timm:tiny", seed=0)
    assert torch.equal(state, torch.get_rng_state())  # global random state untouched
    b, c = zoo.load("timm:tiny", seed=0), zoo.load("timm:tiny", seed=1)
    assert torch.equal(a.module.conv1.weight, b.module.conv1.weight)
    assert not torch.equal(a.module.conv1.weight, c.module.conv1.weight)
    assert all(not pretrained for _, pretrained, _ in fake_timm)  # never timm's download
    assert a.name == "timm:tiny" and not a.trained and a.seed == 0
    assert a.layers == ("act1", "layer1") and a.input_size == 32
    assert a.preprocess.to_dict() == {
        "size": 32,
        "crop_fraction": 0.9,
        "interpolation": "bicubic",
        "mean": (0.5,) * 3,
        "std": (0.25,) * 3,
    }
    assert zoo.identity("timm:tiny", 3) == "timm:tiny@seed3"
    acts = a.extract(_images(), cache=False, pool="avg")
    assert acts["layer1"].shape == (3, 6)


def test_timm_weights_file_loads_exactly_and_names_the_model_by_its_hash(fake_timm, tmp_path):
    ref = Tiny()
    torch.save(ref.state_dict(), tmp_path / "tiny.pth")
    model = zoo.load(f"timm:tiny?weights={tmp_path / 'tiny.pth'}")
    assert model.trained and model.seed is None
    for k, v in ref.state_dict().items():
        assert torch.equal(model.module.state_dict()[k], v)
    name = f"timm:tiny?weights=sha256:{_sha16(tmp_path / 'tiny.pth')}"
    assert model.name == name == zoo.identity(f"timm:tiny?weights={tmp_path / 'tiny.pth'}", 7)
    # the same file elsewhere: the same identity (result keys do not depend on where files lie)
    (tmp_path / "copy").mkdir()
    shutil.copy(tmp_path / "tiny.pth", tmp_path / "copy" / "w.pth")
    assert zoo.identity(f"timm:tiny?weights={tmp_path / 'copy' / 'w.pth'}") == name
    # builder options: a 3-class head does not fit, until the spec says num_classes=3
    torch.save(Tiny(num_classes=3).state_dict(), tmp_path / "three.pth")
    with pytest.raises(ConfigError, match=r"do not fit timm:tiny.*fc\.weight.*num_classes"):
        zoo.load(f"timm:tiny?weights={tmp_path / 'three.pth'}")
    m3 = zoo.load(f"timm:tiny?weights={tmp_path / 'three.pth'}&num_classes=3")
    assert m3.module.fc.out_features == 3 and "num_classes=3" in m3.name
    assert from_timm("tiny", weights=tmp_path / "three.pth", num_classes=3).name == m3.name
    with pytest.raises(ConfigError, match="does not exist"):
        zoo.load(f"timm:tiny?weights={tmp_path / 'nope.pth'}")


def _write_safetensors(state: dict, path):
    names = {torch.float32: "F32", torch.int64: "I64"}
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for k, t in state.items():
        raw = t.contiguous().numpy().tobytes()
        header[k] = {
            "dtype": names[t.dtype],
            "shape": list(t.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        blobs.append(raw)
        offset += len(raw)
    head = json.dumps(header).encode()
    path.write_bytes(len(head).to_bytes(8, "little") + head + b"".join(blobs))


def test_weights_files_safetensors_and_wrapped_checkpoints(tmp_path):
    ref = Tiny().state_dict()
    ref["steps"] = torch.tensor([3, 4], dtype=torch.int64)
    _write_safetensors(ref, tmp_path / "w.safetensors")
    torch.save(
        {"epoch": 3, "state_dict": {f"module.{k}": v for k, v in ref.items()}}, tmp_path / "c.pt"
    )
    for f in ("w.safetensors", "c.pt"):
        got = read_state_dict(tmp_path / f)
        assert got.keys() == ref.keys()
        assert all(torch.equal(got[k], v) for k, v in ref.items())
    (tmp_path / "bad.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(ConfigError, match="cannot read weights"):
        read_state_dict(tmp_path / "bad.pth")


def test_missing_library_says_how_to_install_and_where_weights_come_from(monkeypatch):
    for lib, spec, words in (
        ("timm", "timm:resnet18", "pip install timm.*weights=/path"),
        ("torchvision", "torchvision:resnet18", "pip install torchvision.*IMAGENET1K_V1"),
        ("transformers", "hf:google/vit-base-patch16-224", "pip install transformers.*folder"),
    ):
        monkeypatch.setitem(sys.modules, lib, None)  # import fails as if not installed
        with pytest.raises(ConfigError, match=f"{spec} needs {lib}.*{words}"):
            zoo.info(spec)
    with pytest.raises(ConfigError, match="unknown model source 'timmm'.*Did you mean 'timm'"):
        zoo.info("timmm:resnet18")


# ----------------------------------------------------------------------------------- torchvision
class FakeWeights(Enum):
    IMAGENET1K_V1 = "https://example.org/models/tiny-0123abcd.pth"

    @property
    def url(self):
        return self.value

    def transforms(self):
        return SimpleNamespace(
            crop_size=[28],
            resize_size=[32],
            interpolation=SimpleNamespace(value="bilinear"),
            mean=[0.4, 0.4, 0.4],
            std=[0.2, 0.2, 0.2],
        )


@pytest.fixture
def fake_torchvision(monkeypatch, tmp_path):
    tv = types.ModuleType("torchvision")
    tv.__version__ = "0.fake"
    models = types.ModuleType("torchvision.models")

    def get_model(name, weights=None, **kw):
        module = Tiny(**kw)
        if weights is not None:  # torchvision reads the cached file of the enum's URL
            file = tmp_path / "hub" / "checkpoints" / weights.url.rsplit("/", 1)[1]
            module.load_state_dict(torch.load(file, weights_only=True))
        return module

    models.get_model, models.get_model_weights = get_model, lambda name: FakeWeights
    tv.models = models
    monkeypatch.setitem(sys.modules, "torchvision", tv)
    monkeypatch.setitem(sys.modules, "torchvision.models", models)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    return tmp_path / "hub" / "checkpoints"


def test_torchvision_enum_weights_only_from_the_hub_cache(fake_torchvision):
    with pytest.raises(ConfigError, match=r"not on disk \(looked for .*tiny-0123abcd.pth\)"):
        zoo.info("torchvision:tiny?weights=IMAGENET1K_V1")
    with pytest.raises(ConfigError, match="no weights 'V9'; known: IMAGENET1K_V1"):
        zoo.info("torchvision:tiny?weights=V9")
    fake_torchvision.mkdir(parents=True)
    ref = Tiny()
    torch.save(ref.state_dict(), fake_torchvision / "tiny-0123abcd.pth")
    model = zoo.load("torchvision:tiny?weights=IMAGENET1K_V1")
    assert model.name == "torchvision:tiny?weights=IMAGENET1K_V1" and model.trained
    assert torch.equal(model.module.fc.weight, ref.fc.weight)
    assert model.preprocess.size == 28 and model.preprocess.crop_fraction == 28 / 32
    assert model.layers == ("conv1", "act1", "layer1", "pool", "fc")
    torch.save(ref.state_dict(), fake_torchvision / "mine.pth")
    from_file = zoo.load(f"torchvision:tiny?weights={fake_torchvision / 'mine.pth'}")
    assert torch.equal(from_file.module.fc.weight, ref.fc.weight) and from_file.trained
    assert (
        from_file.name == f"torchvision:tiny?weights=sha256:{_sha16(fake_torchvision / 'mine.pth')}"
    )
    untrained = from_torchvision("tiny", seed=4, layers=["layer1"])
    assert untrained.name == "torchvision:tiny" and untrained.layers == ("layer1",)
    assert untrained.preprocess.crop_fraction == 0.875 and untrained.seed == 4


# -------------------------------------------------------------------------------------------- hf
class TinyHF(nn.Module):
    """Returns hidden states as Hugging Face models do: a conv map and a token sequence."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Conv2d(3, 4, 4, stride=4)
        self.proj = nn.Linear(4, 5)

    def forward(self, pixel_values, output_hidden_states=False):
        x = self.embed(pixel_values)
        tokens = self.proj(x.flatten(2).transpose(1, 2))  # (n, tokens, 5)
        return SimpleNamespace(last_hidden_state=tokens, hidden_states=(x, tokens))


@pytest.fixture
def fake_transformers(monkeypatch):
    tr = types.ModuleType("transformers")
    tr.__version__ = "0.fake"
    local = {"org/tiny"}

    def check(name, local_files_only):
        assert local_files_only  # never a download
        if name not in local and not os.path.isdir(name):
            raise OSError(f"{name} is not in the cache and outgoing traffic has been disabled")

    class AutoConfig:
        @staticmethod
        def from_pretrained(name, local_files_only=False):
            check(name, local_files_only)
            return SimpleNamespace(name=name)

    class AutoModel:
        @staticmethod
        def from_pretrained(name, local_files_only=False):
            check(name, local_files_only)
            torch.manual_seed(123)  # "the checkpoint"
            return TinyHF()

        @staticmethod
        def from_config(config):
            return TinyHF()

    class AutoImageProcessor:
        @staticmethod
        def from_pretrained(name, local_files_only=False):
            check(name, local_files_only)
            return SimpleNamespace(
                size={"shortest_edge": 32},
                crop_size={"height": 28, "width": 28},
                do_center_crop=True,
                resample=3,
                image_mean=[0.5, 0.5, 0.5],
                image_std=[0.5, 0.5, 0.5],
            )

    tr.AutoConfig, tr.AutoModel, tr.AutoImageProcessor = AutoConfig, AutoModel, AutoImageProcessor
    monkeypatch.setitem(sys.modules, "transformers", tr)


def test_hf_model_from_disk_exposes_hidden_states_as_layers(fake_transformers, tmp_path):
    model = zoo.load("hf:org/tiny")
    assert model.layers == ("hidden_states.0", "hidden_states.1") and model.trained
    assert model.name.startswith("hf:org/tiny?weights=sha256:")
    pre = model.preprocess
    assert (pre.size, pre.crop_fraction, pre.interpolation) == (28, 28 / 32, "bicubic")
    images = _images(2, 40)
    acts = model.extract(images, cache=False, pool="avg")
    x = torch.from_numpy(pre.batch(images))
    with torch.no_grad():
        ref = model.module.model(pixel_values=x).hidden_states
    # token sequences are (n, dim, tokens) for the extractor: "avg" averages over tokens
    np.testing.assert_allclose(acts["hidden_states.1"], ref[1].mean(dim=1).numpy(), rtol=1e-5)
    np.testing.assert_allclose(acts["hidden_states.0"], ref[0].mean(dim=(2, 3)).numpy(), rtol=1e-5)
    untrained = zoo.load("hf:org/tiny?weights=none", seed=2)
    assert not untrained.trained and zoo.identity("hf:org/tiny?weights=none", 2).endswith("@seed2")
    with pytest.raises(ConfigError, match="no local copy.*huggingface-cli download org/other"):
        zoo.info("hf:org/other")
    (tmp_path / "my-vit").mkdir()  # a local folder: named by its folder name, not where it lies
    assert zoo.info(f"hf:{tmp_path / 'my-vit'}").name == model.name.replace("org/tiny", "my-vit")


# ------------------------------------------------------------------------------------ file.py
FACTORIES = """
import torch
from neuroalign.models import Preprocessing, wrap

def plain():
    return torch.nn.Sequential(torch.nn.Conv2d(3, 2, 3), torch.nn.ReLU())

def described(width=3):
    net = torch.nn.Sequential(torch.nn.Conv2d(3, width, 3), torch.nn.ReLU())
    return {"module": net, "preprocess": {"size": 16, "crop_fraction": None}, "layers": ["1"]}

def zoo_model():
    return wrap(plain(), name="mine", preprocess=Preprocessing(size=12), layers=["0"])

def seeded(seed):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Conv2d(3, 2, 3))

def broken():
    return "not a module"
"""


def test_python_file_factories(tmp_path):
    path = tmp_path / "nets.py"
    path.write_text(FACTORIES)
    plain = zoo.load(f"{path}:plain")
    again = zoo.load(f"{path}:plain")  # an unseeded initialisation is made reproducible
    assert torch.equal(plain.module[0].weight, again.module[0].weight)
    assert plain.trained and plain.layers == ("0", "1") and plain.preprocess.size == 224
    assert plain.name.startswith("file:nets.py:plain?weights=sha256:")
    described = zoo.load(f"{path}:described?width=5")
    assert described.module[0].out_channels == 5 and described.layers == ("1",)
    assert described.preprocess.size == 16 and described.preprocess.crop_fraction is None
    assert described.extract(_images(), cache=False)["1"].shape == (3, 5 * 14 * 14)
    assert zoo.load(f"{path}:zoo_model").preprocess.size == 12
    s1, s2 = zoo.load(f"{path}:seeded", seed=1), zoo.load(f"{path}:seeded", seed=2)
    assert not s1.trained and not torch.equal(s1.module[0].weight, s2.module[0].weight)
    assert zoo.identity(f"{path}:seeded", 2).endswith("@seed2")
    with pytest.raises(ConfigError, match="returned a str"):
        zoo.load(f"{path}:broken")
    with pytest.raises(ConfigError, match="defines no function 'nope'"):
        zoo.load(f"{path}:nope")
    with pytest.raises(ConfigError, match="does not exist"):
        zoo.load(f"{tmp_path / 'missing.py'}:plain")
    (tmp_path / "bad.py").write_text("raise ValueError('boom')\n")
    with pytest.raises(ConfigError, match="importing .*bad.py failed: ValueError: boom"):
        zoo.load(f"{tmp_path / 'bad.py'}:plain")
