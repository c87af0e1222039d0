"""The claims' refusals before work: a field that grows memory is refused by the estimate, a count
that only costs time by the config's check, each naming the field; the estimates over-estimate
the peak RSS measured beside their constants; a product is blamed on the factor that was raised."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gantheory.claims import REGISTRY
from gantheory.claims import registry
from gantheory.claims.registry import blame, check_config, check_memory, memory_terms
from gantheory.errors import ConfigError

HUGE = 10**11
#: Every claim at its defaults needs under 250 MB of peak RSS over the interpreter's (measured);
#: its estimate may over-estimate that, but not past this.
DEFAULT_CEILING = 10**9

# (claim, field) refused by the memory estimate, named as field=value
MEMORY = [("gradient_identity", "panels"), ("vanishing_gradient", "panels"),
          ("vanishing_gradient", "etas"), ("variational_bound", "critics"),
          ("wgan_example", "thetas"), ("global_optimum", "n_random_pairs"),
          ("mixtures2d", "z_dim"), ("optimal_d", "batch"), ("optimal_d", "hidden"),
          ("optimal_critic", "batch"), ("optimal_critic", "hidden"), ("wgan_example", "batch"),
          ("wgan_example", "hidden"), ("k_steps", "batch"), ("saturation", "batch"),
          ("convergence", "batch"), ("global_optimum", "batch")]
# (claim, field) that costs time only: refused by the config's check
TIME = [("global_optimum", "k"), ("mixtures2d", "k"), ("dirac", "n_grid"),
        ("convergence", "convexity_pairs"), ("k_steps", "k_values")]


def _cfg(claim: str, **changes):
    return replace(REGISTRY[claim].config(), **changes)


@pytest.mark.parametrize("claim, field", MEMORY)
def test_a_field_that_grows_memory_is_refused_by_the_estimate_naming_it(claim, field):
    with pytest.raises(ConfigError, match=f"{field}={HUGE} .*lower {field}$"):
        check_memory(claim, _cfg(claim, **{field: HUGE}), limit=10**12)


@pytest.mark.parametrize("claim, field", TIME)
def test_a_count_that_costs_time_is_refused_by_the_check_naming_it(claim, field):
    cfg = _cfg(claim, **{field: 10**8})
    assert check_memory(claim, cfg, limit=10**12) < DEFAULT_CEILING  # no memory to speak of
    with pytest.raises(ConfigError, match=f"^{field} must"):
        cfg.check()


@pytest.mark.parametrize("claim", sorted(REGISTRY))
def test_every_default_fits_and_passes_its_checks(claim):
    cfg = REGISTRY[claim].config()
    assert sum(memory_terms(cfg).values()) < DEFAULT_CEILING
    check_config(claim, cfg)


def test_convexity_pairs_zero_would_leave_the_check_vacuous():
    with pytest.raises(ConfigError, match="convexity_pairs"):
        _cfg("convergence", convexity_pairs=0).check()


# (claim, field, value, measured extra peak RSS in bytes over the default's): the figures beside
# the constants; the estimate's growth from the default must cover each
MEASURED = [("gradient_identity", "panels", 100_000, 1_170_000_000),
            ("gradient_identity", "panels", 20_000, 206_000_000),
            ("vanishing_gradient", "panels", 100_000, 757_000_000),
            ("vanishing_gradient", "etas", 2_000, 2_500_000),
            ("wgan_example", "thetas", 2_001, 600_000)]


@pytest.mark.parametrize("claim, field, value, extra", MEASURED)
def test_the_estimates_cover_what_was_measured(claim, field, value, extra):
    quick = REGISTRY[claim].quick
    base = _cfg(claim, **quick)
    grown = sum(memory_terms(replace(base, **{field: value})).values())
    assert grown - sum(memory_terms(base).values()) >= extra


def test_mixtures2d_z_dim_estimate_covers_what_was_measured():
    # z_dim 2,000 instead of 2 at 3 seeds, batch 32, hidden 8, n_eval 200: +81 MB of peak RSS
    base = _cfg("mixtures2d", seeds=3, batch=32, hidden=8, n_eval=200)
    (a,), (b,) = base.memory_bytes().values(), replace(base, z_dim=2000).memory_bytes().values()
    assert b - a >= 81_000_000


def test_blame_names_the_factor_furthest_above_its_default():
    from gantheory.claims.optimal_d import OptimalDConfig

    assert blame(OptimalDConfig(), ("seeds", "batch", "hidden")) == "seeds"  # a tie: the first
    assert blame(OptimalDConfig(batch=512 * 100), ("seeds", "batch", "hidden")) == "batch"
    assert blame(OptimalDConfig(seeds=50, batch=512 * 5), ("seeds", "batch")) == "seeds"


def test_a_broken_blame_fails_the_refusal_test(monkeypatch):
    """Negative control: the old estimate, which filed the whole product under seeds."""
    monkeypatch.setattr(registry, "blame", lambda cfg, names: names[0])
    with pytest.raises(AssertionError, match="lower seeds"):
        test_a_field_that_grows_memory_is_refused_by_the_estimate_naming_it("optimal_d", "batch")


def test_saturation_n_eval_counts_for_the_mlp_generator_only():
    """The affine generator's JSD is exact and never reads n_eval; the mlp one's estimate does."""
    mlp = _cfg("saturation", generator="mlp", p_data="normal(-8,1)", n_eval=HUGE)
    with pytest.raises(ConfigError, match=f"n_eval={HUGE} .*lower n_eval$"):
        check_memory("saturation", mlp, limit=10**12)
    assert check_memory("saturation", _cfg("saturation", n_eval=HUGE), limit=10**12) < 10**9
