"""Claim convergence (Proposition 2): the function-space part passes on a small config and fails
for a wrong-signed functional gradient or a D that is not D*; the parametric part is a study
inside the claim, REPORTED and never part of the verdict."""

import dataclasses
import json

import numpy as np
import pytest
import torch

from gantheory import function_space as fs
from gantheory.claims import convergence as conv
from gantheory.claims import run_claim
from gantheory.config import override
from gantheory.densities import Normal

# Seconds, same setup as the defaults: a coarser grid, fewer steps, a token parametric study.
SMALL = override(conv.ConvergenceConfig(), grid=1001, steps=60, seeds=2, parametric_steps=20,
                 n_eval=2000, convexity_pairs=3)


@pytest.fixture(scope="module")
def measured():
    return conv.measure(SMALL)


def test_passes_small(measured):
    v = conv.verdict(measured, SMALL)
    assert v.passed, v.reasons
    for case in measured.cases.values():
        j = np.asarray(case["jsd_curve"])
        assert np.all(np.diff(j) <= conv.MONO_TOL) and j[-1] < SMALL.target_jsd


def test_report_is_strict_json_and_marks_the_parametric_part_as_a_study(measured):
    rep = conv.report(measured, SMALL)
    m = json.loads(json.dumps(rep.metrics, allow_nan=False))
    assert set(m) == {"function_space", "eta", "steps", "parametric"}
    par = m["parametric"]
    assert par["kind"] == "study" and par["status"] == "REPORTED" and par["in_verdict"] is False
    assert len(par["modes_covered_per_seed"]) == SMALL.seeds
    assert {"jsd_estimate_per_seed", "jsd_estimator", "jsd_estimator_floor"} <= set(par)
    assert any("REPORTED, not part of the verdict" in line for line in rep.lines)


def test_parametric_study_never_changes_the_verdict(measured):
    # Whatever the network did (here: every seed "missed every mode" with JSD log 2), the
    # verdict reads the function-space cases alone.
    worst = dict(measured.parametric, modes_covered_per_seed=[0] * SMALL.seeds,
                 jsd_estimate_per_seed=[np.log(2)] * SMALL.seeds)
    v = conv.verdict(dataclasses.replace(measured, parametric=worst), SMALL)
    assert v.passed and all(name.split(".")[0] in measured.cases for name in v.checks)


@pytest.mark.parametrize("key, value, check", [
    ("max_increase", 1e-3, "monotone"),
    ("jsd_final", 1e-3, "converges"),
    ("grid_vs_quadrature", 1e-6, "grid_vs_quadrature"),
    ("grad_envelope", 0.5, "envelope"),
    ("convexity_worst_gap", 1e-6, "convex"),
])
def test_verdict_fails_each_broken_measurement(measured, key, value, check):
    cases = dict(measured.cases, unimodal=dict(measured.cases["unimodal"], **{key: value}))
    v = conv.verdict(dataclasses.replace(measured, cases=cases), SMALL)
    assert not v.passed and [r for r in v.reasons if r.startswith(f"unimodal.{check}:")]


def test_fails_with_wrong_gradient_sign(monkeypatch):
    original = fs.functional_gradient
    monkeypatch.setattr(fs, "functional_gradient", lambda l: -original(l))
    res = run_claim("convergence", SMALL)
    assert not res.passed
    assert not any(c["monotone"] for c in res.metrics["function_space"].values())


def test_fails_when_d_is_not_d_star(monkeypatch):
    # D = 1/2 everywhere instead of D*
    monkeypatch.setattr(fs, "d_star_logit", lambda lw_data, lw_g: torch.zeros_like(lw_data))
    res = run_claim("convergence", SMALL)
    assert not res.passed
    for c in res.metrics["function_space"].values():
        assert c["jsd_final"] > 1e-3 and c["grad_envelope"] > 1e-3


def test_mirror_step_at_eta_one_is_the_average_with_p_data():
    # Closed form: at eta = 1, w_g exp(-log(1 - D*)) / Z = w_g (v + w_g) / w_g / Z = (v + w_g) / 2.
    p_data, p_g = Normal(0, 1), Normal(2, 0.5)
    grid = fs.grid_for(p_data, p_g, n=801)
    lw_d, lw_g = fs.log_masses(p_data, grid), fs.log_masses(p_g, grid)
    new = fs.mirror_step(lw_g, fs.functional_gradient(fs.d_star_logit(lw_d, lw_g)), 1.0)
    expect = torch.logaddexp(lw_d, lw_g) - np.log(2.0)
    torch.testing.assert_close(torch.exp(new), torch.exp(expect), rtol=1e-13, atol=1e-16)
