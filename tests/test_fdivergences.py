"""The f-divergence oracle: 30-digit mpmath references, closed forms, Fenchel-Young, infinity."""

import math

import mpmath
import numpy as np
import pytest
import torch
from hypothesis import given, strategies as st

import gantheory as gt
from gantheory import Normal, parse_density
from gantheory.errors import SpecError
from gantheory.fdivergences import (F_DIVERGENCES, crossings, pearson_is_infinite,
                                    variational_bound, wasserstein1_normal)
from tests.strategies import density_pairs, normals
from tests.mpref import mp_logpdf

# The oracle's promise: 1e-9 absolute (relative above 1) against a 30-digit reference.
ACCURACY = 1e-9
# Fenchel-Young equality f*(f'(u)) = u f'(u) - f(u) in float64: a few ulps of values of size <= 50.
FY_TOL = 1e-12
# The critic f'(e^r) from float64 log densities: r carries an absolute error of a few ulps of
# |log p| + |log q| <= 20 here, i.e. ~1e-14 relative in e^r; 1e-12 leaves a factor 100.
CRITIC_TOL = 1e-12

# 20 digits: 11 beyond the promise, and a third of the time of 30.
mpmath.mp.dps = 20

MP_F = {
    "kl": lambda u: u * mpmath.log(u),
    "reverse_kl": lambda u: -mpmath.log(u),
    "pearson": lambda u: (u - 1) ** 2,
    "squared_hellinger": lambda u: (mpmath.sqrt(u) - 1) ** 2,
    "jensen_shannon": lambda u: (u * mpmath.log(u) - (u + 1) * mpmath.log((u + 1) / 2)) / 2,
    "gan": lambda u: u * mpmath.log(u) - (u + 1) * mpmath.log(u + 1),
    "total_variation": lambda u: abs(u - 1) / 2,
}


def _mp_crossings(p, q):
    """Roots of log p - log q: bracketed on a scipy.stats float scan, refined in mpmath."""
    from scipy import stats
    xs = np.linspace(-60, 60, 12001)
    lpdf = lambda d: np.log(sum(w * stats.norm.pdf(xs, c.mu, c.sigma)  # noqa: E731
                                for w, c in zip(d.weights, d.components())))
    with np.errstate(divide="ignore"):
        r = lpdf(p) - lpdf(q)
    ok = np.isfinite(r)
    idx = np.nonzero(ok[:-1] & ok[1:] & (np.sign(r[:-1]) * np.sign(r[1:]) < 0))[0]
    return [mpmath.findroot(lambda x: mp_logpdf(p, x) - mp_logpdf(q, x),
                            (xs[i], xs[i + 1]), solver="anderson") for i in idx]


def mp_f_divergence(p, q, name, lo=-mpmath.inf, hi=mpmath.inf):
    """int q f(p/q) in 30-digit mpmath, split at components, Pearson envelopes and crossings."""
    pts = {mpmath.mpf(c.mu) + s * t * c.sigma for d in (p, q) for c in d.components()
           for t in (0, 1, 3, 6, 10, 20, 40) for s in (-1, 1)}
    if name == "pearson":  # where p_i p_j / q_k puts its mass (its own derivation, in mpmath)
        for ci in p.components():
            for cj in p.components():
                for ck in q.components():
                    lam = mpmath.mpf(1) / ci.sigma**2 + mpmath.mpf(1) / cj.sigma**2 \
                        - mpmath.mpf(1) / ck.sigma**2
                    if lam > 0:
                        m = (ci.mu / mpmath.mpf(ci.sigma)**2 + cj.mu / mpmath.mpf(cj.sigma)**2
                             - ck.mu / mpmath.mpf(ck.sigma)**2) / lam
                        pts |= {m + s * t / mpmath.sqrt(lam) for t in (0, 3, 10, 40)
                                for s in (-1, 1)}
    if name == "total_variation":
        pts |= set(_mp_crossings(p, q))
    pts = sorted(x for x in pts if lo < x < hi)
    f = MP_F[name]

    def g(x):
        lp, lq = mp_logpdf(p, x), mp_logpdf(q, x)
        return mpmath.exp(lq) * f(mpmath.exp(lp - lq))

    return mpmath.quad(g, [lo] + pts + [hi])


