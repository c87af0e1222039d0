r"""The f-divergence family, its optimal critics and conjugates, and the Wasserstein-1 distance.

Conventions (Nowozin, Cseke and Tomioka 2016, "f-GAN"):

.. math:: D_f(P \| Q) = \int q(x)\, f\!\left(\frac{p(x)}{q(x)}\right) dx, \qquad
          T^*(x) = f'\!\left(\frac{p(x)}{q(x)}\right),

and the variational bound :math:`D_f(P \| Q) \ge E_P[T] - E_Q[f^*(T)]` for every critic T with
values in dom f*, with equality at T*. Everything is computed from the log-ratio
r = log p - log q, so critics and integrands stay right where both densities underflow.

    >>> import gantheory as gt
    >>> gt.f_divergence(gt.Normal(0, 1), gt.Normal(1, 2), "pearson")
    >>> gt.f_divergence(gt.Normal(0, 1), gt.Normal(0, 0.7), "pearson")   # inf: q's tails too light
    >>> gt.optimal_critic(gt.Normal(0, 1), gt.Normal(1, 2), "gan")(0.5)
    >>> gt.wasserstein1(gt.Normal(0, 1), gt.Normal(3, 1))                 # 3

Infinite divergences are decided from the tails, never from a truncated integral: for Normal
mixtures every f here is finite except Pearson chi^2, whose integrand p^2/q on each tail behaves
like the ratio of the dominating components there (the widest; among equally wide ones the
outermost). A finite Pearson value beyond the largest float64 (a few ulps from the boundary
sigma_q^2 = sigma_p^2/2) is also read from the tails (:func:`pearson_beyond_float`): it is +inf.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from scipy import integrate

from .densities import ArrayLike, Density, Normal
from .divergences import QUAD_EPSABS, QUAD_EPSREL, QUAD_LIMIT, integrate_pieces
from .errors import SpecError

LOG2 = math.log(2.0)


def _xp(x):
    return torch if isinstance(x, torch.Tensor) else np


def _softplus(x):
    """log(1 + e^x) for numpy or torch, without overflow."""
    if isinstance(x, torch.Tensor):
        return torch.nn.functional.softplus(x)
    return np.logaddexp(0.0, x)


def _log_abs_expm1(r: float) -> float:
    """log |e^r - 1| for a float, exact for large |r| (no overflow, no cancellation)."""
    if r > 1.0:
        return r + math.log1p(-math.exp(-r))
    if r > 0:  # e^-r rounds to 1 for r < 2^-53: expm1 keeps every digit there
        return math.log(math.expm1(r))
    if r < 0:
        return math.log(-math.expm1(r))
    return -math.inf


# -- the pointwise integrands q f(p/q), from log densities ---------------------------------------

def _int_kl(lp, lq):  # q u log u = p r
    return math.exp(lp) * (lp - lq)


def _int_reverse_kl(lp, lq):  # q (-log u) = q (-r)
    return math.exp(lq) * (lq - lp)


def _int_pearson(lp, lq):  # q (u - 1)^2 = exp(lq + 2 log|e^r - 1|)
    return math.exp(lq + 2.0 * _log_abs_expm1(lp - lq))


def _int_squared_hellinger(lp, lq):  # q (sqrt u - 1)^2
    return math.exp(lq + 2.0 * _log_abs_expm1(0.5 * (lp - lq)))


def _sp(t: float) -> float:
    return max(t, 0.0) + math.log1p(math.exp(-abs(t)))


def _int_gan(lp, lq):  # p log(p/(p+q)) + q log(q/(p+q))
    r = lp - lq
    return -math.exp(lp) * _sp(-r) - math.exp(lq) * _sp(r)


def _int_jensen_shannon(lp, lq):  # (1/2)[p log(2p/(p+q)) + q log(2q/(p+q))]
    r = lp - lq
    return 0.5 * (math.exp(lp) * (LOG2 - _sp(-r)) + math.exp(lq) * (LOG2 - _sp(r)))


def _int_total_variation(lp, lq):  # |p - q| / 2
    return 0.5 * math.exp(lq + _log_abs_expm1(lp - lq))


@dataclass(frozen=True)
class Conjugate:
    r"""The Fenchel conjugate :math:`f^*(t) = \sup_u\, t u - f(u)` of one generator f.

    ``domain`` is (lo, hi): f* is finite for lo < t < hi (both ends included when ``closed``) and
    +inf outside. ``activation`` is the output map f-GAN puts after a network's last linear layer
    so that the critic T = activation(v) always lies in dom f* (Nowozin et al. 2016, Table 2;
    for ``jensen_shannon`` halved, since the generator here carries the factor 1/2).
    """

    name: str
    fstar: Callable[[ArrayLike], ArrayLike]
    domain: tuple[float, float]
    closed: bool
    activation: Callable[[ArrayLike], ArrayLike]
    activation_text: str

    def contains(self, t):
        lo, hi = self.domain
        t = t if isinstance(t, torch.Tensor) else np.asarray(t, dtype=np.float64)
        return ((t >= lo) & (t <= hi)) if self.closed else ((t > lo) & (t < hi))

    def __call__(self, t):
        """f*(t), +inf outside the domain."""
        xp = _xp(t)
        t = t if xp is torch else np.asarray(t, dtype=np.float64)
        inside = self.contains(t)
        safe = xp.where(inside, t, xp.zeros_like(t) + self._interior())
        with np.errstate(all="ignore"):
            val = self.fstar(safe)
        return xp.where(inside, val, xp.full_like(val, math.inf))

    def _interior(self) -> float:
        lo, hi = self.domain
        return 0.0 if lo < 0.0 < hi or (self.closed and lo <= 0 <= hi) else hi - 1.0


@dataclass(frozen=True)
class FDivergence:
    """One member of the family: its generator f, its critic f'(e^r), conjugate and integrand."""

    name: str
    formula: str
    f: Callable[[np.ndarray], np.ndarray]  # the generator on u = p/q > 0
    critic_of_log_ratio: Callable[[ArrayLike], ArrayLike]  # T*(r) = f'(e^r)
    conjugate: Conjugate
    integrand: Callable[[float, float], float]  # q f(p/q) from (log p, log q)
    bounded: bool  # finite for every pair of densities


