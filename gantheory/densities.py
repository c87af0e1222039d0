"""One-dimensional densities: the p_data and p_g of the paper's 1-D picture (Figure 1).

Two families cover every experiment in the toolkit: :class:`Normal` and finite :class:`Mixture`
of Normals. Each evaluates ``pdf``, ``logpdf`` and ``cdf`` on numpy arrays or torch tensors (the
result has the input's type) and draws samples with a numpy or a torch generator.

    >>> from gantheory import Normal, Mixture, parse_density
    >>> p_data = parse_density("mixture(0.3*normal(-2,0.5)+0.7*normal(1,1))")
    >>> p_data.pdf(0.0)

Invalid parameters raise :class:`gantheory.errors.SpecError` (a ``ValueError``) naming the
parameter.
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


def _finite(name: str, value: float) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise SpecError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(value):
        raise SpecError(f"{name} must be finite, got {value}")
    return value


def _is_torch(x) -> bool:
    return isinstance(x, torch.Tensor)


class Density:
    """Common interface; subclasses supply :meth:`components` and weights."""

    weights: tuple[float, ...]

    def components(self) -> tuple["Normal", ...]:
        raise NotImplementedError

    # log p(x) = logsumexp_c (log w_c + log N(x; mu_c, sigma_c))
    def logpdf(self, x: ArrayLike) -> ArrayLike:
        comps = self.components()
        if _is_torch(x):
            terms = torch.stack([math.log(w) + c._logpdf1(x) for w, c in zip(self.weights, comps)])
            return torch.logsumexp(terms, dim=0)
        x = np.asarray(x, dtype=np.float64)
        terms = np.stack([math.log(w) + c._logpdf1(x) for w, c in zip(self.weights, comps)])
        return special.logsumexp(terms, axis=0)

    def logpdf_scalar(self, x: float) -> float:
        """log p(x) for one float with the math module: the fast path quadrature calls."""
        terms = [
            math.log(w) - 0.5 * ((x - c.mu) / c.sigma) ** 2 - math.log(c.sigma) - _LOG_SQRT_2PI
            for w, c in zip(self.weights, self.components())
        ]
        top = max(terms)
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

    def canonical(self) -> tuple[tuple[float, float, float], ...]:
        """Sorted (mu, sigma, weight) with identical components merged: equal iff same density.

        (Normals with distinct (mu, sigma) are linearly independent, so two mixtures are the
        same density exactly when their merged component lists agree.)
        """
        merged: dict[tuple[float, float], float] = {}
        for w, c in zip(self.weights, self.components()):
            merged[(c.mu, c.sigma)] = merged.get((c.mu, c.sigma), 0.0) + w
        return tuple(sorted((mu, sd, w) for (mu, sd), w in merged.items()))

    def same_as(self, other: "Density") -> bool:
        """True when both describe the same density (up to float rounding of merged weights)."""
        a, b = self.canonical(), other.canonical()
        return len(a) == len(b) and all(
            x[:2] == y[:2] and abs(x[2] - y[2]) <= WEIGHT_SUM_TOL for x, y in zip(a, b))

    def mean(self) -> float:
        return float(sum(w * c.mu for w, c in zip(self.weights, self.components())))

    def var(self) -> float:
        m = self.mean()
        return float(
            sum(w * (c.sigma**2 + (c.mu - m) ** 2) for w, c in zip(self.weights, self.components()))
        )

    def ppf(self, q: float) -> float:
        """The quantile function, by root finding on the cdf (monotone, so brentq is safe)."""
        if not 0.0 < q < 1.0:
            raise SpecError(f"quantile level q must lie in (0, 1), got {q}")
        comps = self.components()
        lo = min(c.mu - 40 * c.sigma for c in comps)
        hi = max(c.mu + 40 * c.sigma for c in comps)
        return float(optimize.brentq(lambda t: float(self.cdf(t)) - q, lo, hi, xtol=1e-13))

    def breakpoints(self, scales: Sequence[float] = (0, 1.5, 3, 6, 10, 20, 40)) -> list[float]:
        """Points mu_c +- t sigma_c of every component: where adaptive quadrature should split."""
        pts = {c.mu + s * t * c.sigma for c in self.components() for t in scales for s in (-1, 1)}
        return sorted(pts)

    def sample(self, n: int, generator: np.random.Generator | torch.Generator | None = None,
               *, dtype: torch.dtype = torch.float64):
        """Draw ``n`` samples. A torch generator gives a tensor, a numpy one (or None) an array."""
        if n < 0:
            raise SpecError(f"n must be >= 0, got {n}")
        comps = self.components()
        w = np.asarray(self.weights)
        if isinstance(generator, torch.Generator):
            u = torch.rand(n, generator=generator, dtype=dtype)
            eps = torch.randn(n, generator=generator, dtype=dtype)
            idx = torch.bucketize(u, torch.tensor(np.cumsum(w)[:-1], dtype=dtype), right=True)
            mu = torch.tensor([c.mu for c in comps], dtype=dtype)[idx]
            sd = torch.tensor([c.sigma for c in comps], dtype=dtype)[idx]
            return mu + sd * eps
        rng = generator if generator is not None else np.random.default_rng()
        idx = rng.choice(len(comps), size=n, p=w)
        mu = np.array([c.mu for c in comps])[idx]
        sd = np.array([c.sigma for c in comps])[idx]
        return mu + sd * rng.standard_normal(n)


@dataclass(frozen=True)
class Normal(Density):
    """The Normal density N(mu, sigma^2); ``sigma`` is the standard deviation (> 0)."""

    mu: float
    sigma: float

    def __post_init__(self):
        object.__setattr__(self, "mu", _finite("mu", self.mu))
        sigma = _finite("sigma", self.sigma)
        if sigma <= 0:
            raise SpecError(f"sigma must be > 0, got {sigma}")
        object.__setattr__(self, "sigma", sigma)

    @property
    def weights(self) -> tuple[float, ...]:
        return (1.0,)

    def components(self) -> tuple["Normal", ...]:
        return (self,)

    def _logpdf1(self, x):
        z = (x - self.mu) / self.sigma
        return -0.5 * z * z - math.log(self.sigma) - _LOG_SQRT_2PI

    def _cdf1(self, x):
        z = (x - self.mu) / (self.sigma * math.sqrt(2.0))
        return 0.5 * torch.erfc(-z) if _is_torch(x) else 0.5 * special.erfc(-z)

    def __str__(self) -> str:
        return f"normal({self.mu:g},{self.sigma:g})"


@dataclass(frozen=True)
class Mixture(Density):
    """A finite mixture of Normals, sum_c w_c N(mu_c, sigma_c^2)."""

    weights: tuple[float, ...]
    comps: tuple[Normal, ...]

    def __init__(self, weights: Sequence[float], components: Sequence[Normal]):
        weights = tuple(_finite(f"weights[{i}]", w) for i, w in enumerate(weights))
        components = tuple(components)
        if not components:
            raise SpecError("components must not be empty: a mixture needs at least one Normal")
        if len(weights) != len(components):
            raise SpecError(
                f"weights has {len(weights)} entries but components has {len(components)}"
            )
        if any(not isinstance(c, Normal) for c in components):
            raise SpecError("components must all be Normal densities")
        if any(w < 0 for w in weights):
            raise SpecError(f"weights must be >= 0, got {list(weights)}")
        if abs(sum(weights) - 1.0) > WEIGHT_SUM_TOL:
            raise SpecError(f"weights must sum to 1, got sum {sum(weights):.12g}")
        kept = [(w, c) for w, c in zip(weights, components) if w > 0]
        object.__setattr__(self, "weights", tuple(w for w, _ in kept))
        object.__setattr__(self, "comps", tuple(c for _, c in kept))

    def components(self) -> tuple[Normal, ...]:
        return self.comps

    def __str__(self) -> str:
        return "mixture(" + "+".join(f"{w:g}*{c}" for w, c in zip(self.weights, self.comps)) + ")"


_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_NORMAL_RE = re.compile(rf"normal\(\s*({_NUM})\s*,\s*({_NUM})\s*\)$")
_TERM_RE = re.compile(rf"\s*({_NUM})\s*\*\s*(normal\([^()]*\))\s*$")


def parse_density(spec: str) -> Density:
    """Parse ``normal(mu,sigma)`` or ``mixture(w1*normal(mu1,s1)+w2*normal(mu2,s2)+...)``.

    Raises :class:`SpecError` naming what is wrong with the spec.
    """
    if not isinstance(spec, str):
        raise SpecError(f"density spec must be a string, got {type(spec).__name__}")
    s = spec.strip().lower().replace(" ", "")
    m = _NORMAL_RE.match(s)
    if m:
        return Normal(float(m.group(1)), float(m.group(2)))
    if s.startswith("mixture(") and s.endswith(")"):
        body = s[len("mixture("):-1]
        # split on '+' that separate terms, i.e. those right after a closing parenthesis
        parts = re.split(r"(?<=\))\+", body)
        weights, comps = [], []
        for part in parts:
            t = _TERM_RE.match(part)
            if not t:
                raise SpecError(
                    f"malformed mixture term {part!r} in {spec!r}: expected WEIGHT*normal(MU,SIGMA)"
                )
            weights.append(float(t.group(1)))
            comps.append(parse_density(t.group(2)))
        return Mixture(weights, comps)
    raise SpecError(
        f"malformed density spec {spec!r}: expected normal(MU,SIGMA) or "
        "mixture(W1*normal(MU1,S1)+W2*normal(MU2,S2)+...)"
    )
