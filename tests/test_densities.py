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


# ---------------------------------------------------------------------------------------------
# Families beyond Normals and the supported range of locations and scales.

import mpmath as mp  # noqa: E402

from gantheory import (LOG4, Laplace, Logistic, ScipyDensity, StudentT, Uniform,  # noqa: E402
                       as_density, jsd, kl, value, virtual_training_criterion)
from gantheory.densities import LOC_MAX, REL_SCALE_MIN, SCALE_MAX, SCALE_MIN  # noqa: E402

# scipy's own log/cdf are accurate to a few ulps; ours are closed forms of the same quantities.
SCIPY_RTOL = 1e-12
# The oracle's promise (jsd, kl, value, C(G)): 1e-9 absolute.
ORACLE_ACCURACY = 1e-9

FAMILIES = {
    "uniform(-1,2)": (Uniform(-1, 2), stats.uniform(-1, 3)),
    "laplace(0.5,1.5)": (Laplace(0.5, 1.5), stats.laplace(0.5, 1.5)),
    "logistic(-1,0.7)": (Logistic(-1, 0.7), stats.logistic(-1, 0.7)),
    "student_t(3,0,1)": (StudentT(3, 0, 1), stats.t(3, 0, 1)),
    "student_t(1,2,0.5)": (StudentT(1, 2, 0.5), stats.t(1, 2, 0.5)),
}


@pytest.mark.parametrize("name", FAMILIES)
def test_family_matches_scipy(name):
    p, ref = FAMILIES[name]
    xs = np.linspace(-8, 8, 161)
    inside = ref.pdf(xs) > 0
    np.testing.assert_allclose(p.logpdf(xs)[inside], ref.logpdf(xs)[inside], rtol=SCIPY_RTOL)
    assert np.all(p.logpdf(xs)[~inside] == -np.inf)
    np.testing.assert_allclose(p.cdf(xs), ref.cdf(xs), rtol=SCIPY_RTOL, atol=1e-15)
    qs = np.array([1e-6, 0.01, 0.3, 0.5, 0.9, 1 - 1e-6])
    np.testing.assert_allclose([p.ppf(q) for q in qs], ref.ppf(qs), rtol=1e-10)
    np.testing.assert_allclose(p.logpdf(torch.tensor(xs)).numpy(), p.logpdf(xs), rtol=1e-12)
    np.testing.assert_allclose([p.logpdf_scalar(x) for x in xs], p.logpdf(xs), rtol=1e-12)
    assert parse_density(name) == p and parse_density(str(p)) == p


@pytest.mark.parametrize("name", FAMILIES)
def test_family_pdf_integrates_to_one_over_its_breakpoints(name):
    p, _ = FAMILIES[name]
    assert abs(integrate_pieces(lambda x: math.exp(p.logpdf_scalar(x)), p) - 1.0) < INTEGRAL_TOL


@pytest.mark.parametrize("name", FAMILIES)
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_family_samples_follow_the_cdf(name, backend):
    p, _ = FAMILIES[name]
    gen = np.random.default_rng(3) if backend == "numpy" else torch.Generator().manual_seed(3)
    x = np.asarray(p.sample(20_000, gen))
    assert stats.kstest(x, lambda t: p.cdf(t)).pvalue > 1e-4


def _mp_pdf(d):
    """The density in mpmath, written from the textbook formulas (not from our code)."""
    if isinstance(d, Normal):
        return lambda x: mp.npdf(x, d.mu, d.sigma)
    if isinstance(d, Uniform):
        return lambda x: 1 / mp.mpf(d.b - d.a) if d.a <= x <= d.b else mp.mpf(0)
    if isinstance(d, Laplace):
        return lambda x: mp.exp(-abs(x - d.mu) / d.sigma) / (2 * d.sigma)
    if isinstance(d, Logistic):
        return lambda x: mp.exp(-(x - d.mu) / d.sigma) / (
            d.sigma * (1 + mp.exp(-(x - d.mu) / d.sigma)) ** 2)
    if isinstance(d, StudentT):
        v = mp.mpf(d.df)
        c = mp.gamma((v + 1) / 2) / (mp.gamma(v / 2) * mp.sqrt(v * mp.pi) * d.sigma)
        return lambda x: c * (1 + ((x - d.mu) / d.sigma) ** 2 / v) ** (-(v + 1) / 2)
    raise TypeError(d)


def mp_jsd(p, q, pts):
    mp.mp.dps = 20
    fp, fq = _mp_pdf(p), _mp_pdf(q)

    def f(x):
        a, b = fp(x), fq(x)
        m = (a + b) / 2
        return (a * mp.log(a / m) if a > 0 else 0) / 2 + (b * mp.log(b / m) if b > 0 else 0) / 2

    return float(mp.quad(f, pts))


JSD_PAIRS = [
    (Uniform(-1, 2), Normal(0, 1), [-mp.inf, -1, 2, mp.inf]),
    (Laplace(0.5, 1.5), Normal(0, 1), [-mp.inf, -10, 0, 0.5, 10, mp.inf]),
    (Logistic(-1, 0.7), Laplace(1, 0.5), [-mp.inf, -10, -1, 1, 10, mp.inf]),
    (StudentT(3, 0, 1), Normal(0.5, 2), [-mp.inf, -10, 0, 10, mp.inf]),
    (StudentT(1, 2, 0.5), Uniform(0, 1), [-mp.inf, -10, 0, 1, 2, 10, mp.inf]),
]


