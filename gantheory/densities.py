"""One-dimensional densities: the p_data and p_g of the paper's 1-D picture (Figure 1).

Families: :class:`Normal`, :class:`Uniform`, :class:`Laplace`, :class:`StudentT`,
:class:`Logistic`, any scipy frozen continuous distribution through :class:`ScipyDensity`, and
finite :class:`Mixture` of any of them. Each evaluates ``pdf``, ``logpdf`` and ``cdf`` on numpy
arrays or torch tensors (the result has the input's type), has an exact ``ppf``, draws samples
with a numpy or a torch generator, and lists ``breakpoints`` where the oracle's quadrature splits.

    >>> import gantheory as gt
    >>> p_data = gt.parse_density("mixture(0.3*normal(-2,0.5)+0.7*laplace(1,1))")
    >>> p_g = 0.3 * gt.Uniform(-1, 1) + 0.7 * gt.StudentT(3, 0, 1)   # mixture arithmetic
    >>> gt.as_density("logistic(0,1)"), gt.as_density(scipy.stats.gamma(2.0))

Supported range: every location |loc| <= LOC_MAX and scale in [SCALE_MIN, SCALE_MAX] with
scale >= REL_SCALE_MIN * |loc|; outside it the breakpoints mu +- t sigma are no longer distinct
doubles or the densities under- or overflow, so the oracle could not keep its accuracy.
Invalid or unsupported parameters raise :class:`gantheory.errors.SpecError` (a ``ValueError``)
naming the parameter.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Sequence, Union

import numpy as np
import torch
from scipy import optimize, special

from .errors import SpecError

ArrayLike = Union[float, np.ndarray, torch.Tensor]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
# Tolerance on sum(weights) == 1: a few ulps per weight, so user-typed decimals such as
# 0.3 + 0.7 pass while a genuine typo (0.3 + 0.6) does not.
WEIGHT_SUM_TOL = 1e-9

# The supported range of locations and scales. The quadrature splits at
# loc +- t scale for t down to 0.5: those points are distinct doubles, ~1e7 ulps apart, only while
# scale >= REL_SCALE_MIN |loc| (float64 has 2.2e-16 relative spacing). SCALE_MIN/SCALE_MAX keep
# pdf values (~1/scale) and the integrands far from under/overflow, and LOC_MAX keeps
# loc +- 40 scale and squared distances finite. The oracle's 1e-9 is tested at these limits.
LOC_MAX = 1e8
SCALE_MIN, SCALE_MAX = 1e-8, 1e8
REL_SCALE_MIN = 1e-8
# Student-t degrees of freedom: below 1 the tail beyond which the mass is under TAIL_MASS lies
# past 1e16 scales; above DF_MAX the family is a Normal to within float64 rounding.
DF_MIN, DF_MAX = 1.0, 1e6
# Mass left outside the outermost breakpoint of a heavy-tailed family: the truncated integrand is
# at most (mass) x (log-ratio ~ 1), far below the oracle's 1e-9.
TAIL_MASS = 1e-16


def _finite(name: str, value: float) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise SpecError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(value):
        raise SpecError(f"{name} must be finite, got {value}")
    return value


def _loc(name: str, value: float) -> float:
    value = _finite(name, value)
    if abs(value) > LOC_MAX:
        raise SpecError(f"{name} = {value:g} is outside the supported range |{name}| <= {LOC_MAX:g}")
    return value


def _scale(name: str, value: float, loc: float = 0.0) -> float:
    value = _finite(name, value)
    if value <= 0:
        raise SpecError(f"{name} must be > 0, got {value}")
    if not SCALE_MIN <= value <= SCALE_MAX:
        raise SpecError(f"{name} = {value:g} is outside the supported range "
                        f"[{SCALE_MIN:g}, {SCALE_MAX:g}]")
    if value < REL_SCALE_MIN * abs(loc):
        raise SpecError(f"{name} = {value:g} is too small for location {loc:g}: the supported "
                        f"range needs {name} >= {REL_SCALE_MIN:g} * |location|")
    return value


def _fmt(v: float) -> str:
    """The shortest decimal that reads back as exactly ``v`` (so str -> parse round-trips)."""
    r = repr(float(v))
    return r[:-2] if r.endswith(".0") else r


def _is_torch(x) -> bool:
    return isinstance(x, torch.Tensor)


def _np(x) -> np.ndarray:
    return np.asarray(x.detach().cpu().numpy() if _is_torch(x) else x, dtype=np.float64)


def _like(values: np.ndarray, x):
    """Return ``values`` with the type (numpy or torch, dtype, device) of ``x``."""
    if _is_torch(x):
        return torch.as_tensor(values, dtype=x.dtype if x.is_floating_point() else torch.float64,
                               device=x.device)
    return values


class Density:
    """Common interface; subclasses supply :meth:`components` and weights.

    Atoms (Normal, Uniform, ...) are their own single component and implement ``_logpdf1``,
    ``_cdf1``, ``_logpdf_scalar1``, ``_ppf1`` (numpy), ``_breakpoints1`` and ``key()``.
    Densities combine by arithmetic: ``0.3 * p + 0.7 * q`` is a :class:`Mixture`.
    """

    weights: tuple[float, ...]

    def components(self) -> tuple["Density", ...]:
        raise NotImplementedError

    # log p(x) = logsumexp_c (log w_c + log p_c(x))
    def logpdf(self, x: ArrayLike) -> ArrayLike:
        comps = self.components()
        if _is_torch(x):
            terms = torch.stack([math.log(w) + c._logpdf1(x) for w, c in zip(self.weights, comps)])
            return torch.logsumexp(terms, dim=0)
        x = np.asarray(x, dtype=np.float64)
        terms = np.stack([math.log(w) + c._logpdf1(x) for w, c in zip(self.weights, comps)])
        with np.errstate(invalid="ignore"):  # all terms -inf (outside every support) -> -inf
            out = special.logsumexp(terms, axis=0)
        return np.where(np.all(terms == -np.inf, axis=0), -np.inf, out)

    def logpdf_scalar(self, x: float) -> float:
        """log p(x) for one float with the math module: the fast path quadrature calls."""
        terms = [math.log(w) + c._logpdf_scalar1(x) for w, c in zip(self.weights, self.components())]
        top = max(terms)
        if top == -math.inf:
            return top
        return top + math.log(sum(math.exp(t - top) for t in terms))

    def pdf(self, x: ArrayLike) -> ArrayLike:
        lp = self.logpdf(x)
        return torch.exp(lp) if _is_torch(lp) else np.exp(lp)

    def cdf(self, x: ArrayLike) -> ArrayLike:
        comps = self.components()
        if _is_torch(x):
            return sum(w * c._cdf1(x) for w, c in zip(self.weights, comps))
        x = np.asarray(x, dtype=np.float64)
        return sum(w * c._cdf1(x) for w, c in zip(self.weights, comps))

    def canonical(self) -> tuple[tuple, ...]:
        """Sorted (params..., weight) with identical components merged: equal iff same density.

        For Normals the entries are (mu, sigma, weight), as before; other families put their
        name first, e.g. ("laplace", loc, scale, weight). Distinct components of these families
        are linearly independent, so two mixtures are the same density exactly when their
        merged component lists agree.
        """
        merged: dict[tuple, float] = {}
        for w, c in zip(self.weights, self.components()):
            merged[c.key()] = merged.get(c.key(), 0.0) + w
        items = [(*k, w) for k, w in merged.items()]
        normals = sorted(t for t in items if not isinstance(t[0], str))
        return tuple(normals + sorted((t for t in items if isinstance(t[0], str)), key=repr))

    def same_as(self, other: "Density") -> bool:
        """True when both describe the same density (up to float rounding of merged weights)."""
        a, b = self.canonical(), as_density(other).canonical()
        return len(a) == len(b) and all(
            x[:-1] == y[:-1] and abs(x[-1] - y[-1]) <= WEIGHT_SUM_TOL for x, y in zip(a, b))

    def mean(self) -> float:
        return float(sum(w * c._mean1() for w, c in zip(self.weights, self.components())))

    def var(self) -> float:
        m = self.mean()
        return float(sum(w * (c._var1() + (c._mean1() - m) ** 2)
                         for w, c in zip(self.weights, self.components())))

    def ppf(self, q: float) -> float:
        """The quantile function. A mixture's q-quantile lies between its components' ones
        (the cdf there is below, resp. above, q), so brentq on that bracket is exact."""
        if not 0.0 < q < 1.0:
            raise SpecError(f"quantile level q must lie in (0, 1), got {q}")
        qs = [float(c._ppf1(np.float64(q))) for c in self.components()]
        lo, hi = min(qs), max(qs)
        if lo == hi:
            return lo
        return float(optimize.brentq(lambda t: float(self.cdf(t)) - q, lo, hi,
                                     xtol=1e-15 * max(1.0, abs(lo), abs(hi)), rtol=1e-15))

    def breakpoints(self, scales: Sequence[float] = (0, 1.5, 3, 6, 10, 20, 40)) -> list[float]:
        """Where adaptive quadrature should split: every component's own points."""
        return sorted({p for c in self.components() for p in c._breakpoints1(scales)})

    def sample(self, n: int, generator: np.random.Generator | torch.Generator | None = None,
               *, dtype: torch.dtype = torch.float64):
        """Draw ``n`` samples. A torch generator gives a tensor, a numpy one (or None) an array.

        Normals use the generator's normal draws; other families invert their exact cdf at the
        generator's uniform draws.
        """
        if n < 0:
            raise SpecError(f"n must be >= 0, got {n}")
        comps = self.components()
        w = np.asarray(self.weights)
        normal = all(isinstance(c, Normal) for c in comps)
        if isinstance(generator, torch.Generator):
            u = torch.rand(n, generator=generator, dtype=dtype)
            idx = torch.bucketize(u, torch.tensor(np.cumsum(w)[:-1], dtype=dtype), right=True)
            if normal:
                eps = torch.randn(n, generator=generator, dtype=dtype)
                mu = torch.tensor([c.mu for c in comps], dtype=dtype)[idx]
                sd = torch.tensor([c.sigma for c in comps], dtype=dtype)[idx]
                return mu + sd * eps
            v = torch.rand(n, generator=generator, dtype=torch.float64).numpy()
            return torch.as_tensor(self._inverse(v, idx.numpy(), comps), dtype=dtype)
        rng = generator if generator is not None else np.random.default_rng()
        idx = rng.choice(len(comps), size=n, p=w)
        if normal:
            mu = np.array([c.mu for c in comps])[idx]
            sd = np.array([c.sigma for c in comps])[idx]
            return mu + sd * rng.standard_normal(n)
        return self._inverse(rng.random(n), idx, comps)

    @staticmethod
    def _inverse(v: np.ndarray, idx: np.ndarray, comps) -> np.ndarray:
        # u = 0 would map to -inf: numpy and torch uniforms lie in [0, 1), so nudge 0 up
        v = np.where(v > 0, v, np.finfo(np.float64).tiny)
        out = np.empty_like(v)
        for i, c in enumerate(comps):
            m = idx == i
            out[m] = c._ppf1(v[m])
        return out

    # ---- arithmetic: 0.3 * p + 0.7 * q ----
    def __rmul__(self, w):
        return _WeightedSum([(_weight(w), self)])

    __mul__ = __rmul__

    def __add__(self, other):
        return _WeightedSum([(1.0, self)]) + other


