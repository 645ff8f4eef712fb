"""MEI / LEI synthesis: gradient ascent (descent) on the image at a fixed contrast.

Two parametrisations of the image ``x (H, W)`` (standardised pixels, see :mod:`neuroalign.twin.base`):

* ``"pixel"`` — the pixels themselves; each step's gradient is blurred with a Gaussian
  (``blur_sigma`` px) before the optimiser sees it.
* ``"fourier"`` — ``x = irfft2(A · exp(iφ))`` with a fixed natural amplitude spectrum
  ``A(f) ∝ 1 / |f|^alpha`` (``alpha = 1``: the 1/f spectrum of natural images; no DC term) and
  learned phases ``φ``; the image keeps natural second-order statistics.

After every step the image is centred and scaled back to the L2 norm ``norm`` (for the Fourier
parametrisation the norm is fixed by ``A`` and the scale is exact by construction), so the
contrast constraint holds exactly. Pixel images start near the grey screen (random pixels at 1 % of
the contrast) so the first step follows the neuron's linearised receptive field. Each step evaluates
``n_copies`` jittered (circularly shifted by up to ``jitter`` px) and noisy (Gaussian, ``noise`` ×
the image's RMS) copies and averages their responses, which keeps the optimum robust. ``n_seeds``
restarts per neuron and direction; the restart with the best clean response (no jitter, no noise)
is kept. Adam or SGD (on the gradient normalised to unit norm, so ``lr`` is a fraction of the norm
per step), both with a cosine learning-rate schedule.

Synthesis runs where the twin's weights are (``load_v1_twin(device=...)``, ``twin.to(device)``).
Many jobs (neuron, direction, restart) are optimised in one batch: the twin treats images
independently, so the summed objective gives each image its own gradient. Each job has its own
``torch.Generator`` seeded from ``(seed, neuron, direction, restart)``: it draws the start image and
the key of the job's jitter and noise, which are then drawn for the whole batch at once on the
device (:mod:`neuroalign.twin.augment`). The same seed gives a bit-identical image on one machine
whichever other neurons share the batch and whatever the batch size (to the twin's own rounding,
which for some networks depends on the batch size; on a GPU also to torch's nondeterministic
kernels, e.g. cuDNN's backward passes, unless ``torch.use_deterministic_algorithms(True)``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from neuroalign._core.errors import ConfigError
from neuroalign.twin.augment import job_key, noisy_copies
from neuroalign.twin.base import Twin, check_neurons, default_batch_size, project_norm

__all__ = ["Synthesis", "synthesize", "synthesize_poles", "amplitude_spectrum", "DEFAULTS"]

DEFAULTS = {
    "param": "pixel",
    "steps": 128,
    "optimizer": None,
    "n_seeds": 2,
    "n_copies": 2,
    "jitter": 2,
    "noise": 0.05,
    "blur_sigma": 1.0,
    "alpha": 1.0,
}
_BATCH = {"cpu": 16, "gpu": 256}  # jobs per forward pass by default
_INIT_SCALE = 0.01
_DEFAULT_LR = {("pixel", "adam"): 0.1, ("pixel", "sgd"): 0.1, ("fourier", "adam"): 0.1,
               ("fourier", "sgd"): 0.5}  # fmt: skip


@dataclass
class Synthesis:
    """Synthesised images for ``neurons`` in one direction.

    ``images``: float64 ``(k, H, W)`` standardised, mean 0, ``‖image‖₂ = norm``;
    ``responses``: ``(k,)`` clean twin response to each image; ``seed_responses``: ``(k, n_seeds)``
    every restart's clean response; ``neurons``: ``(k,)`` indices; ``direction``: ``"max"`` (MEI)
    or ``"min"`` (LEI); ``parameters``: every setting incl. ``seed``; ``seconds``: wall time (of
    the joint run for :func:`synthesize_poles`).
    """

    images: np.ndarray
    responses: np.ndarray
    seed_responses: np.ndarray
    neurons: np.ndarray
    direction: str
    parameters: dict = field(default_factory=dict)
    seconds: float = 0.0


def amplitude_spectrum(shape: tuple[int, int], alpha: float = 1.0) -> torch.Tensor:
    """Natural amplitude spectrum ``(H, W // 2 + 1)`` for ``torch.fft.irfft2``: ``1 / |f|^alpha``.

    ``|f|`` in cycles per pixel, floored at ``1 / max(H, W)``; the DC term is 0 (centred images).
    """
    h, w = shape
    fy = torch.fft.fftfreq(h, dtype=torch.float64)[:, None]
    fx = torch.fft.rfftfreq(w, dtype=torch.float64)[None, :]
    f = torch.sqrt(fy**2 + fx**2).clamp_min(1.0 / max(h, w))
    a = f ** (-float(alpha))
    a[0, 0] = 0.0
    return a


def _gaussian_kernel(sigma: float) -> list[float] | None:
    """Normalised Gaussian weights (float32 values) over ``[−r, r]``, ``r = ceil(3σ)``."""
    if sigma <= 0:
        return None
    r = max(1, int(math.ceil(3 * sigma)))
    t = torch.arange(-r, r + 1, dtype=torch.float32)
    k = torch.exp(-(t**2) / (2 * sigma**2))
    return (k / k.sum()).tolist()


def _blur(g: torch.Tensor, k: list[float] | None) -> torch.Tensor:
    """Separable Gaussian blur of ``(J, H, W)`` with reflect padding, as weighted sums of shifted
    slices: each image's result is independent of the batch (a convolution's is not)."""
    if k is None:
        return g
    r = (len(k) - 1) // 2
    h, w = g.shape[-2:]
    x = F.pad(g[:, None], (r, r, 0, 0), mode="reflect")[:, 0]
    x = sum(k[i] * x[:, :, i : i + w] for i in range(len(k)))
    x = F.pad(x[:, None], (0, 0, r, r), mode="reflect")[:, 0]
    return sum(k[i] * x[:, i : i + h] for i in range(len(k)))


def _job_seed(seed: int, neuron: int, sign: int, restart: int) -> int:
    ss = np.random.SeedSequence(entropy=int(seed), spawn_key=(int(neuron), int(sign > 0), restart))
    return int(ss.generate_state(1, dtype=np.uint64)[0] % (2**63 - 1))


def _check(name, value, kind, lo=None, hi=None):
    ok = isinstance(value, kind) and not isinstance(value, bool)
    if ok and lo is not None and value < lo:
        ok = False
    if ok and hi is not None and value > hi:
        ok = False
    if not ok:
        rng = f" in [{lo}, {hi}]" if hi is not None else (f" ≥ {lo}" if lo is not None else "")
        raise ConfigError(f"{name} must be a {kind.__name__}{rng}, got {value!r}.")


def _settings(
    twin: Twin,
    *,
    param: str = DEFAULTS["param"],
    norm: float | None = None,
    steps: int = DEFAULTS["steps"],
    lr: float | None = None,
    optimizer: str | None = DEFAULTS["optimizer"],
    n_seeds: int = DEFAULTS["n_seeds"],
    n_copies: int = DEFAULTS["n_copies"],
    jitter: int = DEFAULTS["jitter"],
    noise: float = DEFAULTS["noise"],
    blur_sigma: float = DEFAULTS["blur_sigma"],
    alpha: float = DEFAULTS["alpha"],
    seed: int = 0,
    batch_size: int | None = None,
) -> dict:
    """Every synthesis setting checked and resolved (defaults filled in), as recorded."""
    if param not in ("pixel", "fourier"):
        raise ConfigError(f"param must be 'pixel' or 'fourier', got {param!r}.")
    if optimizer is None:
        optimizer = "sgd" if param == "pixel" else "adam"
    if optimizer not in ("adam", "sgd"):
        raise ConfigError(f"optimizer must be 'adam' or 'sgd', got {optimizer!r}.")
    _check("steps", steps, int, 1)
    _check("n_seeds", n_seeds, int, 1)
    _check("n_copies", n_copies, int, 1)
    _check("jitter", jitter, int, 0)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ConfigError(f"seed must be an int, got {seed!r}; synthesis is always seeded.")
    for name, v in (("noise", noise), ("blur_sigma", blur_sigma)):
        if not (isinstance(v, int | float) and v >= 0):
            raise ConfigError(f"{name} must be a number ≥ 0, got {v!r}.")
    norm = float(twin.default_norm if norm is None else norm)
    if not norm > 0:
        raise ConfigError(f"norm (contrast) must be > 0, got {norm}.")
    lr = float(_DEFAULT_LR[(param, optimizer)] if lr is None else lr)
    if not lr > 0:
        raise ConfigError(f"lr must be > 0, got {lr}.")
    h, w = twin.image_shape
    if jitter >= min(h, w) // 2:
        raise ConfigError(f"jitter {jitter} px is too large for {h}×{w} images.")
    return {
        "param": param,
        "norm": norm,
        "steps": steps,
        "lr": lr,
        "optimizer": optimizer,
        "n_seeds": n_seeds,
        "n_copies": n_copies,
        "jitter": jitter,
        "noise": float(noise),
        "blur_sigma": float(blur_sigma),
        "alpha": float(alpha),
        "seed": int(seed),
        "batch_size": default_batch_size(batch_size, twin.device, **_BATCH),
    }


def synthesize(
    twin: Twin,
    neurons,
    direction: str = "max",
    *,
    param: str = DEFAULTS["param"],
    norm: float | None = None,
    steps: int = DEFAULTS["steps"],
    lr: float | None = None,
    optimizer: str | None = DEFAULTS["optimizer"],
    n_seeds: int = DEFAULTS["n_seeds"],
    n_copies: int = DEFAULTS["n_copies"],
    jitter: int = DEFAULTS["jitter"],
    noise: float = DEFAULTS["noise"],
    blur_sigma: float = DEFAULTS["blur_sigma"],
    alpha: float = DEFAULTS["alpha"],
    seed: int = 0,
    batch_size: int | None = None,
    progress: bool | None = None,
) -> Synthesis:
    """Most (``direction="max"``, MEI) or least (``"min"``, LEI) exciting image per neuron.

    Parameters
    ----------
    twin : a :class:`~neuroalign.twin.base.Twin`; its parameters are not changed. Synthesis runs
        on the twin's device.
    neurons : neuron indices (int or sequence); checked against ``twin.n_neurons``.
    param : ``"pixel"`` or ``"fourier"`` (see the module docstring).
    norm : contrast ``‖x − mean(x)‖₂`` in standardised units (default ``twin.default_norm``).
    steps : optimisation steps; ``lr``: learning rate (default 0.1; SGD: fraction of ``norm`` per
        step; Adam: pixel units of the target per-pixel RMS ``norm / sqrt(H·W)``, or radians);
    optimizer : ``"adam"`` or ``"sgd"`` (default: SGD on the normalised gradient for pixels —
        Adam's per-pixel step sizes drive pixel images towards sign patterns — Adam for phases);
        cosine schedule from ``lr`` to 0 over ``steps``.
    n_seeds : restarts per neuron (best kept); ``n_copies``: jittered noisy copies per step;
    jitter : max circular shift in px; ``noise``: copy noise std relative to the image RMS;
    blur_sigma : Gaussian gradient blur in px (pixel parametrisation); ``alpha``: spectrum exponent.
    seed : int; ``batch_size``: jobs (neuron × restart) optimised together, default 16 on the CPU
        and 256 on a GPU; it changes speed and memory, not the images.

    Returns a :class:`Synthesis` (images float64 ``(k, H, W)``).
    """
    if direction not in ("max", "min"):
        raise ConfigError(f"direction must be 'max' (MEI) or 'min' (LEI), got {direction!r}.")
    settings = _settings(
        twin, param=param, norm=norm, steps=steps, lr=lr, optimizer=optimizer, n_seeds=n_seeds,
        n_copies=n_copies, jitter=jitter, noise=noise, blur_sigma=blur_sigma, alpha=alpha,
        seed=seed, batch_size=batch_size,
    )  # fmt: skip
    return _synthesize(twin, neurons, (direction,), settings, progress)[0]


def synthesize_poles(
    twin: Twin, neurons, *, progress: bool | None = None, **options
) -> tuple[Synthesis, Synthesis]:
    """``(MEI, LEI)`` of ``neurons``: :func:`synthesize` in both directions, their jobs sharing
    batches (twice the images per forward pass). ``options``: :func:`synthesize`'s settings;
    each result equals the one-direction call with the same options."""
    return tuple(_synthesize(twin, neurons, ("max", "min"), _settings(twin, **options), progress))


def _synthesize(twin: Twin, neurons, directions, s: dict, progress) -> list[Synthesis]:
    """One :class:`Synthesis` per direction; every (direction, neuron, restart) job batched."""
    from tqdm.auto import tqdm

    idx = check_neurons(neurons, twin.n_neurons)
    n_seeds, bs = s["n_seeds"], s["batch_size"]
    jobs = [(int(n), 1 if d == "max" else -1, r) for d in directions for n in idx
            for r in range(n_seeds)]  # fmt: skip
    h, w = twin.image_shape
    finals = np.empty((len(jobs), h, w))
    clean = np.empty(len(jobs))
    was_training = twin.training
    twin.eval()
    req = [p.requires_grad for p in twin.parameters()]
    for p in twin.parameters():
        p.requires_grad_(False)
    t0 = time.perf_counter()
    try:
        with tqdm(
            total=len(jobs) * s["steps"],
            unit="step",
            desc=f"{'+'.join('MEI' if d == 'max' else 'LEI' for d in directions)} {twin.name}",
            leave=False,
            disable=None if progress is None else not progress,
        ) as bar:
            for start in range(0, len(jobs), bs):
                chunk = jobs[start : start + bs]
                finals[start : start + len(chunk)] = imgs = _run_chunk(twin, chunk, s, bar)
                with torch.no_grad():
                    r = twin(torch.from_numpy(imgs.astype(np.float32)).to(twin.device))
                    cols = torch.tensor([n for n, _, _ in chunk], device=r.device)
                    pick = r[torch.arange(len(chunk), device=r.device), cols]
                clean[start : start + len(chunk)] = pick.double().cpu().numpy()
    finally:
        for p, q in zip(twin.parameters(), req, strict=True):
            p.requires_grad_(q)
        twin.train(was_training)
    seconds = time.perf_counter() - t0
    out = []
    for k, direction in enumerate(directions):
        sign = 1 if direction == "max" else -1
        part = slice(k * len(idx) * n_seeds, (k + 1) * len(idx) * n_seeds)
        seed_resp = clean[part].reshape(len(idx), n_seeds)
        best = np.argmax(sign * seed_resp, axis=1)
        sel = np.arange(len(idx)) * n_seeds + best
        out.append(
            Synthesis(
                images=finals[part][sel],
                responses=seed_resp[np.arange(len(idx)), best],
                seed_responses=seed_resp,
                neurons=idx,
                direction=direction,
                parameters={"direction": direction, **s},
                seconds=seconds,
            )
        )
    return out


def _run_chunk(twin: Twin, chunk, s: dict, bar) -> np.ndarray:
    """Optimise one batch of jobs ``(neuron, sign, restart)`` on the twin's device; returns their
    final images float64 ``(J, H, W)`` at ``norm``."""
    dev = twin.device
    h, w = twin.image_shape
    j = len(chunk)
    param, norm, optimizer, steps = s["param"], s["norm"], s["optimizer"], s["steps"]
    pix_rms = norm / math.sqrt(h * w)
    gens = [torch.Generator().manual_seed(_job_seed(s["seed"], *job)) for job in chunk]
    if param == "pixel":
        init = torch.stack([torch.randn(h, w, generator=g) for g in gens])
        # start near the grey screen (1 % of the contrast): the first step follows the neuron's
        # linearised receptive field instead of keeping random pixels outside it
        var = project_norm(init, norm) * _INIT_SCALE
        step_lr = s["lr"] * (pix_rms if optimizer == "adam" else norm)
        kernel = _gaussian_kernel(s["blur_sigma"])
    else:
        amp = amplitude_spectrum((h, w), s["alpha"]).to(dev)
        var = torch.stack(
            [(torch.rand(amp.shape, generator=g, dtype=torch.float64) * 2 - 1) * math.pi
             for g in gens]
        )  # fmt: skip
        step_lr = s["lr"]
    keys = torch.stack([job_key(g) for g in gens]).to(dev)
    var = var.to(dev).requires_grad_(True)
    opt = (
        torch.optim.Adam([var], lr=step_lr)
        if optimizer == "adam"
        else torch.optim.SGD([var], lr=step_lr)
    )
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=0.0)
    neuron_idx = torch.tensor([[n] for n, _, _ in chunk], device=dev)
    signs = torch.tensor([sign for _, sign, _ in chunk], dtype=torch.float32, device=dev)
    noise_std = s["noise"] * pix_rms
    conj_rows = (-torch.arange(h, device=dev)) % h
    real_cols = [0] + ([w // 2] if w % 2 == 0 else [])

    def image(v):
        if param == "pixel":
            return v
        # columns kx = 0 (and Nyquist) hold conjugate pairs: antisymmetrise their phases so the
        # image's spectrum has exactly the amplitude A (irfft2 would otherwise average pairs)
        cols = v[:, :, real_cols]
        v = v.clone()
        v[:, :, real_cols] = 0.5 * (cols - cols[:, conj_rows])
        spec = torch.polar(amp.expand_as(v), v)
        return project_norm(torch.fft.irfft2(spec, s=(h, w)), norm).float()

    for step in range(steps):
        opt.zero_grad(set_to_none=True)
        x = noisy_copies(image(var), keys, step, s["n_copies"], s["jitter"], noise_std)
        r = twin(x).view(j, s["n_copies"], -1).mean(1)  # (J, n_neurons)
        loss = -(signs * r.gather(1, neuron_idx)[:, 0]).sum()
        loss.backward()
        if param == "pixel":
            g = _blur(var.grad, kernel)
            if optimizer == "sgd":
                g = g / g.flatten(1).norm(dim=1).clamp_min(1e-30)[:, None, None]
            var.grad = g
        elif optimizer == "sgd":
            gg = var.grad
            var.grad = gg / gg.flatten(1).norm(dim=1).clamp_min(1e-30)[:, None, None]
        opt.step()
        sched.step()
        if param == "pixel":
            with torch.no_grad():
                var.copy_(project_norm(var, norm))
        bar.update(j)
    with torch.no_grad():
        x = image(var).double().cpu()
    return project_norm(x.numpy(), norm)
