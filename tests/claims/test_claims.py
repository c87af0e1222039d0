"""The claim registry and the protocol: names, registration checks, the documented JSON schema of
every claim and study. Each claim has its own test_<claim>.py."""

import dataclasses
import json
import re
from pathlib import Path

import pytest

from gantheory.claims import JSON_KEYS, REGISTRY, Report, Verdict, register_claim
from gantheory.claims.registry import SCHEMA
from gantheory.config import override
from gantheory.verify import run_claims

DOCS = Path(__file__).resolve().parents[2] / "docs" / "theory.md"


def test_registry_names_are_unique_snake_case_and_documented():
    headings = re.findall(r"^## `([a-z_0-9]+)`", DOCS.read_text(), flags=re.M)
    assert list(REGISTRY) == [h for h in headings if h in REGISTRY]
    assert set(REGISTRY) <= set(headings)


@dataclasses.dataclass(frozen=True)
class _Cfg:
    seeds: int = 1


def _parts(**kw):
    parts = dict(measure=lambda cfg: None, report=lambda m, cfg: Report({}),
                 verdict=lambda m, cfg: Verdict(True))
    parts.update(kw)
    return parts


@pytest.mark.parametrize("name, statement, config, kw, error", [
    ("optimal_d", "again", _Cfg, {}, ValueError),  # registered twice
    ("all", "reserved", _Cfg, {}, ValueError),
    ("Bad-Name", "x", _Cfg, {}, ValueError),
    ("no_statement", "  ", _Cfg, {}, ValueError),
    ("not_frozen", "x", dict, {}, TypeError),
    ("claim_without_verdict", "x", _Cfg, {"verdict": None}, ValueError),
    ("study_with_verdict", "x", _Cfg, {"kind": "study"}, ValueError),
    ("bad_kind", "x", _Cfg, {"kind": "theorem"}, ValueError),
    ("bad_quick", "x", _Cfg, {"quick": {"no_such_field": 1}}, ValueError),
])
def test_register_claim_rejects_malformed_claims(name, statement, config, kw, error):
    before = dict(REGISTRY)
    with pytest.raises(error):
        register_claim(name, statement, config, **_parts(**kw))
    assert REGISTRY == before  # nothing half-registered


def test_every_claim_follows_the_protocol():
    for claim in REGISTRY.values():
        assert callable(claim.measure) and callable(claim.report)
        assert (claim.verdict is None) == (claim.kind == "study")


@pytest.mark.parametrize("name", list(REGISTRY))
def test_every_claim_returns_the_documented_json_schema(name):
    claim = REGISTRY[name]
    (res,) = run_claims({name: override(claim.config(), claim.quick)})
    obj = json.loads(json.dumps(res.to_json(), allow_nan=False))  # really (strict) JSON
    assert tuple(obj) == JSON_KEYS and obj["schema"] == SCHEMA
    assert obj["claim"] == name and obj["kind"] == claim.kind
    if claim.kind == "study":
        assert obj["passed"] is None and obj["status"] == "REPORTED" and obj["reasons"] == []
    else:
        assert isinstance(obj["passed"], bool)
        assert obj["status"] == ("PASS" if obj["passed"] else "FAIL")
        assert (obj["reasons"] == []) == obj["passed"]  # a failure says why
    assert obj["statement"] == claim.statement
    assert isinstance(obj["metrics"], dict) and isinstance(obj["tolerances"], dict)
    assert all(isinstance(s, int) for s in obj["seeds"])
    assert obj["wall_s"] >= 0 and {"python", "torch", "numpy"} <= set(obj["versions"])