def _weight(w) -> float:
    if isinstance(w, bool) or not isinstance(w, (int, float, np.floating, np.integer)):
        raise SpecError(f"a density can only be multiplied by a number (a mixture weight), "
                        f"got {type(w).__name__}")
    w = _finite("weight", w)
    if w < 0:
        raise SpecError(f"mixture weight must be >= 0, got {w}")
    return w


class _WeightedSum:
    """w1 * p1 + w2 * p2 + ... while the weights do not yet sum to 1; a Mixture once they do."""

    def __init__(self, terms):
        self.terms = list(terms)

    def total(self) -> float:
        return sum(w for w, _ in self.terms)

    def __add__(self, other):
        if isinstance(other, Density):
            other = _WeightedSum([(1.0, other)])
        if not isinstance(other, _WeightedSum):
            return NotImplemented
        out = _WeightedSum(self.terms + other.terms)
        if abs(out.total() - 1.0) <= WEIGHT_SUM_TOL:
            return Mixture([w for w, _ in out.terms], [d for _, d in out.terms])
        return out

    __radd__ = __add__

    def __rmul__(self, w):
        w = _weight(w)
        return _WeightedSum([(w * v, d) for v, d in self.terms])

    __mul__ = __rmul__

    def __repr__(self) -> str:
        return " + ".join(f"{w:g}*{d}" for w, d in self.terms)