def _c(name, fstar, domain, activation, text, closed=False):
    return Conjugate(name, fstar, domain, closed, activation, text)


def _mk():
    xlogx = lambda u: np.where(u > 0, u * np.log(np.where(u > 0, u, 1.0)), 0.0)  # noqa: E731
    out = [
        FDivergence(
            "kl", "u log u", xlogx, lambda r: 1.0 + r,
            _c("kl", lambda t: _xp(t).exp(t - 1.0), (-math.inf, math.inf), lambda v: v, "v"),
            _int_kl, False),
        FDivergence(
            "reverse_kl", "-log u", lambda u: -np.log(u), lambda r: -_xp(r).exp(-r),
            _c("reverse_kl", lambda t: -1.0 - _xp(t).log(-t), (-math.inf, 0.0),
               lambda v: -_xp(v).exp(-v), "-exp(-v)"),
            _int_reverse_kl, False),
        FDivergence(
            "pearson", "(u - 1)^2", lambda u: (u - 1.0) ** 2, lambda r: 2.0 * _xp(r).expm1(r),
            _c("pearson", lambda t: 0.25 * t * t + t, (-math.inf, math.inf), lambda v: v, "v"),
            _int_pearson, False),
        FDivergence(
            "squared_hellinger", "(sqrt(u) - 1)^2", lambda u: (np.sqrt(u) - 1.0) ** 2,
            lambda r: -_xp(r).expm1(-0.5 * r),
            _c("squared_hellinger", lambda t: t / (1.0 - t), (-math.inf, 1.0),
               lambda v: -_xp(v).expm1(-v), "1 - exp(-v)"),
            _int_squared_hellinger, True),
        FDivergence(
            "jensen_shannon", "(u log u - (u + 1) log((u + 1)/2)) / 2",
            lambda u: 0.5 * (xlogx(u) - (u + 1.0) * np.log((u + 1.0) / 2.0)),
            lambda r: 0.5 * (LOG2 - _softplus(-r)),
            _c("jensen_shannon", lambda t: -0.5 * _xp(t).log(2.0 - _xp(t).exp(2.0 * t)),
               (-math.inf, 0.5 * LOG2), lambda v: 0.5 * (LOG2 - _softplus(-v)),
               "(log 2 - softplus(-v)) / 2"),
            _int_jensen_shannon, True),
        FDivergence(
            "gan", "u log u - (u + 1) log(u + 1)",
            lambda u: xlogx(u) - (u + 1.0) * np.log(u + 1.0), lambda r: -_softplus(-r),
            _c("gan", lambda t: -_xp(t).log(-_xp(t).expm1(t)), (-math.inf, 0.0),
               lambda v: -_softplus(-v), "-softplus(-v)"),
            _int_gan, True),
        FDivergence(
            "total_variation", "|u - 1| / 2", lambda u: 0.5 * np.abs(u - 1.0),
            lambda r: 0.5 * _xp(r).sign(r),
            _c("total_variation", lambda t: t, (-0.5, 0.5), lambda v: 0.5 * _xp(v).tanh(v),
               "tanh(v) / 2", closed=True),
            _int_total_variation, True),
    ]
    return {d.name: d for d in out}


