"""The theory oracle: D*, V(D, G) and C(G) for 1-D densities, exact up to quadrature error.

Proposition 1: for fixed G the optimal discriminator is

.. math:: D^*_G(x) = \\frac{p_{data}(x)}{p_{data}(x) + p_g(x)} = \\sigma(\\log p_{data}(x) - \\log p_g(x)),

computed here from log densities, so D* stays right where both densities underflow.
Theorem 1: C(G) = max_D V(D, G) = V(D*_G, G) = -log 4 + 2 JSD(p_data || p_g).

A discriminator is any callable x -> D(x) in (0, 1). When it also offers ``logit(x)`` (or
``logit_scalar(x)``), log D and log(1 - D) are taken from the logit with stable primitives:
log D = -softplus(-l), log(1 - D) = -softplus(l).
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch

from .densities import ArrayLike, Density
from .divergences import integrate_pieces


def _softplus(t: float) -> float:
    """log(1 + e^t) without overflow."""
    return max(t, 0.0) + math.log1p(math.exp(-abs(t)))


class OptimalDiscriminator:
    """D*_G(x) = sigmoid(log p_data(x) - log p_g(x)) (Proposition 1); numpy or torch input."""

    def __init__(self, p_data: Density, p_g: Density):
        self.p_data = p_data
        self.p_g = p_g

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


def _log_d_pair(d: Callable, x: float) -> tuple[float, float]:
    """(log D(x), log(1 - D(x))) for one point, from the logit when D exposes one."""
    if hasattr(d, "logit_scalar"):
        l = float(d.logit_scalar(x))
    elif hasattr(d, "logit"):
        l = float(np.asarray(d.logit(np.array([x], dtype=np.float64))).reshape(-1)[0])
    else:
        y = float(np.asarray(d(np.array([x], dtype=np.float64))).reshape(-1)[0])
        log_d = math.log(y) if y > 0 else -math.inf
        log_1md = math.log1p(-y) if y < 1 else -math.inf
        return log_d, log_1md
    return -_softplus(-l), -_softplus(l)


def value_integrand(d: Callable, p_data: Density, p_g: Density, x: float) -> float:
    """p_data(x) log D(x) + p_g(x) log(1 - D(x)), with 0 * log 0 = 0."""
    log_d, log_1md = _log_d_pair(d, x)
    pd = math.exp(p_data.logpdf_scalar(x))
    pg = math.exp(p_g.logpdf_scalar(x))
    a = pd * log_d if pd > 0 else 0.0
    b = pg * log_1md if pg > 0 else 0.0
    return a + b


def value(d: Callable, p_data: Density, p_g: Density) -> float:
    r"""The value function (Eq. 1) for a 1-D discriminator ``d`` and the generator density ``p_g``.

    .. math:: V(D, G) = \int p_{data}(x) \log D(x) + p_g(x) \log(1 - D(x))\, dx

    by adaptive quadrature split at the densities' breakpoints.
    """
    return integrate_pieces(lambda x: value_integrand(d, p_data, p_g, x), p_data, p_g)


def virtual_training_criterion(p_data: Density, p_g: Density) -> float:
    r"""C(G) = V(D*_G, G) (Theorem 1 says this equals -log 4 + 2 JSD(p_data || p_g))."""
    return value(optimal_discriminator(p_data, p_g), p_data, p_g)


LOG4 = math.log(4.0)