@dataclass(frozen=True)
class Normal(Density):
    """The Normal density N(mu, sigma^2); ``sigma`` is the standard deviation (> 0)."""

    mu: float
    sigma: float

    def __post_init__(self):
        object.__setattr__(self, "mu", _loc("mu", self.mu))
        object.__setattr__(self, "sigma", _scale("sigma", self.sigma, self.mu))

    @property
    def weights(self) -> tuple[float, ...]:
        return (1.0,)

    def components(self) -> tuple["Normal", ...]:
        return (self,)

    def key(self) -> tuple:
        return (self.mu, self.sigma)

    def _logpdf1(self, x):
        z = (x - self.mu) / self.sigma
        return -0.5 * z * z - math.log(self.sigma) - _LOG_SQRT_2PI

    def _logpdf_scalar1(self, x: float) -> float:
        return -0.5 * ((x - self.mu) / self.sigma) ** 2 - math.log(self.sigma) - _LOG_SQRT_2PI

    def _cdf1(self, x):
        z = (x - self.mu) / (self.sigma * math.sqrt(2.0))
        return 0.5 * torch.erfc(-z) if _is_torch(x) else 0.5 * special.erfc(-z)

    def _ppf1(self, q):
        return self.mu + self.sigma * special.ndtri(q)

    def _breakpoints1(self, scales):
        return [self.mu + s * t * self.sigma for t in scales for s in (-1, 1)]

    def _mean1(self):
        return self.mu

    def _var1(self):
        return self.sigma**2

    def __str__(self) -> str:
        return f"normal({_fmt(self.mu)},{_fmt(self.sigma)})"


