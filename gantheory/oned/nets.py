"""Small networks for the 1-D experiments, batched over independent seeds.

Every module here holds S independent models, one per seed, as stacked weights of shape
(S, fan_in, fan_out) applied with one batched matmul. Seed s's initial weights come from its own
generator, so model s of an S-seed module equals the single model built with ``seeds=[s]``: a
batched run of 256 seeds is 256 single runs computed together, not an approximation of them.

Inputs and outputs have shape (S, m, features).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
from torch import nn

from ..util.rng import seed_generator

ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu, "softplus": nn.functional.softplus,
               "silu": nn.functional.silu}


class EnsembleLinear(nn.Module):
    """S independent affine maps x -> x W_s + b_s, initialised like ``nn.Linear`` per seed."""

    def __init__(self, seeds: Sequence[int], fan_in: int, fan_out: int, *, stream: str,
                 dtype: torch.dtype = torch.float64):
        super().__init__()
        bound = 1.0 / math.sqrt(fan_in)
        ws, bs = [], []
        for s in seeds:
            g = seed_generator(s, stream)
            ws.append((torch.rand(fan_in, fan_out, generator=g, dtype=dtype) * 2 - 1) * bound)
            bs.append((torch.rand(1, fan_out, generator=g, dtype=dtype) * 2 - 1) * bound)
        self.weight = nn.Parameter(torch.stack(ws))
        self.bias = nn.Parameter(torch.stack(bs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.bias, x, self.weight)


class EnsembleMLP(nn.Module):
    """S independent MLPs with the layer sizes ``sizes`` (e.g. [1, 32, 32, 1]); linear output."""

    def __init__(self, seeds: Sequence[int], sizes: Sequence[int], *, activation: str = "tanh",
                 stream: str = "mlp", dtype: torch.dtype = torch.float64):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")
        self.act = ACTIVATIONS[activation]
        self.layers = nn.ModuleList(
            EnsembleLinear(seeds, a, b, stream=f"{stream}/{i}", dtype=dtype)
            for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers[:-1]:
            x = self.act(layer(x))
        return self.layers[-1](x)


class AffineGenerator(nn.Module):
    """G(z) = a z + b per seed. With z ~ N(0, 1), p_g = N(b, |a|^2) exactly."""

    def __init__(self, seeds: Sequence[int], a0: float = 1.0, b0: float = 0.0, *,
                 dtype: torch.dtype = torch.float64):
        super().__init__()
        s = len(seeds)
        self.a = nn.Parameter(torch.full((s, 1, 1), float(a0), dtype=dtype))
        self.b = nn.Parameter(torch.full((s, 1, 1), float(b0), dtype=dtype))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.a * z + self.b

    def p_g_params(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(mu, sigma) of the exact Normal p_g of every seed, shape (S,)."""
        return self.b.detach().reshape(-1), self.a.detach().abs().reshape(-1)


def member_logit(mlp: EnsembleMLP, s: int):
    """Seed ``s`` of an :class:`EnsembleMLP` as a float64 numpy function x -> logit(x).

    Quadrature calls a discriminator one point at a time; evaluating the copied weights with
    numpy costs a few microseconds a call where a torch forward costs tens.
    """
    weights = [(l.weight[s].detach().double().numpy(), l.bias[s].detach().double().numpy())
               for l in mlp.layers]
    act = {torch.tanh: np.tanh, torch.relu: lambda v: np.maximum(v, 0.0)}.get(mlp.act)
    if act is None:
        raise ValueError("member_logit supports tanh and relu networks")

    def logit(x):
        h = np.asarray(x, dtype=np.float64).reshape(-1, 1)
        for w, b in weights[:-1]:
            h = act(h @ w + b)
        w, b = weights[-1]
        return (h @ w + b).reshape(-1)

    return logit
