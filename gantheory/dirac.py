r"""The Dirac-GAN of Mescheder, Geiger and Nowozin 2018 ("Which training methods for GANs do
actually converge?", Sec. 2), in torch, through the toolkit's own losses.

    >>> from gantheory.dirac import DiracCase, field, jacobian, eigenvalues_closed
    >>> case = DiracCase("minimax")
    >>> field(case, 1.0, 1.0)            # (theta_dot, psi_dot) by autograd
    >>> eigenvalues_closed(case)         # +- i/2: purely imaginary

p_data = delta_0; the generator puts all its mass at theta (p_g = delta_theta); the discriminator
is linear, D(x) = sigmoid(psi x) (logit psi x; for WGAN psi x is the critic's value). The state is
(theta, psi) and the equilibrium is (0, 0).

**Sign convention.** The toolkit's D is the probability of *real*; Mescheder et al.'s D is a
logit of *fake* (their objective is f(psi theta) + f(0)). Our psi is minus theirs: the fields,
Jacobians and eigenvalues agree, and our trajectories are theirs mirrored in psi.

**The vector field** v = (theta_dot, psi_dot) = (-d L_G / d theta, -d L_D / d psi), where L_G is
:func:`gantheory.gan.losses.generator_loss` on the fake logit (``minimax``: log(1 - D);
``non_saturating``: -log D) and L_D = 2 :func:`~gantheory.gan.losses.discriminator_loss`
= -V. The toolkit's D loss carries the paper's 1/2 (the mean of the two BCE terms); left in, D
would step at half G's rate, a two-timescale variant. :data:`D_LOSS_SCALE` removes it so the
field is Mescheder et al.'s. For WGAN (f(t) = t) the losses are written here: the critic
minimises E D(fake) - E D(real), G minimises -E D(fake).

Closed forms (f'(0) = 1/2 for minimax and non-saturating, 1 for WGAN; sigma the logistic):

.. math::
    \text{minimax: } v = (\psi\,\sigma(\psi\theta),\ -\theta\,\sigma(\psi\theta)),\quad
    \text{NS: } v = (\psi\,\sigma(-\psi\theta),\ -\theta\,\sigma(\psi\theta)),\quad
    \text{WGAN: } v = (\psi,\ -\theta).

Regularisers of D (added to L_D): R1 = gamma/2 |grad_x D(x)|^2 on real samples, R2 the same on
fake samples (for a linear D both are gamma/2 psi^2: psi_dot gains -gamma psi), WGAN-GP =
gamma/2 (|grad_x D(x_hat)| - g0)^2 on x_hat between real and fake (psi_dot gains
-gamma (|psi| - g0) sign psi, discontinuous at psi = 0). Instance noise adds N(0, noise^2) to
real and fake samples; expectations over it are Gauss-Hermite sums (:data:`GH_NODES` nodes).

Jacobian at (0, 0) (Mescheder et al., Lemma 2.2, Sec. 3, Theorem 4.1 / Lemma 3.2): unregularised
eigenvalues +- i f'(0); with R1 or R2, -gamma/2 +- sqrt(gamma^2/4 - f'(0)^2); with instance
noise, f''(0) noise^2 +- sqrt(f''(0)^2 noise^4 - f'(0)^2) with f''(0) = -1/4.

Gradient descent with step h: simultaneous x' = x + h v(x); alternating (Algorithm 1's order)
k steps of psi' = psi + h v_psi(theta, psi), then theta' = theta + h v_theta(theta, psi').
"""

from __future__ import annotations

import cmath
import functools
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from scipy import integrate, special

from .errors import ConfigError
from .gan.losses import discriminator_loss, generator_loss

