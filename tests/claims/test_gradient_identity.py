"""gradient_identity (Arjovsky-Bottou Theorem 2.5): passes at quick settings; D* not held fixed,
the minimax cost and a wrong JSD factor fail it."""

import numpy as np
import pytest

import gantheory.claims.gradient_identity as gi
from gantheory import Normal, jsd
from gantheory.config import override
from gantheory.errors import ConfigError

QUICK = {"cases": "normal(0,1) @ 1.0,1.5; mixture(0.3*normal(-2,0.5)+0.7*normal(1,1)) @ 1.0,0.0"}


def test_gradient_identity_passes_at_quick_settings():
    cfg = override(gi.GradientIdentityConfig(), QUICK)
    m = gi.measure(cfg)
    v = gi.verdict(m, cfg)
    assert v.passed, v.reasons
    assert all(r["max_abs_diff"] <= gi.IDENTITY_TOL for r in m.rows)
    assert all(np.max(np.abs(r["autograd"])) > 0.1 for r in m.rows)  # not a 0 = 0 identity


@pytest.mark.parametrize("variant", ["d_star_follows_theta", "minimax", "jsd_once"])
def test_gradient_identity_fails_for_broken_variants(variant):
    cfg = override(gi.GradientIdentityConfig(), {**QUICK, "variant": variant})
    v = gi.verdict(gi.measure(cfg), cfg)
    assert not v.passed and not v.checks["identity"]
    assert v.checks["quadrature_converged"]  # the failure is the identity's, not quadrature's


def test_the_minimax_cost_has_gradient_of_twice_jsd():
    # The companion identity: E_z[grad log(1 - D*(g(z)))] = grad 2 JSD(p_data || p_g) at theta0.
    p_data, a0, b0, h = Normal(0, 1), 1.0, 1.5, 4e-3
    lhs = gi.autograd_side(p_data, a0, b0, 200, "minimax")
    f = lambda t: 2 * jsd(p_data, Normal(b0 + t, a0))  # noqa: E731
    rhs_b = (-f(2 * h) + 8 * f(h) - 8 * f(-h) + f(-2 * h)) / (12 * h)
    assert abs(lhs[1] - rhs_b) <= gi.IDENTITY_TOL


@pytest.mark.parametrize("cases, match", [("normal(0,1) 1,2", "cases must be"),
                                          ("normal(0,1) @ -1,2", "a must be > 0")])
def test_bad_cases_are_config_errors(cases, match):
    with pytest.raises(ConfigError, match=match):
        override(gi.GradientIdentityConfig(), {"cases": cases}).check()
