"""Claim saturation (Section 3): passes on a small config; each broken variant fails, through the
pure verdict (a measurement) and through planted bugs; part (b) holds for any cost decreasing in
the logit and fails for a wrong-signed one; part (c) is decided by Fisher's test alone."""

import dataclasses
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import gantheory.gan.losses as losses_mod
import gantheory.gan.step as step_mod
from gantheory.claims import JSON_KEYS, run_claim
from gantheory.claims import saturation as sat
from gantheory.config import override
from gantheory.densities import Normal

# Small config: seconds, same setup as the defaults. 10 seeds per arm are enough here: with the
# defaults' poor start minimax stalls in every seed and non_saturating succeeds in most (7/10),
# so Fisher's p is ~1e-3, under alpha = 0.01.
SMALL = override(sat.SaturationConfig(), seeds=10, steps=250, d_pretrain=200,
                 losses="minimax,non_saturating", n_grid=51)


def _swapped(original):
    """generator_loss with minimax and non_saturating exchanged: the implementation bug to catch."""
    swap = {"minimax": "non_saturating", "non_saturating": "minimax"}
    return lambda logits, loss="non_saturating": original(logits, swap.get(loss, loss))


@pytest.fixture(scope="module")
def measured():
    return sat.measure(SMALL)


def test_passes_small(measured):
    v = sat.verdict(measured, SMALL)
    assert v.passed, v.reasons
    emp = sat.empirical_stats(measured, SMALL)
    assert emp["arms"]["minimax"]["successes"] == 0
    assert emp["arms"]["non_saturating"]["rate"] >= 0.5
    assert emp["fisher"]["p_greater"] < SMALL.alpha


def test_json_keys(measured):
    rep = sat.report(measured, SMALL)
    m = json.loads(json.dumps(rep.metrics, allow_nan=False))  # strict JSON
    assert set(m) == {"analytic", "fixed_point", "empirical"}
    for name in ("minimax", "non_saturating"):
        arm = m["empirical"]["per_loss"][name]
        for key in ("successes", "n", "rate", "wilson95", "steps_to_success",
                    "steps_to_success_median", "final_jsd", "diverged", "start_grad_norm_median"):
            assert key in arm
    emp = m["empirical"]
    assert emp["primary_test"] == "fisher_non_saturating_vs_minimax"
    assert emp["mannwhitney_in_verdict"] is False
    assert {"fisher_non_saturating_vs_minimax", "mannwhitney_faster_p", "jsd_estimator"} <= set(emp)
    assert set(m["fixed_point"]["per_loss"]) == {"minimax", "non_saturating", "maximum_likelihood"}


def _with_times(m, ns_steps, mm_steps, success=True):
    """A measurement whose arms first reach success_jsd at the given steps (then stay there)."""
    steps = np.arange(0, 501, 5)

    def curves(first):
        c = np.full((len(steps), len(first)), 0.5)
        for s, t in enumerate(first):
            c[steps >= t, s] = 1e-4 if success else 0.5
        return c

    return dataclasses.replace(m, steps=steps, curves={"non_saturating": curves(ns_steps),
                                                       "minimax": curves(mm_steps)})


def test_part_c_is_fishers_test_alone(measured):
    # Both arms succeed in every seed, non_saturating much sooner: Mann-Whitney's p is ~1e-4,
    # Fisher's is 1. The claim "succeeds more often" must then fail: no OR of two tests.
    m = _with_times(measured, [20, 25, 30, 35, 40, 45, 50, 55], [400, 405, 410, 415, 420, 425,
                                                                 430, 435])
    emp = sat.empirical_stats(m, SMALL)
    assert emp["mannwhitney_faster_p"] < SMALL.alpha and emp["fisher"]["p_greater"] == 1.0
    v = sat.verdict(m, SMALL)
    assert not v.passed and not v.checks["non_saturating_succeeds_more_often"]
    assert sat.report(m, SMALL).metrics["empirical"]["faster"] is True


def test_verdict_fails_when_the_arms_succeed_equally_often(measured):
    m = dataclasses.replace(measured, curves={"non_saturating": measured.curves["minimax"],
                                              "minimax": measured.curves["minimax"]})
    assert not sat.verdict(m, SMALL).checks["non_saturating_succeeds_more_often"]


