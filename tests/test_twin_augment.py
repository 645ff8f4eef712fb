"""Jitter and noise for synthesis (neuroalign.twin.augment): batched draws against references."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats

from neuroalign.twin.augment import (
    draw_normal,
    draw_shifts,
    hash32,
    job_key,
    noisy_copies,
    roll_copies,
)


def _lowbias32(x: np.ndarray) -> np.ndarray:
    """Reference: the published C code on uint32 (wrapping multiplication)."""
    x = x.astype(np.uint32)
    x ^= x >> np.uint32(16)
    x *= np.uint32(0x7FEB352D)
    x ^= x >> np.uint32(15)
    x *= np.uint32(0x846CA68B)
    x ^= x >> np.uint32(16)
    return x


def _keys(n: int, seed: int = 0) -> torch.Tensor:
    return torch.stack([job_key(torch.Generator().manual_seed(seed + i)) for i in range(n)])


def test_hash_matches_the_uint32_reference_without_overflow():
    rng = np.random.default_rng(0)
    x = np.concatenate([[0, 1, 2**31 - 1, 2**31, 2**32 - 1], rng.integers(0, 2**32, 10_000)])
    got = hash32(torch.as_tensor(x, dtype=torch.int64)).numpy()
    np.testing.assert_array_equal(got, _lowbias32(x).astype(np.int64))
    assert hash32(12345) == int(_lowbias32(np.array([12345]))[0])  # plain ints too


def test_draws_of_a_job_do_not_depend_on_its_batch():
    keys = _keys(5)
    for step in (0, 7):
        s_all = draw_shifts(keys, step, 3, 2)
        z_all = draw_normal(keys, step, (3, 9, 11))
        for j in (0, 3):
            assert torch.equal(draw_shifts(keys[j : j + 1], step, 3, 2)[0], s_all[j])
            assert torch.equal(draw_normal(keys[[4, j]], step, (3, 9, 11))[1], z_all[j])
    # new steps and other jobs get new draws
    assert not torch.equal(draw_normal(keys, 1, (4,)), draw_normal(keys, 2, (4,)))
    assert not torch.equal(z_all[0], z_all[1])


def test_shifts_are_uniform_and_noise_is_standard_normal():
    keys = _keys(400)
    s = torch.cat([draw_shifts(keys, t, 2, 2) for t in range(25)]).numpy().ravel()  # 40,000
    counts = np.bincount(s + 2, minlength=5)
    assert s.min() == -2 and s.max() == 2
    assert stats.chisquare(counts).pvalue > 1e-3
    z = draw_normal(keys[:50], 3, (2, 31, 31)).numpy()  # odd count: Box–Muller pairs trimmed
    assert z.shape == (50, 2, 31, 31) and z.dtype == np.float32
    assert stats.kstest(z.ravel(), "norm").pvalue > 1e-3
    # neighbouring pixels, successive steps and different jobs are uncorrelated
    flat = z.reshape(50, -1)
    assert abs(np.corrcoef(flat[:, :-1].ravel(), flat[:, 1:].ravel())[0, 1]) < 0.02
    nxt = draw_normal(keys[:50], 4, (2, 31, 31)).numpy().reshape(50, -1)
    assert abs(np.corrcoef(flat.ravel(), nxt.ravel())[0, 1]) < 0.02
    assert abs(np.corrcoef(flat[:25].ravel(), flat[25:].ravel())[0, 1]) < 0.02


def _loop(x, shifts, noise):
    """The per-copy loop the batched copies replace (torch.roll, then add the noise)."""
    copies = []
    for j in range(x.shape[0]):
        for c in range(shifts.shape[1]):
            xi = torch.roll(x[j], shifts=tuple(shifts[j, c].tolist()), dims=(0, 1))
            copies.append(xi + noise[j, c] if noise is not None else xi)
    return torch.stack(copies)


@pytest.mark.parametrize("n_copies", [2, 3])
def test_batched_copies_equal_the_per_copy_loop_and_its_gradient(n_copies):
    gen = torch.Generator().manual_seed(0)
    x0 = torch.randn(4, 9, 12, generator=gen)
    w = torch.randn(4 * n_copies, 9, 12, generator=gen)
    keys = _keys(4, seed=10)
    shifts = draw_shifts(keys, 5, n_copies, 3)
    noise = 0.3 * draw_normal(keys, 5, (n_copies, 9, 12))
    grads = []
    for batched in (True, False):
        x = x0.clone().requires_grad_(True)
        if batched:
            out = noisy_copies(x, keys, 5, n_copies, 3, 0.3)
        else:
            out = _loop(x, shifts, noise)
        (out * w).sum().backward()
        grads.append((out.detach(), x.grad))
    (a, ga), (b, gb) = grads
    assert torch.equal(a, b)
    torch.testing.assert_close(ga, gb, rtol=1e-6, atol=1e-6)  # order of the copies' sum
    # shifts alone: exactly torch.roll per copy, shifts on both axes and of both signs used
    assert torch.equal(roll_copies(x0, shifts).reshape(-1, 9, 12), _loop(x0, shifts, None))
    assert set(shifts.unique().tolist()) >= {-3, 3}


def test_no_jitter_no_noise_gives_plain_copies():
    x = torch.randn(3, 5, 5, generator=torch.Generator().manual_seed(1))
    out = noisy_copies(x, _keys(3), 0, 2, 0, 0.0)
    assert torch.equal(out, x.repeat_interleave(2, dim=0))
