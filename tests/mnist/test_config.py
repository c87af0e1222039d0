"""Tests for gantheory.mnist.config and gantheory.mnist.optim: the paper preset, the schedules,
the override rules and pylearn2's momentum rule, each against a value computed another way."""

import math
import typing

import pytest
import torch

from gantheory.config import override
from gantheory.errors import ConfigError
from gantheory.gan.losses import GeneratorLoss
from gantheory.mnist.config import (PRESETS, MNISTConfig, changed_maths, lr_at, momentum_at)
from gantheory.mnist.optim import PylearnMomentum
from gantheory.gan.step import UpdateOrder

# Python floats: lr_at and the closed form differ only by the order of a few roundings.
SCHEDULE_RTOL = 1e-12
# float32 updates: the same arithmetic in a different order, a few ulps of values ~1.
OPTIM_ATOL = 1e-6


def test_paper_preset_is_mnist_yaml():
    cfg = PRESETS["paper"]
    assert (cfg.z_dim, cfg.z, cfg.g_hidden, cfg.g_init, cfg.g_bias_clip) == (100, "uniform", 1200,
                                                                              0.05, 1e-7)
    assert (cfg.d_units, cfg.d_pieces, cfg.d_init) == (240, 5, 0.005)
    assert (cfg.d_input_keep, cfg.d_hidden_keep) == (0.8, 0.5)
    assert (cfg.batch, cfg.lr, cfg.lr_decay, cfg.lr_min) == (100, 0.1, 1.000004, 1e-6)
    assert (cfg.momentum, cfg.momentum_final, cfg.momentum_start, cfg.momentum_saturate) == (
        0.5, 0.7, 1, 250)
    assert (cfg.loss, cfg.update, cfg.k, cfg.train_images) == ("non_saturating", "simultaneous",
                                                               1, 50_000)
    assert cfg.steps_per_epoch == 500


def test_switches_share_the_1d_trainers_literal_types():
    hints = typing.get_type_hints(MNISTConfig)
    assert hints["loss"] is GeneratorLoss and hints["update"] is UpdateOrder


@pytest.mark.parametrize("step", [0, 1, 1000, 250_000, 5_000_000])
def test_lr_decays_by_1_000004_per_step_down_to_1e_6(step):
    cfg = PRESETS["paper"]
    expected = max(0.1 / 1.000004 ** step, 1e-6)
    assert lr_at(cfg, step) == pytest.approx(expected, rel=SCHEDULE_RTOL)


def test_lr_reaches_its_floor_where_the_closed_form_says():
    cfg = PRESETS["paper"]
    t_floor = math.ceil(math.log(0.1 / 1e-6) / math.log(1.000004))
    assert lr_at(cfg, t_floor - 1) > 1e-6 and lr_at(cfg, t_floor) == 1e-6


def test_momentum_rises_linearly_from_epoch_1_to_250():
    cfg = PRESETS["paper"]
    assert momentum_at(cfg, 1) == 0.5 and momentum_at(cfg, 250) == pytest.approx(0.7)
    assert momentum_at(cfg, 1000) == pytest.approx(0.7)
    mid = momentum_at(cfg, 125.5)  # half way between epochs 1 and 250
    assert mid == pytest.approx(0.6, rel=SCHEDULE_RTOL)
    steps = [momentum_at(cfg, e + 1) - momentum_at(cfg, e) for e in range(1, 250)]
    assert max(steps) == pytest.approx(min(steps), rel=1e-9)  # linear


@pytest.mark.parametrize("changes, match", [
    ({"nonsense": 1}, "unknown MNISTConfig option"),
    ({"epochs": 0}, "epochs must be >= 1"),
    ({"loss": "wasserstein"}, "loss must be one of"),
    ({"update": "sideways"}, "update must be one of"),
    ({"d_input_keep": "0"}, "d_input_keep must be in"),
    ({"train_images": 50_001}, "train_images must be <= 50000"),
    ({"batch": 300, "train_images": 200}, "one step needs"),
])
def test_override_rejects_bad_settings(changes, match):
    with pytest.raises(ConfigError, match=match):
        override(PRESETS["paper"], changes)


def test_override_converts_command_line_strings():
    cfg = override(PRESETS["paper"], {"k": "3", "update": "alternating", "lr": "0.05",
                                      "figures": "false"})
    assert (cfg.k, cfg.update, cfg.lr, cfg.figures) == (3, "alternating", 0.05, False)
    assert cfg.steps_per_epoch == 50_000 // 300


def test_changed_maths_ignores_run_control_fields():
    a = PRESETS["paper"]
    assert changed_maths(a, override(a, epochs=9, log_every=7, device="cpu")) == []
    assert changed_maths(a, override(a, lr=0.2, k=2)) == ["k", "lr"]


def test_pylearn_momentum_matches_the_recurrence_with_changing_lr():
    torch.manual_seed(0)
    p = torch.nn.Parameter(torch.randn(5))
    ref, vel = p.detach().clone(), torch.zeros(5)
    opt = PylearnMomentum([p], lr=0.1, momentum=0.5)
    for t in range(6):
        lr, mu = 0.1 / 1.5 ** t, 0.5 + 0.03 * t
        grad = torch.randn(5)
        opt.set_hyper(lr, mu)
        p.grad = grad.clone()
        opt.step()
        vel = mu * vel - lr * grad  # pylearn2: v <- mu v - eta g; theta <- theta + v
        ref = ref + vel
    torch.testing.assert_close(p.detach(), ref, atol=OPTIM_ATOL, rtol=0)


def test_pylearn_momentum_equals_torch_sgd_at_constant_lr():
    torch.manual_seed(1)
    a = torch.nn.Parameter(torch.randn(4, 3))
    b = torch.nn.Parameter(a.detach().clone())
    ours, sgd = PylearnMomentum([a], 0.1, 0.7), torch.optim.SGD([b], lr=0.1, momentum=0.7)
    for _ in range(5):
        g = torch.randn(4, 3)
        a.grad, b.grad = g.clone(), g.clone()
        ours.step()
        sgd.step()
    torch.testing.assert_close(a.detach(), b.detach(), atol=OPTIM_ATOL, rtol=0)


# -- memory estimates: the parameter counts against the networks themselves ---------------------

from gantheory.mnist.config import (discriminator_parameters, generator_parameters,  # noqa: E402
                                    memory_bytes)


@pytest.mark.parametrize("z_dim, g_hidden, d_units, d_pieces", [(100, 1200, 240, 5), (3, 7, 5, 2)])
def test_parameter_counts_are_those_of_the_built_networks(z_dim, g_hidden, d_units, d_pieces):
    from gantheory.mnist.nets import build

    cfg = override(PRESETS["paper"], z_dim=z_dim, g_hidden=g_hidden, d_units=d_units,
                   d_pieces=d_pieces)
    G, D = build(cfg, None, torch.Generator())
    assert generator_parameters(z_dim, g_hidden) == sum(p.numel() for p in G.parameters())
    assert discriminator_parameters(d_units, d_pieces) == sum(p.numel() for p in D.parameters())


def test_memory_estimate_covers_the_images_and_grows_with_ranks():
    small = override(PRESETS["paper"], data="synthetic", train_images=1000)
    big = override(small, train_images=10**10)
    assert memory_bytes(big) >= 10**10 * 784 * 4  # the float32 images alone
    assert memory_bytes(small, world_size=4) == 4 * memory_bytes(small)
    # the paper preset: its images (157 MB float32 + the 55 MB uint8 data) and nets fit in 1 GB
    assert 212e6 < memory_bytes(PRESETS["paper"]) < 1e9
