"""Digital-twin benchmark: screening throughput, MEI+LEI time per neuron, peak memory, and the
acceptance fractions on a sample of well-predicted V1 neurons.

On the V1 twin of Franke, Karantzas et al. (2025), centred readout (the paper's synthesis setting):
  * screening — images/s of the 5-member ensemble over bundled natural-image crops (93 px, batch 64,
    no gradient, in-memory cache off);
  * synthesis — seconds per neuron for its MEI and LEI together (pixel parametrisation, SGD with a
    cosine schedule, jittered noisy copies; both directions' jobs batched together), and the same
    for the Fourier parametrisation;
  * fractions over the sampled neurons (held-out correlation > 0.4): MEI above the best screened
    image (MAI), LEI below the worst screened image (LAI), LEI below the grey baseline, and the
    share with dual-selectivity index ≥ 0.1.
Peak memory is this process's maximum resident set size (torch and the twin included).

    python benchmarks/twin.py --data-dir DIR [--neurons 24] [--steps 128] [--seeds 2]
                              [--n-images 1000] [--fourier-neurons 4] [--threads 2] [--device cpu]
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-dir", default=None)
    p.add_argument("--neurons", type=int, default=24, help="well-predicted neurons sampled")
    p.add_argument("--steps", type=int, default=128)
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--copies", type=int, default=2)
    p.add_argument("--n-images", type=int, default=1000)
    p.add_argument("--fourier-neurons", type=int, default=4)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="torch device of the twin (cpu, cuda, ...)")
    args = p.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from neuroalign.twin import (
        bundled_crops,
        dual_selectivity,
        load_v1_twin,
        screen,
        synthesize_poles,
    )
    from neuroalign.twin.analysis import OVERVIEW_COLUMNS

    t0 = time.perf_counter()
    twin = load_v1_twin(args.data_dir, centered=True, device=args.device)
    t_load = time.perf_counter() - t0
    images = bundled_crops(twin, args.n_images, seed=args.seed)
    sc = screen(twin, images, batch_size=64, cache=False, progress=False)
    good = np.flatnonzero(twin.correlations > 0.4)
    rng = np.random.default_rng(args.seed)
    neurons = np.sort(rng.choice(good, min(args.neurons, len(good)), replace=False))
    opts = dict(steps=args.steps, n_seeds=args.seeds, n_copies=args.copies)
    res = dual_selectivity(twin, neurons, images, seed=args.seed, progress=False, **opts)
    sec = res.parameters["seconds"]
    per_neuron = sec["synthesis"] / len(neurons)
    rows = [
        ("load twin (5 members, SHA-256 checked)", f"{t_load:.2f} s"),
        (f"screening, {len(images)} images × 458 neurons", f"{len(images) / sc.seconds:.0f} img/s"),
        (
            f"MEI+LEI pixel, {args.steps} steps × {args.seeds} seeds × {args.copies} copies",
            f"{per_neuron:.1f} s/neuron",
        ),
    ]
    if args.fourier_neurons:
        fn = neurons[: args.fourier_neurons]
        t1 = time.perf_counter()
        synthesize_poles(twin, fn, param="fourier", seed=args.seed, progress=False, **opts)
        rows.append(
            (
                f"MEI+LEI fourier, same settings ({len(fn)} neurons)",
                f"{(time.perf_counter() - t1) / len(fn):.1f} s/neuron",
            )
        )
    rows.append(("peak resident memory", f"{_peak_mb():.0f} MB"))
    s = res.summary
    rows += [
        (f"neurons sampled (held-out r > 0.4, seed {args.seed})", f"{len(neurons)}"),
        ("MEI above best screened image (MAI)", f"{s['fraction_mei_above_mai']:.2f}"),
        ("LEI below worst screened image (LAI)", f"{s['fraction_lei_below_lai']:.2f}"),
        ("LEI below grey baseline", f"{s['fraction_lei_below_baseline']:.2f}"),
        ("dual-selectivity index ≥ 0.1 (bidirectional)", f"{s['fraction_bidirectional']:.2f}"),
        ("median dual-selectivity index", f"{s['median_dsi']:.3f}"),
        ("sparse (skewness > 2 over screened images)", f"{s['fraction_sparse']:.2f}"),
    ]
    width = max(len(a) for a, _ in rows)
    print(f"torch {torch.__version__}, {args.threads} thread(s), device {twin.device}")
    for a, b in rows:
        print(f"{a:<{width}}  {b:>14}")
    t = res.table
    print("\nper neuron:")
    print(t[OVERVIEW_COLUMNS].to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
