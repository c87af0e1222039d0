"""The docs' example of property-testing a user's discriminator loss with gantheory.strategies."""

import torch
import torch.nn.functional as F
from hypothesis import given, settings

from gantheory import Normal, optimal_discriminator
from gantheory.strategies import LogisticDiscriminator, density_pairs, discriminators

# Monte Carlo slack: with 200k shared samples the loss estimates differ from their means by
# ~ 1/sqrt(2e5) * (std of the per-sample loss ~ 1) ~ 2e-3; 5e-3 is 2.5 of those.
MC_SLACK = 5e-3


def good_loss(real_logits, fake_logits):
    bce = F.binary_cross_entropy_with_logits
    return bce(real_logits, torch.ones_like(real_logits)) + bce(
        fake_logits, torch.zeros_like(fake_logits))


def swapped_loss(real_logits, fake_logits):  # the bug: labels swapped
    return good_loss(fake_logits, real_logits)


def expected_loss(loss, d, p_data, p_g, n=200_000, seed=0):
    g = torch.Generator().manual_seed(seed)
    x, y = p_data.sample(n, g), p_g.sample(n, g)
    return float(loss(torch.as_tensor(d.logit(x.numpy())), torch.as_tensor(d.logit(y.numpy()))))


@settings(max_examples=10, deadline=None)
@given(density_pairs(), discriminators())
def test_good_loss_is_minimised_by_d_star(pair, d):
    p_data, p_g = pair
    best = expected_loss(good_loss, optimal_discriminator(p_data, p_g), p_data, p_g)
    assert best <= expected_loss(good_loss, d, p_data, p_g) + MC_SLACK


def test_swapped_loss_is_caught():
    p_data, p_g = Normal(0, 1), Normal(2, 1)
    d_star = optimal_discriminator(p_data, p_g)
    anti = LogisticDiscriminator(0.0, 2.0, -2.0)  # logit of 1 - D* for this pair: 2x - 2
    assert expected_loss(good_loss, d_star, p_data, p_g) <= expected_loss(
        good_loss, anti, p_data, p_g) + MC_SLACK
    assert expected_loss(swapped_loss, d_star, p_data, p_g) > expected_loss(
        swapped_loss, anti, p_data, p_g) + MC_SLACK
