"""Tests for gantheory.symbolic: each derivation holds, broken inputs fail, and the symbolic
results agree with quantities computed another way (torch autograd, scipy quadrature, a grid)."""

import json

import numpy as np
import pytest
import sympy as sp
import torch
import torch.nn.functional as F
from scipy import integrate, stats

from gantheory import symbolic
from gantheory.symbolic import (
    DERIVATIONS,
    DEFAULT_COSTS,
    all_derivations,
    criterion_derivation,
    format_derivation,
    generator_gradient_limits,
    jsd_bounds_derivation,
    optimal_discriminator_derivation,
)

a, b = sp.symbols("a b", positive=True)
p, q = sp.symbols("p q", positive=True)

# Gradients as functions of the logit are evaluated the same way as autograd (exp, division), so
# they agree to a few ulps; 1e-12 relative leaves a margin of ~1e4 over float64 rounding.
GRAD_RTOL = 1e-12
# Quadrature: smooth integrands with Gaussian tails, truncated at |x| = 30 (dropped mass < 1e-190),
# integrated to epsabs 1e-13; two different integrands agree to ~1e-13 in practice. 1e-9 is far
# above that, and far below the O(0.1) change a wrong D* makes.
QUAD_TOL = 1e-9
QUAD_LIMITS = (-30.0, 30.0)


@pytest.fixture(scope="module")
def derivations():
    return {d.name: d for d in all_derivations()}


@pytest.mark.parametrize("name", list(DERIVATIONS))
def test_derivation_holds(derivations, name):
    der = derivations[name]
    assert der.holds, format_derivation(der)
    assert all(der.details["checks"].values()), der.details["checks"]


def test_all_derivations_in_registry_order_and_json_ready(derivations):
    assert list(derivations) == list(DERIVATIONS)
    for der in derivations.values():
        text = format_derivation(der)
        assert text.startswith(f"[HOLDS] {der.name}:")
        assert len(text.splitlines()) == 1 + len(der.steps)
        assert json.loads(json.dumps(der.to_dict()))["holds"] is True


def test_d_star_is_p_data_over_sum(derivations):
    p_data, p_g = sp.symbols("p_data p_g", positive=True)
    d_star = derivations["optimal_discriminator"].details["d_star"]
    assert sp.simplify(d_star - p_data / (p_data + p_g)) == 0


@pytest.mark.parametrize("wrong",
                         [b / (a + b), a / (a + 2 * b), sp.Rational(1, 2)],
                         ids=["b/(a+b)", "a/(a+2b)", "1/2"])
def test_wrong_maximiser_fails(wrong):
    der = optimal_discriminator_derivation(candidate=wrong)
    assert not der.holds
    assert not der.details["checks"]["candidate_is_stationary_point"]
    assert not der.details["checks"]["f_prime_vanishes_at_candidate"]


def test_derived_d_star_is_the_brute_force_maximiser(derivations):
    """At a few x, D*(x) from the derivation's expression and from the library's oracle both
    equal the argmax of p_data(x) log y + p_g(x) log(1 - y) over 10^6 points of (0, 1)."""
    from gantheory import Normal, optimal_discriminator

    pd, pg = Normal(0.0, 1.0), Normal(1.0, 1.5)
    expr = derivations["optimal_discriminator"].details["d_star"]
    derived = sp.lambdify(sp.symbols("p_data p_g", positive=True), expr, "numpy")
    oracle = optimal_discriminator(pd, pg)
    ys = np.linspace(1e-6, 1 - 1e-6, 1_000_001)  # spacing 1e-6: the argmax is within 1e-6
    for x in (-2.0, 0.0, 0.5, 3.0):
        av, bv = float(pd.pdf(x)), float(pg.pdf(x))
        best = ys[np.argmax(av * np.log(ys) + bv * np.log1p(-ys))]
        assert abs(derived(av, bv) - best) <= 1e-6
        assert abs(float(oracle(x)) - best) <= 1e-6
    # negative control: the wrong maximiser b/(a + b) is far from the brute-force argmax
    av, bv = float(pd.pdf(0.0)), float(pg.pdf(0.0))
    best = ys[np.argmax(av * np.log(ys) + bv * np.log1p(-ys))]
    assert abs(bv / (av + bv) - best) > 0.1


@pytest.mark.parametrize("wrong", [q / (p + q), sp.Rational(1, 2)], ids=["q/(p+q)", "1/2"])
def test_wrong_d_star_fails(wrong):
    der = criterion_derivation(d_star=wrong)
    assert not der.holds
    assert not der.details["checks"]["symbolic_identity"]
    assert not der.details["checks"]["numeric_identity"]