DiracLoss = Literal["minimax", "non_saturating", "wgan"]
Regulariser = Literal["none", "r1", "r2", "wgan_gp"]
DIRAC_LOSSES: tuple[str, ...] = ("minimax", "non_saturating", "wgan")
REGULARISERS: tuple[str, ...] = ("none", "r1", "r2", "wgan_gp")
# L_D = 2 * discriminator_loss = -V: undoes the toolkit's (1/2)(BCE real + BCE fake).
D_LOSS_SCALE = 2.0
# Gauss-Hermite nodes for expectations over instance noise: exact for the Jacobian at (0, 0)
# (its integrands are polynomials of degree <= 2 in the noise). Elsewhere the logistic's poles
# at psi (theta + eps) = +- i pi limit the convergence: at noise std 1 and |psi| = 2 the gap to
# adaptive quadrature is 5e-8 with 40 nodes, 1.5e-11 with 80, 3e-14 with 120, 1e-15 with 200.
GH_NODES = 160
# The interpolation point of WGAN-GP: for a linear D, grad_x D is psi at every x_hat, so the
# uniform t of Gulrajani et al. changes nothing and a fixed t keeps the field deterministic.
GP_T = 0.5
F_PRIME_0 = {"minimax": 0.5, "non_saturating": 0.5, "wgan": 1.0}  # f'(0)
F_SECOND_0 = {"minimax": -0.25, "non_saturating": -0.25, "wgan": 0.0}  # f''(0)


@dataclass(frozen=True)
class DiracCase:
    """One training method on the Dirac-GAN: loss, D's regulariser, its gamma, noise std."""

    loss: DiracLoss = "minimax"
    reg: Regulariser = "none"
    gamma: float = 0.0
    g0: float = 1.0  # WGAN-GP's target gradient norm
    noise: float = 0.0  # instance noise std

    def __post_init__(self):
        if self.loss not in DIRAC_LOSSES:
            raise ConfigError(f"loss must be one of {', '.join(DIRAC_LOSSES)}, got {self.loss!r}")
        if self.reg not in REGULARISERS:
            raise ConfigError(f"reg must be one of {', '.join(REGULARISERS)}, got {self.reg!r}")
        if self.gamma < 0 or self.noise < 0 or self.g0 < 0:
            raise ConfigError("gamma, g0 and noise must be >= 0")
        if self.reg != "none" and self.noise > 0:
            raise ConfigError("instance noise is combined with no regulariser here")

    @property
    def label(self) -> str:
        parts = [self.loss]
        if self.reg != "none":
            parts.append(f"{self.reg} (gamma={self.gamma:g})")
        if self.noise > 0:
            parts.append(f"instance noise (std={self.noise:g})")
        return " + ".join(parts)


@functools.lru_cache(maxsize=8)
def _noise_nodes(noise: float, n: int = GH_NODES) -> tuple[torch.Tensor, torch.Tensor]:
    """Nodes and weights of E_{eps ~ N(0, noise^2)}; one node of weight 1 when noise = 0."""
    if noise == 0:
        return torch.zeros(1, dtype=torch.float64), torch.ones(1, dtype=torch.float64)
    z, w = np.polynomial.hermite_e.hermegauss(n)
    return torch.as_tensor(noise * z), torch.as_tensor(w / math.sqrt(2 * math.pi))


