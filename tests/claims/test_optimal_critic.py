"""optimal_critic (f-GAN): passes at its quick settings; a wrong conjugate and a wrong output
activation fail it; pairs with an infinite divergence are refused."""

import dataclasses

import numpy as np
import pytest

import gantheory.claims.optimal_critic as oc
from gantheory.config import override
from gantheory.errors import ConfigError
from gantheory.fdivergences import F_DIVERGENCES


def _quick(**changes):
    return override(oc.OptimalCriticConfig(), {**oc_quick(), **changes})


def oc_quick():
    from gantheory.claims.registry import REGISTRY
    return REGISTRY["optimal_critic"].quick


@pytest.fixture(scope="module")
def quick_run():
    cfg = _quick()
    return cfg, oc.measure(cfg)


def test_optimal_critic_passes_at_quick_settings(quick_run):
    cfg, m = quick_run
    v = oc.verdict(m, cfg)
    assert v.passed, v.reasons
    assert set(m.names) == set(F_DIVERGENCES)
    for name in m.names:  # the bound is below D_f and close to it, for every generator
        assert all(b <= m.d_f[name] + 1e-10 for b in m.bound[name])
        assert all(m.d_f[name] - b <= oc.gap_tol(m.n_samples) * oc.excess(name, m.d_f[name])
                   for b in m.bound[name])


@pytest.mark.parametrize("variant", ["wrong_conjugate", "wrong_activation"])
def test_optimal_critic_fails_for_a_broken_trainer(variant):
    cfg = _quick(variant=variant)
    v = oc.verdict(oc.measure(cfg), cfg)
    assert not v.passed
    assert not v.checks["t_near_t_star"] and not v.checks["bound_near_d_f"]


def test_a_constant_critic_fails(quick_run):
    # The measurement of a data-blind critic (T = mean of T* under M): relative RMS error 1.
    cfg, m = quick_run
    ones = {k: [1.0] * len(v) for k, v in m.rel_rms.items()}
    v = oc.verdict(dataclasses.replace(m, rel_rms=ones), cfg)
    assert not v.passed and not v.checks["t_near_t_star"]


def test_too_small_a_budget_cannot_judge(quick_run):
    cfg, m = quick_run
    v = oc.verdict(dataclasses.replace(m, n_samples=10_000), cfg)
    assert not v.checks["budget_resolves_t_star"]


def test_excess_is_zero_at_equal_densities():
    assert oc.excess("gan", -np.log(4.0)) == pytest.approx(0.0, abs=1e-15)
    assert oc.excess("kl", 0.3) == 0.3


@pytest.mark.parametrize("changes, match", [
    ({"p_g": "normal(0,0.7)", "names": "pearson"}, "infinite"),
    ({"names": "kl,chi"}, "names must be"),
    ({"variant": "nope"}, "variant"),
    ({"mass": 1.5}, "mass"),
])
def test_bad_configs_are_config_errors(changes, match):
    with pytest.raises(ConfigError, match=match):
        override(oc.OptimalCriticConfig(), changes).check()
