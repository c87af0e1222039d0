"""Claim global_optimum (Theorem 1): passes at its defaults, and every broken variant fails, both
as a measurement fed to the pure verdict and as a bug planted in the code it measures."""

import dataclasses

import numpy as np
import pytest

from gantheory import Normal, optimal_discriminator, value
from gantheory.claims import global_optimum as go
from gantheory.claims import run_claim
from gantheory.config import override
from gantheory.errors import ConfigError

CFG = override(go.GlobalOptimumConfig(), seeds=2)  # the default budget, fewer seeds


@pytest.fixture(scope="module")
def measured():
    return go.measure(CFG)


def test_passes_with_its_defaults(measured):
    v = go.verdict(measured, CFG)
    assert v.passed, v.reasons
    assert np.max(measured.identity_errs) <= go.IDENTITY_TOL
    assert np.max(measured.final_excess) <= go.DEFAULT_BOUND
    # the trainer's exact record (Gauss-Legendre) agrees with the final quadrature
    np.testing.assert_allclose(measured.two_jsd[-1], measured.final_excess, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("broken, check", [
    (dict(identity_errs=np.array([0.0, 1e-3])), "identity"),  # C(G) != -log 4 + 2 JSD somewhere
    (dict(c_equal_excess=1e-4), "minimum_at_p_g_equal_p_data"),  # -log 4 missed at p_g = p_data
    (dict(distinct_excess=np.array([0.2, 0.0])), "minimum_only_there"),  # a second minimum
    (dict(final_excess=np.array([1e-5, 0.1])), "training_reaches_minimum"),  # a seed stalls
])
def test_verdict_fails_each_broken_measurement(measured, broken, check):
    v = go.verdict(dataclasses.replace(measured, **broken), CFG)
    assert not v.passed and not v.checks[check]
    assert [r for r in v.reasons if r.startswith(check + ":")]
    assert sum(not ok for ok in v.checks.values()) == 1  # only the broken check


def test_fails_with_a_perturbed_d_star(monkeypatch):
    # C(G) computed with D* of a slightly wrong p_g is no longer -log 4 + 2 JSD.
    def perturbed(p_data, p_g):
        shifted = Normal(p_g.components()[0].mu + 0.05, p_g.components()[0].sigma)
        return value(optimal_discriminator(p_data, shifted), p_data, p_g)

    monkeypatch.setattr(go, "virtual_training_criterion", perturbed)
    res = run_claim("global_optimum", override(CFG, seeds=1, steps=50, n_random_pairs=0))
    assert not res.passed
    assert res.metrics["identity_max_abs_err"] > go.IDENTITY_TOL
    assert any(r.startswith("identity:") for r in res.reasons)


def test_fails_when_the_gan_stops_short():
    # 30 steps of Algorithm 1 leave p_g far from p_data: 2 JSD stays well above the bound.
    res = run_claim("global_optimum", override(CFG, seeds=1, steps=30, n_random_pairs=0))
    assert not res.passed
    assert res.metrics["final_two_jsd_max"] > go.DEFAULT_BOUND
    assert res.metrics["identity_max_abs_err"] <= go.IDENTITY_TOL
    assert [r.split(":")[0] for r in res.reasons] == ["training_reaches_minimum"]


def test_rejects_a_non_normal_p_data():
    with pytest.raises(ConfigError, match="Normal"):
        override(go.GlobalOptimumConfig(), p_data="mixture(0.5*normal(0,1)+0.5*normal(3,1))")