REFERENCE_PAIRS = [
    ("normal(0,1)", "normal(1,2)"),
    ("normal(0,1)", "normal(0.3,0.75)"),  # q narrower, Pearson finite (0.5625 > 0.5)
    ("normal(0,0.05)", "normal(0.2,0.06)"),  # narrow, little overlap
    ("normal(-3,2)", "normal(4,3)"),
    ("normal(0,1)", "mixture(0.3*normal(-2,0.5)+0.7*normal(1,1.2))"),
    ("mixture(0.2*normal(-3,0.2)+0.8*normal(4,2))", "mixture(0.6*normal(-3.1,0.25)+0.4*normal(5,2.5))"),
    # Pearson on the boundary sigma_q^2 = sigma_p^2/2 on both tails, finite because the dominant
    # q components sit outside p's: p^2/q decays only like exp(-2|x|) there.
    ("mixture(0.5*normal(-1,1)+0.5*normal(1,1))",
     "mixture(0.5*normal(-2,0.7071067811865476)+0.5*normal(2,0.7071067811865476))"),
]


@pytest.mark.parametrize("name", list(F_DIVERGENCES))
@pytest.mark.parametrize("p, q", REFERENCE_PAIRS)
def test_f_divergence_matches_mpmath_reference(p, q, name):
    p, q = parse_density(p), parse_density(q)
    ref = float(mp_f_divergence(p, q, name))
    got = gt.f_divergence(p, q, name)
    assert abs(got - ref) <= ACCURACY * max(1.0, abs(ref)), (got, ref)


def test_the_boundary_pair_is_on_the_boundary_and_finite():
    p, q = map(parse_density, REFERENCE_PAIRS[-1])
    assert abs(q.components()[0].sigma ** 2 - 0.5) < 1e-15
    assert not pearson_is_infinite(p, q) and math.isfinite(gt.f_divergence(p, q, "pearson"))


@pytest.mark.parametrize("p, q", [
    ("normal(0,1)", "normal(0,0.7)"),  # sigma_q^2 = 0.49 < 1/2
    # on the boundary to the last ulp (sigma_q^2 = 1/2 + 2^-53): finite in exact arithmetic,
    # about exp(1/ulp) in size, so beyond float64: inf is its float64 value
    ("normal(1,1)", "normal(0,0.7071067811865476)"),
    ("normal(0,2)", "mixture(0.5*normal(-1,1)+0.5*normal(3,1.2))"),  # q's widest 1.44 < 2
    # a light component of p decides: weights do not enter the tail exponents
    ("mixture(0.9*normal(0,0.5)+0.1*normal(3,2))", "normal(0,1.3)"),
])
def test_infinite_pearson_is_inf_and_the_truncated_reference_grows(p, q):
    p, q = parse_density(p), parse_density(q)
    assert gt.f_divergence(p, q, "pearson") == math.inf
    # The reference integral over [-L, L] keeps growing with L: no finite value exists.
    with mpmath.workdps(15):  # only the growth matters here
        a = mp_f_divergence(p, q, "pearson", -30, 30)
        b = mp_f_divergence(p, q, "pearson", -60, 60)
    assert b > 2 * a + 1


@pytest.mark.parametrize("sq", [0.71, 0.75, 1.0, 3.0])
def test_pearson_closed_form_for_normals(sq):
    # chi^2(N(m1, s1^2) || N(m2, s2^2)) = s2^2 / (s1 sqrt(2 s2^2 - s1^2)) e^{d^2/(2 s2^2 - s1^2)} - 1
    p, q = Normal(0.4, 1.0), Normal(-0.3, sq)
    k = 2 * sq**2 - 1.0
    exact = sq**2 / math.sqrt(k) * math.exp(0.49 / k) - 1  # s1 = 1
    got = gt.f_divergence(p, q, "pearson")
    assert abs(got - exact) <= ACCURACY * max(1.0, exact)