@pytest.mark.parametrize("p, q, pts", JSD_PAIRS, ids=lambda v: str(v)[:20])
def test_jsd_and_criterion_match_mpmath_on_each_family(p, q, pts):
    ref = mp_jsd(p, q, pts)
    assert jsd(p, q) == pytest.approx(ref, abs=ORACLE_ACCURACY)
    assert virtual_training_criterion(p, q) == pytest.approx(-LOG4 + 2 * ref, abs=ORACLE_ACCURACY)


def test_kl_matches_closed_forms_beyond_normals():
    # KL(Laplace(m1,b1) || Laplace(m2,b2)) = log(b2/b1) + |m1-m2|/b2 + (b1/b2) e^{-|m1-m2|/b1} - 1
    m1, b1, m2, b2 = 0.0, 1.0, 1.0, 2.0
    ref = math.log(b2 / b1) + abs(m1 - m2) / b2 + (b1 / b2) * math.exp(-abs(m1 - m2) / b1) - 1
    assert kl(Laplace(m1, b1), Laplace(m2, b2)) == pytest.approx(ref, abs=ORACLE_ACCURACY)
    assert kl(Uniform(0, 1), Uniform(-1, 2)) == pytest.approx(math.log(3), abs=ORACLE_ACCURACY)


def test_scipy_frozen_distributions_are_densities():
    ours = ScipyDensity(stats.norm(0.3, 1.1))
    assert jsd(ours, Normal(0, 1)) == pytest.approx(jsd(Normal(0.3, 1.1), Normal(0, 1)),
                                                    abs=ORACLE_ACCURACY)
    g = as_density(stats.gamma(2.0))
    # the gamma(2) pdf x e^{-x} against mpmath, through Theorem 1
    mp.mp.dps = 20
    fg, fn = (lambda x: x * mp.exp(-x) if x > 0 else 0), _mp_pdf(Normal(1, 1))

    def f(x):
        a, b = fg(x), fn(x)
        m = (a + b) / 2
        return (a * mp.log(a / m) if a > 0 else 0) / 2 + b * mp.log(b / m) / 2

    ref = float(mp.quad(f, [-mp.inf, 0, 1, 5, 20, mp.inf]))
    assert virtual_training_criterion(g, Normal(1, 1)) == pytest.approx(-LOG4 + 2 * ref,
                                                                        abs=ORACLE_ACCURACY)
    x = np.asarray(g.sample(5000, np.random.default_rng(0)))
    assert stats.kstest(x, stats.gamma(2.0).cdf).pvalue > 1e-4


def test_strings_and_scipy_are_accepted_wherever_value_takes_a_density():
    d_star = gt_optimal = __import__("gantheory").optimal_discriminator("laplace(0,1)", stats.t(3))
    assert value(d_star, "laplace(0,1)", stats.t(3)) == pytest.approx(
        -LOG4 + 2 * jsd(Laplace(0, 1), StudentT(3, 0, 1)), abs=ORACLE_ACCURACY)
    assert gt_optimal.p_data == Laplace(0, 1)


def test_mixture_arithmetic_builds_mixtures_of_any_family():
    p, q = Uniform(-1, 1), StudentT(3, 0, 1)
    m = 0.3 * p + 0.7 * q
    assert m == Mixture([0.3, 0.7], [p, q])
    assert 0.2 * p + 0.3 * q + 0.5 * Normal(0, 1) == Mixture([0.2, 0.3, 0.5],
                                                             [p, q, Normal(0, 1)])
    xs = np.linspace(-3, 3, 13)
    np.testing.assert_allclose(m.pdf(xs), 0.3 * p.pdf(xs) + 0.7 * q.pdf(xs), rtol=1e-14)
    assert abs(integrate_pieces(lambda x: math.exp(m.logpdf_scalar(x)), m) - 1.0) < INTEGRAL_TOL
    assert parse_density(str(m)) == m
    with pytest.raises(SpecError, match="sum to 1"):
        as_density(0.3 * p + 0.6 * q)
    with pytest.raises(SpecError, match="number"):
        "a" * p  # noqa: B018


@pytest.mark.parametrize("spec, name", [
    ("normal(0,1e-300)", "sigma"), ("normal(1e20,1)", "mu"), ("normal(0,5e-324)", "sigma"),
    ("normal(1e308,1)", "mu"), ("normal(0,1e308)", "sigma"), ("normal(1e7,1e-3)", "sigma"),
    ("uniform(1,-1)", "a < b"), ("uniform(0,1e-12)", "b - a"), ("laplace(0,0)", "b"),
    ("student_t(0.5,0,1)", "df"), ("student_t(3,0,1e9)", "s"), ("logistic(0,-1)", "s"),
    ("cauchy(0,1)", "expected"), ("laplace(0,1,2)", "takes 2"),
])
def test_unsupported_parameters_are_one_line_spec_errors(spec, name):
    with pytest.raises(SpecError, match=name) as e:
        parse_density(spec)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("loc, scale", [
    (0.0, SCALE_MIN), (0.0, SCALE_MAX / 2), (LOC_MAX - 2.0, REL_SCALE_MIN * LOC_MAX),
    (-LOC_MAX, SCALE_MAX / 2)])
def test_the_oracle_keeps_its_accuracy_at_the_edges_of_the_supported_range(loc, scale):
    # JSD is invariant under x -> loc + scale x: the edge case must equal the unit one
    ref = jsd(Normal(0, 1), Normal(1, 2))
    assert jsd(Normal(loc, scale), Normal(loc + scale, 2 * scale)) == pytest.approx(
        ref, abs=ORACLE_ACCURACY)
