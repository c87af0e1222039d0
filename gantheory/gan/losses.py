"""The discriminator's loss and the three generator losses, all from D's logits.

With l the logit of D, log D = logsigmoid(l) = -softplus(-l) and log(1 - D) = -softplus(l); no loss
here ever takes the log of a sigmoid. Every loss reduces over the last dimension (the minibatch)
and keeps leading dimensions, so a batch of S independent seeds with logits of shape (S, m) gets
S losses; the trainer sums them, and since seed s's loss depends only on seed s's parameters the
sum's gradient is each seed's own gradient.

Generator losses (Section 3 of the paper; Goodfellow 2016 tutorial, arXiv 1701.00160, Sec. 3.2):

* ``minimax`` (saturating): descend E log(1 - D(G(z))); its gradient in l is -D, which vanishes
  as D(G(z)) -> 0, exactly when G is poor.
* ``non_saturating``: descend -E log D(G(z)); gradient -(1 - D), magnitude 1 as D -> 0.
* ``maximum_likelihood``: descend -E exp(sigma^-1(D(G(z)))) = -E exp(l); gradient -D / (1 - D).

All three share the fixed point p_g = p_data, D = 1/2.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

GeneratorLoss = Literal["minimax", "non_saturating", "maximum_likelihood"]
GENERATOR_LOSSES: tuple[str, ...] = ("minimax", "non_saturating", "maximum_likelihood")


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    r"""D's loss: -(1/2) V on a minibatch, i.e. (1/2)(BCE on real + BCE on fake).

    .. math:: -\tfrac12 \big(E_x \log D(x) + E_z \log(1 - D(G(z)))\big)
    """
    return 0.5 * (F.softplus(-real_logits).mean(-1) + F.softplus(fake_logits).mean(-1))


def generator_loss(fake_logits: torch.Tensor, loss: str = "non_saturating") -> torch.Tensor:
    """The generator's cost on D's logits for fake samples (see the module docstring)."""
    if loss == "minimax":
        return -F.softplus(fake_logits).mean(-1)  # E log(1 - D)
    if loss == "non_saturating":
        return F.softplus(-fake_logits).mean(-1)  # -E log D
    if loss == "maximum_likelihood":
        return -torch.exp(fake_logits).mean(-1)  # -E D / (1 - D)
    raise ValueError(f"loss must be one of {', '.join(GENERATOR_LOSSES)}, got {loss!r}")


def generator_loss_grad_wrt_logit(d: torch.Tensor, loss: str) -> torch.Tensor:
    """Closed form d(cost)/d(logit) per sample, as a function of D(G(z)) = d (used as a cross-check)."""
    if loss == "minimax":
        return -d
    if loss == "non_saturating":
        return -(1.0 - d)
    if loss == "maximum_likelihood":
        return -d / (1.0 - d)
    raise ValueError(f"loss must be one of {', '.join(GENERATOR_LOSSES)}, got {loss!r}")
