"""The theory oracle: D*, V(D, G) and C(G) for 1-D densities, exact up to quadrature error.

Proposition 1: for fixed G the optimal discriminator is

.. math:: D^*_G(x) = \\frac{p_{data}(x)}{p_{data}(x) + p_g(x)} = \\sigma(\\log p_{data}(x) - \\log p_g(x)),

computed here from log densities, so D* stays right where both densities underflow.
Theorem 1: C(G) = max_D V(D, G) = V(D*_G, G) = -log 4 + 2 JSD(p_data || p_g).

A discriminator is anything :mod:`gantheory.discriminators` accepts: say whether it returns
logits or probabilities (``Discriminator.from_logits(f)``, ``value(f, p, q, output="logits")``).
From logits, log D and log(1 - D) come from stable primitives: log D = -softplus(-l),
log(1 - D) = -softplus(l); probabilities are checked to lie in [0, 1] and never silently give
-inf where they rounded to 0 or 1.
"""

from __future__ import annotations

import math
import warnings
from typing import Callable

import numpy as np
import torch
from scipy import integrate

from .densities import ArrayLike, Density, as_density
from .discriminators import DiscriminatorError, as_discriminator
from .divergences import integrate_pieces


from .discriminators import _softplus  # noqa: E402,F401  (kept: log(1 + e^t) without overflow)


class OptimalDiscriminator:
    """D*_G(x) = sigmoid(log p_data(x) - log p_g(x)) (Proposition 1); numpy or torch input."""

    def __init__(self, p_data: Density, p_g: Density):
        self.p_data = as_density(p_data)
        self.p_g = as_density(p_g)

    def logit(self, x: ArrayLike) -> ArrayLike:
        return self.p_data.logpdf(x) - self.p_g.logpdf(x)

    def logit_scalar(self, x: float) -> float:
        return self.p_data.logpdf_scalar(x) - self.p_g.logpdf_scalar(x)

    def __call__(self, x: ArrayLike) -> ArrayLike:
        l = self.logit(x)
        if isinstance(l, torch.Tensor):
            return torch.sigmoid(l)
        return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(l)))  # sigmoid without overflow warnings

    def __repr__(self) -> str:
        return f"OptimalDiscriminator(p_data={self.p_data}, p_g={self.p_g})"


class LogitDiscriminator:
    """A discriminator given by its logit function x -> l(x) on numpy arrays, e.g. a trained net."""

    def __init__(self, logit: Callable):
        self.logit = logit

    def __call__(self, x):
        return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(self.logit(x))))  # sigmoid, no overflow


def optimal_discriminator(p_data: Density, p_g: Density) -> OptimalDiscriminator:
    """Return D*_G as a callable (Proposition 1)."""
    return OptimalDiscriminator(p_data, p_g)


# Where a probability D rounded to exactly 1 (0), log(1 - D) (log D) is -inf in float64 though the
# true value is finite: 1 - D <= 2^-54 (D <= 2^-1075) there, so the rounded value's log is at
# most LOG_ONE_MINUS_ROUNDED (LOG_ROUNDED_ZERO). The oracle uses these bounds only when the
# density mass on such points is at most SATURATED_MASS_SILENT: there the term changes V by
# under 1e-9 unless |logit| > 1e6, which no float32/float64 net computing probabilities reaches
# smoothly. Above it, value() raises and asks for logits.
LOG_ONE_MINUS_ROUNDED = -54 * math.log(2.0)
LOG_ROUNDED_ZERO = -1075 * math.log(2.0)
SATURATED_MASS_SILENT = 1e-15


def _log_d_pair(d: Callable, x: float) -> tuple[float, float]:
    """(log D(x), log(1 - D(x))) for one point, from the logit when D exposes one."""
    return as_discriminator(d).log_pair(x)


def value_integrand(d: Callable, p_data, p_g, x: float) -> float:
    """p_data(x) log D(x) + p_g(x) log(1 - D(x)), with 0 * log 0 = 0."""
    pd = math.exp(p_data.logpdf_scalar(x))
    pg = math.exp(p_g.logpdf_scalar(x))
    if pd == 0.0 and pg == 0.0:
        return 0.0  # D's value does not matter here (and D* is 0/0)
    log_d, log_1md = _log_d_pair(d, x)
    a = pd * log_d if pd > 0 else 0.0
    b = pg * log_1md if pg > 0 else 0.0
    return a + b