class _LocScale(Density):
    """An atom with a location ``mu`` and a scale ``sigma`` (the names callers place grids by)."""

    name = ""

    @property
    def weights(self) -> tuple[float, ...]:
        return (1.0,)

    def components(self):
        return (self,)

    def key(self) -> tuple:
        return (self.name, *self.params())

    def params(self) -> tuple:
        return (self.mu, self.sigma)

    def _logpdf1(self, x):
        if _is_torch(x):
            return self._logpdf_torch(x)
        return self._logpdf_np(np.asarray(x, dtype=np.float64))

    def _logpdf_torch(self, x):
        return _like(self._logpdf_np(_np(x)), x)

    def _cdf1(self, x):
        return _like(self._cdf_np(_np(x)), x) if _is_torch(x) else self._cdf_np(
            np.asarray(x, dtype=np.float64))

    def _logpdf_scalar1(self, x: float) -> float:
        return float(self._logpdf_np(np.float64(x)))

    def _tail_breakpoints(self, scales, far: float) -> list[float]:
        """mu +- t sigma for the given scales, then doubling out to ``far`` scales."""
        ts = set(scales) | {0.5, 1, 2, 4}
        t = 40.0
        while t < far:
            t *= 2.0
            ts.add(t)
        ts.add(far)
        return [self.mu + s * t * self.sigma for t in ts for s in (-1, 1)]

    def __str__(self) -> str:
        return f"{self.name}(" + ",".join(_fmt(v) for v in self.params()) + ")"

    def __repr__(self) -> str:
        return str(self)

    def __eq__(self, other):
        return type(self) is type(other) and self.params() == other.params()

    def __hash__(self):
        return hash(self.key())


class Uniform(_LocScale):
    """The uniform density on [a, b], a < b."""

    name = "uniform"

    def __init__(self, a: float, b: float):
        a, b = _loc("a", a), _loc("b", b)
        if not b > a:
            raise SpecError(f"uniform needs a < b, got a={a:g}, b={b:g}")
        self.a, self.b = a, b
        self.mu, self.sigma = 0.5 * (a + b), (b - a) / math.sqrt(12.0)
        _scale("b - a", b - a, self.mu)

    def params(self):
        return (self.a, self.b)

    def _logpdf_np(self, x):
        inside = (x >= self.a) & (x <= self.b)
        return np.where(inside, -math.log(self.b - self.a), -np.inf)

    def _logpdf_torch(self, x):
        inside = (x >= self.a) & (x <= self.b)
        return torch.where(inside, torch.full_like(x, -math.log(self.b - self.a)),
                           torch.full_like(x, -math.inf))

    def _logpdf_scalar1(self, x):
        return -math.log(self.b - self.a) if self.a <= x <= self.b else -math.inf

    def _cdf_np(self, x):
        return np.clip((x - self.a) / (self.b - self.a), 0.0, 1.0)

    def _ppf1(self, q):
        return self.a + (self.b - self.a) * q

    def _breakpoints1(self, scales):
        # the support's ends (where the pdf jumps) and quarters inside it
        return [self.a + k * (self.b - self.a) / 4 for k in range(5)]

    def _mean1(self):
        return self.mu

    def _var1(self):
        return self.sigma**2


