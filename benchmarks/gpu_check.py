"""Device check: the predictivity engine, the digital twin and extraction on a GPU against the CPU.

Sections (``--sections``, default all), each a few rows of one table:

* engine — forward + reverse noise-corrected EV on the paper-shaped workload of
  ``benchmarks/predictivity.py`` (1,320 stimuli; 169 sites × 40 repeats; 100,352 units; 10 folds;
  20 split-half draws), Ridge α = 0.1 and the 10-α grid (GCV, α per target), ``torch:DEVICE`` in
  float32 and float64 against numpy float64 on this machine: max |ΔEV| ≤ 0.1 EV points (float32),
  ≤ 1e-8 (float64). Targets on one H200: float32 ≤ 0.5 s, float64 ≤ 2 s, α grid ≤ 1 s.
* sweep — float32 forward + reverse at 100,352 → 1,000,000 units (GPU only; skipped with a line on
  the CPU). The first 98,304 units are the same columns at every width, so their reverse EV must
  equal the 100,352-unit numpy reference (≤ 0.1 EV points). Target: 1M units ≤ 5 s.
* twin — the V1 twin of Franke, Karantzas et al. (2025), centred readout: screening images/s
  (target ≥ 5,000) and its responses against the same twin on the CPU (max |Δr| / max |r|);
  MEI + LEI of all 458 neurons at the default settings (128 steps × 2 seeds × 2 copies; target
  ≤ 60 s), the share of well-predicted neurons whose MEI beats the best screened image and whose
  LEI goes below the worst, and two neurons' pole responses against the CPU (difference as a share
  of the neuron's synthesised range).
* extract — layer activations of a zoo model (``expansion_ci``: 5 layers, 224 px) on the device
  against the CPU: images/s and max |Δa| / max |a|.

On the device the GPU runs TF32 convolutions (torch's default), hence the twin's and extraction's
tolerances of 1e-2 of the response scale. The device machine receives only the repository: copy the
twin files into a git-ignored folder of it and name that folder::

    mkdir -p device-data && cp -r ../shared/data/dualneuron_v1_twin device-data/
    echo /device-data/ >> .git/info/exclude        # never committed; travels as a carried path
    PYTHONPATH=src python benchmarks/gpu_check.py --data-dir device-data --out $OUT/gpu_check.txt

Without CUDA it says so and runs the same checks on torch:cpu at a small size (under a minute on
two idle cores; ``tests/test_gpu_check.py`` runs this mode). With ``--out`` the table so far is
written after each section. Exit code: 0 when every result agrees within its tolerance, 1 when any
differs; targets are reported (met / missed), not enforced.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from predictivity import GRID, workload  # noqa: E402  (the shared paper-shaped workload)

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ("engine", "sweep", "twin", "extract")
EV_TOL = {"float32": 0.1, "float64": 1e-8}  # max |EV − EV_numpy_f64|, EV points
GPU_TOL, CPU_TOL = 1e-2, 1e-5  # twin / extraction: max |Δ| / max |reference|
POLE_TOL = 0.05  # pole response difference / the neuron's synthesised range (r_MEI − r_LEI)
SAME_COLUMNS = 98_304  # workload columns identical at every width ≥ 100,352 (12 blocks of 8,192)
SIZES = {  # (GPU, CPU small mode)
    "units": (100_352, 400),
    "stimuli": (1320, 300),
    "draws": (20, 2),
    "screen_images": (5000, 64),
    "twin_neurons": (458, 2),
    "twin_steps": (128, 4),
    "twin_seeds": (2, 1),
    "extract_model": ("expansion_ci", "small_cnn"),
    "extract_images": (512, 16),
}


@dataclass
class Row:
    """One line of the table; ``diff`` ≤ ``tol`` passes (no ``tol``: a reference or a timing)."""

    section: str
    path: str
    seconds: float
    rate: str = ""
    diff: float = float("nan")
    tol: float | None = None
    target: str = "–"
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.tol is None or bool(self.diff <= self.tol)


def _target(limit: float, value: float, unit: str, gpu: bool, *, at_least: bool = False) -> str:
    if not gpu:
        return "–"
    met = value >= limit if at_least else value <= limit
    return f"{'≥' if at_least else '≤'} {limit:g} {unit}: {'met' if met else 'MISSED'}"


class Check:
    """Runs the sections on ``device`` and collects rows."""

    def __init__(self, args, device: str, gpu: bool):
        import torch

        self.torch, self.args, self.device, self.gpu = torch, args, device, gpu
        self.rows: list[Row] = []
        self.lines: list[str] = []  # skipped sections
        self.ref_reverse = None  # numpy float64 reverse EV, fixed α (the sweep's reference)

    def sync(self):
        if self.gpu:
            self.torch.cuda.synchronize()

    def peak(self) -> str:
        if not self.gpu:
            return ""
        return f"peak {self.torch.cuda.max_memory_allocated() / 2**30:.1f} GiB"

    def reset_peak(self):
        if self.gpu:
            self.torch.cuda.reset_peak_memory_stats()

    # ------------------------------------------------------------------------- engine
    def _ev(self, feats, neural, transform, backend, dtype):
        from neuroalign.metrics.predictivity import forward_ev, reverse_ev

        kw = dict(n_folds=10, n_draws=self.args.draws, seed=0, dtype=dtype, backend=backend)
        t0 = time.perf_counter()
        f = forward_ev(feats, neural, transform, **kw)
        r = reverse_ev(neural, feats, transform, **kw)
        self.sync()
        return f, r, time.perf_counter() - t0

    def engine(self):
        from neuroalign.transforms.ridge import Ridge

        a, gpu = self.args, self.gpu
        feats, neural = workload(a.units, n_stim=a.stimuli)
        full = gpu and a.units == SIZES["units"][0] and a.draws == 20
        backend = f"torch:{self.device}"
        for label, make, limits in (
            ("α = 0.1", lambda: Ridge(0.1), {"float32": 0.5, "float64": 2.0}),
            ("10-α grid", lambda: Ridge(GRID, cv="gcv"), {"float32": 1.0}),
        ):
            ref_f, ref_r, t_ref = self._ev(feats, neural, make(), "numpy", "float64")
            note = f"median EV fwd {np.nanmedian(ref_f.ev):.1f}, rev {np.nanmedian(ref_r.ev):.1f}"
            self.rows.append(Row("engine", f"numpy CPU float64, {label}", t_ref, "1.0×", note=note))
            if label == "α = 0.1":
                self.ref_reverse = ref_r.ev
                f, r, t = self._ev(feats, neural, make(), "numpy", "float32")
                diff = max(np.nanmax(np.abs(f.ev - ref_f.ev)), np.nanmax(np.abs(r.ev - ref_r.ev)))
                self.rows.append(
                    Row("engine", f"numpy CPU float32, {label}", t, f"{t_ref / t:.1f}×", diff, 0.1)
                )
            for dtype in ("float32", "float64"):
                self._ev(feats[:, :256], neural, make(), backend, dtype)  # warm-up
                self.reset_peak()
                f, r, t = self._ev(feats, neural, make(), backend, dtype)
                diff = max(np.nanmax(np.abs(f.ev - ref_f.ev)), np.nanmax(np.abs(r.ev - ref_r.ev)))
                lim = limits.get(dtype)
                target = _target(lim, t, "s", full) if lim is not None else "–"
                self.rows.append(
                    Row("engine", f"{backend} {dtype}, {label}", t, f"{t_ref / t:.1f}×", diff,
                        EV_TOL[dtype], target, self.peak())
                )  # fmt: skip

    def sweep(self):
        from neuroalign.transforms.ridge import Ridge

        if not self.gpu:
            self.lines.append("sweep: skipped (GPU only: 100,352 → 1,000,000 units).")
            return
        a = self.args
        widths = sorted(int(w) for w in a.widths.split(","))
        if self.ref_reverse is None:
            feats, neural = workload(SIZES["units"][0], n_stim=a.stimuli)
            _, ref_r, _ = self._ev(feats, neural, Ridge(0.1), "numpy", "float64")
            self.ref_reverse = ref_r.ev
        feats, neural = workload(widths[-1], n_stim=a.stimuli)
        backend = f"torch:{self.device}"
        for w in widths:
            x = np.ascontiguousarray(feats[:, :w], dtype=np.float32)
            self.reset_peak()
            f, r, t = self._ev(x, neural, Ridge(0.1), backend, "float32")
            same = min(SAME_COLUMNS, w)
            diff = float(np.nanmax(np.abs(r.ev[:same] - self.ref_reverse[:same])))
            target = _target(5.0, t, "s", True) if w >= 1_000_000 else "–"
            self.rows.append(
                Row("sweep", f"{backend} float32, {w:,} units", t, f"{w / t / 1e6:.2f} M units/s",
                    diff, EV_TOL["float32"], target, self.peak())
            )  # fmt: skip
            del x

    # --------------------------------------------------------------------------- twin
    def twin(self):
        from neuroalign._core.errors import DataError
        from neuroalign.twin import bundled_crops, load_v1_twin, screen, synthesize_poles

        a, gpu = self.args, self.gpu
        try:
            twin = load_v1_twin(a.data_dir, centered=True, device=self.device)
        except DataError as exc:
            self.lines.append(f"twin: skipped ({str(exc).splitlines()[0]})")
            return
        cpu_twin = load_v1_twin(a.data_dir, centered=True, device="cpu")
        images = bundled_crops(twin, a.screen_images, seed=0)
        screen(twin, images, cache=False, progress=False)  # warm-up
        sc = screen(twin, images, cache=False, progress=False)
        sub = images.images[:256]
        ref = cpu_twin.predict(sub)
        diff = float(np.max(np.abs(sc.responses[: len(sub)] - ref)) / np.max(np.abs(ref)))
        self.rows.append(
            Row("twin", f"screening {len(images):,} images, {twin.device}", sc.seconds,
                f"{len(images) / sc.seconds:,.0f} img/s", diff, GPU_TOL if gpu else CPU_TOL,
                _target(5000, len(images) / sc.seconds, "img/s", gpu, at_least=True),
                f"vs CPU on {len(sub)} images")
        )  # fmt: skip

        neurons = np.arange(min(a.twin_neurons, twin.n_neurons))
        opts = dict(steps=a.twin_steps, n_seeds=a.twin_seeds, norm=images.norm, seed=0)
        synthesize_poles(twin, neurons, progress=False, **{**opts, "steps": 1})  # warm-up
        self.reset_peak()
        t0 = time.perf_counter()
        mei, lei = synthesize_poles(twin, neurons, progress=False, **opts)
        self.sync()
        t = time.perf_counter() - t0
        good = twin.correlations[neurons] > 0.4
        r = sc.responses[:, neurons]
        above = float(np.mean((mei.responses > r.max(0))[good]))
        below = float(np.mean((lei.responses < r.min(0))[good]))
        full = gpu and len(neurons) == 458 and a.twin_steps == 128 and a.twin_seeds == 2
        self.rows.append(
            Row("twin", f"MEI+LEI {len(neurons)} neurons, {a.twin_steps} steps × {a.twin_seeds} "
                f"seeds, {twin.device}", t, f"{t / len(neurons):.3f} s/neuron",
                target=_target(60, t, "s", full),
                note="; ".join(filter(None, (f"well predicted: MEI > MAI {above:.2f}, "
                                             f"LEI < LAI {below:.2f}", self.peak()))))
        )  # fmt: skip

        pair = neurons[:2]
        t0 = time.perf_counter()
        c_mei, c_lei = synthesize_poles(cpu_twin, pair, progress=False, **opts)
        t_cpu = time.perf_counter() - t0
        span = c_mei.responses - c_lei.responses
        diff = float(
            max(
                np.max(np.abs(mei.responses[: len(pair)] - c_mei.responses) / span),
                np.max(np.abs(lei.responses[: len(pair)] - c_lei.responses) / span),
            )
        )
        self.rows.append(
            Row("twin", f"MEI+LEI {len(pair)} neurons, same settings, CPU", t_cpu,
                f"{t_cpu / len(pair):.2f} s/neuron", diff, POLE_TOL,
                note="Δ pole response / (r_MEI − r_LEI)")
        )  # fmt: skip

    # ------------------------------------------------------------------------ extract
    def extract(self):
        import neuroalign.models as nm

        a = self.args
        model = nm.load(a.extract_model, seed=0)
        imgs = np.random.default_rng(0).integers(0, 256, (a.extract_images, 256, 256, 3), np.uint8)
        kw = dict(cache=False, progress=False, batch_size=64 if self.gpu else 8)
        nm.extract(model, imgs[:8], device=self.device, **kw)  # warm-up
        t0 = time.perf_counter()
        acts = nm.extract(model, imgs, device=self.device, **kw)
        t = time.perf_counter() - t0
        n_ref = min(len(imgs), 32)
        t0 = time.perf_counter()
        ref = nm.extract(model, imgs[:n_ref], device="cpu", **kw)
        t_cpu = time.perf_counter() - t0
        diff = max(
            float(np.max(np.abs(acts[k][:n_ref] - ref[k])) / max(np.max(np.abs(ref[k])), 1e-30))
            for k in model.layers
        )
        self.rows.append(
            Row("extract", f"{a.extract_model}, {len(imgs)} images, {len(model.layers)} layers, "
                f"{self.device}", t, f"{len(imgs) / t:,.1f} img/s", diff,
                GPU_TOL if self.gpu else CPU_TOL,
                note=f"CPU: {n_ref / t_cpu:,.1f} img/s on {n_ref} images")
        )  # fmt: skip


def table(rows: list[Row], lines: list[str], header: str) -> str:
    """The report: a header line, one row per check, skipped sections, the verdict."""
    cols = ("section", "path", "seconds", "rate", "max|Δ|", "tolerance", "target", "ok", "note")
    body = [
        (r.section, r.path, f"{r.seconds:.2f}", r.rate,
         "–" if np.isnan(r.diff) else f"{r.diff:.2e}",
         "–" if r.tol is None else f"{r.tol:g}", r.target, "yes" if r.ok else "NO", r.note)
        for r in rows
    ]  # fmt: skip
    widths = [
        max(len(c), *(len(b[i]) for b in body)) if body else len(c) for i, c in enumerate(cols)
    ]
    out = [header, "  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip()]
    out += ["  ".join(v.ljust(w) for v, w in zip(b, widths, strict=True)).rstrip() for b in body]
    out += lines
    bad = [r for r in rows if not r.ok]
    out.append(
        "every result agrees within its tolerance"
        if not bad
        else f"MISMATCH in {len(bad)} check(s): " + "; ".join(f"{r.section}: {r.path}" for r in bad)
    )
    return "\n".join(out)


def exit_code(rows: list[Row]) -> int:
    """0 when every row passes, 1 otherwise."""
    return 0 if all(r.ok for r in rows) else 1


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--device", default="cuda", help="torch device to check (default cuda)")
    ap.add_argument("--sections", default=",".join(SECTIONS), help="comma-separated sections")
    ap.add_argument("--units", type=int, help="layer width (GPU 100,352; CPU 400)")
    ap.add_argument("--stimuli", type=int, help="stimuli (GPU 1,320; CPU 300)")
    ap.add_argument("--draws", type=int, help="split-half draws (GPU 20; CPU 2)")
    ap.add_argument("--widths", default="100352,250000,500000,1000000", help="sweep widths")
    ap.add_argument("--data-dir", help="folder with dualneuron_v1_twin/ (default: device-data/ "
                    "when present, else $NEUROALIGN_DATA, else ../shared/data)")  # fmt: skip
    ap.add_argument("--screen-images", type=int, help="bundled crops screened (GPU 5,000)")
    ap.add_argument("--twin-neurons", type=int, help="neurons synthesised (GPU all 458)")
    ap.add_argument("--twin-steps", type=int, help="synthesis steps (GPU 128, the default)")
    ap.add_argument("--twin-seeds", type=int, help="restarts per neuron (GPU 2, the default)")
    ap.add_argument("--extract-model", help="zoo model for extraction (GPU expansion_ci)")
    ap.add_argument("--extract-images", type=int, help="images extracted (GPU 512)")
    ap.add_argument("--out", type=Path, help="also write the table to this file")
    args = ap.parse_args(argv)
    import torch

    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        ap.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    device = args.device
    if device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA device: running the same checks on torch:cpu at a small size.")
        device = "cpu"
    gpu = device.startswith("cuda")
    for name, sizes in SIZES.items():
        if getattr(args, name) is None:
            setattr(args, name, sizes[0] if gpu else sizes[1])
    if args.data_dir is None:
        local = ROOT / "device-data"
        args.data_dir = (
            local
            if local.is_dir()
            else os.environ.get("NEUROALIGN_DATA", ROOT.parent / "shared/data")
        )
    name = torch.cuda.get_device_name(device) if gpu else "CPU (torch)"
    header = (
        f"device: {name}; torch {torch.__version__}; {os.cpu_count()} CPU cores; engine workload "
        f"{args.stimuli:,} stimuli, 169 sites × 40 repeats, {args.units:,} units, 10 folds, "
        f"{args.draws} draws"
    )
    check = Check(args, device, gpu)
    for section in SECTIONS:
        if section in sections:
            getattr(check, section)()
            if args.out is not None:  # the table so far survives a run stopped at a time limit
                args.out.parent.mkdir(parents=True, exist_ok=True)
                args.out.write_text(table(check.rows, check.lines, header) + "\n", "utf-8")
    print(table(check.rows, check.lines, header))
    return exit_code(check.rows)


if __name__ == "__main__":
    sys.exit(main())
