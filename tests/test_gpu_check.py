"""benchmarks/gpu_check.py: without CUDA it says so and runs every check on torch:cpu, small."""

from __future__ import annotations

import importlib.util
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu_check.py"
DATA = ROOT.parent / "shared" / "data"


def _module():
    sys.path.insert(0, str(SCRIPT.parent))
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["gpu_check"] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def test_without_cuda_it_runs_the_same_checks_on_torch_cpu(tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present: the script would run the full device check")
    out_file = tmp_path / "table.txt"
    args = [sys.executable, str(SCRIPT), "--data-dir", str(DATA), "--out", str(out_file)]
    out = subprocess.run(args, capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith("no CUDA device: running the same checks on torch:cpu")
    table = out_file.read_text()
    assert table.strip() in out.stdout
    rows = {line.split("  ")[0]: [] for line in table.splitlines()}
    for line in table.splitlines():
        rows[line.split("  ")[0]].append(line)
    engine = [r for r in rows["engine"] if "torch:cpu" in r]
    assert len(engine) == 4  # float32 / float64 × fixed α / α grid, each within tolerance
    assert all("  yes" in r for r in rows["engine"] + rows["extract"])
    assert "sweep: skipped (GPU only" in table
    if (DATA / "dualneuron_v1_twin").is_dir():
        assert len(rows["twin"]) == 3 and all("  yes" in r for r in rows["twin"])
    else:
        assert "twin: skipped" in table
    assert table.rstrip().endswith("every result agrees within its tolerance")


def test_a_mismatch_fails_the_check_and_is_named():
    gpu_check = _module()
    good = gpu_check.Row("engine", "torch:cuda float64, α = 0.1", 1.0, diff=1e-12, tol=1e-8)
    ref = gpu_check.Row("engine", "numpy CPU float64, α = 0.1", 9.0)
    bad = gpu_check.Row("twin", "screening", 0.1, diff=0.3, tol=1e-2)
    nan = gpu_check.Row("sweep", "1,000,000 units", 4.0, diff=math.nan, tol=0.1)
    assert gpu_check.exit_code([ref, good]) == 0
    assert gpu_check.exit_code([ref, good, bad]) == 1
    assert gpu_check.exit_code([nan]) == 1  # a NaN difference is no agreement
    text = gpu_check.table([ref, good, bad], ["sweep: skipped"], "device: test")
    assert text.splitlines()[-1] == "MISMATCH in 1 check(s): twin: screening"
    assert "  NO" in text.splitlines()[4]
