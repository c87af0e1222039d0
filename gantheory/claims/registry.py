"""The claim registry and the claim protocol: measure, verdict, report, plot.

A claim is four small functions around a frozen config dataclass of its defaults:

* ``measure(cfg) -> M``: computes; returns a dataclass of numbers and arrays (with a ``seeds``
  attribute when seeds are involved). No decisions, no text, no files.
* ``verdict(m, cfg) -> Verdict``: pure; numbers in, ``passed`` and the reasons out. Testable
  alone: a broken variant is a measurement (or a config) that must give ``passed=False``.
* ``report(m, cfg) -> Report``: the JSON metrics, the named tolerances and the text lines.
* ``plot(m, cfg, verdict) -> {suffix: Figure}`` (optional): "" is the main figure, saved at
  ``cfg.plot``; any other suffix is saved beside it as ``<stem>_<suffix><ext>``.

:func:`register_claim` adds one to :data:`REGISTRY` and checks it there (a unique,
command-line-safe name, a statement, a frozen config), so a malformed claim fails at import;
:func:`run_claim` runs one and builds its :class:`ClaimResult` once. The CLI, the tests and the
docs headings all read the registry.

A claim of kind ``study`` reports what was seen (e.g. k = 1 vs k = 5) and asserts nothing: its
status is REPORTED, it has no verdict, and ``verify all`` leaves it out of the pass count and the
exit status.
"""

from __future__ import annotations

import dataclasses
import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
SCHEMA = 2  # version of ClaimResult.to_json's layout (docs/theory.md, "JSON output")


@dataclass(frozen=True)
class Verdict:
    """A claim's decision: ``passed`` and, when it failed, one reason per failed check."""

    passed: bool
    reasons: tuple[str, ...] = ()
    checks: dict[str, bool] = field(default_factory=dict)  # each named check's outcome

    @classmethod
    def from_checks(cls, checks: dict[str, tuple[bool, str]]) -> "Verdict":
        """``{name: (ok, reason_if_not_ok)}`` -> a verdict that passes when every check does."""
        reasons = tuple(f"{name}: {why}" for name, (ok, why) in checks.items() if not ok)
        return cls(not reasons, reasons, {name: bool(ok) for name, (ok, _) in checks.items()})


@dataclass(frozen=True)
class Report:
    """What a claim shows: JSON metrics, named tolerances, human-readable lines."""

    metrics: dict[str, Any]
    tolerances: dict[str, Any] = field(default_factory=dict)
    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClaimResult:
    """The outcome of one claim, built once by :func:`run_claim`; JSON keys in docs/theory.md."""

    claim: str
    kind: Literal["claim", "study"]
    passed: bool | None  # None for a study
    reasons: tuple[str, ...]
    statement: str
    metrics: dict[str, Any]
    tolerances: dict[str, Any]
    seeds: tuple[int, ...]
    wall_s: float
    versions: dict[str, Any]
    figures: tuple[str, ...]
    lines: tuple[str, ...]  # human-readable summary, not in the JSON

    @property
    def status(self) -> str:
        """PASS, FAIL or REPORTED (a study)."""
        return "REPORTED" if self.kind == "study" else ("PASS" if self.passed else "FAIL")

    def to_json(self) -> dict[str, Any]:
        out = {"schema": SCHEMA, "status": self.status}
        for k in JSON_KEYS[2:]:
            v = getattr(self, k)
            out[k] = list(v) if isinstance(v, tuple) else v
        return out


JSON_KEYS = ("schema", "status", "claim", "kind", "passed", "reasons", "statement", "metrics",
             "tolerances", "seeds", "wall_s", "versions", "figures")


@dataclass(frozen=True)
class Claim:
    name: str
    statement: str
    config: type
    measure: Callable[[Any], Any]
    verdict: Callable[[Any, Any], Verdict] | None
    report: Callable[[Any, Any], Report]
    plot: Callable[[Any, Any, Verdict | None], dict] | None = None
    kind: Literal["claim", "study"] = "claim"
    quick: dict = field(default_factory=dict)  # overrides for a seconds-long smoke run (tests)


REGISTRY: dict[str, Claim] = {}


