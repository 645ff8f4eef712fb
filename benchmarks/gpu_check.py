"""Device check of the predictivity engine on a GPU: speed-up over the CPU and equal results.

Runs forward + reverse noise-corrected EV on the paper-shaped workload of
``benchmarks/predictivity.py`` (1,320 stimuli; 169 sites × 40 repeats; a 100,352-unit layer;
10 folds; 20 split-half draws; Ridge α = 0.1) with ``backend="torch:cuda"`` in float32 and float64,
and with the numpy CPU path on the same machine, then prints wall times, speed-ups, peak device
memory and the largest EV difference from the CPU float64 result (float32: within 0.1 EV points;
float64: within 1e-6). One call, a few minutes on a GPU node:

    python benchmarks/gpu_check.py                 # exits 0 with a message where CUDA is absent
    python benchmarks/gpu_check.py --device cpu --units 400 --stimuli 300 --draws 2   # on torch-CPU

Exit code: 0 when every check passed (or there is no CUDA device), 1 when a result differs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from predictivity import workload  # noqa: E402  (the shared paper-shaped workload)

TOLERANCE = {"float32": 0.1, "float64": 1e-6}  # max |EV - EV_cpu_f64|, EV points


def _run(feats, neural, *, draws, backend, dtype, sync):
    from neuroalign.metrics.predictivity import forward_ev, reverse_ev
    from neuroalign.transforms.ridge import Ridge

    kw = dict(n_folds=10, n_draws=draws, seed=0, dtype=dtype, backend=backend)
    t0 = time.perf_counter()
    f = forward_ev(feats, neural, Ridge(0.1), **kw)
    r = reverse_ev(neural, feats, Ridge(0.1), **kw)
    sync()
    return f, r, time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--device", default="cuda", help="torch device to check (default cuda)")
    ap.add_argument("--units", type=int, default=100_352, help="layer width (default 100,352)")
    ap.add_argument("--draws", type=int, default=20, help="split-half draws (default 20)")
    ap.add_argument("--stimuli", type=int, default=1320, help="stimuli (default 1,320)")
    args = ap.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("no torch installed: nothing to check (pip install 'neuroalign[torch]').")
        return 0
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA device: nothing to check here; run this script on a GPU machine.")
        return 0
    cuda = args.device.startswith("cuda")
    name = torch.cuda.get_device_name(args.device) if cuda else "CPU (torch)"
    print(
        f"device: {name}; torch {torch.__version__}; workload: {args.stimuli:,} stimuli, 169 sites × 40 "
        f"repeats, {args.units:,} units, 10 folds, {args.draws} draws, Ridge α = 0.1"
    )
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    feats, neural = workload(args.units, n_stim=args.stimuli)
    ref_f, ref_r, t_cpu = _run(
        feats, neural, draws=args.draws, backend="numpy", dtype="float64", sync=lambda: None
    )
    _, _, t_cpu32 = _run(
        feats, neural, draws=args.draws, backend="numpy", dtype="float32", sync=lambda: None
    )
    rows = [
        ("numpy CPU float64", t_cpu, 1.0, np.nan, 0.0, True),
        ("numpy CPU float32", t_cpu32, t_cpu / t_cpu32, np.nan, np.nan, True),
    ]
    ok = True
    backend = f"torch:{args.device}"
    for dtype in ("float32", "float64"):
        _run(feats[:, :256], neural, draws=1, backend=backend, dtype=dtype, sync=sync)  # warm-up
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        f, r, t = _run(feats, neural, draws=args.draws, backend=backend, dtype=dtype, sync=sync)
        peak = torch.cuda.max_memory_allocated() / 2**30 if cuda else np.nan
        diff = max(np.nanmax(np.abs(f.ev - ref_f.ev)), np.nanmax(np.abs(r.ev - ref_r.ev)))
        passed = bool(diff <= TOLERANCE[dtype])
        ok &= passed
        rows.append((f"{backend} {dtype}", t, t_cpu / t, peak, diff, passed))
    print(f"{'path':24s} {'seconds':>8s} {'speed-up':>9s} {'peak GiB':>9s} {'max|ΔEV|':>10s}  ok")
    for path, t, speed, peak, diff, passed in rows:
        print(
            f"{path:24s} {t:8.2f} {speed:9.1f} {peak:9.2f} {diff:10.2e}  {'yes' if passed else 'NO'}"
        )
    print(
        f"speed-up = numpy CPU float64 seconds / path seconds; median EV forward "
        f"{np.nanmedian(ref_f.ev):.1f}, reverse {np.nanmedian(ref_r.ev):.1f}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
