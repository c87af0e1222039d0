"""The batched 1-D GAN trainer, driven by :func:`gantheory.gan.step.gan_step`.

:func:`train_1d` trains S independent 1-D GANs at once (see :mod:`gantheory.nets`): each seed has
its own weights, its own noise and its own data, so seed s of a batched run reproduces the single
run with seed s.

    >>> from gantheory.oned.train import Train1DConfig, train_1d
    >>> run = train_1d(Train1DConfig(steps=500), seeds=range(8))
    >>> run.jsd[-1]          # exact JSD(p_data || p_g) of each seed at the last record
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Literal, Sequence

import numpy as np
import torch
from torch import nn

from ..config import override
from ..densities import Density, parse_density
from ..divergences import jsd_normal_batch
from ..errors import ConfigError
from ..gan.losses import GeneratorLoss
from ..gan.step import UpdateOrder, discriminator_step, gan_step
from ..util.rng import seed_generator
from .nets import AffineGenerator, EnsembleMLP

class SeedSampler:
    """Per-seed minibatches of shape (S, m, 1), each seed drawing from its own generator.

    Draws come in chunks of ``chunk`` minibatches per seed (one generator call per seed and chunk),
    with chunk shapes independent of S, so a seed's stream does not depend on its batch-mates.
    """

    def __init__(self, seeds: Sequence[int], draw: Callable[[int, torch.Generator], torch.Tensor],
                 m: int, stream: str, chunk: int = 64):
        self.gens = [seed_generator(s, stream) for s in seeds]
        self.draw, self.m, self.chunk = draw, m, chunk
        self.pos = chunk
        self.buf: torch.Tensor | None = None

    def __call__(self) -> torch.Tensor:
        if self.pos == self.chunk:
            n = self.chunk * self.m
            self.buf = torch.stack([self.draw(n, g).reshape(self.chunk, self.m) for g in self.gens])
            self.pos = 0
        out = self.buf[:, self.pos, :, None]
        self.pos += 1
        return out


def noise_draw(kind: str, dtype: torch.dtype = torch.float64):
    """z ~ N(0, 1) or z ~ U(-sqrt 3, sqrt 3) (unit variance, as the paper's MNIST noise)."""
    if kind == "normal":
        return lambda n, g: torch.randn(n, generator=g, dtype=dtype)
    if kind == "uniform":
        return lambda n, g: (torch.rand(n, generator=g, dtype=dtype) * 2 - 1) * math.sqrt(3.0)
    raise ConfigError(f"z must be 'normal' or 'uniform', got {kind!r}")


@dataclass(frozen=True)
class Train1DConfig:
    """Defaults of the 1-D GAN trainer. Change them with :func:`gantheory.config.override`."""

    p_data: str = "normal(0,1)"
    generator: Literal["affine", "mlp"] = "affine"  # affine + normal z: p_g is an exact Normal
    z: Literal["normal", "uniform"] = "normal"
    g_scale: float = 1.0  # affine G's initial a (p_g's sigma)
    g_shift: float = 3.0  # affine G's initial b (p_g's mean)
    g_hidden: int = 32  # mlp G: 1 -> g_hidden -> g_hidden -> 1
    d_hidden: int = 32  # D: 1 -> d_hidden -> d_hidden -> 1
    d_activation: str = "tanh"
    loss: GeneratorLoss = "non_saturating"
    update: UpdateOrder = "alternating"
    k: int = 1
    steps: int = 1000
    batch: int = 128
    optimizer: Literal["adam", "sgd"] = "adam"
    lr_d: float = 1e-2
    lr_g: float = 1e-2
    momentum: float = 0.5  # sgd only
    lr_final_ratio: float = 1.0  # cosine decay of both learning rates to this fraction; 1 = constant
    d_pretrain: int = 0  # D-only steps before the first G step
    record_every: int = 10

    def check(self) -> None:
        for name in ("k", "steps", "batch", "record_every", "g_hidden", "d_hidden"):
            if getattr(self, name) < (0 if name == "steps" else 1):
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.d_pretrain < 0:
            raise ConfigError(f"d_pretrain must be >= 0, got {self.d_pretrain}")
        for name in ("lr_d", "lr_g"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"{name} must be > 0, got {getattr(self, name)}")
        if not 0 < self.lr_final_ratio <= 1:
            raise ConfigError(f"lr_final_ratio must lie in (0, 1], got {self.lr_final_ratio}")
        if self.g_scale == 0:
            raise ConfigError("g_scale must be non-zero (p_g would be a point mass)")
        parse_density(self.p_data)


def make_optimizer(cfg: Train1DConfig, params, lr: float) -> torch.optim.Optimizer:
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999))
    return torch.optim.SGD(params, lr=lr, momentum=cfg.momentum)


@dataclass
class Run1D:
    """What :func:`train_1d` returns: the trained modules and the recorded curves (numpy)."""

    config: Train1DConfig
    seeds: list[int]
    G: nn.Module
    D: nn.Module
    steps: np.ndarray  # (T,) step index of each record
    jsd: np.ndarray | None  # (T, S) exact JSD(p_data || p_g) when p_g is known, else None
    p_g_mu: np.ndarray | None  # (T, S)
    p_g_sigma: np.ndarray | None  # (T, S)
    stats: dict[str, np.ndarray] = field(default_factory=dict)  # (T, S) per step statistics
    extra: dict[str, np.ndarray] = field(default_factory=dict)  # (T, S) from ``on_record``