@pytest.mark.parametrize("broken, check", [
    (lambda a: dict(a, rel_err=dict(a["rel_err"], minimax=1e-3)), "analytic_agreement"),
    (lambda a: dict(a, sympy_holds=False), "analytic_sympy"),
])
def test_verdict_fails_on_a_broken_analytic_part(measured, broken, check):
    m = dataclasses.replace(measured, analytic=broken(measured.analytic))
    v = sat.verdict(m, SMALL)
    assert not v.passed and not v.checks[check]


def test_verdict_fails_when_a_fixed_point_is_off(measured):
    fp = dict(measured.fixed_point)
    fp["minimax"] = dict(fp["minimax"], grad_at_p_g_equal_p_data=[0.0, 1e-6])
    v = sat.verdict(dataclasses.replace(measured, fixed_point=fp), SMALL)
    assert not v.passed and not v.checks["fixed_point_minimax"]


def test_fails_when_training_uses_swapped_losses(monkeypatch):
    # the GAN step both trainers share computes G's loss with the two exchanged
    monkeypatch.setattr(step_mod, "generator_loss", _swapped(step_mod.generator_loss))
    r = run_claim("saturation", SMALL)
    assert not r.passed
    assert r.metrics["analytic"]["holds"]  # only the training loop was broken
    assert not r.metrics["empirical"]["holds"]
    assert r.metrics["empirical"]["per_loss"]["non_saturating"]["successes"] == 0
    assert [x.split(":")[0] for x in r.reasons] == ["non_saturating_succeeds_more_often"]


def test_analytic_part_fails_with_swapped_losses(monkeypatch):
    monkeypatch.setattr(losses_mod, "generator_loss", _swapped(losses_mod.generator_loss))
    ana = sat.analytic_gradients(51)
    assert max(ana["rel_err"].values()) > 0.1  # autograd of the swapped loss vs closed form/sympy


def test_fixed_point_quadrature_matches_kl_gradient_for_ml():
    p_data = Normal(0.5, 1.3)
    for b in (-0.3, 1.4):
        gh = sat.expected_gradient_gh(p_data, 1.3, b, "maximum_likelihood")
        quad = sat.expected_gradient_quad(p_data, 1.3, b, "maximum_likelihood")
        # d/db KL(p_data || N(b, s^2)) = (b - mu) / s^2 at equal scales
        assert gh[1] == pytest.approx((b - 0.5) / 1.3**2, rel=1e-10)
        np.testing.assert_allclose(gh, quad, rtol=1e-9, atol=1e-12)


def test_part_b_holds_for_any_cost_decreasing_in_the_logit_and_fails_for_a_wrong_sign():
    # -tanh(l) decreases in l: same fixed point, points to p_data (part (b) does not single out
    # the paper's losses). -softplus(-l) = log D increases in l: descent moves p_g away.
    res = sat.fixed_point_check(Normal(0.5, 1.3), {"minus_tanh": lambda l: -torch.tanh(l),
                                                   "wrong_sign": lambda l: -F.softplus(-l)})
    assert sat.fixed_point_holds(res["minus_tanh"]) == (True, "")
    ok, why = sat.fixed_point_holds(res["wrong_sign"])
    assert not res["wrong_sign"]["points_to_p_data"] and not ok and "away" in why
    # the root is still at mu: the sign, not the root, is what catches it
    assert res["wrong_sign"]["b_root_err"] <= sat.ROOT_TOL


def test_result_json_is_strict(measured):
    from gantheory.claims import registry

    rep = sat.report(measured, SMALL)
    v = sat.verdict(measured, SMALL)
    res = registry.ClaimResult("saturation", "claim", v.passed, v.reasons, "s", rep.metrics,
                               rep.tolerances, tuple(measured.seeds), 0.0, {}, (), rep.lines)
    data = json.loads(json.dumps(res.to_json(), allow_nan=False))
    assert tuple(data) == JSON_KEYS and data["seeds"] == list(range(SMALL.seeds))
