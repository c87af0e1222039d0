"""The claim registry: one name -> claim table that the CLI, the tests and the docs all read.

A claim is a function ``run(cfg) -> ClaimResult`` plus the paper's statement and a frozen config
dataclass of its defaults. :func:`register` checks each entry when it is added (a unique,
command-line-safe name, a statement, a config dataclass with a ``seeds`` field or none), so a
malformed claim fails at import, not halfway through ``verify all``.

Claims of kind ``study`` report what was seen (e.g. k = 1 vs k = 5) rather than assert a theorem;
they pass unless their run itself fails.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass
class ClaimResult:
    """The outcome of one claim, with the stable JSON keys documented in docs/theory.md."""

    claim: str
    passed: bool
    statement: str
    metrics: dict[str, Any]
    tolerances: dict[str, Any]
    seeds: list[int]
    wall_s: float = 0.0
    versions: dict[str, str] = field(default_factory=dict)
    figures: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # human-readable summary, not in the JSON

    def to_json(self) -> dict[str, Any]:
        keys = ("claim", "passed", "statement", "metrics", "tolerances", "seeds", "wall_s",
                "versions", "figures")
        return {k: getattr(self, k) for k in keys}


JSON_KEYS = ("claim", "passed", "statement", "metrics", "tolerances", "seeds", "wall_s",
             "versions", "figures")


@dataclass(frozen=True)
class Claim:
    name: str
    statement: str
    config: type
    run: Callable[[Any], ClaimResult]
    kind: Literal["claim", "study"] = "claim"
    summary: str = ""
    quick: dict = field(default_factory=dict)  # overrides for a seconds-long smoke run (tests)


REGISTRY: dict[str, Claim] = {}


def register(name: str, statement: str, config: type, *, kind: str = "claim",
             quick: dict | None = None):
    """Decorator adding ``run(cfg) -> ClaimResult`` to the registry under ``name``."""

    def deco(run: Callable[[Any], ClaimResult]):
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
        summary = (run.__doc__ or "").strip().splitlines()[0] if run.__doc__ else ""
        fields = {f.name for f in dataclasses.fields(config)}
        unknown = sorted(set(quick or {}) - fields)
        if unknown:
            raise ValueError(f"claim {name!r}: quick overrides name unknown fields {unknown}")
        REGISTRY[name] = Claim(name, statement, config, run, kind, summary, dict(quick or {}))
        return run

    return deco