class Laplace(_LocScale):
    """The Laplace density exp(-|x - mu| / b) / (2 b)."""

    name = "laplace"

    def __init__(self, mu: float, b: float):
        self.mu = _loc("mu", mu)
        self.sigma = _scale("b", b, self.mu)

    def _logpdf_np(self, x):
        return -np.abs(x - self.mu) / self.sigma - math.log(2 * self.sigma)

    def _logpdf_torch(self, x):
        return -torch.abs(x - self.mu) / self.sigma - math.log(2 * self.sigma)

    def _logpdf_scalar1(self, x):
        return -abs(x - self.mu) / self.sigma - math.log(2 * self.sigma)

    def _cdf_np(self, x):
        z = (x - self.mu) / self.sigma
        with np.errstate(over="ignore"):
            return np.where(z < 0, 0.5 * np.exp(np.minimum(z, 0)), 1 - 0.5 * np.exp(-np.maximum(z, 0)))

    def _ppf1(self, q):
        q = np.asarray(q, dtype=np.float64)
        return np.where(q < 0.5, self.mu + self.sigma * np.log(2 * np.minimum(q, 0.5)),
                        self.mu - self.sigma * np.log(2 * (1 - np.maximum(q, 0.5))))

    def _breakpoints1(self, scales):
        # mass beyond t scales is exp(-t): beyond 40 it is 4e-18
        return self._tail_breakpoints(scales, 40.0)

    def _mean1(self):
        return self.mu

    def _var1(self):
        return 2 * self.sigma**2


class Logistic(_LocScale):
    """The logistic density with location mu and scale s: sigmoid'((x - mu) / s) / s."""

    name = "logistic"

    def __init__(self, mu: float, s: float):
        self.mu = _loc("mu", mu)
        self.sigma = _scale("s", s, self.mu)

    # log pdf = -|z| - 2 log1p(exp(-|z|)) - log s: symmetric, no overflow
    def _logpdf_np(self, x):
        a = np.abs((x - self.mu) / self.sigma)
        return -a - 2 * np.log1p(np.exp(-a)) - math.log(self.sigma)

    def _logpdf_torch(self, x):
        a = torch.abs((x - self.mu) / self.sigma)
        return -a - 2 * torch.log1p(torch.exp(-a)) - math.log(self.sigma)

    def _logpdf_scalar1(self, x):
        a = abs((x - self.mu) / self.sigma)
        return -a - 2 * math.log1p(math.exp(-a)) - math.log(self.sigma)

    def _cdf_np(self, x):
        return special.expit((x - self.mu) / self.sigma)

    def _ppf1(self, q):
        return self.mu + self.sigma * special.logit(q)

    def _breakpoints1(self, scales):
        return self._tail_breakpoints(scales, 40.0)  # mass beyond 40 scales: 4e-18

    def _mean1(self):
        return self.mu

    def _var1(self):
        return (math.pi * self.sigma) ** 2 / 3


