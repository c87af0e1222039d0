"""Tests for gantheory.losses and gan_step: each loss's gradient in D's logit by autograd, by the
closed form and by sympy; finiteness at extreme logits; and the update orders of gan_step,
counted (alternating: k D steps per G step) and recomputed by hand (simultaneous)."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gantheory.gan.losses import (GENERATOR_LOSSES, discriminator_loss, generator_loss,
                              generator_loss_grad_wrt_logit)
from gantheory.oned.nets import AffineGenerator, EnsembleMLP
from gantheory.symbolic import generator_gradient_limits
from gantheory.gan.step import gan_step

# autograd and the closed forms evaluate the same elementary functions in a different order:
# a few ulps apart. 1e-12 relative leaves ~1e4 ulps of margin; a wrong formula is off by O(1).
GRAD_RTOL = 1e-12
# torch's F.softplus(x) returns x itself for x > 20 (its default threshold), dropping
# log1p(e^-x) < e^-20: the minimax and non-saturating gradients there are +-1 instead of
# sigmoid(+-x), a relative error up to e^-20 = 2.1e-9. Beyond |l| = 20 we allow exactly that.
SOFTPLUS_THRESHOLD = 20.0
SOFTPLUS_RTOL = 1.01 * math.exp(-SOFTPLUS_THRESHOLD)
# The closed forms -(1 - d) and -d/(1 - d) form 1 - d from d = sigmoid(l), which carries an
# absolute rounding error of ~eps, i.e. a relative error of eps / (1 - d): ~1e-3 at l = 30.
# Compare them with autograd at rtol GRAD_RTOL + CANCEL_ULPS * eps / (1 - d), point by point.
CANCEL_ULPS = 4.0
EPS = float(np.finfo(np.float64).eps)


def _closed_rtol(d, loss):
    if loss == "minimax":
        return SOFTPLUS_RTOL
    return GRAD_RTOL + SOFTPLUS_RTOL + CANCEL_ULPS * EPS / (1.0 - np.asarray(d, dtype=np.float64))
LOGITS = torch.linspace(-30.0, 30.0, 601, dtype=torch.float64)
# Bounded logits for hypothesis: |l| <= 60 keeps exp(l) and the ML cost well inside float64.
logit_values = st.floats(min_value=-60.0, max_value=60.0, allow_nan=False, allow_infinity=False)


@pytest.fixture(scope="module")
def sympy_gradients():
    der = generator_gradient_limits()
    assert der.holds
    return der.details


def _autograd_per_sample(logits: torch.Tensor, loss: str) -> torch.Tensor:
    l = logits.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(generator_loss(l[:, None], loss).sum(), l)
    return g


@pytest.mark.parametrize("loss", GENERATOR_LOSSES)
def test_generator_grad_autograd_matches_sympy_in_logit(loss, sympy_gradients):
    auto = _autograd_per_sample(LOGITS, loss).numpy()
    sym = np.asarray(sympy_gradients["grad_l_fns"][loss](LOGITS.numpy()), dtype=np.float64)
    inner = (LOGITS.abs() <= SOFTPLUS_THRESHOLD).numpy()
    np.testing.assert_allclose(auto[inner], sym[inner], rtol=GRAD_RTOL, atol=0)
    np.testing.assert_allclose(auto, sym, rtol=SOFTPLUS_RTOL, atol=0)


@pytest.mark.parametrize("loss", GENERATOR_LOSSES)
def test_generator_grad_closed_form_matches_autograd_and_sympy_in_d(loss, sympy_gradients):
    d = torch.sigmoid(LOGITS)
    auto = _autograd_per_sample(LOGITS, loss).numpy()
    closed = generator_loss_grad_wrt_logit(d, loss).numpy()
    sym_d = np.asarray(sympy_gradients["grad_d_fns"][loss](d.numpy()), dtype=np.float64)
    np.testing.assert_allclose(closed, sym_d, rtol=GRAD_RTOL, atol=0)
    assert np.all(np.abs(closed - auto) <= _closed_rtol(d.numpy(), loss) * np.abs(auto))
    inner = (LOGITS.abs() <= 10).numpy()  # 1 - d >= 4.5e-5: the closed forms keep >= 11 digits
    np.testing.assert_allclose(closed[inner], auto[inner], rtol=1e-10, atol=0)


@settings(deadline=None, max_examples=50)
@given(l=logit_values)
def test_generator_grads_match_closed_form_property(l):
    logit = torch.tensor([l], dtype=torch.float64)
    for loss in GENERATOR_LOSSES:
        auto = float(_autograd_per_sample(logit, loss)[0])
        if loss == "maximum_likelihood":
            assert auto == pytest.approx(-math.exp(l), rel=GRAD_RTOL)
        d = torch.sigmoid(logit)
        if loss != "minimax" and float(d) == 1.0:
            # l > ~36.7: 1 - d rounds to 0 and the closed forms in d, -(1 - d) and -d / (1 - d),
            # hold nothing of the gradient; there is no tolerance to check them against.
            continue
        closed = float(generator_loss_grad_wrt_logit(d, loss)[0])
        assert abs(closed - auto) <= float(np.max(_closed_rtol(d.numpy(), loss))) * abs(auto)


def test_minimax_saturates_and_non_saturating_does_not():
    d = torch.tensor([1e-6, 1e-9], dtype=torch.float64)
    l = torch.log(d) - torch.log1p(-d)
    mm = _autograd_per_sample(l, "minimax").abs()
    ns = _autograd_per_sample(l, "non_saturating").abs()
    assert torch.all(mm <= 2 * d)
    assert torch.all(ns >= 1 - 2 * d)


@pytest.mark.parametrize("loss", GENERATOR_LOSSES)
def test_generator_losses_finite_at_extreme_logits(loss):
    l = torch.tensor([-100.0, 100.0], dtype=torch.float64, requires_grad=True)
    cost = generator_loss(l[:, None], loss)
    (g,) = torch.autograd.grad(cost.sum(), l)
    assert torch.isfinite(cost).all() and torch.isfinite(g).all()


def test_discriminator_loss_finite_and_exact_at_extreme_logits():
    real = torch.tensor([[-100.0]], dtype=torch.float64, requires_grad=True)
    fake = torch.tensor([[100.0]], dtype=torch.float64, requires_grad=True)
    loss = discriminator_loss(real, fake)
    assert float(loss.detach()) == pytest.approx(100.0, rel=1e-15)
    # softplus(100) = 100 + log1p(e^-100): a naive log(sigmoid(-100)) would still be finite in
    # float64, but in float32 sigmoid(-100) underflows and log gives -inf; check both.
    loss.sum().backward()
    assert float(real.grad) == pytest.approx(-0.5) and float(fake.grad) == pytest.approx(0.5)
    l32 = discriminator_loss(real.detach().float(), fake.detach().float())
    assert torch.isfinite(l32).all() and float(l32) == pytest.approx(100.0, rel=1e-6)
    confident = discriminator_loss(torch.tensor([[100.0]]), torch.tensor([[-100.0]]))
    assert float(confident) >= 0 and float(confident) < 1e-40


def test_generator_loss_rejects_unknown_name():
    with pytest.raises(ValueError, match="loss must be one of"):
        generator_loss(torch.zeros(1, 2), "wasserstein")
    with pytest.raises(ValueError, match="loss must be one of"):
        generator_loss_grad_wrt_logit(torch.zeros(2), "hinge")


# ------------------------------------------------------------------------------- gan_step


def _tiny(seed: int = 0):
    torch.manual_seed(seed)
    G = AffineGenerator([seed], a0=0.7, b0=1.3)
    D = EnsembleMLP([seed], [1, 4, 1], activation="tanh", stream="D")
    return G, D


def _batches(n: int, m: int = 8, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(1, m, 1, generator=g, dtype=torch.float64) for _ in range(n)]


def _feeder(batches):
    it = iter(batches)
    return lambda: next(it)


def _recorded_players():
    """G, D and their SGD optimisers; ``order`` lists "D" and "G" as each optimiser steps."""
    G, D = _tiny()
    opt_g, opt_d = torch.optim.SGD(G.parameters(), lr=0.1), torch.optim.SGD(D.parameters(), lr=0.1)
    order = []
    opt_d.register_step_post_hook(lambda *a: order.append("D"))
    opt_g.register_step_post_hook(lambda *a: order.append("G"))
    return G, D, opt_g, opt_d, order


def test_alternating_k3_takes_three_d_steps_per_g_step():
    G, D, opt_g, opt_d, order = _recorded_players()
    reals, zs = _batches(100, seed=1), _batches(100, seed=2)
    for _ in range(2):
        gan_step(G, D, opt_g, opt_d, _feeder(reals), _feeder(zs), update="alternating", k=3)
    assert order == ["D", "D", "D", "G"] * 2


def test_simultaneous_takes_one_step_on_each():
    G, D, opt_g, opt_d, order = _recorded_players()
    gan_step(G, D, opt_g, opt_d, _feeder(_batches(1)), _feeder(_batches(1, seed=2)),
             update="simultaneous", k=5)  # k does not apply to the simultaneous order
    assert sorted(order) == ["D", "G"]


def _manual_grads(G, D, real, z, loss):
    """Gradients of D's and G's losses at the current parameters of both (nothing moves)."""
    d_params, g_params = list(D.parameters()), list(G.parameters())
    fake = G(z)
    d_loss = discriminator_loss(D(real).squeeze(-1), D(fake.detach()).squeeze(-1)).sum()
    gd = torch.autograd.grad(d_loss, d_params)
    g_loss = generator_loss(D(fake).squeeze(-1), loss).sum()
    gg = torch.autograd.grad(g_loss, g_params)
    return gd, gg


@pytest.mark.parametrize("loss", GENERATOR_LOSSES)
def test_simultaneous_uses_gradients_taken_before_either_moves(loss):
    lr = 0.1
    G, D = _tiny()
    real, z = _batches(1, seed=3)[0], _batches(1, seed=4)[0]
    gd, gg = _manual_grads(G, D, real, z, loss)
    expect_d = [p.detach() - lr * g for p, g in zip(D.parameters(), gd)]
    expect_g = [p.detach() - lr * g for p, g in zip(G.parameters(), gg)]
    # negative control: G's gradient after D has moved (the alternating order) is different
    D_moved = EnsembleMLP([0], [1, 4, 1], activation="tanh", stream="D")
    with torch.no_grad():
        for p, e in zip(D_moved.parameters(), expect_d):
            p.copy_(e)
    _, gg_after = _manual_grads(G, D_moved, real, z, loss)
    assert max(float((a - b).abs().max()) for a, b in zip(gg, gg_after)) > 1e-6

    opt_g, opt_d = torch.optim.SGD(G.parameters(), lr=lr), torch.optim.SGD(D.parameters(), lr=lr)
    gan_step(G, D, opt_g, opt_d, lambda: real, lambda: z, loss=loss, update="simultaneous")
    for p, e in zip(D.parameters(), expect_d):
        torch.testing.assert_close(p.detach(), e, rtol=0, atol=1e-14)
    for p, e in zip(G.parameters(), expect_g):
        torch.testing.assert_close(p.detach(), e, rtol=0, atol=1e-14)


def test_alternating_k1_moves_d_first_then_g_on_fresh_noise():
    lr, loss = 0.1, "non_saturating"
    G, D = _tiny()
    real, z1, z2 = _batches(1, seed=3)[0], _batches(1, seed=4)[0], _batches(1, seed=5)[0]
    gd, _ = _manual_grads(G, D, real, z1, loss)
    D_ref = EnsembleMLP([0], [1, 4, 1], activation="tanh", stream="D")
    with torch.no_grad():
        for p, q, g in zip(D_ref.parameters(), D.parameters(), gd):
            p.copy_(q - lr * g)
    _, gg = _manual_grads(G, D_ref, real, z2, loss)  # G's gradient against the moved D, noise z2
    expect_g = [p.detach() - lr * g for p, g in zip(G.parameters(), gg)]
    opt_g, opt_d = torch.optim.SGD(G.parameters(), lr=lr), torch.optim.SGD(D.parameters(), lr=lr)
    gan_step(G, D, opt_g, opt_d, lambda: real, _feeder([z1, z2]), loss=loss, update="alternating")
    for p, e in zip(D.parameters(), D_ref.parameters()):
        torch.testing.assert_close(p.detach(), e.detach(), rtol=0, atol=1e-14)
    for p, e in zip(G.parameters(), expect_g):
        torch.testing.assert_close(p.detach(), e, rtol=0, atol=1e-14)


def test_gan_step_rejects_unknown_update_order():
    G, D = _tiny()
    opt = torch.optim.SGD(list(G.parameters()) + list(D.parameters()), lr=0.1)
    with pytest.raises(ValueError, match="update must be"):
        gan_step(G, D, opt, opt, lambda: _batches(1)[0], lambda: _batches(1)[0], update="async")
