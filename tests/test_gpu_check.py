"""benchmarks/gpu_check.py: a clear message and exit code 0 without CUDA; its checks run on torch-CPU."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.py"


def test_without_cuda_it_says_so_and_exits_zero():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present: the script would run the real check")
    out = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0
    assert "no CUDA device" in out.stdout


def test_the_same_checks_pass_on_torch_cpu():
    pytest.importorskip("torch")
    out = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--device",
            "cpu",
            "--units",
            "400",
            "--stimuli",
            "300",
            "--draws",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    rows = [line for line in out.stdout.splitlines() if line.startswith("torch:cpu")]
    assert len(rows) == 2 and all(line.rstrip().endswith("yes") for line in rows)