F_DIVERGENCES: dict[str, FDivergence] = _mk()


def get(name: str) -> FDivergence:
    """The family member ``name``; an unknown name is a :class:`SpecError`."""
    try:
        return F_DIVERGENCES[name]
    except KeyError:
        raise SpecError(f"unknown f-divergence {name!r}; known: {', '.join(F_DIVERGENCES)}") \
            from None


def conjugate(name: str) -> Conjugate:
    """f* of the generator ``name``, with its domain and f-GAN's output activation."""
    return get(name).conjugate


class OptimalCritic:
    """T*(x) = f'(p(x)/q(x)), evaluated from r = log p - log q; numpy or torch input."""

    def __init__(self, p: Density, q: Density, name: str):
        self.p, self.q, self.fdiv = p, q, get(name)

    def log_ratio(self, x: ArrayLike) -> ArrayLike:
        return self.p.logpdf(x) - self.q.logpdf(x)

    def __call__(self, x: ArrayLike) -> ArrayLike:
        return self.fdiv.critic_of_log_ratio(self.log_ratio(x))

    def scalar(self, x: float) -> float:
        r = self.p.logpdf_scalar(x) - self.q.logpdf_scalar(x)
        return float(self.fdiv.critic_of_log_ratio(np.float64(r)))

    def __repr__(self) -> str:
        return f"OptimalCritic({self.fdiv.name}, p={self.p}, q={self.q})"


def optimal_critic(p: Density, q: Density, name: str) -> OptimalCritic:
    """The maximiser T* = f'(p/q) of the variational bound (f-GAN, Eq. 4 with equality)."""
    return OptimalCritic(p, q, name)


# -- infinite divergences, decided from the tails ------------------------------------------------

def _dominant(d: Density, side: int) -> Normal:
    """The component of ``d`` that dominates its tail on ``side`` (+1 right, -1 left)."""
    return max(d.components(), key=lambda c: (c.sigma, side * c.mu))


def pearson_is_infinite(p: Density, q: Density) -> bool:
    r"""Whether :math:`\chi^2(P \| Q) = \int p^2/q - 1` diverges, from the tail exponents.

    On a tail, p^2/q ~ exp(-(x - mu_p)^2/sigma_p^2 + (x - mu_q)^2/(2 sigma_q^2)) with the dominant
    components there: infinite when sigma_q^2 < sigma_p^2/2; when sigma_q^2 = sigma_p^2/2 the
    exponent is linear, 2 x (mu_p - mu_q)/sigma_p^2, and diverges unless it points inward.
    """
    for side in (1, -1):
        cp, cq = _dominant(p, side), _dominant(q, side)
        a, b = cq.sigma**2, cp.sigma**2 / 2.0
        if a < b or (a == b and side * (cp.mu - cq.mu) >= 0):
            return True
    return False


# log of the largest float64: a divergence whose logarithm exceeds it is +inf in float64.
LOG_DBL_MAX = math.log(np.finfo(np.float64).max)
# Margin for the factors the tail envelope leaves out (the other components, at most a factor of
# the number of components or 1/weight there, far below e^40 for any mixture one can write).
BEYOND_FLOAT_MARGIN = 40.0


