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
SCHEMA = 2  # version of ClaimResult.to_json's layout (the JSON table of docs/theory.md)


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


def status_of(kind: str, passed: bool | None) -> str:
    """A claim's status word: REPORTED for a study, else PASS or FAIL."""
    return "REPORTED" if kind == "study" else ("PASS" if passed else "FAIL")


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
        return status_of(self.kind, self.passed)

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


def _titles(fig) -> str:
    sup = getattr(fig, "_suptitle", None)
    return " ".join([sup.get_text() if sup is not None else "",
                     *(ax.get_title() for ax in fig.axes)])


def _save_figures(figs: dict, plot: str, status: str) -> tuple[str, ...]:
    """Save each figure, marked with the claim's ``status`` (:func:`~gantheory.plotting.mark_status`:
    ``[PASS]``/``[FAIL]`` in the title, a red FAIL box), so that no plot of a failed claim looks
    like a passing one. A figure titled ``[REPORTED]`` is a study shown beside a claim (nothing
    in it is judged) and keeps that word alone."""
    from pathlib import Path

    from ..plotting import mark_status, save_figure

    base, out = Path(plot), []
    for suffix, fig in figs.items():
        if "[REPORTED]" not in _titles(fig):
            mark_status(fig, status)
        path = base if not suffix else base.with_name(f"{base.stem}_{suffix}{base.suffix}")
        out.append(save_figure(fig, path))
    return tuple(out)


# -- memory: a request is refused before anything is allocated ----------------------------------

# The most memory one claim may ask for is the budget of :mod:`gantheory.util.memory`, as for every
# other command: the memory the kernel reports available (capped by ``ulimit -v``) times its
# FRACTION. Every claim at its defaults needs under 250 MB (peak RSS over the interpreter's,
# measured), so the defaults fit any machine the toolkit targets; a larger request runs where the
# machine has room, and a typo (a grid of 10^8 points, 10^9 seeds) is refused in one line instead
# of growing until the operating system kills the process.
# float64 arrays of one seed's (samples x width) that 1-D training holds at once: forward and
# backward of D on real and fake and of G, the optimisers' state and temporaries. Calibrated on
# peak RSS at 1,000 seeds (0.34 MB a seed for k_steps at batch 64, width 16; 0.9 MB for
# global_optimum at batch 128; 0.8 MB for optimal_d at batch 512): 24 arrays over-estimate each.
ARRAYS_PER_SAMPLE = 24
# One seed's exact-JSD record (jsd_normal_batch: ~70 panels a component, 16 nodes, ~10 arrays).
RECORD_BYTES_PER_SEED = 200_000
# A grid point of a claim that evaluates densities and discriminators on a grid: ~30 float64
# arrays (a grid of 10^8 points was measured at 23.8 GB, 238 bytes a point).
BYTES_PER_GRID_POINT = 256


def training_bytes(seeds: int, samples: int, width: int) -> int:
    """Estimated bytes to train ``seeds`` 1-D GANs (or discriminators) on minibatches of
    ``samples`` through layers ``width`` wide (see :data:`ARRAYS_PER_SAMPLE`)."""
    return int(seeds) * (int(samples) * max(int(width), 1) * 8 * ARRAYS_PER_SAMPLE
                         + RECORD_BYTES_PER_SEED)


def blame(cfg: Any, names) -> str:
    """Of the fields ``names`` of ``cfg``, the one furthest above its default (by the ratio value /
    default), ties to the first: the parameter a refusal names when an estimate is a product of
    several (``seeds x batch x hidden``), so that ``batch=10**9`` is blamed on batch, not seeds."""
    defaults = {f.name: f.default for f in dataclasses.fields(cfg)}

    def ratio(k):
        v, d = getattr(cfg, k), defaults.get(k)
        return v / d if isinstance(d, int) and d > 0 else v

    return max(names, key=ratio)


