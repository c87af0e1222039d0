"""The paper's MNIST networks: a ReLU MLP generator and a maxout discriminator with dropout.

G: z (``z_dim``) -> ``g_hidden`` ReLU -> ``g_hidden`` ReLU -> 784 sigmoid (pixels in [0, 1]).
D: 784 -> maxout ``d_units`` x ``d_pieces`` -> maxout ``d_units`` x ``d_pieces`` -> 1 logit, with
dropout on the input of every layer (keep 0.8 for the pixels, 0.5 after, kept values scaled by
1/keep, as pylearn2's ``dropout_fprop``). D returns logits; losses take log D only through them.

Randomness is explicit: noise and dropout masks come from ``torch.Generator`` s the trainer owns
and checkpoints. Under data parallelism each rank holds a slice of the global minibatch; noise and
masks are drawn for the whole global minibatch from generators that are identical on every rank,
and each rank keeps its rows, so N ranks compute exactly the numbers one process would::

    G, D = build(cfg, out_bias=generator_output_bias(x_train, cfg.g_bias_clip))
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..util.rng import seed_generator
from .config import MNISTConfig

PIXELS = 784


class Shard:
    """This rank's rows of a global minibatch: ``rank`` of ``world`` equal slices."""

    def __init__(self, rank: int = 0, world: int = 1):
        self.rank, self.world = rank, world

    def rows(self, full: torch.Tensor) -> torch.Tensor:
        """``full`` has the global batch in dim 0; returns this rank's contiguous slice."""
        if self.world == 1:
            return full
        b = full.shape[0] // self.world
        return full[self.rank * b:(self.rank + 1) * b]


def draw_z(n_local: int, z_dim: int, kind: str, gen: torch.Generator, shard: Shard,
           device: torch.device | str) -> torch.Tensor:
    """``n_local`` rows of z: uniform on [-sqrt 3, sqrt 3] (unit variance) or standard normal."""
    shape = (n_local * shard.world, z_dim)
    if kind == "uniform":
        z = torch.rand(shape, generator=gen, device=device).mul_(2 * math.sqrt(3.0))
        z = z.sub_(math.sqrt(3.0))
    else:
        z = torch.randn(shape, generator=gen, device=device)
    return shard.rows(z)


class Generator(nn.Module):
    """G(z): two ReLU layers and a sigmoid output layer; outputs pixels in [0, 1]."""

    def __init__(self, z_dim: int, hidden: int, init: float, out_bias: torch.Tensor | None,
                 gen: torch.Generator):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(z_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                                 nn.ReLU(), nn.Linear(hidden, PIXELS))
        _init_uniform(self.net, init, gen)
        if out_bias is not None:
            with torch.no_grad():
                self.net[-1].bias.copy_(out_bias)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(z))


class Maxout(nn.Module):
    """h_j = max_p (x W + b)_{j, p}: ``units`` units of ``pieces`` linear pieces each."""

    def __init__(self, fan_in: int, units: int, pieces: int):
        super().__init__()
        self.units, self.pieces = units, pieces
        self.linear = nn.Linear(fan_in, units * pieces)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.linear(x)
        return y.view(*y.shape[:-1], self.units, self.pieces).max(-1).values


class Discriminator(nn.Module):
    """D(x) as a logit: two maxout layers and a linear output, dropout before each layer.

    ``gen`` draws the dropout masks; ``shard`` makes every rank draw the global batch's masks and
    keep its rows. In ``eval()`` mode dropout is off (for monitoring only; training keeps it on,
    also inside G's step, as the paper does).
    """

    def __init__(self, units: int, pieces: int, init: float, input_keep: float,
                 hidden_keep: float, gen: torch.Generator, dropout_gen: torch.Generator,
                 shard: Shard | None = None):
        super().__init__()
        self.h0 = Maxout(PIXELS, units, pieces)
        self.h1 = Maxout(units, units, pieces)
        self.y = nn.Linear(units, 1)
        _init_uniform(self, init, gen)
        self.keep = (input_keep, hidden_keep, hidden_keep)
        self.dropout_gen, self.shard = dropout_gen, shard or Shard()

    def _dropout(self, x: torch.Tensor, keep: float) -> torch.Tensor:
        if keep >= 1.0 or not self.training:
            return x
        full = (x.shape[0] * self.shard.world, x.shape[1])
        u = torch.rand(full, generator=self.dropout_gen, device=x.device, dtype=x.dtype)
        mask = self.shard.rows(u).lt_(keep).mul_(1.0 / keep)  # 0 or 1/keep
        return x * mask

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.h0(self._dropout(x, self.keep[0]))
        h = self.h1(self._dropout(h, self.keep[1]))
        return self.y(self._dropout(h, self.keep[2]))


def _init_uniform(module: nn.Module, init: float, gen: torch.Generator) -> None:
    """Weights U(-init, init) (pylearn2's ``irange``), biases 0, drawn in parameter order."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith("bias"):
                p.zero_()
            else:
                p.copy_(torch.rand(p.shape, generator=gen).mul_(2 * init).sub_(init))


def generator_output_bias(x_train: torch.Tensor, clip: float) -> torch.Tensor:
    r"""G's output bias: the logit of each pixel's mean over the training data, clipped.

    .. math:: b_j = \sigma^{-1}(\mathrm{clip}(\bar x_j, c, 1 - c))

    pylearn2's ``init_sigmoid_bias_from_marginals`` (``c = 1e-7``): at initialisation, G's mean
    image is the data's.
    """
    mean = x_train.double().mean(0).clamp(clip, 1 - clip)
    return torch.logit(mean).float()


def build(cfg: MNISTConfig, out_bias: torch.Tensor | None, dropout_gen: torch.Generator,
          shard: Shard | None = None) -> tuple[Generator, Discriminator]:
    """G and D of ``cfg`` on the CPU, initialised from generators seeded by ``cfg.seed``."""
    G = Generator(cfg.z_dim, cfg.g_hidden, cfg.g_init, out_bias, seed_generator(cfg.seed, "G"))
    D = Discriminator(cfg.d_units, cfg.d_pieces, cfg.d_init, cfg.d_input_keep, cfg.d_hidden_keep,
                      seed_generator(cfg.seed, "D"), dropout_gen, shard)
    return G, D