def pearson_beyond_float(p: Density, q: Density) -> bool:
    r"""Whether a finite chi^2(P || Q) exceeds the largest float64, decided from the tails.

    Near the boundary sigma_q^2 = sigma_p^2/2 the dominant tail term
    w_p^2 N_p^2 / (w_q N_q) is a Gaussian of precision 2 sigma_q^2 - sigma_p^2 over
    sigma_p^2 sigma_q^2 centred far out, with log mass
    2 log w_p - log w_q + log(sigma_q^2 / (sigma_p sqrt(k))) + (mu_p - mu_q)^2 / k,
    k = 2 sigma_q^2 - sigma_p^2 (the closed form of chi^2 for two Normals). When that centre lies
    beyond :data:`TILT_MAX`, where no other component competes, and the log mass exceeds
    :data:`LOG_DBL_MAX` by :data:`BEYOND_FLOAT_MARGIN`, the value is +inf in float64.
    """
    for side in (1, -1):
        cp, cq = _dominant(p, side), _dominant(q, side)
        k = 2 * cq.sigma**2 - cp.sigma**2
        if k <= 0:
            continue  # infinite (pearson_is_infinite) or the inward boundary case
        centre = (2 * cp.mu * cq.sigma**2 - cq.mu * cp.sigma**2) / k
        if side * centre <= TILT_MAX:
            continue
        wp = p.weights[p.components().index(cp)]
        wq = q.weights[q.components().index(cq)]
        log_mass = (2 * math.log(wp) - math.log(wq) + 2 * math.log(cq.sigma)
                    - math.log(cp.sigma) - 0.5 * math.log(k) + (cp.mu - cq.mu) ** 2 / k)
        if log_mass > LOG_DBL_MAX + BEYOND_FLOAT_MARGIN:
            return True
    return False


def is_infinite(p: Density, q: Density, name: str) -> bool:
    """Whether D_f(P || Q) = inf for Normal mixtures: only Pearson can be (see module doc)."""
    return get(name).name == "pearson" and pearson_is_infinite(p, q)


def _pearson_tilts(p: Density, q: Density) -> list[float]:
    """Breakpoints of the Gaussian envelopes of p_i p_j / q_k: where Pearson's mass can sit.

    p^2/q <= sum_ij w_i w_j N_i N_j / (w_k N_k) for every k; each term with positive precision
    lam = 1/s_i^2 + 1/s_j^2 - 1/s_k^2 is a Gaussian in x of sd 1/sqrt(lam), whose
    mean +- t sd (t up to 40) become breakpoints (kept to |x| <= 1e8: beyond, the
    two infinite tail integrals take over).
    """
    out = []
    ps, qs = p.components(), q.components()
    for i, ci in enumerate(ps):
        for cj in ps[i:]:
            for ck in qs:
                lam = 1 / ci.sigma**2 + 1 / cj.sigma**2 - 1 / ck.sigma**2
                if lam > 0:
                    m = (ci.mu / ci.sigma**2 + cj.mu / cj.sigma**2 - ck.mu / ck.sigma**2) / lam
                    sd = 1 / math.sqrt(lam)
                    out += [m + s * t * sd for t in BREAK_SCALES for s in (-1, 1)]
    return [x for x in out if abs(x) <= TILT_MAX]


BREAK_SCALES = (0, 1.5, 3, 6, 10, 20, 40)
TILT_MAX = 1e8
# Points per piece scanned for sign changes of log p - log q (the kinks of |p - q|).
CROSSING_SCAN = 16


def crossings(r: Callable[[float], float], pts: list[float]) -> list[float]:
    """Roots of ``r`` (sign changes on a scan of every piece between ``pts``), by brentq.

    With r = log p - log q these are the kinks of |p - q|, with r = F_p - F_q those of
    |F_p - F_q|; splitting at them keeps QUADPACK at full accuracy.
    """
    from scipy import optimize

    xs = sorted({float(v) for a, b in zip(pts[:-1], pts[1:])
                 for v in np.linspace(a, b, CROSSING_SCAN + 1)})
    out, prev = [], (xs[0], r(xs[0]))
    for x in xs[1:]:
        v = r(x)
        if v == 0.0:
            out.append(x)
        elif prev[1] * v < 0:
            out.append(float(optimize.brentq(r, prev[0], x, xtol=1e-14, rtol=1e-15)))
        prev = (x, v)
    return out


def _integrate_line(f: Callable[[float], float], pts: list[float]) -> float:
    """Adaptive quadrature split at ``pts``, plus the two infinite tails beyond them."""
    pts = sorted(set(pts))
    total = 0.0
    for a, b in [(-math.inf, pts[0])] + list(zip(pts[:-1], pts[1:])) + [(pts[-1], math.inf)]:
        if b > a:
            val, _ = integrate.quad(f, a, b, epsabs=QUAD_EPSABS, epsrel=QUAD_EPSREL,
                                    limit=QUAD_LIMIT)
            total += val
    return total


def _all_normal(*ds: Density) -> bool:
    return all(isinstance(c, Normal) for d in ds for c in d.components())


