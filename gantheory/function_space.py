r"""Proposition 2 in function space: p_g with unlimited capacity, D = D* at every step.

The paper's convergence argument (Proposition 2) treats p_g itself as the variable: if D reaches
D*_G at every step and p_g takes a step that improves the criterion, then p_g -> p_data, because
C(G) = sup_D U(p_g, D) is convex in p_g. Here p_g is a density on a fine grid, one free logit per
grid point (the "unlimited capacity" of the paper), and the step is exponentiated gradient
(mirror descent with the entropy), natural for densities since it keeps p_g positive and
normalised:

.. math::

    w_g \leftarrow \frac{w_g\, e^{-\eta\, \phi}}{\sum_j w_g(j)\, e^{-\eta\, \phi_j}},\qquad
    \phi(x) = \frac{\partial V(D, G)}{\partial p_g(x)} = \log(1 - D(x)),\quad D = D^*_G

where :math:`w_g(i) = p_g(x_i)\,\Delta x` are the grid masses. With D = D* held fixed this is the
functional gradient of V in p_g, which by the envelope theorem (:math:`\partial V/\partial D = 0`
at D*) is the gradient of C(G) itself; :func:`gradient_checks` verifies both statements with
autograd at every step.

Monotone decrease. On the grid, :math:`C(w) = \sum_i v_i \log\frac{v_i}{v_i + w_i} + w_i
\log\frac{w_i}{v_i + w_i}` (data masses :math:`v_i`) is convex in w with Hessian
:math:`\mathrm{diag}\big(v_i / (w_i (v_i + w_i))\big) \preceq \mathrm{diag}(1 / w_i)`, the Hessian
of the entropy: C is 1-smooth relative to the entropy, so mirror descent with any step
:math:`0 < \eta \le 1` decreases C, hence JSD, at every step (Bauschke, Bolte and Teboulle 2017;
Lu, Freund and Nesterov 2018) and converges to the minimiser :math:`w = v`. At :math:`\eta = 1`
the step is exactly :math:`w_g \leftarrow (v + w_g)/2`.

Everything is float64 and in log space: log masses ``lw``, with ``logsumexp(lw) = 0``;
log D = -softplus(-l), log(1 - D) = -softplus(l) from D's logit l, with :func:`softplus` exact
to rounding for every l (torch's ``F.softplus`` returns l itself beyond l = 20, an error of up to
e^-20 = 2e-9 that would show at the 1e-16 level this module works at).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .densities import Density

LOG2 = math.log(2.0)


def softplus(x: torch.Tensor) -> torch.Tensor:
    """log(1 + e^x) = max(x, 0) + log1p(e^-|x|), exact to rounding and finite for all x."""
    return torch.clamp(x, min=0) + torch.log1p(torch.exp(-x.abs()))


@dataclass(frozen=True)
class Grid:
    """n equally spaced points on [lo, hi]; the 1-D domain of a function-space p_g."""

    lo: float
    hi: float
    n: int

    @property
    def x(self) -> torch.Tensor:
        return torch.linspace(self.lo, self.hi, self.n, dtype=torch.float64)

    @property
    def dx(self) -> float:
        return (self.hi - self.lo) / (self.n - 1)


def grid_for(*densities: Density, n: int = 4001, pad: float = 10.0) -> Grid:
    """A grid covering every component of ``densities`` to mu +- ``pad`` sigma."""
    comps = [c for d in densities for c in d.components()]
    return Grid(min(c.mu - pad * c.sigma for c in comps),
                max(c.mu + pad * c.sigma for c in comps), n)


def log_masses(density: Density, grid: Grid) -> torch.Tensor:
    r"""Log grid masses of a density: :math:`\log p(x_i) + \log\Delta x`, renormalised to sum 1.

    The renormalisation (a change of order 1e-15 for a grid that covers the density) makes every
    grid quantity an exact functional of a probability vector, so JSD on the grid lies in
    [0, log 2] and is 0 only at w_g = w_data.
    """
    lw = density.logpdf(grid.x) + math.log(grid.dx)
    return lw - torch.logsumexp(lw, 0)


def d_star_logit(lw_data: torch.Tensor, lw_g: torch.Tensor) -> torch.Tensor:
    r"""Logit of D* on the grid (Proposition 1): :math:`\log p_{data} - \log p_g` (dx cancels)."""
    return lw_data - lw_g


def value(lw_data: torch.Tensor, lw_g: torch.Tensor, d_logit: torch.Tensor) -> torch.Tensor:
    r""":math:`V(D, G) = \sum_i w_{data}(i)\log D(x_i) + w_g(i)\log(1 - D(x_i))` on the grid."""
    return (torch.exp(lw_data) * -softplus(-d_logit)).sum() + \
           (torch.exp(lw_g) * -softplus(d_logit)).sum()


def criterion(lw_data: torch.Tensor, lw_g: torch.Tensor) -> torch.Tensor:
    """C(G) = V(D*_G, G) on the grid (Theorem 1: equals -log 4 + 2 JSD)."""
    return value(lw_data, lw_g, lw_data - lw_g)


def jsd(lw_data: torch.Tensor, lw_g: torch.Tensor) -> torch.Tensor:
    r"""JSD of the two grid distributions, from its own definition (not through C).

    .. math:: \tfrac12 \sum_i w_{data}(i)\log\frac{w_{data}(i)}{m_i} + w_g(i)\log\frac{w_g(i)}{m_i},
              \qquad m = \tfrac12(w_{data} + w_g)
    """
    lm = torch.logaddexp(lw_data, lw_g) - LOG2
    return 0.5 * ((torch.exp(lw_data) * (lw_data - lm)).sum()
                  + (torch.exp(lw_g) * (lw_g - lm)).sum())


def functional_gradient(d_logit: torch.Tensor) -> torch.Tensor:
    r""":math:`\partial V / \partial w_g = \log(1 - D) = -\mathrm{softplus}(l)` at fixed D."""
    return -softplus(d_logit)


def mirror_step(lw_g: torch.Tensor, phi: torch.Tensor, eta: float) -> torch.Tensor:
    r"""Exponentiated gradient: :math:`w_g \propto w_g e^{-\eta\phi}`, in log space."""
    return torch.log_softmax(lw_g - eta * phi, 0)


def gradient_checks(lw_data: torch.Tensor, lw_g: torch.Tensor, d_logit: torch.Tensor,
                    phi: torch.Tensor) -> dict[str, float]:
    r"""Autograd cross-checks of one step's gradient, with p_g parametrised by logits u.

    With :math:`w_g = \mathrm{softmax}(u)`, the chain rule gives
    :math:`\partial V/\partial u_i = w_i(\phi_i - \sum_j w_j \phi_j)`. Returns the largest
    deviations, relative to :math:`\max_i |w_i \phi_i|`, of

    * ``autograd_vs_functional``: autograd of V(D fixed) in u vs that closed form;
    * ``envelope``: autograd of C(u) = V(D*_u, u) (D moving with u) vs V with D held fixed, which
      agree when D = D* (the envelope theorem). With a D that is not D* they differ.
    """
    u = lw_g.detach().clone().requires_grad_(True)
    lw = torch.log_softmax(u, 0)
    (g_fixed,) = torch.autograd.grad(value(lw_data, lw, d_logit.detach()), u)
    u2 = lw_g.detach().clone().requires_grad_(True)
    lw2 = torch.log_softmax(u2, 0)
    (g_moving,) = torch.autograd.grad(value(lw_data, lw2, lw_data - lw2), u2)
    w = torch.exp(lw_g)
    closed = w * (phi - (w * phi).sum())
    scale = float((w * phi).abs().max()) or 1.0
    return {"autograd_vs_functional": float((g_fixed - closed).abs().max()) / scale,
            "envelope": float((g_moving - g_fixed).abs().max()) / scale}


def descend(lw_data: torch.Tensor, lw_g0: torch.Tensor, *, steps: int, eta: float) -> dict:
    """Run ``steps`` mirror-descent steps on C(G) with D = D* recomputed before each step.

    Returns numpy arrays: ``jsd`` and ``criterion`` (steps + 1,), the final log masses ``lw_g``,
    and the worst autograd deviations over the run (see :func:`gradient_checks`).
    """
    lw_g = lw_g0.clone()
    jsds, crits = [float(jsd(lw_data, lw_g))], [float(criterion(lw_data, lw_g))]
    worst = {"autograd_vs_functional": 0.0, "envelope": 0.0}
    for _ in range(steps):
        d_logit = d_star_logit(lw_data, lw_g)  # D <- D*_G exactly (the inner loop at its limit)
        phi = functional_gradient(d_logit)
        for key, val in gradient_checks(lw_data, lw_g, d_logit, phi).items():
            worst[key] = max(worst[key], val)
        lw_g = mirror_step(lw_g, phi, eta)  # p_g <- a step that lowers C(G)
        jsds.append(float(jsd(lw_data, lw_g)))
        crits.append(float(criterion(lw_data, lw_g)))
    return {"jsd": np.asarray(jsds), "criterion": np.asarray(crits), "lw_g": lw_g,
            "grad_check": worst}
