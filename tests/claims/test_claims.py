"""The claim registry and the core claims: JSON schema, passing defaults, failing broken variants."""

import json
import re
from pathlib import Path

import pytest

from gantheory import Normal, optimal_discriminator, parse_density, value
from gantheory.claims import JSON_KEYS, REGISTRY, register
from gantheory.claims import global_optimum as go_mod
from gantheory.claims import optimal_d as od_mod
from gantheory.config import override
from gantheory.verify import run_claims

DOCS = Path(__file__).resolve().parents[2] / "docs" / "theory.md"


def test_registry_names_are_unique_snake_case_and_documented():
    headings = re.findall(r"^## `([a-z_0-9]+)`", DOCS.read_text(), flags=re.M)
    assert list(REGISTRY) == [h for h in headings if h in REGISTRY]
    assert set(REGISTRY) <= set(headings)


def test_register_rejects_duplicates_and_bad_names():
    cfg = od_mod.OptimalDConfig
    with pytest.raises(ValueError):
        register("optimal_d", "again", cfg)(lambda c: None)
    with pytest.raises(ValueError):
        register("Bad-Name", "x", cfg)(lambda c: None)
    with pytest.raises(TypeError):
        register("not_frozen", "x", dict)(lambda c: None)


@pytest.mark.parametrize("name", list(REGISTRY))
def test_every_claim_returns_the_documented_json_schema(name):
    claim = REGISTRY[name]
    (res,) = run_claims({name: override(claim.config(), claim.quick)})
    obj = json.loads(json.dumps(res.to_json()))  # really JSON-serialisable
    assert tuple(obj) == JSON_KEYS
    assert obj["claim"] == name and isinstance(obj["passed"], bool)
    assert obj["statement"] == claim.statement
    assert isinstance(obj["metrics"], dict) and isinstance(obj["tolerances"], dict)
    assert all(isinstance(s, int) for s in obj["seeds"])
    assert obj["wall_s"] >= 0 and {"python", "torch", "numpy"} <= set(obj["versions"])


# --- optimal_d -----------------------------------------------------------------------------

FAST_OD = dict(seeds=2)  # the default budget, fewer seeds: the failure must come from the bug


def test_optimal_d_passes_with_its_defaults():
    res = od_mod.run(override(od_mod.OptimalDConfig(), FAST_OD))
    assert res.passed, res.lines
    assert res.metrics["max_abs_d_minus_d_star"] <= od_mod.SUP_TOL
    assert 0 <= res.metrics["value_gap_min"] <= res.metrics["value_gap_max"] <= od_mod.GAP_TOL


def test_optimal_d_fails_for_a_mis_specified_generator():
    # D learns from samples of a p_g shifted by 0.5: it estimates the wrong ratio.
    bad = override(od_mod.OptimalDConfig(), FAST_OD,
                   train_p_g="mixture(0.3*normal(-1.5,0.5)+0.7*normal(1.5,1))")
    res = od_mod.run(bad)
    assert not res.passed
    assert res.metrics["max_abs_d_minus_d_star"] > od_mod.SUP_TOL


def test_optimal_d_fails_against_a_perturbed_d_star(monkeypatch):
    # The oracle is wrong (D* of p_g with its narrow component moved by 0.3): the trained D,
    # correct as it is, is then measured as far from "D*".
    wrong = parse_density("mixture(0.3*normal(-1.7,0.5)+0.7*normal(1,1))")
    monkeypatch.setattr(od_mod, "optimal_discriminator",
                        lambda p_data, p_g: optimal_discriminator(p_data, wrong))
    res = od_mod.run(override(od_mod.OptimalDConfig(), FAST_OD))
    assert not res.passed


def test_optimal_d_fails_when_undertrained():
    res = od_mod.run(override(od_mod.OptimalDConfig(), seeds=1, steps=20))
    assert not res.passed


# --- global_optimum ------------------------------------------------------------------------

def test_global_optimum_passes_with_its_defaults():
    res = go_mod.run(override(go_mod.GlobalOptimumConfig(), seeds=2))
    assert res.passed, res.lines
    assert res.metrics["identity_max_abs_err"] <= go_mod.IDENTITY_TOL
    assert res.metrics["final_two_jsd_max"] <= go_mod.DEFAULT_BOUND


def test_global_optimum_fails_with_a_perturbed_d_star(monkeypatch):
    # C(G) computed with D* of a slightly wrong p_g is no longer -log 4 + 2 JSD.
    def perturbed(p_data, p_g):
        shifted = Normal(p_g.components()[0].mu + 0.05, p_g.components()[0].sigma)
        return value(optimal_discriminator(p_data, shifted), p_data, p_g)

    monkeypatch.setattr(go_mod, "virtual_training_criterion", perturbed)
    res = go_mod.run(override(go_mod.GlobalOptimumConfig(), seeds=1, steps=50, n_random_pairs=0))
    assert not res.passed
    assert res.metrics["identity_max_abs_err"] > go_mod.IDENTITY_TOL


def test_global_optimum_fails_when_the_gan_stops_short():
    # 30 steps of Algorithm 1 leave p_g far from p_data: 2 JSD stays well above the bound.
    res = go_mod.run(override(go_mod.GlobalOptimumConfig(), seeds=1, steps=30, n_random_pairs=0))
    assert not res.passed
    assert res.metrics["final_two_jsd_max"] > go_mod.DEFAULT_BOUND
    assert res.metrics["identity_max_abs_err"] <= go_mod.IDENTITY_TOL


def test_global_optimum_rejects_a_non_normal_p_data():
    from gantheory.errors import ConfigError
    with pytest.raises(ConfigError, match="Normal"):
        override(go_mod.GlobalOptimumConfig(), p_data="mixture(0.5*normal(0,1)+0.5*normal(3,1))")


# --- symbolic ------------------------------------------------------------------------------

def test_symbolic_claim_fails_if_a_derivation_fails(monkeypatch):
    from gantheory import symbolic
    from gantheory.claims import symbolic as sym_claim

    # a wrong maximiser, b/(a + b), in place of a/(a + b)
    broken = lambda: [symbolic.optimal_discriminator_derivation(  # noqa: E731
        candidate=symbolic.b / (symbolic.a + symbolic.b))]
    monkeypatch.setattr(symbolic, "all_derivations", broken)
    assert not sym_claim.run(sym_claim.SymbolicConfig()).passed