@given(normals(), normals())
def test_closed_forms_for_normals(p, q):
    # KL both ways and the squared Hellinger 2 - 2 BC (Bhattacharyya coefficient) are exact.
    s2 = p.sigma**2 + q.sigma**2
    bc = math.sqrt(2 * p.sigma * q.sigma / s2) * math.exp(-(p.mu - q.mu) ** 2 / (4 * s2))
    assert abs(gt.f_divergence(p, q, "squared_hellinger") - (2 - 2 * bc)) <= ACCURACY
    for name, exact in (("kl", gt.kl_normal(p, q)), ("reverse_kl", gt.kl_normal(q, p))):
        assert abs(gt.f_divergence(p, q, name) - exact) <= ACCURACY * max(1.0, exact)


@pytest.mark.parametrize("name", list(F_DIVERGENCES))
def test_nearly_equal_pairs_keep_their_digits(name):
    # log p - log q ~ 1e-14 |x| rounds e^-r to 1 near x = 0: the integrands must not fail there.
    # Exact values: ~1e-28 (d^2 terms) for the smooth f, 2 Phi(d/2) - 1 = 4e-15 for total
    # variation, plus f(1) = -log 4 for gan: all within the promise of the offset.
    p, q = Normal(0.0, 1.0), Normal(1e-14, 1.0)
    offset = -gt.LOG4 if name == "gan" else 0.0
    assert abs(gt.f_divergence(p, q, name) - offset) <= ACCURACY


@given(density_pairs())
def test_jensen_shannon_is_jsd_and_gan_is_c_of_g(pq):
    p, q = pq
    assert abs(gt.f_divergence(p, q, "jensen_shannon") - gt.jsd(p, q)) <= ACCURACY
    assert abs(gt.f_divergence(p, q, "gan") - gt.virtual_training_criterion(p, q)) <= ACCURACY
    assert abs(gt.f_divergence(p, q, "gan") - (2 * gt.jsd(p, q) - gt.LOG4)) <= ACCURACY


def test_jensen_shannon_and_gan_seeded():
    p, q = Normal(0, 1), parse_density("mixture(0.3*normal(-2,0.5)+0.7*normal(1,1))")
    assert abs(gt.f_divergence(p, q, "jensen_shannon") - gt.jsd(p, q)) <= ACCURACY
    assert abs(gt.f_divergence(p, q, "gan") - gt.virtual_training_criterion(p, q)) <= ACCURACY


@pytest.mark.parametrize("name", list(F_DIVERGENCES))
def test_conjugate_satisfies_fenchel_young(name):
    # f*(f'(u)) = u f'(u) - f(u) (equality at the maximiser) and f*(t) >= t u - f(u) for all u.
    fd, conj = F_DIVERGENCES[name], gt.conjugate(name)
    u = np.exp(np.linspace(-3, 3, 61))
    t = fd.critic_of_log_ratio(np.log(u))
    assert np.all(conj.contains(t))
    assert np.max(np.abs(conj(t) - (u * t - fd.f(u)))) <= FY_TOL * 50
    ts = conj.activation(np.linspace(-4, 4, 41))
    assert np.all(conj.contains(ts))  # f-GAN's output activation maps R into dom f*
    lower = ts[:, None] * u[None, :] - fd.f(u)[None, :]
    assert np.all(conj(ts)[:, None] >= lower - FY_TOL * 50)


def test_a_wrong_conjugate_breaks_fenchel_young():
    # exp(t) in place of KL's exp(t - 1): the equality fails by a factor e (negative control).
    fd = F_DIVERGENCES["kl"]
    u = np.exp(np.linspace(-3, 3, 61))
    t = fd.critic_of_log_ratio(np.log(u))
    assert np.max(np.abs(np.exp(t) - (u * t - fd.f(u)))) > 1.0


