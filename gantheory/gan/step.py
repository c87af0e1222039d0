"""The GAN update rule: one discriminator step, one generator step, and :func:`gan_step`.

:func:`gan_step` is the single update rule every trainer of the toolkit calls (the batched 1-D
trainer and the MNIST trainer); the generator loss (``minimax``, ``non_saturating``,
``maximum_likelihood``), the update order (``alternating``: k steps of D then one of G, as
Algorithm 1; ``simultaneous``: one step on both from the same minibatch, as the paper's MNIST code
ran) and k are its switches. Every function returns detached statistics and never synchronises
with the host, so a trainer decides when to read them.
"""

from __future__ import annotations

from typing import Callable, Literal

import torch
from torch import nn

from .losses import GeneratorLoss, discriminator_loss, generator_loss

UpdateOrder = Literal["alternating", "simultaneous"]


def _params(module: nn.Module) -> list[torch.Tensor]:
    return [p for p in module.parameters() if p.requires_grad]


def discriminator_step(D: nn.Module, opt_d, real: torch.Tensor,
                       fake: torch.Tensor) -> dict[str, torch.Tensor]:
    r"""One ascent step of V in D's parameters (descent on -V/2 = :func:`discriminator_loss`).

    .. math:: \nabla_{\theta_d} \frac{1}{m}\sum_i \big[\log D(x^{(i)}) + \log(1 - D(G(z^{(i)})))\big]
    """
    real_logits = D(real).squeeze(-1)
    fake_logits = D(fake).squeeze(-1)
    d_loss = discriminator_loss(real_logits, fake_logits)
    opt_d.zero_grad(set_to_none=True)
    d_loss.sum().backward(inputs=_params(D))
    opt_d.step()
    return {"d_loss": d_loss.detach(), "d_real": torch.sigmoid(real_logits.detach()).mean(-1),
            "d_fake": torch.sigmoid(fake_logits.detach()).mean(-1)}


def generator_step(G: nn.Module, D: nn.Module, opt_g, z: torch.Tensor,
                   loss: GeneratorLoss = "non_saturating") -> torch.Tensor:
    r"""One descent step of G's cost on the noise minibatch ``z``; returns the detached cost.

    For the non-saturating cost (Section 3), :math:`\nabla_{\theta_g} -\frac1m \sum_i \log D(G(z^{(i)}))`.
    Only G's parameters move; D (pass a DDP-wrapped D's inner module) is read, not updated.
    """
    g_loss = generator_loss(D(G(z)).squeeze(-1), loss)
    opt_g.zero_grad(set_to_none=True)
    g_loss.sum().backward(inputs=_params(G))
    opt_g.step()
    return g_loss.detach()


def gan_step(G: nn.Module, D: nn.Module, opt_g, opt_d, next_real: Callable[[], torch.Tensor],
             next_z: Callable[[], torch.Tensor], *, loss: GeneratorLoss = "non_saturating",
             update: UpdateOrder = "alternating", k: int = 1,
             d_for_g: nn.Module | None = None) -> dict[str, torch.Tensor]:
    """One iteration of GAN training; returns detached statistics (no host synchronisation).

    ``next_real()`` and ``next_z()`` return the next minibatch of data and of noise.
    ``d_for_g`` is the module used for D inside G's step (default ``D``): a DDP-wrapped D passes
    its inner module there, since G's step must not all-reduce D's gradients.
    """
    d_for_g = D if d_for_g is None else d_for_g
    if update == "alternating":
        # Algorithm 1: k steps ascending V in theta_d ...
        for _ in range(k):
            real, z = next_real(), next_z()
            with torch.no_grad():
                fake = G(z)
            stats = discriminator_step(D, opt_d, real, fake)
        # ... then one step on G's loss, with fresh noise.
        g_loss = generator_step(G, d_for_g, opt_g, next_z(), loss)
    elif update == "simultaneous":
        # One minibatch, both gradients taken before either player moves.
        real, z = next_real(), next_z()
        fake = G(z)
        real_logits = D(real).squeeze(-1)
        fake_logits = D(fake).squeeze(-1)
        d_loss = discriminator_loss(real_logits, fake_logits)
        g_loss = generator_loss(fake_logits, loss)
        opt_d.zero_grad(set_to_none=True)
        opt_g.zero_grad(set_to_none=True)
        d_loss.sum().backward(inputs=_params(D), retain_graph=True)
        g_loss.sum().backward(inputs=_params(G))
        opt_d.step()
        opt_g.step()
        g_loss = g_loss.detach()
        stats = {"d_loss": d_loss.detach(), "d_real": torch.sigmoid(real_logits.detach()).mean(-1),
                 "d_fake": torch.sigmoid(fake_logits.detach()).mean(-1)}
    else:
        raise ValueError(f"update must be 'alternating' or 'simultaneous', got {update!r}")
    return dict(stats, g_loss=g_loss)
