"""Claim symbolic: passes when every sympy derivation holds, fails (through its pure verdict and
through the library) when one does not, and reports each derivation as one multi-line line."""

import dataclasses

from gantheory import symbolic
from gantheory.claims import run_claim
from gantheory.claims import symbolic as claim


def test_passes_and_reports_each_derivation_with_its_steps():
    res = run_claim("symbolic", claim.SymbolicConfig())
    assert res.passed and res.kind == "claim"
    assert [line.split(":")[0] for line in res.lines] == list(symbolic.DERIVATIONS)
    for line, name in zip(res.lines, symbolic.DERIVATIONS):
        head, *steps = line.split("\n")
        assert head == f"{name}: holds"
        assert steps == res.metrics[name]["steps"]


def test_verdict_fails_on_a_failed_derivation():
    good = claim.measure(claim.SymbolicConfig())
    wrong = symbolic.optimal_discriminator_derivation(candidate=symbolic.b / (symbolic.a + symbolic.b))
    bad = dataclasses.replace(good, derivations=(wrong,) + good.derivations[1:])
    v = claim.verdict(bad, claim.SymbolicConfig())
    assert not v.passed and v.reasons[0].startswith("optimal_discriminator:")
    assert not claim.verdict(claim.SymbolicMeasurement(()), claim.SymbolicConfig()).passed


def test_fails_if_the_library_derivation_fails(monkeypatch):
    # a wrong maximiser, b/(a + b), in place of a/(a + b)
    broken = lambda: [symbolic.optimal_discriminator_derivation(  # noqa: E731
        candidate=symbolic.b / (symbolic.a + symbolic.b))]
    monkeypatch.setattr(symbolic, "all_derivations", broken)
    res = run_claim("symbolic", claim.SymbolicConfig())
    assert not res.passed and res.lines[0].startswith("optimal_discriminator: FAILS")
