"""Normal and Mixture: validation, pdf/cdf/logpdf consistency, sampling, spec parsing."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from scipy import integrate, stats

from gantheory import Mixture, Normal, SpecError, parse_density
from gantheory.divergences import integrate_pieces
from tests.strategies import densities, mixtures

# Quadrature of a pdf over the real line: QUADPACK per piece at 1e-14 absolute.
INTEGRAL_TOL = 1e-10
# Sample moments: |mean - mu| <= 5 standard errors (two-sided p ~ 6e-7 per check).
Z_BOUND = 5.0


@pytest.mark.parametrize("kwargs, name", [
    (dict(mu=0, sigma=0), "sigma"), (dict(mu=0, sigma=-1), "sigma"),
    (dict(mu=float("nan"), sigma=1), "mu"), (dict(mu=0, sigma=float("inf")), "sigma"),
])
def test_normal_rejects_invalid_parameters_naming_them(kwargs, name):
    with pytest.raises(SpecError, match=name):
        Normal(**kwargs)


@pytest.mark.parametrize("weights, comps, name", [
    ([0.5, 0.6], [Normal(0, 1), Normal(1, 1)], "sum"),
    ([-0.5, 1.5], [Normal(0, 1), Normal(1, 1)], "weights"),
    ([], [], "components"),
    ([1.0], [Normal(0, 1), Normal(1, 1)], "weights"),
    ([float("nan"), 1.0], [Normal(0, 1), Normal(1, 1)], "weights"),
])
def test_mixture_rejects_invalid_parameters_naming_them(weights, comps, name):
    with pytest.raises(SpecError, match=name):
        Mixture(weights, comps)


def test_errors_are_value_errors():
    assert issubclass(SpecError, ValueError)


@pytest.mark.parametrize("spec", ["normal(0,1)", "normal(-2.5, 0.5)", "NORMAL(1e-3,2E1)",
                                  "mixture(0.3*normal(-2,0.5)+0.7*normal(1,1))",
                                  "mixture(1*normal(0,1))"])
def test_parse_density_round_trips(spec):
    d = parse_density(spec)
    assert parse_density(str(d)) == d


@pytest.mark.parametrize("spec", ["normal(0)", "normal(0,1", "gauss(0,1)", "mixture()",
                                  "mixture(0.3*normal(0,1)+0.6*normal(1,1))", "normal(0,-1)",
                                  "mixture(0.5*normal(0,1)0.5*normal(1,1))", ""])
def test_parse_density_rejects_malformed_specs(spec):
    with pytest.raises(SpecError):
        parse_density(spec)


@given(mixtures())
def test_mixture_pdf_integrates_to_one(p):
    assert abs(integrate_pieces(lambda x: math.exp(p.logpdf_scalar(x)), p) - 1.0) < INTEGRAL_TOL


def test_mixture_pdf_integrates_to_one_seeded():
    p = parse_density("mixture(0.2*normal(-9,0.05)+0.5*normal(0,20)+0.3*normal(9.5,0.3))")
    assert abs(integrate_pieces(lambda x: math.exp(p.logpdf_scalar(x)), p) - 1.0) < INTEGRAL_TOL


@given(densities())
def test_numpy_torch_and_scalar_paths_agree(p):
    xs = np.linspace(-30, 30, 61)
    a = p.logpdf(xs)
    b = p.logpdf(torch.tensor(xs)).numpy()
    c = np.array([p.logpdf_scalar(x) for x in xs])
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(p.cdf(xs), p.cdf(torch.tensor(xs)).numpy(), atol=1e-14)


def test_normal_matches_scipy():
    p = Normal(1.5, 0.3)
    xs = np.linspace(-3, 6, 50)
    np.testing.assert_allclose(p.logpdf(xs), stats.norm(1.5, 0.3).logpdf(xs), rtol=1e-13)
    np.testing.assert_allclose(p.cdf(xs), stats.norm(1.5, 0.3).cdf(xs), atol=1e-15)


@given(mixtures(max_components=2))
def test_cdf_is_the_integral_of_the_pdf(p):
    x = p.mean()
    pts = sorted({t for t in p.breakpoints() if t < x} | {x})
    left = sum(integrate.quad(lambda t: math.exp(p.logpdf_scalar(t)), a, b, epsabs=1e-14,
                              epsrel=1e-12, limit=200)[0] for a, b in zip(pts[:-1], pts[1:]))
    assert abs(float(p.cdf(x)) - left) < INTEGRAL_TOL


@pytest.mark.parametrize("spec", ["normal(2,3)", "mixture(0.3*normal(-2,0.5)+0.7*normal(1,1))"])
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_sample_moments_match_the_density(spec, backend):
    p, n = parse_density(spec), 200_000
    gen = np.random.default_rng(1) if backend == "numpy" else torch.Generator().manual_seed(1)
    x = np.asarray(p.sample(n, gen))
    sd = math.sqrt(p.var())
    assert abs(x.mean() - p.mean()) <= Z_BOUND * sd / math.sqrt(n)
    # variance of the sample variance ~ (m4 - sd^4)/n; bound it by 3 sd^4 (kurtosis <= 4 here)
    assert abs(x.var() - p.var()) <= Z_BOUND * math.sqrt(3) * sd**2 / math.sqrt(n)
    # and the whole distribution: Kolmogorov-Smirnov against the exact cdf
    assert stats.kstest(x[:20_000], lambda t: p.cdf(t)).pvalue > 1e-4


def test_sampling_is_reproducible_per_generator():
    p = parse_density("mixture(0.5*normal(0,1)+0.5*normal(3,1))")
    a = p.sample(10, torch.Generator().manual_seed(0))
    b = p.sample(10, torch.Generator().manual_seed(0))
    assert torch.equal(a, b)


def test_ppf_inverts_cdf():
    p = parse_density("mixture(0.3*normal(-2,0.5)+0.7*normal(1,1))")
    for q in (0.005, 0.5, 0.995):
        assert abs(float(p.cdf(p.ppf(q))) - q) < 1e-12
