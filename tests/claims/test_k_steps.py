"""Study k_steps: registered as a study, it has no verdict, reports every arm, prints REPORTED,
and is left out of the pass count and the exit status of ``verify``."""

import json

from gantheory.claims import REGISTRY, run_claim
from gantheory.claims import k_steps
from gantheory.config import override

SMALL = override(k_steps.KStepsConfig(), seeds=4, steps=20, record_every=5)


def test_k_steps_is_a_study_without_a_verdict():
    claim = REGISTRY["k_steps"]
    assert claim.kind == "study" and claim.verdict is None


def test_k_steps_reports_every_arm_and_asserts_nothing():
    res = run_claim("k_steps", SMALL)
    assert res.kind == "study" and res.passed is None and res.reasons == ()
    assert res.status == "REPORTED"
    data = json.loads(json.dumps(res.to_json(), allow_nan=False))
    assert data["kind"] == "study" and data["status"] == "REPORTED" and data["passed"] is None
    arms = data["metrics"]["arms"]
    assert list(arms) == ["alternating k=1", "alternating k=5", "simultaneous"]
    for arm in arms.values():
        assert arm["n"] == SMALL.seeds and len(arm["wilson95"]) == 2
        assert "final_jsd_median_ci95" in arm and "g_steps_to_success_median_ci95" in arm
    assert len(data["metrics"]["comparisons"]) == 2
    assert data["seeds"] == list(range(SMALL.seeds))


def test_arms_follow_the_config():
    cfg = override(SMALL, k_values="1,2,3", simultaneous=False)
    assert [a[0] for a in cfg.arms()] == ["alternating k=1", "alternating k=2", "alternating k=3"]
