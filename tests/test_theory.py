"""The theory oracle: D*, V(D, G), C(G) and Theorem 1's identity, as properties and seeded cases."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from scipy import optimize

from gantheory import (LOG4, Normal, jsd, optimal_discriminator, parse_density, value,
                       virtual_training_criterion)
from gantheory.strategies import LogisticDiscriminator
from tests.strategies import density_pairs, discriminators

# Identity of Theorem 1 and C(G) = V(D*, G): the toolkit's promised 1e-9 absolute accuracy.
ACCURACY = 1e-9
# V(D) <= V(D*): the gap is >= 0 exactly; quadrature may blur it by far less than this.
QUAD_TOL = 1e-10


@given(density_pairs())
def test_criterion_equals_minus_log4_plus_twice_jsd(pq):
    p, q = pq
    assert abs(virtual_training_criterion(p, q) - (-LOG4 + 2 * jsd(p, q))) <= ACCURACY


def test_criterion_equals_minus_log4_plus_twice_jsd_seeded():
    p, q = Normal(0, 1), parse_density("mixture(0.3*normal(-2,0.5)+0.7*normal(1,1))")
    assert virtual_training_criterion(p, q) == pytest.approx(-LOG4 + 2 * jsd(p, q), abs=ACCURACY)


@given(density_pairs())
def test_criterion_is_at_least_minus_log4_with_equality_iff_equal(pq):
    p, q = pq
    assert virtual_training_criterion(p, p) == pytest.approx(-LOG4, abs=ACCURACY)
    c = virtual_training_criterion(p, q)
    assert c >= -LOG4 - QUAD_TOL
    if not p.same_as(q) and jsd(p, q) > 10 * ACCURACY:
        assert c > -LOG4 + ACCURACY


def test_criterion_minimum_only_at_p_g_equal_p_data_seeded():
    mus = np.linspace(-1, 1, 21)
    cs = [virtual_training_criterion(Normal(0.3, 1), Normal(m, 1)) for m in mus]
    assert mus[int(np.argmin(cs))] == pytest.approx(0.3)
    assert min(cs) == pytest.approx(-LOG4, abs=ACCURACY)


@pytest.mark.parametrize("overlap", [0.0, 0.1, 0.5, 0.9, 1.0])
def test_criterion_matches_its_closed_form_for_shifted_uniforms(overlap):
    # p_data = U(0, 1), p_g = U(1 - o, 2 - o). On the overlap (length o) both densities are 1 and
    # D* = 1/2; elsewhere D* = 1 on p_data's part and 0 on p_g's, where each log term is log 1.
    # So C(G) = o log(1/2) + o log(1/2) = -o log 4 (and JSD = (1 - o) log 2).
    o = overlap
    p, q = parse_density("uniform(0,1)"), parse_density(f"uniform({1 - o},{2 - o})")
    assert virtual_training_criterion(p, q) == pytest.approx(-o * LOG4, abs=ACCURACY)
    assert jsd(p, q) == pytest.approx((1 - o) * math.log(2), abs=ACCURACY)


@pytest.mark.parametrize("w", [0.0, 0.2, 0.5, 1.0])
def test_criterion_matches_its_closed_form_when_p_g_puts_mass_off_p_data(w):
    # p_data = U(0, 1), p_g = w U(0, 1) + (1 - w) U(2, 3). On [0, 1] D* = 1/(1 + w), not 1/2;
    # on [2, 3] D* = 0 and p_g's term is log 1 = 0. So
    # C(G) = log(1/(1 + w)) + w log(w/(1 + w)) = w log w - (1 + w) log(1 + w).
    p = parse_density("uniform(0,1)")
    q = parse_density("uniform(2,3)") if w == 0 else parse_density(
        f"mixture({w}*uniform(0,1)+{1 - w}*uniform(2,3))") if w < 1 else p
    closed = (w * math.log(w) if w > 0 else 0.0) - (1 + w) * math.log(1 + w)
    assert virtual_training_criterion(p, q) == pytest.approx(closed, abs=ACCURACY)


@given(density_pairs(), discriminators())
def test_no_discriminator_beats_d_star(pq, d):
    p, q = pq
    assert value(d, p, q) <= value(optimal_discriminator(p, q), p, q) + QUAD_TOL


def test_no_discriminator_beats_d_star_seeded():
    p, q = Normal(0, 1), Normal(1, 1)
    best = value(optimal_discriminator(p, q), p, q)
    # For equal variances D* = sigmoid(-x + 1/2) is itself logistic: the family reaches it ...
    assert value(LogisticDiscriminator(0.0, -1.0, 0.5), p, q) == pytest.approx(best, abs=ACCURACY)
    # ... and any perturbation of it is strictly worse.
    for a, b, c in [(0.1, -1, 0.5), (0, -0.9, 0.5), (0, -1, 0.6)]:
        assert value(LogisticDiscriminator(a, b, c), p, q) < best - 1e-6


@given(density_pairs())
def test_d_star_lies_strictly_between_zero_and_one(pq):
    p, q = pq
    xs = np.linspace(-15, 15, 301)
    d = optimal_discriminator(p, q)
    logits, ds = d.logit(xs), d(xs)
    # Mathematically 0 < D* < 1 everywhere: the logit log p_data - log p_g is always finite ...
    assert np.all(np.isfinite(logits))
    # ... and D* is strictly inside (0, 1) wherever float64 can represent it (|logit| < 36).
    inner = np.abs(logits) < 36
    assert np.all((ds[inner] > 0) & (ds[inner] < 1))
    assert np.all((ds >= 0) & (ds <= 1))


def test_d_star_is_one_half_where_the_densities_cross():
    p, q = Normal(0, 1), parse_density("mixture(0.3*normal(-2,0.5)+0.7*normal(1,1))")
    x0 = optimize.brentq(lambda x: float(p.pdf(x) - q.pdf(x)), -1.5, -0.9)
    assert float(optimal_discriminator(p, q)(x0)) == pytest.approx(0.5, abs=1e-12)


@given(density_pairs())
def test_d_star_is_one_half_where_the_densities_cross_property(pq):
    p, q = pq
    xs = np.linspace(-12, 12, 241)
    diff = p.logpdf(xs) - q.logpdf(xs)
    crossings = np.nonzero(np.sign(diff[:-1]) * np.sign(diff[1:]) < 0)[0]
    d = optimal_discriminator(p, q)
    for i in crossings[:3]:
        x0 = optimize.brentq(lambda x: p.logpdf_scalar(x) - q.logpdf_scalar(x), xs[i], xs[i + 1],
                             xtol=1e-14)
        assert float(d(x0)) == pytest.approx(0.5, abs=1e-9)


def test_d_star_survives_where_both_densities_underflow():
    # At x = 60 both pdfs are below 1e-300 (p) or exactly 0; the ratio is still exact from logs:
    # for N(0,1) vs N(1,1), log p - log q = -x + 1/2.
    p, q = Normal(0, 1), Normal(1, 1)
    x = 40.0
    assert float(p.pdf(x)) < 1e-300
    d = optimal_discriminator(p, q)
    assert d.logit_scalar(x) == pytest.approx(-x + 0.5, rel=1e-12)
    assert float(d(torch.tensor([x], dtype=torch.float64))[0]) == pytest.approx(
        1 / (1 + math.exp(x - 0.5)), rel=1e-12)


def test_value_of_constant_half_is_minus_log4():
    # D = 1/2 everywhere: V = log(1/2) + log(1/2) for any pair (Figure 1 (d)).
    half = LogisticDiscriminator(0.0, 0.0, 0.0)
    assert value(half, Normal(0, 1), Normal(3, 2)) == pytest.approx(-LOG4, abs=ACCURACY)


def test_value_accepts_a_plain_probability_callable():
    # A D given only as probabilities loses log(1 - D) where D rounds to 1 (|logit| > 37);
    # this pair keeps |logit| < 21 wherever either density is representable.
    p, q = Normal(0, 1), Normal(0.5, 1)
    d = optimal_discriminator(p, q)
    plain = lambda x: d(x)  # noqa: E731  (no logit attribute: the probability path)
    assert value(plain, p, q) == pytest.approx(value(d, p, q), abs=1e-9)
