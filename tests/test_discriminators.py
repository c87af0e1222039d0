"""Discriminators as people write them: value(D, G) against mpmath for every calling convention."""

import math

import mpmath as mp
import numpy as np
import pytest
import scipy.special
import torch

import gantheory as gt
from gantheory import Discriminator, DiscriminatorError, Normal, value

# value() is quadrature to 1e-9 absolute; the accuracy promised for user discriminators is 1e-7
# (their own rounding, e.g. float32 modules, may use the rest).
ACCURACY = 1e-7
MP_DPS = 30


def mp_value(logit, p: Normal, q: Normal) -> float:
    """V for D = sigmoid(logit(x)) and two Normals, by mpmath at 30 digits (log D = -softplus(-l))."""
    mp.mp.dps = MP_DPS

    def pdf(d, x):
        return mp.exp(-((x - d.mu) / d.sigma) ** 2 / 2) / (d.sigma * mp.sqrt(2 * mp.pi))

    def f(x):
        l = logit(x)
        return -pdf(p, x) * mp.log1p(mp.exp(-l)) - pdf(q, x) * mp.log1p(mp.exp(l))

    pts = [-mp.inf, -200, -80, -40, -10, -3, 0, 3, 10, 40, 80, 200, mp.inf]
    return float(mp.quad(f, pts))


# p_g = N(1, 4) puts mass out to x ~ 30, where a sigmoid D is within 1e-13 of 1.
P_DATA, P_G_FAR = Normal(0, 1), Normal(1, 4)
# p_g = N(0, 10): mass 1e-4 beyond x = 37, where sigmoid(x) rounds to exactly 1.0.
P_G_FARTHER = Normal(0, 10)


def _linear_module(dtype=torch.float64):
    net = torch.nn.Linear(1, 1).to(dtype)
    with torch.no_grad():
        net.weight.fill_(0.5)
        net.bias.fill_(-0.25)
    return net


def logit_ref(x):
    return 0.5 * x - 0.25


@pytest.mark.parametrize("q", [P_G_FAR, P_G_FARTHER], ids=["N(1,4)", "N(0,10)"])
@pytest.mark.parametrize("make", [
    lambda: _linear_module(),                                         # torch module, logits
    lambda: (lambda x: 0.5 * x - 0.25),                               # numpy function, logits
    lambda: (lambda x: 0.5 * float(x) - 0.25),                        # scalar function, logits
    lambda: (lambda t: 0.5 * torch.as_tensor(t) - 0.25),              # torch function, logits
], ids=["torch-module", "numpy", "scalar", "torch-fn"])
def test_logit_discriminators_match_mpmath(make, q):
    ref = mp_value(logit_ref, P_DATA, q)
    assert value(make(), P_DATA, q, output="logits") == pytest.approx(ref, abs=ACCURACY)
    assert value(Discriminator.from_logits(make()), P_DATA, q) == pytest.approx(ref, abs=ACCURACY)


@pytest.mark.parametrize("make", [
    lambda: scipy.special.expit,                                                  # numpy
    lambda: (lambda x: 1.0 / (1.0 + math.exp(-x)) if x > -700 else 0.0),          # scalar
    lambda: torch.nn.Sequential(torch.nn.Linear(1, 1).double(), torch.nn.Sigmoid()),  # module
], ids=["numpy-expit", "scalar", "torch-module"])
def test_probability_discriminators_match_mpmath_where_p_g_reaches_far(make):
    d = make()
    if isinstance(d, torch.nn.Module):
        with torch.no_grad():
            d[0].weight.fill_(1.0)
            d[0].bias.zero_()
    ref = mp_value(lambda x: x, P_DATA, P_G_FAR)
    assert value(Discriminator.from_probs(d), P_DATA, P_G_FAR) == pytest.approx(ref, abs=ACCURACY)


def test_a_probability_d_rounded_to_one_on_p_g_mass_is_an_error_naming_x():
    # a sigmoid D that rounds to 1.0 where p_g has mass once gave -inf silently
    with pytest.raises(DiscriminatorError, match=r"rounded to exactly 1 at x = 3[67]\.\d+.*logits"):
        value(scipy.special.expit, P_DATA, P_G_FARTHER)


def test_the_same_d_as_logits_is_exact_there():
    ref = mp_value(lambda x: x, P_DATA, P_G_FARTHER)
    assert value(lambda x: x, P_DATA, P_G_FARTHER, output="logits") == pytest.approx(
        ref, abs=ACCURACY)


@pytest.mark.parametrize("bad, match", [
    (lambda x: 1.5 + 0 * x, "probability 1.5"),
    (lambda x: -0.1 + 0 * x, "probability -0.1"),
    (lambda x: np.full_like(x, np.nan), "probability nan"),
    (lambda x: np.zeros(3), "one value per point|cannot call"),
])
def test_invalid_probabilities_are_errors(bad, match):
    with pytest.raises(DiscriminatorError, match=match):
        value(bad, P_DATA, P_G_FAR)


def test_nan_logits_and_uncallables_are_errors():
    with pytest.raises(DiscriminatorError, match="logit nan"):
        value(lambda x: np.full_like(x, np.nan), P_DATA, P_G_FAR, output="logits")
    with pytest.raises(DiscriminatorError, match="callable"):
        value("sigmoid", P_DATA, P_G_FAR)
    with pytest.raises(DiscriminatorError, match="output"):
        value(lambda x: x, P_DATA, P_G_FAR, output="logit")
    with pytest.raises(DiscriminatorError, match="cannot call"):
        value(lambda x, y: x, P_DATA, P_G_FAR)


def test_errors_are_spec_errors_so_the_cli_prints_one_line():
    assert issubclass(DiscriminatorError, gt.SpecError)


def test_float32_module_is_called_in_its_own_dtype():
    net = _linear_module(torch.float32)
    d = Discriminator.from_logits(net)
    assert d.raw(np.array([1.0, 2.0])).tolist() == [0.25, 0.75]
    assert "module" in d.convention


def test_own_objects_are_read_as_logits():
    d_star = gt.optimal_discriminator(P_DATA, P_G_FARTHER)
    assert gt.as_discriminator(d_star).output == "logits"
    # C(G) with D* agrees with Theorem 1 through JSD
    assert value(d_star, P_DATA, P_G_FARTHER) == pytest.approx(
        -gt.LOG4 + 2 * gt.jsd(P_DATA, P_G_FARTHER), abs=1e-9)


def test_declared_probabilities_give_the_logit_and_back():
    d = Discriminator.from_probs(scipy.special.expit)
    x = np.array([-3.0, 0.0, 2.0])
    np.testing.assert_allclose(d.logit(x), x, atol=1e-12)
    np.testing.assert_allclose(Discriminator.from_logits(lambda t: t)(x), scipy.special.expit(x),
                               rtol=1e-15)
