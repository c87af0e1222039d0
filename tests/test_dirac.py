"""The Dirac-GAN module: autograd through the toolkit's losses against closed forms."""

import numpy as np
import pytest
import torch

from gantheory import dirac
from gantheory.dirac import DiracCase
from gantheory.errors import ConfigError

CASES = [DiracCase("minimax"), DiracCase("non_saturating"), DiracCase("wgan"),
         DiracCase("minimax", "r1", 0.3), DiracCase("non_saturating", "r2", 0.7),
         DiracCase("wgan", "wgan_gp", 1.0, 1.0), DiracCase("minimax", noise=0.8)]
STATES = [(1.0, 1.0), (-1.5, 0.4), (0.3, -2.0), (0.0, 0.7)]
TOL = 1e-10  # the claim's CLOSED_FORM_TOL


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label)
def test_autograd_field_equals_closed_form(case):
    for theta, psi in STATES:
        np.testing.assert_allclose(dirac.field(case, theta, psi),
                                   dirac.field_closed(case, theta, psi), rtol=0, atol=TOL)


@pytest.mark.parametrize("case", [c for c in CASES if c.reg != "wgan_gp"], ids=lambda c: c.label)
def test_jacobian_and_eigenvalues_at_equilibrium_equal_closed_forms(case):
    jac = dirac.jacobian(case)
    np.testing.assert_allclose(jac, dirac.jacobian_closed(case), atol=TOL)
    np.testing.assert_allclose(dirac.eigenvalues(jac), dirac.eigenvalues_closed(case), atol=TOL)


def test_unregularised_eigenvalues_are_purely_imaginary_and_r1_shifts_them_by_minus_gamma_half():
    for loss, a in (("minimax", 0.5), ("non_saturating", 0.5), ("wgan", 1.0)):
        ev = dirac.eigenvalues(dirac.jacobian(DiracCase(loss)))
        np.testing.assert_allclose(ev, [1j * a, -1j * a], atol=TOL)
    ev = dirac.eigenvalues(dirac.jacobian(DiracCase("minimax", "r1", 0.4)))
    np.testing.assert_allclose(ev.real, [-0.2, -0.2], atol=TOL)
    np.testing.assert_allclose(np.abs(ev.imag), np.sqrt(0.25 - 0.04), atol=TOL)


def test_a_wrong_sign_in_the_regulariser_moves_the_eigenvalues_to_the_right(monkeypatch):
    real = dirac.gradient_penalty
    monkeypatch.setattr(dirac, "gradient_penalty", lambda *a: -real(*a))
    case = DiracCase("minimax", "r1", 0.3)
    ev = dirac.eigenvalues(dirac.jacobian(case))
    assert np.all(ev.real > 0.1)
    assert np.max(np.abs(ev - dirac.eigenvalues_closed(case))) > 0.1
    assert np.max(np.abs(dirac.field(case, 1.0, 1.0) - dirac.field_closed(case, 1.0, 1.0))) > 0.1


@pytest.mark.parametrize("update", ["simultaneous", "alternating"])
@pytest.mark.parametrize("k", [1, 3])
def test_map_jacobian_equals_chain_rule_matrix(update, k):
    for case in (DiracCase("minimax"), DiracCase("minimax", "r1", 0.3),
                 DiracCase("non_saturating", noise=0.5)):
        m = dirac.map_jacobian(case, update, 0.3, k)
        mc = dirac.map_jacobian_closed(dirac.jacobian_closed(case), update, 0.3, k)
        np.testing.assert_allclose(m, mc, atol=TOL)
        rho = np.max(np.abs(np.linalg.eigvals(m)))
        assert rho == pytest.approx(dirac.spectral_radius_closed(case, update, 0.3, k), abs=TOL)


def test_spectral_radii_simultaneous_above_one_alternating_exactly_one():
    h = 0.4
    case = DiracCase("minimax")
    assert dirac.spectral_radius_closed(case, "simultaneous", h) == pytest.approx(
        np.sqrt(1 + (h * 0.5) ** 2), abs=1e-15)
    for k in (1, 2, 5):
        m = dirac.map_jacobian(case, "alternating", h, k)
        assert np.abs(np.linalg.eigvals(m)) == pytest.approx([1.0, 1.0], abs=TOL)
        assert abs(np.linalg.det(m) - 1) <= TOL


def test_g_first_order_has_the_same_spectrum_but_a_different_map():
    # Swapping the order (G first) gives A_D A_G instead of A_G A_D: similar matrices, so the
    # spectral radius alone cannot tell the orders apart; the matrix check does.
    case, h = DiracCase("minimax"), 0.3

    def g_first(case, x, h, k=1):
        theta = x[0] + h * dirac.field_t(case, x, create_graph=x.requires_grad)[0]
        y = torch.stack([theta, x[1]])
        return torch.stack([theta, x[1] + h * dirac.field_t(case, y,
                                                           create_graph=x.requires_grad)[1]])

    x = torch.zeros(2, dtype=torch.float64)
    m = torch.autograd.functional.jacobian(lambda y: g_first(case, y, h), x).numpy()
    mc = dirac.map_jacobian_closed(dirac.jacobian_closed(case), "alternating", h)
    assert np.max(np.abs(np.abs(np.linalg.eigvals(m)) - 1)) <= TOL
    assert np.max(np.abs(m - mc)) > 1e-3


def test_simultaneous_norm_grows_each_step_alternating_keeps_cycling_r1_converges():
    h, n = 0.5, 200
    r = np.linalg.norm(dirac.trajectory(DiracCase("minimax"), "simultaneous", h, n), axis=1)
    assert np.all(np.diff(r) > 0)
    r = np.linalg.norm(dirac.trajectory(DiracCase("wgan"), "alternating", h, n), axis=1)
    assert r.min() > 0.5 * r[0]
    for upd in ("simultaneous", "alternating"):
        r = np.linalg.norm(dirac.trajectory(DiracCase("minimax", "r1", 0.6), upd, h, n), axis=1)
        assert r[-1] < 1e-6 * r[0]


@pytest.mark.parametrize("loss", ["minimax", "non_saturating"])
@pytest.mark.parametrize("update,k", [("simultaneous", 1), ("alternating", 1), ("alternating", 2)])
def test_gan_step_reproduces_the_maps(loss, update, k):
    case = DiracCase(loss)
    a = dirac.trajectory(case, update, 0.3, 60, k=k)
    b = dirac.trajectory_gan_step(case, update, 0.3, 60, k=k)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    # the other order is a different map: the check can fail
    other = "alternating" if update == "simultaneous" else "simultaneous"
    assert np.max(np.abs(dirac.trajectory(case, other, 0.3, 60, k=k) - b)) > 1e-3


def test_bad_cases_are_config_errors():
    with pytest.raises(ConfigError):
        DiracCase("hinge")
    with pytest.raises(ConfigError):
        DiracCase("minimax", "r3")
    with pytest.raises(ConfigError):
        DiracCase("minimax", "r1", -1.0)
    with pytest.raises(ConfigError):
        dirac.step_fn("sideways")
