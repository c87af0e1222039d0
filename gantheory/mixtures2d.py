r"""2-D mixtures of Gaussians for mode-collapse studies, their measures, and a small GAN trained on
them over many seeds in one batched program.

    >>> from gantheory.mixtures2d import Train2DConfig, train_2d, coverage
    >>> run = train_2d(Train2DConfig(mixture="ring", steps=500), seeds=range(8))
    >>> coverage(run.samples, run.mixture)["modes"]      # modes covered, per seed

The two benchmarks of Metz et al. 2017 (unrolled GANs), Srivastava et al. 2017 (VEEGAN) and
Lin et al. 2018 (PacGAN):

* ``ring``: 8 Gaussians of std 0.02 on a circle of radius 2, at angles linspace(0, 2 pi, 9)[:-1]
  (taking all 9 points of linspace(0, 2 pi, 9) would put the last mode, at 2 pi, on the first);
* ``grid``: 25 Gaussians of std 0.05 at {-4, -2, 0, 2, 4}^2.

Measures (:func:`coverage`). A sample is *high quality* when it lies within
:data:`QUALITY_STDS` = 3 std of its nearest mode; it then belongs to that mode. A mode is
*covered* when it holds at least :data:`MODE_MIN_SHARE` = 1/5 of its fair share of the samples
(n / n_modes): with 2,500 samples, 63 for a ring mode and 20 for a grid mode. The papers above do
not all state a count threshold; :func:`coverage` also returns ``modes_any``, the modes holding at
least one high-quality sample (the loosest rule), so the sensitivity to the threshold can be read.
For samples of the mixture itself, a sample is high quality with probability
:math:`P(\chi^2_2 \le 9) = 1 - e^{-9/2} = 0.98889` (:data:`TRUE_HIGH_QUALITY`).

The GAN: z ~ N(0, I), G z_dim -> h -> h -> 2 and D 2 -> h -> h -> 1 (ReLU), batched over seeds with
the stacked weights of :class:`gantheory.oned.nets.EnsembleMLP` (seed s of a batch is the single
run with seed s computed together with the others), trained with Adam(beta1 = 0.5) by
:func:`gantheory.gan.step.gan_step`, the toolkit's one update rule. The R1 remedy (Mescheder et
al. 2018) is added to D's loss by :class:`R1Optimizer` just before D's optimiser steps, so the
update rule itself stays gan_step's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Literal, Sequence

import numpy as np
import torch

from .errors import ConfigError
from .gan.losses import GENERATOR_LOSSES, GeneratorLoss
from .gan.step import UpdateOrder, gan_step
from .oned.nets import EnsembleMLP
from .util.rng import seed_generator

QUALITY_STDS = 3.0
MODE_MIN_SHARE = 0.2
# P(|x - c| <= 3 std) for an isotropic 2-D Gaussian: |x - c|^2 / std^2 is chi-square with 2
# degrees of freedom, whose cdf is 1 - exp(-t/2).
TRUE_HIGH_QUALITY = 1.0 - math.exp(-QUALITY_STDS**2 / 2)


@dataclass(frozen=True)
class Mixture2D:
    """Equal-weight isotropic Gaussians at ``centres`` (n_modes, 2), all with std ``std``."""

    name: str
    centres: np.ndarray
    std: float

    @property
    def n_modes(self) -> int:
        return len(self.centres)

    def sample(self, n: int, gen: torch.Generator, dtype=torch.float32) -> torch.Tensor:
        """n samples (n, 2): a mode uniformly at random, then its Gaussian."""
        idx = torch.randint(self.n_modes, (n,), generator=gen)
        c = torch.as_tensor(self.centres, dtype=dtype)[idx]
        return c + self.std * torch.randn(n, 2, generator=gen, dtype=dtype)

    def density(self, xy: np.ndarray) -> np.ndarray:
        r"""p_data at points (..., 2): :math:`\frac1K \sum_j N(x; c_j, s^2 I)`."""
        d2 = ((np.asarray(xy, dtype=np.float64)[..., None, :] - self.centres) ** 2).sum(-1)
        return np.exp(-0.5 * d2 / self.std**2).mean(-1) / (2 * math.pi * self.std**2)


def ring(radius: float = 2.0, n: int = 8, std: float = 0.02) -> Mixture2D:
    """``n`` modes at angles linspace(0, 2 pi, n + 1)[:-1] on a circle of ``radius``."""
    ang = np.linspace(0, 2 * np.pi, n + 1)[:-1]
    return Mixture2D("ring", radius * np.stack([np.cos(ang), np.sin(ang)], 1), std)


def grid(side: int = 5, spacing: float = 2.0, std: float = 0.05) -> Mixture2D:
    """side x side modes, ``spacing`` apart, centred on the origin."""
    ticks = (np.arange(side) - (side - 1) / 2) * spacing
    xx, yy = np.meshgrid(ticks, ticks)
    return Mixture2D("grid", np.stack([xx.ravel(), yy.ravel()], 1), std)


MIXTURES: dict[str, Callable[[], Mixture2D]] = {"ring": ring, "grid": grid}


def coverage(samples, mix: Mixture2D, min_share: float = MODE_MIN_SHARE) -> dict:
    """The mode-collapse measures of samples (S, n, 2) (or (n, 2), one seed), per seed.

    Returns ``modes`` (S,) modes covered, ``modes_any`` (S,) modes with at least one high-quality
    sample, ``high_quality`` (S,) share of high-quality samples, ``counts`` (S, n_modes)
    high-quality samples of each mode, and ``min_count`` the count a covered mode needs.
    A non-finite sample (a diverged generator) is never high quality.
    """
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3 or x.shape[-1] != 2 or x.shape[1] < 1:
        raise ValueError(f"samples must have shape (S, n, 2) or (n, 2), got {np.shape(samples)}")
    if not 0 < min_share <= 1:
        raise ValueError(f"min_share must lie in (0, 1], got {min_share}")
    x = np.where(np.isfinite(x), x, np.inf)
    with np.errstate(invalid="ignore"):
        d2 = ((x[..., None, :] - mix.centres) ** 2).sum(-1)  # (S, n, modes)
    d2 = np.nan_to_num(d2, nan=np.inf)
    nearest = d2.argmin(-1)
    good = d2.min(-1) <= (QUALITY_STDS * mix.std) ** 2
    counts = np.stack([((nearest == j) & good).sum(-1) for j in range(mix.n_modes)], -1)
    need = min_share * x.shape[1] / mix.n_modes
    return {"modes": (counts >= need).sum(-1), "modes_any": (counts >= 1).sum(-1),
            "high_quality": good.mean(-1), "counts": counts, "min_count": need}


class Sampler2D:
    """Per-seed minibatches (S, m, dim), each seed from its own stream, drawn in chunks whose
    shapes do not depend on S (so a seed's draws do not depend on its batch-mates)."""

    def __init__(self, seeds: Sequence[int], draw: Callable[[int, torch.Generator], torch.Tensor],
                 m: int, stream: str, chunk: int = 64):
        self.gens = [seed_generator(s, stream) for s in seeds]
        self.draw, self.m, self.chunk, self.pos = draw, m, chunk, chunk
        self.buf: torch.Tensor | None = None
        self.last: torch.Tensor | None = None

    def __call__(self) -> torch.Tensor:
        if self.pos == self.chunk:
            self.buf = torch.stack([self.draw(self.chunk * self.m, g).reshape(
                self.chunk, self.m, -1) for g in self.gens], 1)  # (chunk, S, m, dim)
            self.pos = 0
        self.last = self.buf[self.pos]
        self.pos += 1
        return self.last


class R1Optimizer:
    r"""D's optimiser with the R1 penalty (Mescheder et al. 2018) added to D's loss.

    .. math:: R_1(\psi) = \frac{\gamma}{2} E_{p_{data}} |\nabla_x D_\psi(x)|^2

    with D the logit, on the real minibatch D's step just used (``last_real()``). The toolkit's D
    loss is -V/2 (:func:`~gantheory.gan.losses.discriminator_loss`), so R_1 / 2 is added: the
    total is (-V + R_1) / 2, the paper's L_D up to the factor 1/2, and ``gamma`` is the paper's.
    """

    def __init__(self, opt: torch.optim.Optimizer, D: torch.nn.Module, gamma: float,
                 last_real: Callable[[], torch.Tensor]):
        self.opt, self.D, self.gamma, self.last_real = opt, D, gamma, last_real

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.opt.zero_grad(set_to_none=set_to_none)

    def penalty(self, x: torch.Tensor) -> torch.Tensor:
        """R_1 per seed (S,) on real samples x (S, m, 2)."""
        x = x.detach().requires_grad_(True)
        (gx,) = torch.autograd.grad(self.D(x).sum(), x, create_graph=True)
        return 0.5 * self.gamma * gx.pow(2).sum(-1).mean(-1)

    def step(self) -> None:
        params = [p for p in self.D.parameters() if p.requires_grad]
        # seed s's penalty depends on seed s's weights only, so the sum's gradient is each one's
        grads = torch.autograd.grad(0.5 * self.penalty(self.last_real()).sum(), params,
                                    allow_unused=True)  # D's last bias does not enter grad_x D
        for p, g in zip(params, grads):
            if g is not None:
                p.grad = g if p.grad is None else p.grad + g
        self.opt.step()


@dataclass(frozen=True)
class Train2DConfig:
    """Defaults of the batched 2-D trainer (a fixed small MLP pair)."""

    mixture: Literal["ring", "grid"] = "ring"
    hidden: int = 32  # G: z_dim -> hidden -> hidden -> 2; D: 2 -> hidden -> hidden -> 1
    z_dim: int = 2
    loss: GeneratorLoss = "non_saturating"
    update: UpdateOrder = "alternating"
    k: int = 1  # D steps per G step (alternating)
    r1_gamma: float = 0.0  # 0: no R1
    steps: int = 2500  # G steps
    batch: int = 64
    lr: float = 2e-3  # Adam, both players, betas (0.5, 0.999)
    n_eval: int = 2500  # samples per seed for the measures

    def check(self) -> None:
        if self.mixture not in MIXTURES:
            raise ConfigError(f"mixture must be one of {', '.join(MIXTURES)}, got {self.mixture!r}")
        if self.loss not in GENERATOR_LOSSES:
            raise ConfigError(f"loss must be one of {', '.join(GENERATOR_LOSSES)}, "
                              f"got {self.loss!r}")
        if self.update not in ("alternating", "simultaneous"):
            raise ConfigError(f"update must be alternating or simultaneous, got {self.update!r}")
        for name in ("hidden", "z_dim", "k", "steps", "batch", "n_eval"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not (self.r1_gamma >= 0 and math.isfinite(self.r1_gamma)):
            raise ConfigError(f"r1_gamma must be a finite number >= 0, got {self.r1_gamma}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ConfigError(f"lr must be a finite number > 0, got {self.lr}")


@dataclass
class Run2D:
    config: Train2DConfig
    seeds: list[int]
    mixture: Mixture2D
    samples: np.ndarray  # (S, n_eval, 2): the trained G on each seed's own evaluation noise


def build_2d(cfg: Train2DConfig, seeds: Sequence[int]):
    """G and D of a 2-D run, each seed's initial weights from its own streams."""
    G = EnsembleMLP(seeds, [cfg.z_dim, cfg.hidden, cfg.hidden, 2], activation="relu",
                    stream="G2d", dtype=torch.float32)
    D = EnsembleMLP(seeds, [2, cfg.hidden, cfg.hidden, 1], activation="relu", stream="D2d",
                    dtype=torch.float32)
    return G, D


def eval_noise(cfg: Train2DConfig, seeds: Sequence[int]) -> torch.Tensor:
    """Each seed's evaluation noise (S, n_eval, z_dim), from a stream training never reads."""
    return torch.stack([torch.randn(cfg.n_eval, cfg.z_dim, generator=seed_generator(s, "eval2d"))
                        for s in seeds])


def train_2d(cfg: Train2DConfig, seeds: Sequence[int]) -> Run2D:
    """Train ``len(seeds)`` GANs on the mixture together; return each one's evaluation samples."""
    cfg.check()
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ConfigError("seeds must not be empty")
    mix = MIXTURES[cfg.mixture]()
    G, D = build_2d(cfg, seeds)
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
    next_real = Sampler2D(seeds, lambda n, g: mix.sample(n, g), cfg.batch, "data2d")
    next_z = Sampler2D(seeds, lambda n, g: torch.randn(n, cfg.z_dim, generator=g), cfg.batch,
                       "z2d")
    if cfg.r1_gamma > 0:
        opt_d = R1Optimizer(opt_d, D, cfg.r1_gamma, lambda: next_real.last)
    for _ in range(cfg.steps):
        # min_G max_D V(D, G) (Algorithm 1; the loss, order and k are gan_step's switches)
        gan_step(G, D, opt_g, opt_d, next_real, next_z, loss=cfg.loss, update=cfg.update,
                 k=cfg.k)
    with torch.no_grad():
        samples = G(eval_noise(cfg, seeds)).numpy()
    return Run2D(cfg, seeds, mix, samples)
