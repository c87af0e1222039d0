"""Tests for gantheory.mnist.nets: the paper's G and D, checked against explicit computations."""

import math

import pytest
import torch

from gantheory.mnist.config import PRESETS
from gantheory.mnist.nets import (Discriminator, Maxout, Shard, build, draw_z,
                                  generator_output_bias)

# Two ranks' halves against one batch: the same per-row arithmetic, but the CPU GEMM may block a
# 3-row and a 6-row product differently: a few float32 ulps of outputs ~1.
SHARD_ATOL = 1e-6


def _rate_tol(p, n):
    """5 standard errors of a Bernoulli(p) rate over n draws: a false alarm ~1 in 10^6."""
    return 5 * math.sqrt(p * (1 - p) / n)


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_paper_networks_have_the_papers_shapes_and_init_ranges():
    cfg = PRESETS["paper"]
    G, D = build(cfg, torch.zeros(784), _gen())
    shapes = [tuple(p.shape) for p in G.parameters()]
    assert shapes == [(1200, 100), (1200,), (1200, 1200), (1200,), (784, 1200), (784,)]
    assert [tuple(p.shape) for p in D.parameters()] == [(1200, 784), (1200,), (1200, 240),
                                                        (1200,), (1, 240), (1,)]
    for net, r in ((G, 0.05), (D, 0.005)):
        weights = [p for n, p in net.named_parameters() if n.endswith("weight")]
        assert all(w.abs().max() <= r for w in weights)
        assert all(w.abs().max() > 0.99 * r for w in weights[:-1])  # U(-r, r) fills its range
    assert all(p.abs().max() == 0 for n, p in D.named_parameters() if n.endswith("bias"))


def test_generator_output_bias_is_the_clipped_logit_of_the_mean_pixel():
    x = torch.zeros(4, 784)
    x[:, 0], x[:2, 1], x[:, 2] = 1.0, 1.0, 0.25
    b = generator_output_bias(x, 1e-7)
    assert torch.sigmoid(b[1].double()).item() == pytest.approx(0.5)
    assert torch.sigmoid(b[2].double()).item() == pytest.approx(0.25, rel=1e-6)
    assert b[3].item() == pytest.approx(math.log(1e-7 / (1 - 1e-7)), rel=1e-6)  # never -inf
    assert b[0].item() == pytest.approx(-b[3].item(), rel=1e-6)
    G, _ = build(PRESETS["smoke"], b, _gen())
    assert torch.equal(G.net[-1].bias.detach(), b)


def test_maxout_is_the_max_over_each_units_pieces():
    torch.manual_seed(0)
    m = Maxout(7, units=3, pieces=4)
    x = torch.randn(5, 7)
    y = m.linear(x)
    expected = torch.stack([y[:, 4 * j:4 * j + 4].max(1).values for j in range(3)], 1)
    assert torch.equal(m(x), expected)


def test_dropout_keeps_the_stated_fraction_scaled_by_one_over_keep():
    D = Discriminator(8, 2, 0.005, 0.8, 0.5, _gen(1), _gen(2))
    x = torch.ones(2000, 784)
    out = D._dropout(x, 0.8)
    kept = (out != 0).float().mean().item()
    assert kept == pytest.approx(0.8, abs=_rate_tol(0.8, x.numel()))
    assert set(out.unique().tolist()) == {0.0, 1.25}
    D.eval()
    assert torch.equal(D._dropout(x, 0.8), x)  # eval: no dropout


def test_dropout_stays_on_for_every_forward_in_training_mode():
    D = Discriminator(8, 2, 0.5, 0.8, 0.5, _gen(1), _gen(2))
    x = torch.rand(3, 784)
    assert not torch.equal(D(x), D(x))  # fresh masks per call, as in G's step too


def test_two_shards_draw_exactly_the_single_process_noise_and_masks():
    cfg = PRESETS["smoke"]
    full = draw_z(6, 10, "uniform", _gen(3), Shard(), "cpu")
    halves = [draw_z(3, 10, "uniform", _gen(3), Shard(r, 2), "cpu") for r in (0, 1)]
    assert torch.equal(torch.cat(halves), full)
    assert full.abs().max() <= math.sqrt(3) and full.min() < 0
    x = torch.rand(6, 784)
    one = build(cfg, None, _gen(4))[1]
    ranks = [build(cfg, None, _gen(4), Shard(r, 2))[1] for r in (0, 1)]
    out = torch.cat([ranks[r](x[3 * r:3 * r + 3]) for r in (0, 1)])
    torch.testing.assert_close(out, one(x), rtol=0, atol=SHARD_ATOL)


def test_uniform_noise_has_unit_variance():
    z = draw_z(20_000, 10, "uniform", _gen(5), Shard(), "cpu")
    assert z.var().item() == pytest.approx(1.0, abs=5 * math.sqrt(0.8 / z.numel()))
