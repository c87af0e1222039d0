"""optimal_d (Proposition 1): passes on a range of pairs at its defaults; broken variants fail."""

import dataclasses
import subprocess
import sys

import numpy as np
import pytest

from gantheory import optimal_discriminator, parse_density, value
from gantheory.claims import optimal_d as od
from gantheory.claims.registry import run_claim
from gantheory.config import override
from gantheory.errors import ConfigError

DEFAULT_PAIR = ("normal(0,1)", "mixture(0.3*normal(-2,0.5)+0.7*normal(1,1))")
# Pairs of moderate overlap, the region of 99% mass on the grid: the README's example, the
# default, narrow against wider, wide against wider, a bimodal p_data, a pair far from 0, and a
# Laplace p_data.
PAIRS = {
    "readme": ("normal(0,1)", "normal(1,2)"),
    "narrow": ("normal(0,0.3)", "normal(0.5,0.5)"),
    "wide": ("normal(0,3)", "normal(2,5)"),
    "mixture": ("mixture(0.5*normal(-1,0.5)+0.5*normal(1,0.5))", "normal(0,1.5)"),
    "shifted": ("normal(10,1)", "normal(11.5,1)"),
    "laplace": ("laplace(0,1)", "normal(1,2)"),  # another family: D sees standardised samples
}
SEEDS = 3  # the default budget per seed, fewer seeds: a failure must come from the claim


def _cfg(p_data=DEFAULT_PAIR[0], p_g=DEFAULT_PAIR[1], **changes):
    return override(od.OptimalDConfig(), {"p_data": p_data, "p_g": p_g, "seeds": SEEDS, **changes})


@pytest.fixture(scope="module")
def default_run():
    cfg = _cfg()
    return cfg, od.train(cfg)


def test_optimal_d_passes_with_its_defaults(default_run):
    cfg, trained = default_run
    m = od.assess(trained, cfg)
    v = od.verdict(m, cfg)
    assert v.passed, v.reasons
    assert max(m.sup_err) <= od.sup_bound(cfg.steps * cfg.batch)
    assert 0 <= min(m.gap) and max(m.gap) < 0.01


@pytest.mark.parametrize("pair", list(PAIRS))
def test_optimal_d_passes_on_pairs_of_moderate_overlap(pair):
    cfg = _cfg(*PAIRS[pair])
    m = od.measure(cfg)
    v = od.verdict(m, cfg)
    assert v.passed, v.reasons


def test_value_gap_by_kl_integral_matches_quadrature():
    # The gap of an analytic D (D* of another pair) two ways: adaptive quadrature of V, and the
    # grid integral of (p_data + p_g) KL(D* || D). Not a trained net: both sides exactly known.
    p_data, p_g = parse_density(DEFAULT_PAIR[0]), parse_density(DEFAULT_PAIR[1])
    other = optimal_discriminator(parse_density("normal(0.2,1.1)"), p_g)
    quad = value(optimal_discriminator(p_data, p_g), p_data, p_g) - value(other, p_data, p_g)
    grid = od.kl_gap(other.logit, p_data, p_g)
    assert quad > 1e-3
    assert abs(quad - grid) <= od.GAP_ATOL + od.GAP_RTOL * grid


def test_optimal_d_fails_for_a_mis_specified_generator():
    # D learns from samples of a p_g shifted by 0.5: it estimates the wrong ratio.
    cfg = _cfg(seeds=2, train_p_g="mixture(0.3*normal(-1.5,0.5)+0.7*normal(1.5,1))")
    v = od.verdict(od.measure(cfg), cfg)
    assert not v.passed and not v.checks["d_near_d_star"]


def test_optimal_d_fails_against_a_perturbed_d_star(default_run, monkeypatch):
    # The oracle is wrong (D* of p_g with its narrow component moved by 0.3): the trained D,
    # correct as it is, is then measured as far from "D*".
    cfg, trained = default_run
    wrong = parse_density("mixture(0.3*normal(-1.7,0.5)+0.7*normal(1,1))")
    monkeypatch.setattr(od, "optimal_discriminator",
                        lambda p_data, p_g: optimal_discriminator(p_data, wrong))
    v = od.verdict(od.assess(trained, cfg), cfg)
    assert not v.passed and not v.checks["d_near_d_star"]


def test_optimal_d_fails_when_value_ignores_d(default_run, monkeypatch):
    # A value() that returns V(D*) whatever D it is given: the gap is 0, and only the KL integral,
    # computed from D and D* on a grid, shows it.
    cfg, trained = default_run
    monkeypatch.setattr(od, "value", lambda d, p_data, p_g: value(
        optimal_discriminator(p_data, p_g), p_data, p_g))
    m = od.assess(trained, cfg)
    v = od.verdict(m, cfg)
    assert max(abs(g) for g in m.gap) == 0
    assert not v.passed and v.checks["gap_non_negative"] and v.checks["d_near_d_star"]
    assert not v.checks["gap_matches_kl_integral"]