def memory_terms(cfg: Any) -> dict[str, int]:
    """Estimated bytes of a claim's run, as ``{parameter: bytes}`` (the parameter a term grows
    with names it in the refusal). A config's own ``memory_bytes()`` is used when it has one;
    otherwise a generic estimate from the fields it has (``grid``, ``seeds``, ``batch``,
    ``hidden``): the training term is put under whichever of seeds, batch and the widths is
    furthest above its default (:func:`blame`)."""
    own = getattr(cfg, "memory_bytes", None)
    if callable(own):
        return {k: int(v) for k, v in own().items()}
    get = lambda k, d=1: getattr(cfg, k, d) if isinstance(getattr(cfg, k, d), int) else d  # noqa: E731
    terms = {}
    if hasattr(cfg, "grid"):
        terms["grid"] = BYTES_PER_GRID_POINT * get("grid")
    if hasattr(cfg, "seeds"):
        widths = [k for k in ("hidden", "d_hidden", "g_hidden") if hasattr(cfg, k)]
        width = max([get(k, 0) for k in widths] + [1])
        who = blame(cfg, ["seeds", *(["batch"] if hasattr(cfg, "batch") else []), *widths])
        terms[who] = terms.get(who, 0) + training_bytes(get("seeds"), get("batch"), width)
    return terms


def _gib(n: float) -> str:
    return f"{n / 1024**3:.3g} GiB" if n >= 1024**3 / 10 else f"{n / 1024**2:.3g} MiB"


def check_memory(name: str, cfg: Any, limit: int | None = None) -> int:
    """Raise :class:`~gantheory.errors.ConfigError` naming the parameter when the estimate of
    :func:`memory_terms` exceeds ``limit`` (by default the budget of :mod:`gantheory.util.memory`:
    the available memory times its ``FRACTION``); return the estimate. Computes nothing else."""
    from ..errors import ConfigError
    from ..util import memory

    terms = memory_terms(cfg)
    total = sum(terms.values())
    if limit is None:
        limit = int(memory.available_bytes() * memory.FRACTION)
    if total > limit:
        param = max(terms, key=terms.get)
        raise ConfigError(
            f"claim {name}: {param}={getattr(cfg, param, '?')} needs an estimated "
            f"{_gib(total)} of memory, more than the {_gib(limit)} this machine has available; "
            f"lower {param}")
    return total


def check_training_fields(cfg: Any, sizes: tuple[str, ...] = ("steps", "batch", "hidden",
                                                               "grid")) -> None:
    """The checks shared by claims that train small 1-D networks on a grid: ``seeds`` and each of
    ``sizes`` >= 1, ``mass`` in (0, 1), ``lr`` > 0 (one-line :class:`ConfigError` naming the
    field)."""
    from ..errors import ConfigError

    for name in ("seeds", *sizes):
        if getattr(cfg, name) < 1:
            raise ConfigError(f"{name} must be >= 1, got {getattr(cfg, name)}")
    if not 0 < cfg.mass < 1:
        raise ConfigError(f"mass must lie in (0, 1), got {cfg.mass}")
    if not cfg.lr > 0:
        raise ConfigError(f"lr must be > 0, got {cfg.lr}")


def check_config(name: str, cfg: Any) -> None:
    """Everything that can be refused before computing: the memory estimate (which computes
    nothing), then the config's own ``check()`` (which may evaluate densities on a grid)."""
    check_memory(name, cfg)
    if hasattr(cfg, "check"):
        cfg.check()


def run_claim(name: str, cfg: Any) -> ClaimResult:
    """Measure, decide, report and (when ``cfg.plot`` is set) plot the claim ``name``."""
    from ..util.versions import versions

    claim = REGISTRY[name]
    t0 = time.perf_counter()
    check_config(name, cfg)
    m = claim.measure(cfg)
    verdict = claim.verdict(m, cfg) if claim.verdict is not None else None
    rep = claim.report(m, cfg)
    passed = None if verdict is None else bool(verdict.passed)
    figures: tuple[str, ...] = ()
    plot = getattr(cfg, "plot", None)
    if plot and claim.plot is not None:
        figures = _save_figures(claim.plot(m, cfg, verdict), plot, status_of(claim.kind, passed))
    return ClaimResult(
        claim=name, kind=claim.kind, passed=passed,
        reasons=() if verdict is None else tuple(verdict.reasons), statement=claim.statement,
        metrics=rep.metrics, tolerances=rep.tolerances,
        seeds=tuple(int(s) for s in getattr(m, "seeds", ()) or ()),
        wall_s=round(time.perf_counter() - t0, 3), versions=versions(), figures=figures,
        lines=tuple(rep.lines))
