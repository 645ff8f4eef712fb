"""Dual-feature selectivity: the macaque V1 twin against a network's units, and a fitted V4 twin.

1. The V1 digital twin of Franke, Karantzas et al. (2025) (centred readout, as the paper
   synthesises): for a seeded sample of well-predicted neurons (held-out r > 0.4), screen bundled
   natural-image crops for the most / least activating images (MAI / LAI), synthesise the most /
   least exciting images (MEI / LEI) at the same contrast, and report how often the MEI beats the
   MAI, the LEI goes below the LAI and below the grey baseline, and the share of bidirectional
   neurons (our dual-selectivity index (b − r_LEI) / (r_MEI − r_LEI) ≥ 0.1).
2. The same analysis on a network layer's channel-centre units (EfficientNet-Lite0 by default,
   93 px grey images), so the model's share of bidirectional units compares with the twin's.
3. With ``--cowley``: a twin fitted to Cowley et al. (2023) V4 session 210325 from an
   EfficientNet-Lite0 layer (ridge readout), with held-out correlation per neuron.

Writes pole grids (PNG), tables (CSV, JSON) and an HTML section to ``--out``.

    python examples/twin_dual_selectivity.py --data-dir /path/to/data [--neurons 24]
        [--steps 128] [--seeds 2] [--model efficientnet_lite0 --layer _blocks.2 --units 16]
        [--cowley]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-dir", default=os.environ.get("NEUROALIGN_DATA"))
    p.add_argument("--neurons", type=int, default=24)
    p.add_argument("--steps", type=int, default=128)
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--n-images", type=int, default=1000)
    p.add_argument("--model", default="efficientnet_lite0")
    p.add_argument("--layer", default="_blocks.2")
    p.add_argument("--units", type=int, default=16, help="channels of the layer analysed")
    p.add_argument("--cowley", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="twin_example")
    args = p.parse_args()

    from neuroalign.twin import dual_selectivity, load_v1_twin, model_units
    from neuroalign.twin.plot import save_pole_grids
    from neuroalign.twin.report import poles_section

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    opts = dict(steps=args.steps, n_seeds=args.seeds, n_images=args.n_images, seed=args.seed)

    # 1. the V1 twin
    twin = load_v1_twin(args.data_dir, centered=True)
    good = np.flatnonzero(twin.correlations > 0.4)
    rng = np.random.default_rng(args.seed)
    neurons = np.sort(rng.choice(good, min(args.neurons, len(good)), replace=False))
    v1 = dual_selectivity(twin, neurons, "bundled", **opts)
    save_pole_grids(v1, v1.images, out / "v1")
    v1.table.to_csv(out / "v1_dual_selectivity.csv", index=False)
    v1.to_json(out / "v1_dual_selectivity.json")
    s = v1.summary
    print(f"V1 twin, {len(neurons)} well-predicted neurons (seed {args.seed}), {args.steps} steps:")
    print(f"  MEI above best screened image (MAI): {s['fraction_mei_above_mai']:.2f}")
    print(f"  LEI below worst screened image (LAI): {s['fraction_lei_below_lai']:.2f}")
    print(f"  LEI below grey baseline:              {s['fraction_lei_below_baseline']:.2f}")
    print(f"  bidirectional (dsi ≥ 0.1):            {s['fraction_bidirectional']:.2f}")
    print(f"  median dsi {s['median_dsi']:.3f}; sparse (skewness > 2) {s['fraction_sparse']:.2f}")

    # 2. a network's units at the twin's image size and a comparable RMS contrast
    h = twin.image_shape[0]
    units = model_units(
        args.model,
        args.layer,
        image_size=h,
        channels=range(args.units),
        rms_contrast=twin.default_norm / h,
    )
    m = dual_selectivity(units, None, "bundled", **opts)
    save_pole_grids(m, m.images, out / "model")
    m.table.to_csv(out / "model_dual_selectivity.csv", index=False)
    sm = m.summary
    print(f"\n{units.name}, {units.n_neurons} channel-centre units:")
    print(
        f"  bidirectional (dsi ≥ 0.1): {sm['fraction_bidirectional']:.2f} (V1 twin {s['fraction_bidirectional']:.2f})"
    )
    print(f"  median dsi {sm['median_dsi']:.3f} (V1 twin {s['median_dsi']:.3f})")
    print(f"  LEI below baseline {sm['fraction_lei_below_baseline']:.2f}")

    # 3. a twin fitted to recorded V4 responses
    sections = [poles_section(v1, v1.images), poles_section(m, m.images)]
    if args.cowley:
        from neuroalign import datasets
        from neuroalign.twin import fit_model_twin

        ds = datasets.load("cowley2023_v4", data_dir=args.data_dir, sessions=["210325"])
        rec, stim = ds.recordings["210325"], ds.stimuli["210325"]
        v4 = fit_model_twin(
            args.model,
            args.layer,
            stim,
            rec,
            readout="ridge",
            pool=8,
            seed=args.seed,
            progress=True,
        )
        r = v4.correlations
        print(f"\nV4 twin ({v4.name}) on cowley2023_v4/210325, {v4.n_neurons} neurons:")
        print(f"  held-out r: median {np.nanmedian(r):.3f}, > 0.4 for {np.mean(r > 0.4):.2f}")
        top = np.argsort(-np.nan_to_num(r, nan=-1))[: min(8, len(r))]
        v4res = dual_selectivity(v4, top, "bundled", **opts)
        v4res.table.to_csv(out / "v4_dual_selectivity.csv", index=False)
        print(f"  best-predicted 8: bidirectional {v4res.summary['fraction_bidirectional']:.2f}")
        sections.append(poles_section(v4res, v4res.images))
    (out / "poles.html").write_text(
        "<!doctype html><meta charset='utf-8'><title>Dual-feature selectivity</title>\n"
        + "\n".join(sections)
    )
    print(f"\nwrote {out}/")


if __name__ == "__main__":
    main()