def value(d, p_data, p_g, *, output: str | None = None) -> float:
    r"""The value function (Eq. 1) for a 1-D discriminator ``d`` and the generator density ``p_g``.

    .. math:: V(D, G) = \int p_{data}(x) \log D(x) + p_g(x) \log(1 - D(x))\, dx

    by adaptive quadrature split at the densities' breakpoints (1e-9 absolute on the supported
    range, tested against mpmath).

    ``d``: a :class:`gantheory.Discriminator` (``from_logits(f)`` / ``from_probs(f)``), the
    toolkit's own D (D*, strategies), or any torch module, numpy, torch or scalar function of
    x, with ``output="logits"`` or ``"probs"`` saying what it returns (a bare callable without
    ``output`` is read as probabilities). ``p_data``, ``p_g``: densities, spec strings or scipy
    frozen distributions. Raises :class:`gantheory.discriminators.DiscriminatorError` when D
    returns a probability outside [0, 1] or NaN, or when a probability D has rounded to exactly
    0 or 1 on density mass that matters (it names x: pass logits instead).
    """
    p_data, p_g = as_density(p_data), as_density(p_g)
    disc = as_discriminator(d, output)
    saturated: list[float] = []

    def f(x: float) -> float:
        pd = math.exp(p_data.logpdf_scalar(x))
        pg = math.exp(p_g.logpdf_scalar(x))
        if pd == 0.0 and pg == 0.0:
            return 0.0
        log_d, log_1md = disc.log_pair(x)
        if (log_d == -math.inf and pd > 0) or (log_1md == -math.inf and pg > 0):
            saturated.append(x)
            log_d = max(log_d, LOG_ROUNDED_ZERO)
            log_1md = max(log_1md, LOG_ONE_MINUS_ROUNDED)
        return (pd * log_d if pd > 0 else 0.0) + (pg * log_1md if pg > 0 else 0.0)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", integrate.IntegrationWarning)
        total = integrate_pieces(f, p_data, p_g)
    if saturated:
        def mass(x: float) -> float:
            log_d, log_1md = disc.log_pair(x)
            m = 0.0
            if log_d == -math.inf:
                m += math.exp(p_data.logpdf_scalar(x))
            if log_1md == -math.inf:
                m += math.exp(p_g.logpdf_scalar(x))
            return m

        m = integrate_pieces(mass, p_data, p_g)
        if m > SATURATED_MASS_SILENT:
            x0 = min(saturated, key=abs)
            y = disc(np.array([x0]))[0]
            side = "p_g" if y == 1.0 else "p_data"
            raise DiscriminatorError(
                f"D(x) rounded to exactly {y:g} at x = {x0:.6g} (and elsewhere), on {side} mass "
                f"{m:.2g}: log({'1 - D' if y == 1.0 else 'D'}) is -inf in float64 though V is "
                "finite; pass logits (Discriminator.from_logits(f) or output='logits')")
    for w in caught:
        if issubclass(w.category, integrate.IntegrationWarning):
            first = str(w.message).strip().splitlines()[0]
            warnings.warn(f"value(D, p_data={p_data}, p_g={p_g}): the quadrature may not reach its "
                          f"1e-9 accuracy ({first})", OracleAccuracyWarning, stacklevel=2)
            break
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return total


class OracleAccuracyWarning(UserWarning):
    """The quadrature behind an oracle number reported that it may miss its tolerance."""


def virtual_training_criterion(p_data: Density, p_g: Density) -> float:
    r"""C(G) = V(D*_G, G) (Theorem 1 says this equals -log 4 + 2 JSD(p_data || p_g))."""
    p_data, p_g = as_density(p_data), as_density(p_g)
    return value(optimal_discriminator(p_data, p_g), p_data, p_g)


LOG4 = math.log(4.0)