def f_divergence(p: Density, q: Density, name: str) -> float:
    r""":math:`D_f(P \| Q) = \int q f(p/q)\,dx` by split adaptive quadrature; math.inf if infinite.

    Accurate to 1e-9 absolute (relative for large values) for |mu| <= 10, sigma in [0.05, 20]
    (tests/test_fdivergences.py against 30-digit mpmath references). The bounded members
    (squared_hellinger, jensen_shannon, gan, total_variation) take any density; kl, reverse_kl
    and pearson need Normal mixtures, whose tails decide finiteness here.
    """
    fd = get(name)
    if not fd.bounded and not _all_normal(p, q):
        raise SpecError(f"{name} is decided from Gaussian tails: p and q must be Normal "
                        f"mixtures, got {p} and {q}")
    if is_infinite(p, q, name):
        return math.inf
    if fd.name == "pearson" and pearson_beyond_float(p, q):
        return math.inf  # finite, but beyond float64 (decided from the tails, see there)
    pts = p.breakpoints() + q.breakpoints()
    if fd.name == "pearson":
        pts += _pearson_tilts(p, q)
    pts += crossings(lambda x: p.logpdf_scalar(x) - q.logpdf_scalar(x),
                     sorted(set(p.breakpoints() + q.breakpoints())))

    def f(x: float) -> float:
        return fd.integrand(p.logpdf_scalar(x), q.logpdf_scalar(x))

    return _integrate_line(f, pts)


def variational_bound(critic: Callable, p: Density, q: Density, name: str) -> float:
    r"""E_P[T] - E_Q[f^*(T)] for a critic x -> T(x) on floats, by quadrature (-inf if T leaves
    dom f* where q has mass).

    T must be finite where the quadrature looks (out to 40 sigma of every component and beyond).
    T* itself overflows float64 where |log p/q| > ~709, which happens within that range for pairs
    of very different widths (reverse_kl's T* = -q/p for N(0, 1) against N(1, 2) at |x| ~ 43):
    there B(T*) comes out -inf or nan and says nothing about the critic.
    """
    fstar = conjugate(name)
    outside = []  # points where q > 0 and T leaves dom f*: there q f*(T) = +inf

    def g(x: float) -> float:
        t = float(critic(x))
        lp, lq = p.logpdf_scalar(x), q.logpdf_scalar(x)
        fs = float(fstar(np.float64(t)))
        a = math.exp(lp) * t if lp > -math.inf else 0.0
        if lq == -math.inf:
            return a
        if fs == math.inf:  # q > 0 here even where exp(lq) underflows: the bound is -inf
            outside.append(x)
            return 0.0
        return a - math.exp(lq) * fs

    val = integrate_pieces(g, p, q)
    return -math.inf if outside else val


# -- Wasserstein-1 --------------------------------------------------------------------------------

def _cdf_sf(d: Density, x: float) -> tuple[float, float]:
    """(F(x), 1 - F(x)) for one float; for Normals each from erfc (no cancellation in a tail)."""
    if not _all_normal(d):
        c = float(d.cdf(x))
        return c, 1.0 - c
    cdf = sf = 0.0
    for w, c in zip(d.weights, d.components()):
        z = (x - c.mu) / (c.sigma * math.sqrt(2.0))
        cdf += 0.5 * w * math.erfc(-z)
        sf += 0.5 * w * math.erfc(z)
    return cdf, sf


def wasserstein1(p: Density, q: Density) -> float:
    r"""W_1(P, Q) = \int |F_P(x) - F_Q(x)| dx in one dimension (Arjovsky, Chintala, Bottou 2017).

    The left tail uses the cdfs, the right tail the survival functions, so the difference keeps
    its digits where both are near 1.
    """

    def diff(x: float) -> float:
        fp, sp = _cdf_sf(p, x)
        fq, sq = _cdf_sf(q, x)
        return fp - fq if fp + fq <= 1.0 else sq - sp

    pts = p.breakpoints() + q.breakpoints()
    return _integrate_line(lambda x: abs(diff(x)), pts + crossings(diff, sorted(set(pts))))


def wasserstein1_normal(p: Normal, q: Normal) -> float:
    r"""Closed form for Normals: W_1 = E|delta + s Z| (the quantile coupling), delta = mu_p - mu_q,
    s = |sigma_p - sigma_q|:

    .. math:: s\sqrt{2/\pi}\,e^{-\delta^2/2s^2} + |\delta|\,(1 - 2\Phi(-|\delta|/s)).
    """
    delta, s = abs(p.mu - q.mu), abs(p.sigma - q.sigma)
    if s == 0:
        return delta
    return s * math.sqrt(2 / math.pi) * math.exp(-delta**2 / (2 * s * s)) + \
        delta * math.erf(delta / (s * math.sqrt(2)))
