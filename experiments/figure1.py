r"""The four states of the paper's Figure 1, taken from one real 1-D GAN run.

Figure 1 of the paper sketches one round of Algorithm 1 near convergence: (a) p_g close to
p_data with a partially accurate D; (b) the inner loop trains D towards D* = p_data/(p_data + p_g);
(c) G takes a step along D's gradient, so G(z) flows towards regions D calls data; (d) after
enough training p_g = p_data and D = 1/2. Here every panel is a state of an actual run of
:func:`gantheory.gan.step.gan_step` with z ~ U(-sqrt 3, sqrt 3), as in the paper's figure:

(a) the run at the first check where JSD(p_data || p_g) < ``near_jsd``;
(b) a copy of (a) whose D alone is trained ``inner_steps`` more steps (G frozen);
(c) a copy of (b) whose G alone takes ``g_steps`` steps against (b)'s frozen D;
(d) the original run continued from (a) to ``steps`` with a decaying learning rate.

Generators. The default, ``quantile_affine``, is G(z) = b + a Phi^{-1}(u) with
u = (z / sqrt 3 + 1)/2 ~ U(0, 1): inverse-transform sampling followed by a learned affine map, so
p_g = N(b, a^2) exactly (truncated at u in [1e-12, 1 - 1e-12], i.e. beyond 7 sigma) and drawn from
its exact density, with exact JSD; the z -> x lines then contract where p_g is dense, as in the
paper's drawing. ``mlp`` is a small tanh MLP on z: its p_g is drawn as a Gaussian KDE (Scott's
bandwidth) of the push-forward of an even grid of z quantiles, and its JSD is the histogram
estimate of :func:`gantheory.stats.histogram_jsd`. (Such a G, trained by Algorithm 1 with Adam,
hovers at JSD ~ 0.05 - 0.2 on a Normal p_data instead of converging; see docs/theory.md.)

Run it:

    python experiments/figure1.py [--out DIR] [--seed N] [--smoke]

It writes DIR/figure1.png and DIR/figure1.svg (default DIR: figures/) and prints one JSON line
with the step and the estimated JSD of each panel. ``--smoke`` runs a few dozen steps (seconds;
the picture is then far from converged) so tests and CI can exercise the whole path.
:func:`figure1_states` computes; :func:`gantheory.plotting.plot_figure1` draws.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Sequence

import numpy as np
import torch
from torch import nn

from gantheory.densities import Normal, parse_density
from gantheory.divergences import jsd as jsd_quad
from gantheory.errors import ConfigError
from gantheory.gan.losses import generator_loss
from gantheory.gan.step import discriminator_step, gan_step
from gantheory.oned.nets import EnsembleMLP
from gantheory.oned.train import SeedSampler, Train1DConfig, build_1d, make_optimizer, noise_draw
from gantheory.plotting import plot_figure1, save_figure
from gantheory.stats import histogram_jsd

SQRT3 = math.sqrt(3.0)
# u = (z / sqrt 3 + 1) / 2 is clamped to [U_CLAMP, 1 - U_CLAMP] so Phi^{-1}(u) stays finite when
# z hits an end of its interval; the truncated mass beyond ~7 sigma is 2e-12.
U_CLAMP = 1e-12


class QuantileAffineGenerator(nn.Module):
    r"""G(z) = b + a Phi^{-1}((z / sqrt 3 + 1)/2) per seed: z ~ U(-sqrt 3, sqrt 3) gives N(b, a^2).

    .. math:: u = \tfrac12(z/\sqrt3 + 1) \sim U(0, 1),\quad \Phi^{-1}(u) = \sqrt2\,
              \mathrm{erf}^{-1}(2u - 1) \sim N(0, 1)
    """

    def __init__(self, seeds: Sequence[int], a0: float = 1.0, b0: float = 0.0):
        super().__init__()
        s = len(seeds)
        self.a = nn.Parameter(torch.full((s, 1, 1), float(a0), dtype=torch.float64))
        self.b = nn.Parameter(torch.full((s, 1, 1), float(b0), dtype=torch.float64))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        v = torch.clamp(z / SQRT3, -1 + 2 * U_CLAMP, 1 - 2 * U_CLAMP)  # 2u - 1
        return self.a * (math.sqrt(2.0) * torch.erfinv(v)) + self.b

    def p_g(self) -> Normal:
        """The exact p_g of seed 0."""
        a, b = float(self.a.detach().reshape(-1)[0]), float(self.b.detach().reshape(-1)[0])
        return Normal(b, abs(a))


@dataclass(frozen=True)
class Figure1Config:
    p_data: str = "normal(1.5,0.6)"
    generator: Literal["quantile_affine", "mlp"] = "quantile_affine"
    g_shift: float = -1.0  # quantile_affine: p_g starts at N(g_shift, g_scale^2)
    g_scale: float = 0.4
    g_hidden: int = 32  # mlp only
    g_activation: str = "tanh"
    seed: int = 0
    d_hidden: int = 32
    d_activation: str = "tanh"  # a smooth D draws like the paper's dashed curve
    loss: str = "non_saturating"
    batch: int = 256
    lr: float = 5e-3
    lr_final_ratio: float = 0.02  # panel (d): cosine decay of both rates to this fraction
    near_jsd: float = 0.03  # panel (a): the first check below this JSD
    check_every: int = 5
    max_steps_a: int = 2000
    inner_steps: int = 300  # panel (b): D-only steps
    g_steps: int = 10  # panel (c): G-only steps
    steps: int = 2500  # panel (d): total steps of the continued run
    n_z: int = 20000  # z quantiles pushed through G
    n_lines: int = 15  # z -> x mapping lines drawn

    def check(self) -> None:
        for name in ("batch", "check_every", "max_steps_a", "n_z", "n_lines"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("inner_steps", "g_steps", "steps"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not 0 < self.near_jsd < math.log(2):
            raise ConfigError(f"near_jsd must lie in (0, log 2), got {self.near_jsd}")
        normal = isinstance(parse_density(self.p_data), Normal)
        if self.generator == "quantile_affine" and not normal:
            raise ConfigError("the quantile_affine generator reaches Normal p_data only")
        parse_density(self.p_data)


# Smoke settings: seconds, for tests and CI (the picture is not near convergence then).
SMOKE = Figure1Config(max_steps_a=40, inner_steps=20, g_steps=3, steps=80, n_z=2000,
                      check_every=20)


def z_quantiles(n: int) -> torch.Tensor:
    """Midpoint quantiles of U(-sqrt 3, sqrt 3), shape (1, n, 1): an even stand-in for p_z."""
    u = (torch.arange(n, dtype=torch.float64) + 0.5) / n
    return ((2 * u - 1) * SQRT3).reshape(1, n, 1)


def kde(samples: np.ndarray, xs: np.ndarray) -> tuple[np.ndarray, float]:
    r"""Gaussian KDE with Scott's bandwidth :math:`h = \hat\sigma n^{-1/5}`; returns (p(xs), h)."""
    samples = np.asarray(samples, dtype=np.float64)
    h = float(np.std(samples)) * len(samples) ** (-0.2) or 1e-3
    out = np.zeros_like(xs, dtype=np.float64)
    for chunk in np.array_split(samples, max(1, len(samples) // 2000)):
        out += np.exp(-0.5 * ((xs[:, None] - chunk[None, :]) / h) ** 2).sum(1)
    return out / (len(samples) * h * math.sqrt(2 * math.pi)), h


def figure1_states(cfg: Figure1Config | None = None) -> dict:
    """Train one seed and return the four panel states and what to draw for each.

    Returns ``{"panels": [...], "xs", "p_data", "p_g_method", "config"}``; each panel holds its
    title, step, JSD (exact or estimated, see ``p_g_method``), p_g and D on ``xs``, and the
    z -> x pairs of the mapping lines.
    """
    cfg = cfg or Figure1Config()
    cfg.check()
    p_data = parse_density(cfg.p_data)
    exact = cfg.generator == "quantile_affine"
    tcfg = Train1DConfig(p_data=cfg.p_data, generator="mlp", z="uniform", d_hidden=cfg.d_hidden,
                         d_activation=cfg.d_activation, loss=cfg.loss, batch=cfg.batch,
                         lr_d=cfg.lr, lr_g=cfg.lr, steps=cfg.steps)
    seeds = [cfg.seed]
    _, D = build_1d(tcfg, seeds)
    if exact:
        G = QuantileAffineGenerator(seeds, cfg.g_scale, cfg.g_shift)
    else:
        G = EnsembleMLP(seeds, [1, cfg.g_hidden, cfg.g_hidden, 1], activation=cfg.g_activation,
                        stream="G")
    opt_g = make_optimizer(tcfg, G.parameters(), cfg.lr)
    opt_d = make_optimizer(tcfg, D.parameters(), cfg.lr)
    next_real = SeedSampler(seeds, lambda n, g: p_data.sample(n, g), cfg.batch, "data")
    next_z = SeedSampler(seeds, noise_draw("uniform"), cfg.batch, "z")
    z = z_quantiles(cfg.n_z)
    sd = math.sqrt(p_data.var())
    edges = np.linspace(p_data.mean() - 5 * sd, p_data.mean() + 5 * sd, 51)

    def jsd_of(g: nn.Module) -> float:
        if exact:
            return jsd_quad(p_data, g.p_g())
        with torch.no_grad():
            return float(histogram_jsd(p_data, g(z)[0, :, 0].numpy(), edges)[0])

    def state(name: str, step: int, g: nn.Module, d: nn.Module) -> dict:
        with torch.no_grad():
            x = g(z)[0, :, 0].numpy().copy()
        return {"name": name, "step": step, "G": copy.deepcopy(g), "D": copy.deepcopy(d),
                "x_of_z": x, "jsd": jsd_of(g)}

    # (a) Algorithm 1 (k = 1) until p_g is near p_data
    t = 0
    while t < cfg.max_steps_a:
        gan_step(G, D, opt_g, opt_d, next_real, next_z, loss=cfg.loss, k=1)
        t += 1
        if t % cfg.check_every == 0 and jsd_of(G) < cfg.near_jsd:
            break
    state_a = state("(a)", t, G, D)
    # (b) the inner loop: D alone ascends V with G frozen, towards D*
    Gb, Db = copy.deepcopy(G), copy.deepcopy(D)
    opt_db = make_optimizer(tcfg, Db.parameters(), cfg.lr)
    b_real = SeedSampler(seeds, lambda n, g: p_data.sample(n, g), cfg.batch, "data/b")
    b_z = SeedSampler(seeds, noise_draw("uniform"), cfg.batch, "z/b")
    for _ in range(cfg.inner_steps):
        with torch.no_grad():
            fake = Gb(b_z())
        discriminator_step(Db, opt_db, b_real(), fake)
    state_b = state("(b)", t, Gb, Db)
    # (c) G alone descends its loss against the frozen D of (b): G(z) flows towards the data
    Gc = copy.deepcopy(Gb)
    opt_gc = make_optimizer(tcfg, Gc.parameters(), cfg.lr)
    c_z = SeedSampler(seeds, noise_draw("uniform"), cfg.batch, "z/c")
    for _ in range(cfg.g_steps):
        g_loss = generator_loss(Db(Gc(c_z())).squeeze(-1), cfg.loss)
        opt_gc.zero_grad(set_to_none=True)
        g_loss.sum().backward(inputs=list(Gc.parameters()))
        opt_gc.step()
    state_c = state("(c)", t, Gc, Db)
    # (d) the original run continued, learning rates decayed by a cosine to lr_final_ratio
    remaining = max(cfg.steps - t, 0)
    r = cfg.lr_final_ratio
    def decay(i: int) -> float:
        return r + 0.5 * (1 - r) * (1 + math.cos(math.pi * min(i, remaining) / max(remaining, 1)))

    scheds = [torch.optim.lr_scheduler.LambdaLR(o, decay) for o in (opt_g, opt_d)]
    for _ in range(remaining):
        gan_step(G, D, opt_g, opt_d, next_real, next_z, loss=cfg.loss, k=1)
        for sch in scheds:
            sch.step()
    state_d = state("(d)", max(cfg.steps, t), G, D)

    states = [state_a, state_b, state_c, state_d]
    allx = np.concatenate([s["x_of_z"] for s in states])
    lo = min(p_data.mean() - 4 * sd, float(np.percentile(allx, 0.5)) - sd)
    hi = max(p_data.mean() + 4 * sd, float(np.percentile(allx, 99.5)) + sd)
    xs = np.linspace(lo, hi, 500)
    titles = {"(a)": f"(a) step {state_a['step']}: near convergence",
              "(b)": f"(b) D after {cfg.inner_steps} inner-loop steps",
              "(c)": f"(c) G after {cfg.g_steps} steps against that D",
              "(d)": f"(d) step {state_d['step']}: final state"}
    idx = ((np.arange(cfg.n_lines) + 0.5) / cfg.n_lines * cfg.n_z).astype(int)  # inner quantiles
    panels = []
    for s in states:
        if exact:
            p_g = s["G"].p_g().pdf(xs)
            method = "exact: G(z) = b + a Phi^-1((z/sqrt3 + 1)/2), p_g = N(b, a^2)"
        else:
            p_g, h = kde(s["x_of_z"], xs)
            method = (f"Gaussian KDE (Scott's bandwidth, e.g. {h:.3f}) of G over {cfg.n_z} "
                      f"z quantiles")
        with torch.no_grad():
            d_x = torch.sigmoid(s["D"](torch.as_tensor(xs).reshape(1, -1, 1)))[0, :, 0].numpy()
        panels.append({"title": titles[s["name"]] + f" (JSD {s['jsd']:.3g})", "step": s["step"],
                       "jsd": s["jsd"], "p_g": p_g, "d": d_x,
                       "z_lines": z[0, idx, 0].numpy(), "x_lines": s["x_of_z"][idx]})
    return {"panels": panels, "xs": xs, "p_data": p_data.pdf(xs), "p_g_method": method,
            "config": cfg}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="figures", help="output folder (default: figures/)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--smoke", action="store_true", help="a few dozen steps, for tests")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)  # tiny tensors: one thread is fastest (see docs/benchmarks.md)
    cfg = dataclasses.replace(SMOKE if args.smoke else Figure1Config(), seed=args.seed)
    out = figure1_states(cfg)
    fig = plot_figure1(out["xs"], out["p_data"], out["panels"],
                       title=f"Figure 1 from a real run: p_data = {cfg.p_data}, z ~ U(-sqrt 3, "
                             f"sqrt 3), {cfg.generator} G, MLP D, seed {cfg.seed}; p_g "
                             f"{out['p_g_method'].split(':')[0]}")
    d = Path(args.out)
    paths = [save_figure(fig, d / "figure1.png")]
    fig = plot_figure1(out["xs"], out["p_data"], out["panels"])
    paths.append(save_figure(fig, d / "figure1.svg"))
    print(json.dumps({"figures": paths, "panels": [{"title": p["title"], "step": p["step"],
                                                    "jsd": p["jsd"]}
                                                   for p in out["panels"]],
                      "p_g": out["p_g_method"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
