"""Claim ``symbolic``: the algebra behind Proposition 1 and Theorem 1, derived with sympy.

    python -m gantheory.verify symbolic

Each derivation in :mod:`gantheory.symbolic` is printed step by step and checked: the maximiser
of a log y + b log(1 - y), the pointwise form of C(G), the JSD bounds, and the generator-gradient
limits behind Section 3.
"""

from __future__ import annotations

from dataclasses import dataclass

from .registry import Report, Verdict, register_claim


@dataclass(frozen=True)
class SymbolicConfig:
    """No options: the derivations are exact."""


@dataclass(frozen=True)
class SymbolicMeasurement:
    derivations: tuple  # of gantheory.symbolic.Derivation, in registry order


def measure(cfg: SymbolicConfig) -> SymbolicMeasurement:
    """Run every sympy derivation."""
    from .. import symbolic  # sympy loads only when this claim runs

    return SymbolicMeasurement(tuple(symbolic.all_derivations()))


def verdict(m: SymbolicMeasurement, cfg: SymbolicConfig) -> Verdict:
    """Passes when every derivation holds (and there is at least one)."""
    checks = {d.name: (bool(d.holds), "a step does not simplify to what it claims")
              for d in m.derivations}
    if not checks:
        checks["derivations"] = (False, "no derivation was run")
    return Verdict.from_checks(checks)


def report(m: SymbolicMeasurement, cfg: SymbolicConfig) -> Report:
    """One line per derivation; its steps follow on the same (multi-line) line, which the text
    output indents and report.md puts in a code block."""
    lines = tuple("\n".join([f"{d.name}: {'holds' if d.holds else 'FAILS'}", *d.steps])
                  for d in m.derivations)
    metrics = {d.name: d.to_dict() for d in m.derivations}
    return Report(metrics, {"symbolic": "exact (sympy simplification to 0); numeric spot checks "
                                        "at 50 digits with mpmath"}, lines)


register_claim(
    "symbolic", "Proposition 1 and Theorem 1 by algebra: y -> a log y + b log(1 - y) peaks at "
    "a/(a + b); C(G) = -log 4 + KL(p_data || M) + KL(p_g || M); 0 <= JSD <= log 2.",
    SymbolicConfig, measure=measure, verdict=verdict, report=report)
