"""Claim ``dirac``: passes at its quick settings; broken variants (a wrong sign in the
regulariser, a swapped or stale update order) fail."""

import pytest
import torch

from gantheory import dirac
from gantheory.claims import REGISTRY, run_claim
from gantheory.claims import dirac as claim
from gantheory.config import override
from gantheory.errors import ConfigError

QUICK = REGISTRY["dirac"].quick


def _run():
    return run_claim("dirac", override(claim.DiracConfig(), QUICK))


def test_dirac_passes_at_its_quick_settings():
    res = _run()
    assert res.passed, res.reasons
    assert res.metrics["cases"]["minimax"]["field_err"] <= claim.CLOSED_FORM_TOL


def test_dirac_fails_with_a_wrong_sign_in_the_regulariser(monkeypatch):
    real = dirac.gradient_penalty
    monkeypatch.setattr(dirac, "gradient_penalty", lambda *a: -real(*a))
    res = _run()
    assert not res.passed
    failed = {r.split(":")[0] for r in res.reasons}
    assert {"field", "jacobian", "eigenvalues", "regularised_converges"} <= failed


def test_dirac_fails_with_a_swapped_update_order(monkeypatch):
    def g_first(case, x, h, k=1):  # G moves first, then D reads the new theta
        cg = x.requires_grad
        theta = x[0] + h * dirac.field_t(case, x, create_graph=cg)[0]
        psi = x[1]
        for _ in range(k):
            psi = psi + h * dirac.field_t(case, torch.stack([theta, psi]), create_graph=cg)[1]
        return torch.stack([theta, psi])

    monkeypatch.setattr(dirac, "alternating_step", g_first)
    res = _run()
    assert not res.passed
    assert any(r.startswith("maps") for r in res.reasons)
    assert any(r.startswith("trainer") for r in res.reasons)


def test_dirac_fails_when_alternating_reads_the_stale_state(monkeypatch):
    # "alternating" that reads psi from before D's step is simultaneous descent in disguise
    monkeypatch.setattr(dirac, "alternating_step", dirac.simultaneous_step)
    res = _run()
    assert not res.passed
    assert any(r.startswith("alternating_cycles") or r.startswith("maps") for r in res.reasons)
    assert any(r.startswith("maps") for r in res.reasons)


@pytest.mark.parametrize("bad", [{"h": 0}, {"steps": 2}, {"gamma": 1.5}, {"noise": 0},
                                 {"theta0": 0, "psi0": 0}])
def test_dirac_rejects_bad_configs(bad):
    with pytest.raises(ConfigError):
        override(claim.DiracConfig(), bad)