class StudentT(_LocScale):
    """Student's t with ``df`` degrees of freedom, location mu and scale s."""

    name = "student_t"

    def __init__(self, df: float, mu: float, s: float):
        df = _finite("df", df)
        if not DF_MIN <= df <= DF_MAX:
            raise SpecError(f"df = {df:g} is outside the supported range [{DF_MIN:g}, {DF_MAX:g}]")
        self.df = df
        self.mu = _loc("mu", mu)
        self.sigma = _scale("s", s, self.mu)
        v = df
        self._c = (math.lgamma((v + 1) / 2) - math.lgamma(v / 2) - 0.5 * math.log(v * math.pi)
                   - math.log(self.sigma))

    def params(self):
        return (self.df, self.mu, self.sigma)

    def _logpdf_np(self, x):
        z = (x - self.mu) / self.sigma
        return self._c - 0.5 * (self.df + 1) * np.log1p(z * z / self.df)

    def _logpdf_torch(self, x):
        z = (x - self.mu) / self.sigma
        return self._c - 0.5 * (self.df + 1) * torch.log1p(z * z / self.df)

    def _logpdf_scalar1(self, x):
        z = (x - self.mu) / self.sigma
        return self._c - 0.5 * (self.df + 1) * math.log1p(z * z / self.df)

    def _cdf_np(self, x):
        return special.stdtr(self.df, (x - self.mu) / self.sigma)

    def _ppf1(self, q):
        return self.mu + self.sigma * special.stdtrit(self.df, q)

    def _breakpoints1(self, scales):
        # polynomial tails: split out to where the mass beyond is TAIL_MASS on each side
        far = -float(special.stdtrit(self.df, TAIL_MASS))
        return self._tail_breakpoints(scales, max(far, 40.0))

    def _mean1(self):
        return self.mu if self.df > 1 else math.nan

    def _var1(self):
        if self.df > 2:
            return self.sigma**2 * self.df / (self.df - 2)
        return math.inf


class ScipyDensity(_LocScale):
    """Any scipy frozen continuous distribution (``scipy.stats.gamma(2.0)``) as a density.

    pdf, cdf and ppf are scipy's; torch inputs are evaluated in numpy (no autograd). The
    breakpoints are the support's finite ends and quantiles from TAIL_MASS to 1 - TAIL_MASS.
    """

    name = "scipy"

    def __init__(self, frozen):
        from scipy import stats

        if not (hasattr(frozen, "dist") and isinstance(frozen.dist, stats.rv_continuous)):
            raise SpecError(f"expected a scipy frozen continuous distribution, got {frozen!r}")
        self.frozen = frozen
        lo, hi = (float(v) for v in frozen.support())
        self.lo, self.hi = lo, hi
        self.mu = float(frozen.median())
        iqr = float(frozen.ppf(0.75) - frozen.ppf(0.25))
        self.sigma = iqr / 1.3489795003921634  # the Normal's IQR / sigma
        for name, v in (("median", self.mu), ("support end", lo), ("support end", hi)):
            if math.isfinite(v) and abs(v) > LOC_MAX:
                raise SpecError(f"{frozen.dist.name}: {name} {v:g} is outside the supported range "
                                f"|x| <= {LOC_MAX:g}")
        _scale(f"{frozen.dist.name} interquartile range / 1.349", self.sigma, self.mu)

    def params(self):
        return (self.frozen.dist.name, tuple(self.frozen.args),
                tuple(sorted(self.frozen.kwds.items())))

    def key(self):
        return ("scipy", repr(self.params()))

    def _logpdf_np(self, x):
        return np.asarray(self.frozen.logpdf(x), dtype=np.float64)

    def _logpdf_scalar1(self, x):
        return float(self.frozen.logpdf(x))

    def _cdf_np(self, x):
        return np.asarray(self.frozen.cdf(x), dtype=np.float64)

    def _ppf1(self, q):
        return self.frozen.ppf(q)

    def _breakpoints1(self, scales):
        levels = [TAIL_MASS, 1e-12, 1e-9, 1e-6, 1e-4, 1e-3, 0.01, 0.05, 0.1, 0.25, 0.5]
        pts = {float(self.frozen.ppf(q)) for q in levels}
        pts |= {float(self.frozen.isf(q)) for q in levels}
        pts |= {v for v in (self.lo, self.hi) if math.isfinite(v)}
        return sorted(p for p in pts if math.isfinite(p))

    def _mean1(self):
        return float(self.frozen.mean())

    def _var1(self):
        return float(self.frozen.var())

    def __str__(self) -> str:
        args = ",".join([f"{a!r}" for a in self.frozen.args]
                        + [f"{k}={v!r}" for k, v in self.frozen.kwds.items()])
        return f"scipy.stats.{self.frozen.dist.name}({args})"