def register_claim(name: str, statement: str, config: type, *, measure, report, verdict=None,
                   plot=None, kind: str = "claim", quick: dict | None = None) -> Claim:
    """Add a claim (or, with ``kind="study"`` and no verdict, a study) to :data:`REGISTRY`."""
    if not _NAME.match(name):
        raise ValueError(f"claim name {name!r} must be lower_snake_case")
    if name in REGISTRY or name == "all":
        raise ValueError(f"claim {name!r} is registered twice (or uses the reserved name 'all')")
    if not statement.strip():
        raise ValueError(f"claim {name!r} needs a statement")
    if not (dataclasses.is_dataclass(config) and config.__dataclass_params__.frozen):
        raise TypeError(f"claim {name!r}: config must be a frozen dataclass")
    if kind not in ("claim", "study"):
        raise ValueError(f"claim {name!r}: kind must be 'claim' or 'study'")
    if (kind == "claim") != (verdict is not None):
        raise ValueError(f"claim {name!r}: a claim needs a verdict and a study has none")
    fields = {f.name for f in dataclasses.fields(config)}
    unknown = sorted(set(quick or {}) - fields)
    if unknown:
        raise ValueError(f"claim {name!r}: quick overrides name unknown fields {unknown}")
    claim = Claim(name, statement, config, measure, verdict, report, plot, kind,
                  dict(quick or {}))
    REGISTRY[name] = claim
    return claim


def _save_figures(figs: dict, plot: str) -> tuple[str, ...]:
    from pathlib import Path

    from ..plotting import save_figure

    base, out = Path(plot), []
    for suffix, fig in figs.items():
        path = base if not suffix else base.with_name(f"{base.stem}_{suffix}{base.suffix}")
        out.append(save_figure(fig, path))
    return tuple(out)


def run_claim(name: str, cfg: Any) -> ClaimResult:
    """Measure, decide, report and (when ``cfg.plot`` is set) plot the claim ``name``."""
    from ..util.versions import versions

    claim = REGISTRY[name]
    t0 = time.perf_counter()
    if hasattr(cfg, "check"):
        cfg.check()
    m = claim.measure(cfg)
    verdict = claim.verdict(m, cfg) if claim.verdict is not None else None
    rep = claim.report(m, cfg)
    figures: tuple[str, ...] = ()
    plot = getattr(cfg, "plot", None)
    if plot and claim.plot is not None:
        figures = _save_figures(claim.plot(m, cfg, verdict), plot)
    return ClaimResult(
        claim=name, kind=claim.kind, passed=None if verdict is None else bool(verdict.passed),
        reasons=() if verdict is None else tuple(verdict.reasons), statement=claim.statement,
        metrics=rep.metrics, tolerances=rep.tolerances,
        seeds=tuple(int(s) for s in getattr(m, "seeds", ()) or ()),
        wall_s=round(time.perf_counter() - t0, 3), versions=versions(), figures=figures,
        lines=tuple(rep.lines))


# -- transition: claims not yet split into measure/verdict/report --------------------------------

@dataclass(frozen=True)
class _Legacy:
    seeds: list
    passed: bool
    metrics: dict
    tolerances: dict
    figures: list
    lines: list


def register(name: str, statement: str, config: type, *, kind: str = "claim",
             quick: dict | None = None):
    """Old-style decorator for ``run(cfg) -> _LegacyResult``; to be removed once every claim
    follows the protocol."""

    def deco(run):
        def measure(cfg):
            r = run(cfg)
            return _Legacy(r.seeds, r.passed, r.metrics, r.tolerances, r.figures, r.lines)

        verdict = (lambda m, cfg: Verdict(bool(m.passed), () if m.passed else ("see lines",))) \
            if kind == "claim" else None
        register_claim(name, statement, config, measure=measure, verdict=verdict,
                       report=lambda m, cfg: Report(m.metrics, m.tolerances, tuple(m.lines)),
                       kind=kind, quick=quick)
        return run

    return deco


@dataclass
class LegacyResult:
    """What an old-style ``run(cfg)`` returns (transition only)."""

    claim: str
    passed: bool
    statement: str
    metrics: dict
    tolerances: dict
    seeds: list
    figures: list = field(default_factory=list)
    lines: list = field(default_factory=list)
