"""variational_bound: B(T*) = D_f for every f, hypothesis-drawn critics give less, the second
variation matches; a wrong conjugate and an inverted ratio fail."""

import math

import pytest
from hypothesis import given, settings, strategies as st

import gantheory.claims.variational_bound as vb
from gantheory import Normal, f_divergence, optimal_critic, parse_density
from gantheory.config import override
from gantheory.errors import ConfigError, SpecError
from gantheory.fdivergences import F_DIVERGENCES, conjugate, variational_bound

QUICK = {"critics": 2, "pairs": "normal(0,1) vs normal(1,1.2)"}
P, Q = Normal(0, 1), parse_density("mixture(0.3*normal(-2,0.5)+0.7*normal(1,1.2))")


def test_variational_bound_passes_at_quick_settings():
    cfg = override(vb.VariationalBoundConfig(), QUICK)
    v = vb.verdict(vb.measure(cfg), cfg)
    assert v.passed, v.reasons


@pytest.mark.parametrize("variant", ["wrong_conjugate", "inverted_ratio"])
def test_variational_bound_fails_for_a_broken_critic_or_conjugate(variant):
    cfg = override(vb.VariationalBoundConfig(), {**QUICK, "variant": variant, "critics": 0})
    v = vb.verdict(vb.measure(cfg), cfg)
    assert not v.passed and not v.checks["attained"] and not v.checks["second_order"]


@settings(max_examples=15, deadline=None)
@given(name=st.sampled_from(list(F_DIVERGENCES)),
       centre=st.floats(-2.5, 2.5), width=st.floats(0.1, 3.0),
       eps=st.floats(1e-2, 2.0), sign=st.sampled_from([-1.0, 1.0]))
def test_any_other_critic_gives_less(name, centre, width, eps, sign):
    # T* moved by a bump of any place, width and size (inward on total variation's edges),
    # or pushed out of dom f* (bound -inf): always strictly below D_f.
    t_star = optimal_critic(P, Q, name).scalar
    h = lambda x: math.exp(-0.5 * ((x - centre) / width) ** 2)  # noqa: E731
    if name == "total_variation":
        crit = lambda x: t_star(x) - eps * math.copysign(h(x), t_star(x))  # noqa: E731
    else:
        crit = lambda x: t_star(x) + sign * eps * h(x)  # noqa: E731
    assert variational_bound(crit, P, Q, name) < f_divergence(P, Q, name) - vb.BOUND_FLOOR


@settings(max_examples=10, deadline=None)
@given(name=st.sampled_from(list(F_DIVERGENCES)), coef=st.lists(st.floats(-3, 3), min_size=4,
                                                                  max_size=4))
def test_activated_random_critics_give_less(name, coef):
    a, b, c, d = coef
    act = conjugate(name).activation
    crit = lambda x: float(act(a + b * math.tanh(c * x + d)))  # noqa: E731
    assert variational_bound(crit, P, Q, name) < f_divergence(P, Q, name)


def test_second_variation_of_kl_by_hand():
    # KL's second variation along h is (1/2) integral of p h^2: h = 1 gives exactly 1/2.
    assert vb.second_variation(P, Q, "kl", lambda x: 1.0) == pytest.approx(0.5, abs=1e-12)


@pytest.mark.parametrize("pairs", ["normal(0,1) normal(1,2)", "normal(0,1) vs nope(1)"])
def test_bad_pairs_are_config_errors(pairs):
    with pytest.raises((ConfigError, SpecError)):
        override(vb.VariationalBoundConfig(), {"pairs": pairs}).check()