@dataclass(frozen=True)
class Mixture(Density):
    """A finite mixture sum_c w_c p_c of any of the families (mixtures inside are flattened)."""

    weights: tuple[float, ...]
    comps: tuple[Density, ...]

    def __init__(self, weights: Sequence[float], components: Sequence[Density]):
        weights = tuple(_finite(f"weights[{i}]", w) for i, w in enumerate(weights))
        components = tuple(components)
        if not components:
            raise SpecError("components must not be empty: a mixture needs at least one density")
        if len(weights) != len(components):
            raise SpecError(
                f"weights has {len(weights)} entries but components has {len(components)}"
            )
        if any(not isinstance(c, Density) for c in components):
            raise SpecError("components must all be densities (Normal, Uniform, ..., Mixture)")
        if any(w < 0 for w in weights):
            raise SpecError(f"weights must be >= 0, got {list(weights)}")
        if abs(sum(weights) - 1.0) > WEIGHT_SUM_TOL:
            raise SpecError(f"weights must sum to 1, got sum {sum(weights):.12g}")
        flat = [(w * v, a) for w, c in zip(weights, components)
                for v, a in zip(c.weights, c.components())]
        kept = [(w, c) for w, c in flat if w > 0]
        object.__setattr__(self, "weights", tuple(w for w, _ in kept))
        object.__setattr__(self, "comps", tuple(c for _, c in kept))

    def components(self) -> tuple[Density, ...]:
        return self.comps

    def __str__(self) -> str:
        return "mixture(" + "+".join(f"{_fmt(w)}*{c}" for w, c in zip(self.weights, self.comps)) + ")"


def as_density(d) -> Density:
    """A Density from a Density, a spec string (parsed) or a scipy frozen distribution."""
    if isinstance(d, Density):
        return d
    if isinstance(d, str):
        return parse_density(d)
    if isinstance(d, _WeightedSum):
        raise SpecError(f"mixture weights must sum to 1, got sum {d.total():.12g} in {d!r}")
    if hasattr(d, "dist") and hasattr(d, "logpdf"):
        return ScipyDensity(d)
    raise SpecError(f"expected a density (a Density, a spec string such as 'normal(0,1)' or a "
                    f"scipy frozen distribution), got {type(d).__name__}")


_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_FAMILIES = {"normal": (Normal, 2), "uniform": (Uniform, 2), "laplace": (Laplace, 2),
             "logistic": (Logistic, 2), "student_t": (StudentT, 3)}
_ATOM_RE = re.compile(r"([a-z_]+)\(([^()]*)\)$")
_TERM_RE = re.compile(rf"\s*({_NUM})\s*\*\s*([a-z_]+\([^()]*\))\s*$")
_GRAMMAR = ("normal(MU,SIGMA), uniform(A,B), laplace(MU,B), logistic(MU,S), student_t(DF,MU,S) "
            "or mixture(W1*FAMILY(...)+W2*FAMILY(...)+...)")


def _parse_atom(s: str, spec: str) -> Density:
    m = _ATOM_RE.match(s)
    if not m or m.group(1) not in _FAMILIES:
        raise SpecError(f"malformed density spec {spec!r}: expected {_GRAMMAR}")
    cls, arity = _FAMILIES[m.group(1)]
    args = m.group(2).split(",") if m.group(2) else []
    if len(args) != arity or not all(re.fullmatch(_NUM, a) for a in args):
        raise SpecError(f"malformed density spec {spec!r}: {m.group(1)} takes {arity} numbers")
    return cls(*(float(a) for a in args))


def parse_density(spec: str) -> Density:
    """Parse a density spec: one of the families, or a mixture of them.

    ``normal(mu,sigma)``, ``uniform(a,b)``, ``laplace(mu,b)``, ``logistic(mu,s)``,
    ``student_t(df,mu,s)``, ``mixture(w1*FAMILY(...)+w2*FAMILY(...)+...)``. Raises
    :class:`SpecError` naming what is wrong with the spec.
    """
    if not isinstance(spec, str):
        raise SpecError(f"density spec must be a string, got {type(spec).__name__}")
    s = spec.strip().lower().replace(" ", "")
    if s.startswith("mixture(") and s.endswith(")"):
        body = s[len("mixture("):-1]
        # split on '+' that separate terms, i.e. those right after a closing parenthesis
        parts = re.split(r"(?<=\))\+", body)
        weights, comps = [], []
        for part in parts:
            t = _TERM_RE.match(part)
            if not t:
                raise SpecError(
                    f"malformed mixture term {part!r} in {spec!r}: expected WEIGHT*FAMILY(...)"
                )
            weights.append(float(t.group(1)))
            comps.append(_parse_atom(t.group(2), spec))
        return Mixture(weights, comps)
    return _parse_atom(s, spec)