def test_verdict_fails_a_negative_gap(default_run):
    cfg, trained = default_run
    m = od.assess(trained, cfg)
    beaten = dataclasses.replace(m, gap=(m.gap[0], -1e-6) + m.gap[2:],
                                 gap_kl=(m.gap_kl[0], -1e-6) + m.gap_kl[2:])
    v = od.verdict(beaten, cfg)
    assert not v.checks["gap_non_negative"] and v.checks["gap_matches_kl_integral"]


def test_optimal_d_fails_when_undertrained():
    # A D whose learning rate barely moves it: the budget is the default, so the bound is too.
    cfg = _cfg(seeds=1, lr=1e-5)
    v = od.verdict(od.measure(cfg), cfg)
    assert not v.passed and not v.checks["d_near_d_star"]


def test_optimal_d_fails_when_the_budget_cannot_resolve_d_star():
    # 20 steps: 36 / sqrt(20 * 512) = 0.36 is more than half of max |D* - 1/2| = 0.41.
    cfg = _cfg(seeds=1, steps=20)
    v = od.verdict(od.measure(cfg), cfg)
    assert not v.passed and not v.checks["budget_resolves_d_star"]


@pytest.mark.parametrize("p_data, p_g, why", [
    ("normal(0,0.1)", "normal(10,0.1)", "supports barely overlap"),
    ("normal(0,1)", "normal(4.5,1)", "supports barely overlap"),
    ("normal(0,1)", "normal(0.05,1.02)", "nearly identical"),
    ("uniform(0,1)", "normal(0.5,1)", "D\\* jumps"),  # a bounded support: D* steps to 0
])
def test_pairs_out_of_the_claims_range_are_refused(p_data, p_g, why):
    with pytest.raises(ConfigError, match=why):
        _cfg(p_data, p_g).check()


def test_pairs_in_range_are_accepted():
    for p_data, p_g in [DEFAULT_PAIR, *PAIRS.values(), ("normal(0,1)", "normal(2.5,1)")]:
        _cfg(p_data, p_g).check()


def test_cli_refuses_a_nearly_disjoint_pair_with_exit_2_and_one_line():
    proc = subprocess.run([sys.executable, "-m", "gantheory.verify", "optimal_d", "--p-data",
                           "normal(0,0.1)", "--p-g", "normal(10,0.1)"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "out of the claim's range" in lines[0], proc.stderr
    assert proc.stdout == ""


def test_run_claim_reports_the_bound_it_used():
    res = run_claim("optimal_d", _cfg(seeds=1, steps=100, grid=201))
    n = 100 * od.OptimalDConfig.batch
    assert res.metrics["n_samples_per_class"] == n
    assert res.tolerances["max_abs_d_minus_d_star"] == pytest.approx(od.SUP_C / np.sqrt(n))
    assert res.passed == (res.metrics["max_abs_d_minus_d_star"] <= od.SUP_C / np.sqrt(n))


def test_bound_shrinks_as_one_over_sqrt_n_down_to_the_networks_floor():
    n = 512_000  # the default budget: the estimation term rules
    assert od.sup_bound(n) == pytest.approx(od.SUP_C / np.sqrt(n))
    assert od.sup_bound(4 * n) == pytest.approx(max(od.sup_bound(n) / 2, od.APPROX_FLOOR))
    assert od.sup_bound(10**9) == od.APPROX_FLOOR  # more samples never demand more than the net


def test_the_figure_labels_the_compared_region_and_says_fail(tmp_path, monkeypatch):
    # 20 steps: the claim fails (budget too small); its saved figure must say so, and the grey
    # lines at the region's edges must be the measured region, named in the legend.
    from gantheory import plotting

    saved = {}
    monkeypatch.setattr(plotting, "save_figure",
                        lambda fig, path: saved.setdefault("fig", fig) and str(path))
    cfg = _cfg(seeds=1, steps=20, grid=201, plot=str(tmp_path / "d.png"))
    res = run_claim("optimal_d", cfg)
    assert res.status == "FAIL"
    ax = saved["fig"].axes[0]
    assert ax.get_title().endswith("[FAIL]")
    assert [t.get_text() for t in saved["fig"].texts].count("FAIL") == 1
    edges = [ln for ln in ax.get_lines() if ln.get_color() == "grey"]
    assert sorted(ln.get_xdata()[0] for ln in edges) == pytest.approx(res.metrics["region"])
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert f"region compared (holds {cfg.mass:.0%} of M)" in labels