def test_jsd_upper_bound_below_log2_fails():
    der = jsd_bounds_derivation(upper_bound=sp.log(2) / 2, grid_size=6)
    assert not der.holds and not der.details["checks"]["grid"]


def test_generator_limits_are_the_papers():
    lim = generator_gradient_limits().details["limits"]
    assert lim["minimax"] == (0, -1)  # saturates where D rejects the fakes (d -> 0)
    assert lim["non_saturating"] == (-1, 0)  # strong gradient there instead
    assert lim["maximum_likelihood"] == (0, -sp.oo)


def test_swapped_losses_fail():
    swapped = dict(DEFAULT_COSTS, minimax=DEFAULT_COSTS["non_saturating"],
                   non_saturating=DEFAULT_COSTS["minimax"])
    assert not generator_gradient_limits(costs=swapped).holds
    missing = {k: v for k, v in DEFAULT_COSTS.items() if k != "maximum_likelihood"}
    assert not generator_gradient_limits(costs=missing).holds
    # Descending log D instead of log(1 - D) ascends the wrong way: the sign flips.
    flipped = dict(DEFAULT_COSTS, non_saturating=sp.log(symbolic.sigmoid))
    assert not generator_gradient_limits(costs=flipped).holds


TORCH_COSTS = {  # the same costs from stable primitives on logits
    "minimax": lambda l: -F.softplus(l),  # log(1 - sigmoid(l))
    "non_saturating": lambda l: -F.logsigmoid(l),  # -log sigmoid(l)
    "maximum_likelihood": lambda l: -torch.exp(l),  # -exp(sigma^-1(d))
}


@pytest.mark.parametrize("name", list(TORCH_COSTS))
def test_gradients_match_torch_autograd(derivations, name):
    details = derivations["generator_gradient_limits"].details
    logits = torch.linspace(-12.0, 12.0, 241, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(TORCH_COSTS[name](logits).sum(), logits)
    grad, l = grad.numpy(), logits.detach().numpy()
    d = torch.sigmoid(logits).detach().numpy()
    np.testing.assert_allclose(details["grad_l_fns"][name](l), grad, rtol=GRAD_RTOL, atol=0)
    # As a function of d, rounding d = sigmoid(l) to float64 moves 1 - d by up to eps/2, a relative
    # error eps / (2 (1 - d)) (1.8e-11 at l = 12) that -(1 - d) and -d/(1 - d) inherit; so compare
    # the error after removing that condition number 1 / (1 - d).
    err = np.abs(details["grad_d_fns"][name](d) - grad) * (1 - d)
    assert np.all(err <= GRAD_RTOL * np.abs(grad)), float(np.max(err / np.abs(grad)))


def _criterion_by_quadrature(der, limits=QUAD_LIMITS):
    """int p log D + q log(1 - D) for p = N(0, 1), q = N(1, 1.5^2), D from the derivation."""
    integrand = sp.lambdify((p, q), der.details["integrand"], "numpy")
    pdf_p, pdf_q = stats.norm(0.0, 1.0).pdf, stats.norm(1.0, 1.5).pdf
    val, err = integrate.quad(lambda x: integrand(pdf_p(x), pdf_q(x)), *limits,
                              epsabs=1e-13, epsrel=1e-13, limit=200)
    return val, err


def _minus_log4_plus_2jsd():
    """-log 4 + KL(p || M) + KL(q || M), each KL by its own quadrature, in log space."""
    logp, logq = stats.norm(0.0, 1.0).logpdf, stats.norm(1.0, 1.5).logpdf
    logm = lambda x: np.logaddexp(logp(x), logq(x)) - np.log(2.0)  # noqa: E731
    kl = [integrate.quad(lambda x, f=f: np.exp(f(x)) * (f(x) - logm(x)), *QUAD_LIMITS,
                         epsabs=1e-13, epsrel=1e-13, limit=200) for f in (logp, logq)]
    return -np.log(4.0) + kl[0][0] + kl[1][0], max(kl[0][1], kl[1][1])


def test_criterion_matches_quadrature_for_two_normals(derivations):
    target, target_err = _minus_log4_plus_2jsd()
    value, value_err = _criterion_by_quadrature(derivations["virtual_training_criterion"])
    assert max(target_err, value_err) < 1e-11
    assert -np.log(4.0) < target < 0.0  # 0 < JSD < log 2 for distinct overlapping normals
    assert abs(value - target) < QUAD_TOL
    # The wrong D = q/(p+q) rounds 1 - D to 0 where p/q < eps (x > 9), so integrate it on [-8, 8].
    wrong, _ = _criterion_by_quadrature(criterion_derivation(q / (p + q)), limits=(-8.0, 8.0))
    assert np.isfinite(wrong) and abs(wrong - target) > 1e-3
