"""vanishing_gradient (Arjovsky-Bottou Theorem 2.4): passes at quick settings; the non-saturating
cost and overlapping supports fail it."""

import math

import pytest

import gantheory.claims.vanishing_gradient as vg
from gantheory.config import override
from gantheory.errors import ConfigError

QUICK = {"etas": 4, "panels": 60}


def _run(**changes):
    cfg = override(vg.VanishingGradientConfig(), {**QUICK, **changes})
    m = vg.measure(cfg)
    return m, vg.verdict(m, cfg)


def test_vanishing_gradient_passes_at_quick_settings():
    m, v = _run()
    assert v.passed, v.reasons
    # D* + eta delta: the gradient shrinks with eta, like eps (the theorem's rate)
    g = m.grad[m.separations[-1]]
    assert all(x < y for x, y in zip(g[1:], g[2:]))


def test_the_non_saturating_cost_does_not_vanish():
    m, v = _run(loss="non_saturating")
    assert not v.passed and not v.checks["bound"] and not v.checks["vanishes"]
    # its gradient at D* grows with the separation, d / s in b (D*'/D* = -d/s on p_g's support)
    g0 = [m.grad[d][0] for d in m.separations]
    assert all(x < y for x, y in zip(g0, g0[1:]))


def test_overlapping_supports_fail_vanishes():
    m, v = _run(separations="4,6,8")
    assert not v.passed and not v.checks["vanishes"]


def test_jacobian_bound_of_the_truncated_normal():
    # E[z^2] for |z| <= z_max tends to 1 from below; z_max = 1: 1 - 2 phi(1) / (2 Phi(1) - 1)
    assert vg.jacobian_bound(40.0) == pytest.approx(math.sqrt(2.0), abs=1e-15)
    ez2 = 1 - 2 * math.exp(-0.5) / math.sqrt(2 * math.pi) / math.erf(1 / math.sqrt(2))
    assert vg.jacobian_bound(1.0) == pytest.approx(math.sqrt(ez2 + 1), rel=1e-14)
    assert abs(ez2 - 0.29112509) < 1e-7  # Var of N(0,1) truncated to [-1, 1] (tables)


@pytest.mark.parametrize("changes, match", [({"separations": "a,b"}, "separations"),
                                            ({"z_max": 0}, "z_max"), ({"loss": "x"}, "loss")])
def test_bad_configs_are_config_errors(changes, match):
    with pytest.raises(ConfigError, match=match):
        override(vg.VanishingGradientConfig(), changes).check()
