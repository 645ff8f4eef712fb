"""Activation extraction: throughput, peak memory and cache-hit speed-up on this CPU.

For each model, two fresh worker processes run the same layers on the same images:
  * peer   — a plain PyTorch loop (images preprocessed up front, forward hooks collecting every
             layer in memory): the usual hand-written extraction, no cache;
  * neuroalign — ``neuroalign.models.extract`` with its on-disk cache, cold (computes and writes)
             and then warm (cache hit: fingerprints + memory-mapped reads).
Peak memory is each worker's maximum resident set size (model weights included).

Run:  python benchmarks/extract.py            (all models; expansion_3000 takes ~1-2 minutes)
      python benchmarks/extract.py --quick    (efficientnet_lite0 and expansion_ci only)
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

CONFIGS = {  # name: (n_images, batch_size)
    "efficientnet_lite0": (32, 16),
    "expansion_ci": (16, 8),
    "expansion_3000": (4, 2),
}


def _images(n: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(n, 256, 256, 3), dtype=np.uint8)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(name: str, mode: str) -> dict:
    import torch

    import neuroalign.models as nm

    n, batch = CONFIGS[name]
    imgs = _images(n)
    model = nm.load(name, seed=0)
    layers = list(model.layers)
    out: dict = {"model": name, "n": n, "layers": len(layers)}
    if mode == "peer":
        t0 = time.perf_counter()
        x = torch.from_numpy(model.preprocess.batch(imgs))
        store = {layer: [] for layer in layers}
        modules = dict(model.module.named_modules())
        hooks = [
            modules[layer].register_forward_hook(
                lambda _m, _i, o, layer=layer: store[layer].append(o.detach().flatten(1).clone())
            )
            for layer in layers
        ]
        with torch.no_grad():
            for s in range(0, n, batch):
                model.module(x[s : s + batch])
        acts = {layer: torch.cat(v).numpy() for layer, v in store.items()}
        for h in hooks:
            h.remove()
        out["peer_s"] = time.perf_counter() - t0
        out["features"] = int(sum(a.shape[1] for a in acts.values()))
        out["peak_mb"] = _peak_mb()
        return out
    with tempfile.TemporaryDirectory() as cache:
        t0 = time.perf_counter()
        cold = nm.extract(model, imgs, batch_size=batch, cache=cache, progress=False)
        out["cold_s"] = time.perf_counter() - t0
        out["peak_mb"] = _peak_mb()
        t0 = time.perf_counter()
        warm = nm.extract(model, imgs, batch_size=batch, cache=cache, progress=False)
        for layer in layers:  # touch every value: a real read, not just a map
            np.asarray(warm[layer]).sum()
        out["hit_s"] = time.perf_counter() - t0
        assert all(v["from_cache"] for v in warm.provenance["layers"].values())
        assert all(np.array_equal(cold[k], warm[k]) for k in layers)
        out["cache_mb"] = sum(np.asarray(cold[k]).nbytes for k in layers) / 2**20
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--worker", nargs=2, metavar=("MODEL", "MODE"))
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return
    names = [n for n in CONFIGS if not (args.quick and n == "expansion_3000")]
    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; 256 px noise images\n")
    head = (
        f"{'model':20s} {'n':>3s} {'layers':>6s} {'peer img/s':>10s} {'cold img/s':>10s} "
        f"{'cold/peer':>9s} {'hit img/s':>10s} {'hit speed-up':>12s} {'peer MB':>8s} "
        f"{'neuroalign MB':>13s} {'cache MB':>8s}"
    )
    print(head)
    print("-" * len(head))
    for name in names:
        res = {}
        for mode in ("peer", "neuroalign"):
            proc = subprocess.run(
                [sys.executable, __file__, "--worker", name, mode],
                capture_output=True,
                text=True,
                check=True,
            )
            res[mode] = json.loads(proc.stdout.strip().splitlines()[-1])
        p, a = res["peer"], res["neuroalign"]
        n = p["n"]
        print(
            f"{name:20s} {n:3d} {p['layers']:6d} {n / p['peer_s']:10.2f} {n / a['cold_s']:10.2f} "
            f"{p['peer_s'] / a['cold_s']:9.2f} {n / a['hit_s']:10.1f} "
            f"{a['cold_s'] / a['hit_s']:11.0f}x {p['peak_mb']:8.0f} {a['peak_mb']:13.0f} "
            f"{a['cache_mb']:8.0f}"
        )
    print(
        "\ncold/peer: neuroalign's cold throughput (hashing, preprocessing, disk writes included) "
        "relative to the plain loop, >1 = faster; the CPU is shared, so ±30% is noise.\n"
        "hit speed-up: cold extraction time / cache-hit time. MB: peak resident memory of the "
        "worker process (model weights included)."
    )


if __name__ == "__main__":
    main()