def test_conjugate_is_inf_outside_its_domain():
    assert gt.conjugate("gan")(np.array([0.1]))[0] == math.inf
    assert gt.conjugate("total_variation")(np.array([0.5]))[0] == 0.5
    assert gt.conjugate("total_variation")(np.array([0.5001]))[0] == math.inf
    assert gt.conjugate("reverse_kl")(torch.tensor([1.0]))[0] == math.inf


@pytest.mark.parametrize("name", list(F_DIVERGENCES))
def test_optimal_critic_numpy_and_torch_agree_and_survive_underflow(name):
    p, q = Normal(0, 1), Normal(1, 2)
    crit = gt.optimal_critic(p, q, name)
    xs = np.linspace(-5, 5, 11)
    a = crit(xs)
    b = crit(torch.tensor(xs, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
    # at x = 60 both densities underflow, the log-ratio (-1780 + ...) does not
    assert np.isfinite(crit(np.array([60.0]))[0]) or name == "reverse_kl"
    # f'(p/q) by mpmath's numerical derivative of the generator at 20 digits (float64 central
    # differences lose ulp(f)/(h u) there, 5e-7 for Pearson at u = p/q ~ 1e-4, and so cannot
    # check a critic computed exactly as 2 expm1(r)).
    if name != "total_variation":  # |u - 1| has no derivative at 1; its sign is checked below
        ref = [float(mpmath.diff(MP_F[name], mpmath.exp(mp_logpdf(p, x) - mp_logpdf(q, x))))
               for x in xs]
        np.testing.assert_allclose(a, ref, rtol=CRITIC_TOL, atol=CRITIC_TOL)
    else:
        np.testing.assert_array_equal(a, 0.5 * np.sign(p.logpdf(xs) - q.logpdf(xs)))


@pytest.mark.parametrize("name", list(F_DIVERGENCES))
def test_the_optimal_critic_attains_the_bound(name):
    p, q = Normal(0, 1), parse_density("mixture(0.3*normal(-2,0.5)+0.7*normal(1,1.2))")
    crit = gt.optimal_critic(p, q, name)
    assert abs(variational_bound(crit.scalar, p, q, name) - gt.f_divergence(p, q, name)) \
        <= ACCURACY


@given(normals(), normals())
def test_wasserstein1_matches_the_normal_closed_form(p, q):
    assert abs(gt.wasserstein1(p, q) - wasserstein1_normal(p, q)) <= ACCURACY * max(
        1.0, wasserstein1_normal(p, q))


def _mp_w1_quantile(p, q):
    """W1 = int_0^1 |F_p^-1(u) - F_q^-1(u)| du for Normals, in mpmath (a different formula).

    Split where the quantile difference changes sign, u0 = Phi((mu_q - mu_p)/(sigma_p - sigma_q)):
    tanh-sinh quadrature across that kink is good to ~1e-6 only.
    """
    f = lambda u: abs(p.mu - q.mu + (p.sigma - q.sigma) * mpmath.sqrt(2) * mpmath.erfinv(2 * u - 1))  # noqa: E731
    pts = {mpmath.mpf(0), mpmath.mpf(0.5), mpmath.mpf(1)}
    if p.sigma != q.sigma:
        pts.add(mpmath.ncdf(mpmath.mpf(q.mu - p.mu) / (p.sigma - q.sigma)))
    return mpmath.quad(f, sorted(pts))


@pytest.mark.parametrize("p, q", [(Normal(0, 1), Normal(3, 1)), (Normal(0, 1), Normal(0.5, 2)),
                                  (Normal(-2, 0.05), Normal(2, 0.05)), (Normal(0, 0.1), Normal(0, 5))])
def test_wasserstein1_matches_mpmath_quantile_integral(p, q):
    assert abs(gt.wasserstein1(p, q) - float(_mp_w1_quantile(p, q))) <= ACCURACY


def test_wasserstein1_of_mixtures_against_mpmath_cdf_integral():
    p = parse_density("mixture(0.3*normal(-2,0.5)+0.7*normal(1,1))")
    q = parse_density("mixture(0.5*normal(0,0.3)+0.5*normal(2,2))")
    cdf = lambda d, x: sum(w * mpmath.ncdf(x, c.mu, c.sigma) for w, c in zip(d.weights, d.components()))  # noqa: E731
    diff = lambda x: cdf(p, x) - cdf(q, x)  # noqa: E731
    xs = np.linspace(-40, 40, 8001)
    roots = [mpmath.findroot(diff, (a, b), solver="anderson")
             for a, b in zip(xs[:-1], xs[1:]) if float(diff(a)) * float(diff(b)) < 0]
    # every kink of |F_p - F_q| is an endpoint (the points must be sorted: an unsorted list
    # makes mpmath integrate across kinks, good to ~1e-4 only)
    ref = mpmath.quad(lambda x: abs(diff(x)), sorted([-60, -3, 0, 3, 60] + roots))
    assert abs(gt.wasserstein1(p, q) - float(ref)) <= ACCURACY


def test_crossings_finds_both_roots_of_two_normals():
    p, q = Normal(0, 1), Normal(1, 2)
    r = lambda x: p.logpdf_scalar(x) - q.logpdf_scalar(x)  # noqa: E731
    roots = crossings(r, sorted(set(p.breakpoints() + q.breakpoints())))
    # log p = log q: 3 x^2 + 2 x - 1 - 8 log 2 = 0
    exact = sorted(np.roots([3.0, 2.0, -1.0 - 8 * math.log(2)]).real)
    np.testing.assert_allclose(sorted(roots), exact, atol=1e-12)


def test_bad_names_and_families_are_spec_errors():
    with pytest.raises(SpecError, match="unknown f-divergence"):
        gt.f_divergence(Normal(0, 1), Normal(0, 1), "chi")
    with pytest.raises(SpecError, match="unknown f-divergence"):
        gt.conjugate("hellinger")


@given(st.sampled_from(list(F_DIVERGENCES)), density_pairs())
def test_f_divergences_are_nonnegative_and_zero_on_equal_pairs(name, pq):
    p, q = pq
    v = gt.f_divergence(p, q, name)
    offset = -gt.LOG4 if name == "gan" else 0.0  # the gan generator has f(1) = -log 4
    assert v >= offset - 1e-10
    assert abs(gt.f_divergence(p, p, name) - offset) <= 1e-10


@pytest.mark.parametrize("name", ["reverse_kl", "gan", "total_variation", "squared_hellinger"])
def test_a_critic_leaving_dom_fstar_has_bound_minus_inf(name):
    # T = 1.5 beyond |x| = 40 (where p_g underflows) is outside dom f* (whose sup is 0, 1/2 or
    # 1 for these four): the bound is -inf, not nan from 0 * inf
    p, q = Normal(0, 1), Normal(0.5, 1)
    crit = gt.optimal_critic(p, q, name)
    far = lambda x: 1.5 if abs(x) > 40 else crit.scalar(x)  # noqa: E731
    assert variational_bound(far, p, q, name) == -math.inf
    assert abs(variational_bound(crit.scalar, p, q, name) - gt.f_divergence(p, q, name)) <= ACCURACY


def test_beyond_float_pearson_is_decided_from_the_tails():
    # sigma_q^2 = 1/2 + 2^-53: finite, ~exp(1/ulp); the tails say so before any quadrature.
    from gantheory.fdivergences import pearson_beyond_float
    p, q = parse_density("normal(1,1)"), parse_density("normal(0,0.7071067811865476)")
    assert not pearson_is_infinite(p, q) and pearson_beyond_float(p, q)
    # the 0.71 case (value 5e26) and every reference pair are ordinary finite values
    assert not pearson_beyond_float(Normal(0.4, 1.0), Normal(-0.3, 0.71))
    for a, b in REFERENCE_PAIRS:
        assert not pearson_beyond_float(parse_density(a), parse_density(b))