def _d_logit(psi: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return psi * x  # D(x) = sigmoid(psi x)


def gradient_penalty(case: DiracCase, psi: torch.Tensor, real: torch.Tensor, fake: torch.Tensor,
                     w: torch.Tensor) -> torch.Tensor:
    r"""D's regulariser, from autograd's grad_x of D's logit at the samples it names.

    .. math:: R_1 = \tfrac{\gamma}{2} E_{p_{data}} |\nabla_x D(x)|^2,\quad
              R_2 = \tfrac{\gamma}{2} E_{p_g} |\nabla_x D(x)|^2,\quad
              GP = \tfrac{\gamma}{2} E\, (|\nabla_x D(\hat x)| - g_0)^2
    """
    if case.reg == "none":
        return psi.new_zeros(())
    if case.reg == "r1":
        x = real.detach()
    elif case.reg == "r2":
        x = fake.detach()  # the penalty is D's; G's theta does not enter it
    else:
        x = GP_T * real.detach() + (1 - GP_T) * fake.detach()
    x = x.clone().requires_grad_(True)
    (gx,) = torch.autograd.grad(_d_logit(psi, x).sum(), x, create_graph=True)
    if case.reg == "wgan_gp":
        return 0.5 * case.gamma * (w * (gx.abs() - case.g0) ** 2).sum()
    return 0.5 * case.gamma * (w * gx**2).sum()


def losses(case: DiracCase, theta: torch.Tensor, psi: torch.Tensor):
    """(L_G, L_D) at (theta, psi): the toolkit's losses on the Dirac-GAN's samples."""
    eps, w = _noise_nodes(case.noise)
    real = torch.zeros_like(eps) + eps  # x ~ delta_0 (+ noise)
    fake = theta + eps  # G(z) = theta (+ noise)
    real_logits, fake_logits = _d_logit(psi, real), _d_logit(psi, fake)
    if case.loss == "wgan":
        l_g = -(w * fake_logits).sum()
        l_d = (w * (fake_logits - real_logits)).sum()
    else:
        # one node per row: the toolkit's losses reduce over the last dim, leaving per-node costs
        l_g = (w * generator_loss(fake_logits[:, None], case.loss)).sum()
        l_d = D_LOSS_SCALE * (w * discriminator_loss(real_logits[:, None],
                                                     fake_logits[:, None])).sum()
    return l_g, l_d + gradient_penalty(case, psi, real, fake, w)


def field_t(case: DiracCase, x: torch.Tensor, create_graph: bool = False) -> torch.Tensor:
    """v(x) for x = (theta, psi) as a torch tensor, by autograd (differentiable if asked)."""
    if not x.requires_grad:
        x = x.clone().requires_grad_(True)
    theta, psi = x[0], x[1]
    l_g, l_d = losses(case, theta, psi)
    (g_theta,) = torch.autograd.grad(l_g, theta, create_graph=True)
    (g_psi,) = torch.autograd.grad(l_d, psi, create_graph=create_graph)
    out = torch.stack([-g_theta, -g_psi])
    return out if create_graph else out.detach()


def field(case: DiracCase, theta: float, psi: float) -> np.ndarray:
    """(theta_dot, psi_dot) at one state, by autograd through :func:`losses`."""
    return field_t(case, torch.tensor([theta, psi], dtype=torch.float64)).numpy()


def field_closed(case: DiracCase, theta: float, psi: float) -> np.ndarray:
    """The same field from the closed forms of the module docstring (noise: adaptive quadrature
    of the closed-form integrands, no autograd)."""
    s = special.expit
    if case.noise > 0:
        sd = case.noise
        kw = dict(epsabs=1e-14, epsrel=1e-13, limit=200)

        def expect(f):
            pdf = lambda e: math.exp(-0.5 * (e / sd) ** 2) / (sd * math.sqrt(2 * math.pi))  # noqa
            return integrate.quad(lambda e: pdf(e) * f(e), -40 * sd, 40 * sd, **kw)[0]

        if case.loss == "wgan":
            return np.array([psi, -theta])
        gs = (lambda e: psi * s(psi * (theta + e))) if case.loss == "minimax" else \
            (lambda e: psi * s(-psi * (theta + e)))
        return np.array([expect(gs), expect(lambda e: e * s(-psi * e))
                         - expect(lambda e: (theta + e) * s(psi * (theta + e)))])
    if case.loss == "wgan":
        v = [psi, -theta]
    elif case.loss == "minimax":
        v = [psi * s(psi * theta), -theta * s(psi * theta)]
    else:
        v = [psi * s(-psi * theta), -theta * s(psi * theta)]
    if case.reg in ("r1", "r2"):
        v[1] -= case.gamma * psi
    elif case.reg == "wgan_gp":
        v[1] -= case.gamma * (abs(psi) - case.g0) * np.sign(psi)
    return np.array(v, dtype=np.float64)


def jacobian(case: DiracCase, theta: float = 0.0, psi: float = 0.0) -> np.ndarray:
    """dv/dx at (theta, psi) by autograd through the autograd field (second derivatives)."""
    x = torch.tensor([theta, psi], dtype=torch.float64)
    return torch.autograd.functional.jacobian(lambda y: field_t(case, y, create_graph=True),
                                              x).numpy()


def jacobian_closed(case: DiracCase) -> np.ndarray:
    """The Jacobian at (0, 0) in closed form (undefined for WGAN-GP: the field jumps at psi=0)."""
    if case.reg == "wgan_gp":
        raise ValueError("WGAN-GP's field is not differentiable at psi = 0")
    a = F_PRIME_0[case.loss]
    d = -case.gamma if case.reg in ("r1", "r2") else 0.0
    d += 2 * F_SECOND_0[case.loss] * case.noise**2  # E[eps^2] f''(0) from real and from fake
    return np.array([[0.0, a], [-a, d]])


def eigenvalues_closed(case: DiracCase) -> np.ndarray:
    """The Jacobian's eigenvalues at (0, 0) as the paper states them, largest real part first."""
    a = F_PRIME_0[case.loss]
    if case.reg in ("r1", "r2"):
        c, r = -case.gamma / 2, cmath.sqrt(case.gamma**2 / 4 - a**2)
    else:
        c = F_SECOND_0[case.loss] * case.noise**2
        r = cmath.sqrt(c**2 - a**2)
    return _sorted(np.array([c + r, c - r]))


def _sorted(ev: np.ndarray) -> np.ndarray:
    ev = np.asarray(ev, dtype=np.complex128)
    return ev[np.lexsort((-ev.imag, -ev.real))]


def eigenvalues(jac: np.ndarray) -> np.ndarray:
    return _sorted(np.linalg.eigvals(jac))


# ---------------------------------------------------------------------------------------------
# gradient descent maps

def simultaneous_step(case: DiracCase, x: torch.Tensor, h: float, k: int = 1) -> torch.Tensor:
    """x' = x + h v(x): both players read the same state (k does not apply)."""
    return x + h * field_t(case, x, create_graph=x.requires_grad)


def alternating_step(case: DiracCase, x: torch.Tensor, h: float, k: int = 1) -> torch.Tensor:
    """k steps of D (psi), then one of G (theta) reading the updated psi: Algorithm 1's order."""
    cg = x.requires_grad
    theta, psi = x[0], x[1]
    for _ in range(k):
        psi = psi + h * field_t(case, torch.stack([theta, psi]), create_graph=cg)[1]
    theta = theta + h * field_t(case, torch.stack([theta, psi]), create_graph=cg)[0]
    return torch.stack([theta, psi])


def step_fn(update: str):
    if update == "simultaneous":
        return simultaneous_step
    if update == "alternating":
        return alternating_step
    raise ConfigError(f"update must be 'simultaneous' or 'alternating', got {update!r}")


def map_jacobian(case: DiracCase, update: str, h: float, k: int = 1) -> np.ndarray:
    """The Jacobian at (0, 0) of one step of gradient descent, by autograd through the map."""
    step = step_fn(update)
    x = torch.zeros(2, dtype=torch.float64)
    return torch.autograd.functional.jacobian(lambda y: step(case, y, h, k), x).numpy()


def map_jacobian_closed(jac: np.ndarray, update: str, h: float, k: int = 1) -> np.ndarray:
    r"""The same from the field's Jacobian J = [[g, b], [c, d]] by the chain rule, in closed form.

    Simultaneous: I + h J. Alternating: k shears of psi, then one of theta,

    .. math:: A_D = \begin{pmatrix}1&0\\hc&1+hd\end{pmatrix},\quad
              A_G = \begin{pmatrix}1+hg&hb\\0&1\end{pmatrix},\quad M = A_G A_D^k.
    """
    (g, b), (c, d) = jac
    if update == "simultaneous":
        return np.eye(2) + h * np.asarray(jac)
    # A_D^k: psi' = (1+hd)^k psi + hc (1 + (1+hd) + ... + (1+hd)^(k-1)) theta
    q = 1 + h * d
    geo = k if d == 0 else (q**k - 1) / (q - 1)
    ad = np.array([[1.0, 0.0], [h * c * geo, q**k]])
    ag = np.array([[1 + h * g, h * b], [0.0, 1.0]])
    return ag @ ad


def spectral_radius_closed(case: DiracCase, update: str, h: float, k: int = 1) -> float:
    r"""The spectral radius of the linearised map at (0, 0) from closed-form eigenvalues.

    Simultaneous: max |1 + h lambda| over the field's eigenvalues lambda. Alternating with k D
    steps and no regulariser: lambda = 1 - alpha^2/2 +- sqrt((1 - alpha^2/2)^2 - 1),
    alpha = sqrt(k) h f'(0), on the unit circle for alpha <= 2 (Mescheder et al., Lemma 2.4);
    otherwise the roots of z^2 - tr z + det with tr and det of :func:`map_jacobian_closed`.
    """
    if update == "simultaneous":
        return float(np.max(np.abs(1 + h * eigenvalues_closed(case))))
    jac = jacobian_closed(case)
    if case.reg == "none" and case.noise == 0:
        alpha2 = k * (h * F_PRIME_0[case.loss]) ** 2
        c = 1 - alpha2 / 2
        r = cmath.sqrt(c * c - 1)
        return float(max(abs(c + r), abs(c - r)))
    m = map_jacobian_closed(jac, update, h, k)
    tr, det = m[0, 0] + m[1, 1], m[0, 0] * m[1, 1] - m[0, 1] * m[1, 0]
    r = cmath.sqrt(tr * tr / 4 - det)
    return float(max(abs(tr / 2 + r), abs(tr / 2 - r)))


def trajectory(case: DiracCase, update: str, h: float, steps: int, x0=(1.0, 1.0),
               k: int = 1) -> np.ndarray:
    """(steps + 1, 2) iterates of gradient descent from x0."""
    step = step_fn(update)
    x = torch.tensor(x0, dtype=torch.float64)
    out = [x.numpy().copy()]
    for _ in range(steps):
        x = step(case, x, h, k).detach()
        out.append(x.numpy().copy())
    return np.asarray(out)


def trajectory_gan_step(case: DiracCase, update: str, h: float, steps: int, x0=(1.0, 1.0),
                        k: int = 1) -> np.ndarray:
    """The same iterates from the toolkit's trainer: :func:`gantheory.gan.step.gan_step` with SGD.

    G is a module holding theta (it maps any z to theta), D a linear logit psi x. gan_step's D
    loss is the toolkit's, with the 1/2 in it, so D's learning rate is D_LOSS_SCALE * h: the
    same map as :func:`trajectory`. Only the unregularised, noise-free GAN losses apply.
    """
    from torch import nn

    from .gan.step import gan_step

    if case.loss == "wgan" or case.reg != "none" or case.noise > 0:
        raise ValueError("gan_step runs the plain GAN losses only")

    class _G(nn.Module):
        def __init__(self):
            super().__init__()
            self.theta = nn.Parameter(torch.tensor(float(x0[0]), dtype=torch.float64))

        def forward(self, z):
            return self.theta + 0 * z

    class _D(nn.Module):
        def __init__(self):
            super().__init__()
            self.psi = nn.Parameter(torch.tensor(float(x0[1]), dtype=torch.float64))

        def forward(self, x):
            return self.psi * x

    G, D = _G(), _D()
    opt_g = torch.optim.SGD(G.parameters(), lr=h)
    opt_d = torch.optim.SGD(D.parameters(), lr=D_LOSS_SCALE * h)
    zero = lambda: torch.zeros(1, 1, 1, dtype=torch.float64)  # noqa: E731  (S=1, m=1, 1 feature)
    out = [np.array(x0, dtype=np.float64)]
    for _ in range(steps):
        gan_step(G, D, opt_g, opt_d, zero, zero, loss=case.loss, update=update, k=k)
        out.append(np.array([G.theta.item(), D.psi.item()]))
    return np.asarray(out)


def vector_field_grid(case: DiracCase, lim: float = 2.0, n: int = 15):
    """(theta grid, psi grid, theta_dot, psi_dot) on an n x n grid, closed form (for quiver)."""
    ts = np.linspace(-lim, lim, n)
    tt, pp = np.meshgrid(ts, ts)
    if case.noise > 0:  # the quadrature is slow; the autograd field is checked against it
        uv = np.array([[field(case, a, b) for a, b in zip(r1, r2)] for r1, r2 in zip(tt, pp)])
    else:
        uv = np.array([[field_closed(case, a, b) for a, b in zip(r1, r2)]
                       for r1, r2 in zip(tt, pp)])
    return tt, pp, uv[..., 0], uv[..., 1]