def build_1d(cfg: Train1DConfig, seeds: Sequence[int]):
    """The generator and discriminator of a 1-D run, with per-seed initial weights."""
    if cfg.generator == "affine":
        G = AffineGenerator(seeds, cfg.g_scale, cfg.g_shift)
    else:
        G = EnsembleMLP(seeds, [1, cfg.g_hidden, cfg.g_hidden, 1], activation="relu", stream="G")
    D = EnsembleMLP(seeds, [1, cfg.d_hidden, cfg.d_hidden, 1], activation=cfg.d_activation,
                    stream="D")
    return G, D


def _cosine(steps: int, final: float):
    """Learning-rate multiplier: cosine from 1 at step 0 to ``final`` at ``steps``."""
    return lambda t: final + 0.5 * (1 - final) * (1 + math.cos(math.pi * min(t, steps) / max(steps, 1)))


def train_1d(cfg: Train1DConfig | None = None, seeds: Sequence[int] = (0,),
             on_record: Callable[[nn.Module, nn.Module], dict] | None = None,
             **overrides) -> Run1D:
    """Train ``len(seeds)`` independent 1-D GANs together; see the module docstring.

    ``on_record(G, D)``, when given, is called at every record (step 0 included) and returns a
    dict of per-seed values of shape (S,), stacked into ``Run1D.extra`` as (T, S) arrays: e.g. a
    sample-based JSD for a generator whose density is not known in closed form.
    """
    cfg = override(cfg or Train1DConfig(), overrides)
    cfg.check()
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ConfigError("seeds must not be empty")
    p_data: Density = parse_density(cfg.p_data)
    G, D = build_1d(cfg, seeds)
    opt_g = make_optimizer(cfg, G.parameters(), cfg.lr_g)
    opt_d = make_optimizer(cfg, D.parameters(), cfg.lr_d)
    next_real = SeedSampler(seeds, lambda n, g: p_data.sample(n, g), cfg.batch, "data")
    next_z = SeedSampler(seeds, noise_draw(cfg.z), cfg.batch, "z")

    scheds = [torch.optim.lr_scheduler.LambdaLR(opt, _cosine(cfg.steps, cfg.lr_final_ratio))
              for opt in (opt_g, opt_d)]
    for _ in range(cfg.d_pretrain):  # a discriminator that already rejects the poor start
        with torch.no_grad():
            fake = G(next_z())
        discriminator_step(D, opt_d, next_real(), fake)

    exact = cfg.generator == "affine" and cfg.z == "normal"
    rec_steps, rec_jsd, rec_mu, rec_sigma, rec_stats, rec_extra = [], [], [], [], {}, {}

    def record(t: int, stats: dict | None) -> None:
        rec_steps.append(t)
        if on_record is not None:
            with torch.no_grad():
                for key, val in on_record(G, D).items():
                    rec_extra.setdefault(key, []).append(np.asarray(val, dtype=np.float64))
        if exact:
            mu, sigma = G.p_g_params()
            rec_mu.append(mu.numpy().copy())
            rec_sigma.append(sigma.numpy().copy())
            rec_jsd.append(jsd_normal_batch(p_data, mu, sigma).numpy())
        for key, val in (stats or {}).items():
            rec_stats.setdefault(key, []).append(val.numpy().copy())

    record(0, None)
    for t in range(1, cfg.steps + 1):
        stats = gan_step(G, D, opt_g, opt_d, next_real, next_z, loss=cfg.loss,
                         update=cfg.update, k=cfg.k)
        for sched in scheds:
            sched.step()
        if t % cfg.record_every == 0 or t == cfg.steps:
            record(t, stats)
    arr = lambda xs: np.asarray(xs) if xs else None  # noqa: E731
    return Run1D(cfg, seeds, G, D, np.asarray(rec_steps), arr(rec_jsd), arr(rec_mu),
                 arr(rec_sigma), {k: np.asarray(v) for k, v in rec_stats.items()},
                 {k: np.asarray(v) for k, v in rec_extra.items()})


def fit_discriminator(p_data: Density, p_g: Density, seeds: Sequence[int], *, steps: int,
                      batch: int, lr: float, hidden: int = 32, activation: str = "tanh",
                      lr_final: float | None = None,
                      dtype: torch.dtype = torch.float32) -> nn.Module:
    """Train D alone for a fixed p_g, from samples only (the inner loop of Algorithm 1).

    Adam with a cosine learning-rate decay from ``lr`` to ``lr_final`` (default lr / 100): the
    decay averages out minibatch noise, which otherwise keeps D a few hundredths away from D*.
    Returns the S-seed discriminator; its outputs are logits.
    """
    D = EnsembleMLP(seeds, [1, hidden, hidden, 1], activation=activation, stream="D", dtype=dtype)
    opt = torch.optim.Adam(D.parameters(), lr=lr)
    lr_final = lr / 100 if lr_final is None else lr_final
    sched = torch.optim.lr_scheduler.LambdaLR(opt, _cosine(steps, lr_final / lr))
    next_real = SeedSampler(seeds, lambda n, g: p_data.sample(n, g, dtype=dtype), batch, "data")
    next_fake = SeedSampler(seeds, lambda n, g: p_g.sample(n, g, dtype=dtype), batch, "p_g")
    for _ in range(steps):
        discriminator_step(D, opt, next_real(), next_fake())
        sched.step()
    return D
