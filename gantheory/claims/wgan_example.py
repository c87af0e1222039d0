r"""Claim ``wgan_example`` (Arjovsky, Chintala and Bottou 2017, Example 1, in 1-D; Gulrajani et al.
2017 for the gradient penalty): where the supports separate, JSD is flat at log 2 while W1 = |theta|
keeps a unit gradient; a critic trained with a gradient penalty estimates W1, a weight-clipped one
underestimates it.

    python -m gantheory.verify wgan_example [--set widths=0.3,0.1,0.03,0.01] [--set gp_weight=...]

Part 1 (exact, oracle): p_data = N(0, w^2) and p_g = N(theta, w^2) for theta on a grid in
[-THETA_MAX, THETA_MAX] and shrinking widths w. Checks: W1(theta) = |theta| (the oracle's
integral of |F_p - F_q| against the closed form, for every w), its derivative is sign(theta)
(central differences); at the narrowest width, for |theta| >= theta_min, log 2 - JSD and
|dJSD/dtheta| are below SATURATION_TOL, and max over that range of log 2 - JSD falls as w shrinks.
KL = theta^2 / (2 w^2) (closed form) is plotted beside them: it blows up instead.

Part 2 (training): on Normal pairs, critics f (1 -> h -> h -> 1, tanh) are trained from samples
to maximise E_p_data[f] - E_p_g[f] under (a) the WGAN-GP penalty gp_weight E[(|f'(x_hat)| - 1)^2]
at x_hat uniform between paired real and fake samples (Adam) and (b) weight clipping to
[-clip, clip] (RMSProp, as in the WGAN paper). Each critic's estimate E_p_data[f] - E_p_g[f] is
integrated on a grid against the exact densities; its Lipschitz constant L = max |f'| is taken on
the same grid. Checks: the GP estimate is within GP_RTOL of the exact optimum of the GP objective
in 1-D, W1 + integral of (F_q - F_p)^2 / (2 lambda rho) (:func:`gp_optimum`; the bias over W1,
9% to 12% at lambda = 10, is reported); every critic obeys Kantorovich-Rubinstein,
estimate / L <= W1; the clipped estimate is below CLIP_FRACTION of W1 (reported with its ratio,
and rescaled by L).

Negative controls (must fail): ``gp_weight=0`` (no Lipschitz control: the estimate grows without
bound) and ``gp_target=2`` (a 2-Lipschitz critic: the estimate doubles).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ..densities import Normal, parse_density
from ..divergences import jsd, kl_normal
from ..errors import ConfigError
from ..fdivergences import LOG2, wasserstein1, wasserstein1_normal
from ..oned.nets import EnsembleMLP
from ..util.io import jsonable
from ..util.rng import seed_generator
from .registry import Report, Verdict, blame, register_claim, training_bytes

# W1 = |theta| for equal widths: the oracle (quadrature of |F_p - F_q|) against the closed form,
# to its 1e-9 promise.
W1_TOL = 1e-9
# d W1 / d theta = sign(theta) by central differences with step 1e-4 (W1 is linear away from 0:
# truncation 0, rounding 2 x 1e-9 / 2e-4 = 1e-5 at the promise, ~1e-12 measured); 1e-6 absolute
# holds at the measured accuracy.
W1_GRAD_TOL = 1e-6
STEP = 1e-4
# At the narrowest default width 0.01 and |theta| >= 0.25 (25 widths apart), log 2 - JSD is
# ~e^-78 ~ 1e-34 in exact arithmetic, i.e. 0 to quadrature accuracy (1e-9): the flat part of
# Example 1. Its slope by the same differences is at most 2 x 1e-9 / 2e-4.
SATURATION_TOL = 1e-9
SLOPE_TOL = 1e-5
# WGAN-GP does not estimate W1 itself but the optimum of its own objective, which in 1-D is known
# exactly (:func:`gp_optimum`): W1 + integral of (F_q - F_p)^2 / (2 lambda rho), rho the density
# of x_hat; the bias is 1/lambda small (9% to 12% of W1 at lambda = 10 on the default pairs).
# Measured trained estimate / that optimum - 1 over 3 pairs x 2 seeds at the defaults (600 Adam
# steps, cosine decay): -0.009 to -0.002; at the quick settings (300 steps) -0.016. GP_RTOL = 0.03
# is 3x the default's largest. Without the penalty the estimate is 3.5 W1 after 300 steps and
# still growing (the optimum is +inf); with target 2 it is 1.7x the optimum.
GP_RTOL = 0.03
# Kantorovich-Rubinstein: estimate / L <= W1 for every critic. The grid estimate of L (max |f'|
# on GRID points over +-8 sigma) can miss the true sup by O(h^2 f'''), and the grid integral of
# f (p - q) is good to ~1e-8: KR_RTOL = 1e-3 relative covers both.
KR_RTOL = 1e-3
# A weight-clipped critic (c = 0.01, the WGAN paper's value) is ~c^3 h^2 Lipschitz: its raw estimate
# is a few thousandths of W1. CLIP_FRACTION = 0.5: it must underestimate by at least half.
CLIP_FRACTION = 0.5
GRID = 4001
# Normal pairs whose cdfs cross outside the bulk (or never), so the optimal critic is monotone
# there: where F_p - F_q changes sign in the bulk, f' must pass through 0, which the two-sided
# penalty walls off in 1-D (on N(0,1) vs N(0.5,2) trained critics stall at 0.63 to 0.67 W1).
# The curves over theta: per theta and width, three divergences (an adaptive quadrature each, 6 ms
# in all) kept as floats and arrays. Measured: 2,001 thetas instead of 21 over two widths added
# 0.6 MB of peak RSS (0.16 kB a theta and width) and 23 s (5.9 ms a theta and width); 1 kB
# over-estimates the memory. 10^4 thetas over the four default widths run ~4 minutes; more would
# run for hours to days without a word, and are refused.
BYTES_PER_THETA_AND_WIDTH = 1_000
MAX_THETAS = 10_000
DEFAULT_PAIRS = ("normal(0,1) vs normal(2,1); normal(0,1) vs normal(2,1.5); "
                 "normal(-1,0.5) vs normal(1,1.5)")


@dataclass(frozen=True)
class WganExampleConfig:
    widths: str = "0.3,0.1,0.03,0.01"
    theta_max: float = 2.0
    thetas: int = 41
    theta_min: float = 0.25
    pairs: str = DEFAULT_PAIRS  # Normal pairs "P vs Q; ..." for the trained critics
    seeds: int = 2
    steps: int = 600
    batch: int = 256
    hidden: int = 16
    lr: float = 2e-3
    gp_weight: float = 10.0
    gp_target: float = 1.0
    clip: float = 0.01
    clip_lr: float = 5e-3
    clip_steps: int = 300  # the clipped critic saturates its weights within ~100 steps
    plot: str | None = None

    def check(self) -> None:
        ws = widths(self)
        if min(ws) <= 0:
            raise ConfigError(f"widths must be > 0, got {self.widths!r}")
        if not 0 < self.theta_min < self.theta_max:
            raise ConfigError("need 0 < theta_min < theta_max")
        for name in ("thetas", "seeds", "steps", "clip_steps", "batch", "hidden"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.thetas > MAX_THETAS:
            raise ConfigError(f"thetas must be <= {MAX_THETAS} (each costs three quadratures per "
                              f"width), got {self.thetas}")
        if self.gp_weight < 0 or self.clip <= 0 or self.lr <= 0 or self.clip_lr <= 0:
            raise ConfigError("gp_weight must be >= 0, clip, lr and clip_lr > 0")
        pairs(self)

    def memory_bytes(self) -> dict[str, int]:
        """The trained critics (the 1-D training estimate, named by whichever of seeds, batch and
        hidden is furthest above its default) and the curves over theta."""
        n_widths = max(len(self.widths.split(",")), 1)
        return {blame(self, ("seeds", "batch", "hidden")):
                training_bytes(self.seeds, self.batch, self.hidden),
                "thetas": BYTES_PER_THETA_AND_WIDTH * self.thetas * n_widths}


def widths(cfg: WganExampleConfig) -> list[float]:
    try:
        return sorted((float(v) for v in cfg.widths.split(",")), reverse=True)
    except ValueError:
        raise ConfigError(f"widths must be comma-separated numbers, got {cfg.widths!r}") from None


def pairs(cfg: WganExampleConfig) -> list[tuple[Normal, Normal]]:
    out = []
    for item in cfg.pairs.split(";"):
        parts = item.split(" vs ")
        if len(parts) != 2:
            raise ConfigError(f"pairs must be 'P vs Q; ...', got {item.strip()!r}")
        p, q = (parse_density(s.strip()) for s in parts)
        if not (isinstance(p, Normal) and isinstance(q, Normal)):
            raise ConfigError(f"pairs must be Normals, got {p} and {q}")
        out.append((p, q))
    return out


# -- part 1: Example 1 in numbers -----------------------------------------------------------------

def example_curves(cfg: WganExampleConfig) -> dict:
    """JSD, KL and W1 of N(0, w^2) and N(theta, w^2) on the theta grid, per width."""
    thetas = np.linspace(-cfg.theta_max, cfg.theta_max, cfg.thetas)
    out = {}
    for w in widths(cfg):
        p = Normal(0.0, w)
        out[w] = {
            "jsd": np.array([jsd(p, Normal(t, w)) for t in thetas]),
            "kl": np.array([kl_normal(Normal(t, w), p) for t in thetas]),
            "w1": np.array([wasserstein1(p, Normal(t, w)) for t in thetas]),
        }
    return {"thetas": thetas, "by_width": out}


def slopes(cfg: WganExampleConfig, w: float, thetas: np.ndarray) -> dict:
    """Central differences of W1 and JSD in theta at the given thetas."""
    p = Normal(0.0, w)
    d = lambda f, t: (f(t + STEP) - f(t - STEP)) / (2 * STEP)  # noqa: E731
    return {"w1": np.array([d(lambda s: wasserstein1(p, Normal(s, w)), t) for t in thetas]),
            "jsd": np.array([d(lambda s: jsd(p, Normal(s, w)), t) for t in thetas])}


# -- part 2: trained critics ---------------------------------------------------------------------

def _samples(mus, sigmas, gens, n):
    z = torch.stack([torch.randn(n, generator=g, dtype=torch.float64) for g in gens])
    return (mus[:, None] + sigmas[:, None] * z)[..., None]


def train_critics(cfg: WganExampleConfig, method: str) -> tuple[EnsembleMLP, list]:
    r"""One critic per (pair, seed), all in one ensemble, trained from samples.

    ``gp`` (Gulrajani et al. 2017, Algorithm 1 with the critic alone):
    :math:`\max_f E_{p_data} f - E_{p_g} f - \lambda E_{\hat x}(|f'(\hat x)| - g_0)^2`;
    ``clip`` (Arjovsky et al. 2017, Algorithm 1): the same without the penalty, RMSProp, every
    weight clipped to [-c, c] after each step.
    """
    prs = pairs(cfg)
    members = [(i, s) for i in range(len(prs)) for s in range(cfg.seeds)]
    ids = list(range(len(members)))
    f = EnsembleMLP(ids, [1, cfg.hidden, cfg.hidden, 1], activation="tanh", stream=f"W/{method}")
    mu_p = torch.tensor([prs[i][0].mu for i, _ in members], dtype=torch.float64)
    sd_p = torch.tensor([prs[i][0].sigma for i, _ in members], dtype=torch.float64)
    mu_q = torch.tensor([prs[i][1].mu for i, _ in members], dtype=torch.float64)
    sd_q = torch.tensor([prs[i][1].sigma for i, _ in members], dtype=torch.float64)
    gens = {k: [seed_generator(1000 * i + s, f"{method}/{k}") for i, s in members]
            for k in ("data", "p_g", "mix")}
    if method == "gp":
        # The output layer starts at 0 (f' = 0 everywhere). In 1-D the two-sided penalty
        # (|f'| - 1)^2 walls off the sign of f': a critic that starts increasing where the
        # optimum decreases is pulled to f' = +1 and stays there (a local optimum with estimate
        # -W1; measured on 4 of 6 default critics from the usual initialisation). From f' = 0
        # the penalty's gradient vanishes and the first steps follow E_p f - E_q f.
        with torch.no_grad():
            f.layers[-1].weight.zero_()
            f.layers[-1].bias.zero_()
        opt = torch.optim.Adam(f.parameters(), lr=cfg.lr, betas=(0.5, 0.9))
    else:
        opt = torch.optim.RMSprop(f.parameters(), lr=cfg.clip_lr)
        with torch.no_grad():
            for prm in f.parameters():
                prm.clamp_(-cfg.clip, cfg.clip)
    from ..oned.train import _cosine
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, _cosine(cfg.steps if method == "gp" else cfg.clip_steps, 0.05))
    steps = cfg.steps if method == "gp" else cfg.clip_steps
    for _ in range(steps):
        x = _samples(mu_p, sd_p, gens["data"], cfg.batch)
        y = _samples(mu_q, sd_q, gens["p_g"], cfg.batch)
        estimate = f(x).mean(dim=(1, 2)) - f(y).mean(dim=(1, 2))
        loss = -estimate.sum()
        if method == "gp" and cfg.gp_weight > 0:
            t = torch.stack([torch.rand(cfg.batch, generator=g, dtype=torch.float64)
                             for g in gens["mix"]])[..., None]
            x_hat = (t * x + (1 - t) * y).requires_grad_(True)
            (grad,) = torch.autograd.grad(f(x_hat).sum(), x_hat, create_graph=True)
            loss = loss + cfg.gp_weight * ((grad.abs() - cfg.gp_target) ** 2).mean(dim=(1, 2)).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if method == "clip":
            with torch.no_grad():
                for prm in f.parameters():
                    prm.clamp_(-cfg.clip, cfg.clip)
    return f, members


def assess(f: EnsembleMLP, members: list, cfg: WganExampleConfig) -> list[dict]:
    """Per member: the estimate integral of f (p_data - p_g) on a grid, and L = max |f'| there."""
    prs = pairs(cfg)
    out = []
    xs_all = []
    for i, _ in members:
        p, q = prs[i]
        lo = min(p.mu - 8 * p.sigma, q.mu - 8 * q.sigma)
        hi = max(p.mu + 8 * p.sigma, q.mu + 8 * q.sigma)
        xs_all.append(np.linspace(lo, hi, GRID))
    x = torch.tensor(np.array(xs_all), dtype=torch.float64)[..., None].requires_grad_(True)
    v = f(x)
    (g,) = torch.autograd.grad(v.sum(), x)
    v, g = v.detach().numpy()[..., 0], g.numpy()[..., 0]
    from scipy.integrate import simpson
    for k, (i, s) in enumerate(members):
        p, q = prs[i]
        xs = xs_all[k]
        est = float(simpson(v[k] * (p.pdf(xs) - q.pdf(xs)), x=xs))
        out.append({"pair": i, "seed": s, "estimate": est, "lipschitz": float(np.abs(g[k]).max()),
                    "w1": wasserstein1_normal(p, q), "gp_optimum": gp_optimum(p, q, cfg.gp_weight)})
    return out


def x_hat_density(p: Normal, q: Normal, xs: np.ndarray) -> np.ndarray:
    """Density of x_hat = t x + (1 - t) y, x ~ p, y ~ q, t ~ U(0, 1) independent: for each t a
    Normal, N(t mu_p + (1 - t) mu_q, t^2 sigma_p^2 + (1 - t)^2 sigma_q^2), averaged over t by
    200-point Gauss-Legendre."""
    from scipy import stats

    t, w = np.polynomial.legendre.leggauss(200)
    t, w = 0.5 * (t + 1), 0.5 * w
    return sum(wi * stats.norm.pdf(xs, ti * p.mu + (1 - ti) * q.mu,
                                   math.hypot(ti * p.sigma, (1 - ti) * q.sigma))
               for ti, wi in zip(t, w))


def gp_optimum(p: Normal, q: Normal, lam: float) -> float:
    r"""The maximum over critics of E_p f - E_q f - lambda E(|f'(x_hat)| - 1)^2 in 1-D, as the
    estimate E_p f - E_q f it attains.

    E_p f - E_q f = integral of f'(x) (F_q - F_p)(x) dx, so the objective is pointwise in the slope
    s = |f'|: maximise s |F_q - F_p| - lambda rho (s - 1)^2, giving s = 1 + |F_q - F_p| / (2 lambda
    rho) and the estimate W1 + integral of (F_q - F_p)^2 / (2 lambda rho) (f' taking the sign of
    F_q - F_p). Simpson on 20,001 points over +-10 sigma.
    """
    from scipy import stats
    from scipy.integrate import simpson

    if lam <= 0:  # no penalty: the supremum is unbounded (f = c x, c -> inf)
        return math.inf
    lo = min(p.mu - 10 * p.sigma, q.mu - 10 * q.sigma)
    hi = max(p.mu + 10 * p.sigma, q.mu + 10 * q.sigma)
    xs = np.linspace(lo, hi, 20_001)
    dF = stats.norm.cdf(xs, q.mu, q.sigma) - stats.norm.cdf(xs, p.mu, p.sigma)
    s = 1 + np.abs(dF) / (2 * lam * x_hat_density(p, q, xs))
    return float(simpson(np.abs(dF) * s, x=xs))


@dataclass(frozen=True)
class WganExampleMeasurement:
    curves: dict
    slopes_narrow: dict
    narrow_thetas: np.ndarray
    deficit_by_width: dict  # w -> max over |theta| >= theta_min of log 2 - JSD
    w1_err: float  # max |W1 - |theta|| over every width and theta
    gp: list
    clip: list
    seeds: tuple


def measure(cfg: WganExampleConfig) -> WganExampleMeasurement:
    curves = example_curves(cfg)
    th = curves["thetas"]
    far = np.abs(th) >= cfg.theta_min
    deficit = {w: float(np.max(LOG2 - c["jsd"][far])) for w, c in curves["by_width"].items()}
    w1_err = max(float(np.max(np.abs(c["w1"] - np.abs(th)))) for c in curves["by_width"].values())
    narrow = min(curves["by_width"])
    probe = np.array([t for t in np.linspace(cfg.theta_min, cfg.theta_max, 5)]
                     + [-t for t in np.linspace(cfg.theta_min, cfg.theta_max, 5)])
    sl = slopes(cfg, narrow, probe)
    gp = assess(*train_critics(cfg, "gp"), cfg)
    clip = assess(*train_critics(cfg, "clip"), cfg)
    return WganExampleMeasurement(curves, sl, probe, deficit, w1_err, gp, clip,
                                  tuple(range(cfg.seeds)))


def verdict(m: WganExampleMeasurement, cfg: WganExampleConfig) -> Verdict:
    narrow = min(m.deficit_by_width)
    ws = sorted(m.deficit_by_width, reverse=True)
    dfs = [m.deficit_by_width[w] for w in ws]
    w1_slope_err = float(np.max(np.abs(m.slopes_narrow["w1"] - np.sign(m.narrow_thetas))))
    jsd_slope = float(np.max(np.abs(m.slopes_narrow["jsd"])))
    gp_off = {f"pair {r['pair']} seed {r['seed']}": (r["estimate"], r["gp_optimum"], r["w1"])
              for r in m.gp if not abs(r["estimate"] / r["gp_optimum"] - 1) <= GP_RTOL}
    kr = {f"{name} pair {r['pair']} seed {r['seed']}": (r["estimate"] / r["lipschitz"], r["w1"])
          for name, rows in (("gp", m.gp), ("clip", m.clip)) for r in rows
          if not r["estimate"] / r["lipschitz"] <= r["w1"] * (1 + KR_RTOL)}
    clip_high = {f"pair {r['pair']} seed {r['seed']}": r["estimate"] / r["w1"] for r in m.clip
                 if not r["estimate"] <= CLIP_FRACTION * r["w1"]}
    return Verdict.from_checks({
        "w1_is_abs_theta": (m.w1_err <= W1_TOL, f"max |W1 - |theta|| = {m.w1_err:.2e} > "
                                                f"{W1_TOL:g}"),
        "w1_unit_gradient": (w1_slope_err <= W1_GRAD_TOL,
                             f"max |dW1/dtheta - sign(theta)| = {w1_slope_err:.2e} > "
                             f"{W1_GRAD_TOL:g}"),
        "jsd_saturates": (dfs[-1] <= SATURATION_TOL and all(a > b or b <= SATURATION_TOL
                                                            for a, b in zip(dfs, dfs[1:])),
                          f"max over |theta| >= {cfg.theta_min:g} of log 2 - JSD by width "
                          f"{dict(zip(ws, dfs))}: must fall to <= {SATURATION_TOL:g} at w = "
                          f"{narrow:g}"),
        "jsd_flat": (jsd_slope <= SLOPE_TOL, f"max |dJSD/dtheta| = {jsd_slope:.2e} > "
                                             f"{SLOPE_TOL:g} at w = {narrow:g}"),
        "gp_estimates_w1": (not gp_off, f"WGAN-GP estimate off its objective's optimum W1 + "
                                        f"bias by more than {GP_RTOL:.0%} (estimate, optimum, "
                                        f"W1): {gp_off}"),
        "kantorovich_rubinstein": (not kr, f"estimate / Lipschitz constant above W1: {kr}"),
        "clip_underestimates": (not clip_high, f"clipped estimate above {CLIP_FRACTION} W1: "
                                               f"{clip_high}"),
    })


def report(m: WganExampleMeasurement, cfg: WganExampleConfig) -> Report:
    def rows(rs):
        return [{**r, "ratio": r["estimate"] / r["w1"],
                 "ratio_to_gp_optimum": r["estimate"] / r["gp_optimum"],
                 "ratio_rescaled": r["estimate"] / r["lipschitz"] / r["w1"]} for r in rs]

    gp, clip = rows(m.gp), rows(m.clip)
    metrics = {"w1_max_abs_err": m.w1_err,
               "jsd_deficit_by_width": {f"{w:g}": d for w, d in m.deficit_by_width.items()},
               "w1_slope_narrow": m.slopes_narrow["w1"], "jsd_slope_narrow": m.slopes_narrow["jsd"],
               "slope_thetas": m.narrow_thetas, "gp": gp, "clip": clip,
               "clip_ratio_median": float(np.median([r["ratio"] for r in clip])),
               "gp_ratio_range": [min(r["ratio"] for r in gp), max(r["ratio"] for r in gp)],
               "steps": cfg.steps, "gp_weight": cfg.gp_weight, "gp_target": cfg.gp_target,
               "clip": cfg.clip}
    tol = {"w1": W1_TOL, "w1_gradient": W1_GRAD_TOL, "saturation": SATURATION_TOL,
           "jsd_slope": SLOPE_TOL, "gp_rtol": GP_RTOL, "kr_rtol": KR_RTOL,
           "clip_fraction": CLIP_FRACTION}
    lines = [f"Example 1: max |W1 - |theta|| = {m.w1_err:.1e}; log 2 - JSD (max over |theta| >= "
             f"{cfg.theta_min:g}) by width: " + ", ".join(f"w={w:g}: {d:.2e}" for w, d in
                                                          m.deficit_by_width.items())]
    lines.append(f"at w = {min(m.deficit_by_width):g}: dW1/dtheta = +-1 to "
                 f"{np.max(np.abs(m.slopes_narrow['w1'] - np.sign(m.narrow_thetas))):.1e}, "
                 f"max |dJSD/dtheta| = {np.max(np.abs(m.slopes_narrow['jsd'])):.1e}")
    lines.append(f"WGAN-GP (lambda = {cfg.gp_weight:g}): its exact optimum / W1 = " + ", ".join(
        f"{r['gp_optimum'] / r['w1']:.4f}" for r in gp) + "; estimate / optimum = " + ", ".join(
        f"{r['ratio_to_gp_optimum']:.4f}" for r in gp))
    for name, rs in (("WGAN-GP", gp), (f"clip {cfg.clip:g}", clip)):
        lines.append(f"{name}: estimate / W1 = " + ", ".join(
            f"{r['ratio']:.4f}" for r in rs) + "; rescaled by 1/L: " + ", ".join(
            f"{r['ratio_rescaled']:.4f}" for r in rs))
    return Report(jsonable(metrics), tol, tuple(lines))


def plot(m: WganExampleMeasurement, cfg: WganExampleConfig, v) -> dict:
    from ..plotting import subplots

    th = m.curves["thetas"]
    fig, axes = subplots(1, 3, figsize=(13, 3.8))
    for w, c in m.curves["by_width"].items():
        axes[0].plot(th, c["jsd"], label=f"w = {w:g}")
        axes[1].semilogy(th, np.maximum(c["kl"], 1e-300), label=f"w = {w:g}")
    axes[0].axhline(LOG2, color="k", ls=":", lw=1, label="log 2")
    axes[0].set_title("JSD(p_data || p_g): flat at log 2 as w -> 0", fontsize=9)
    axes[1].set_title("KL(p_g || p_data) = theta^2 / (2 w^2): blows up", fontsize=9)
    axes[1].set_ylim(1e-3, None)
    w1 = m.curves["by_width"][min(m.curves["by_width"])]["w1"]
    axes[2].plot(th, w1, "k-", label="W1 (every w)")
    axes[2].set_title("W1 = |theta|: gradient +-1 everywhere", fontsize=9)
    for ax in axes:
        ax.set_xlabel("theta (p_g = N(theta, w^2), p_data = N(0, w^2))")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig2, ax = subplots(figsize=(6.4, 4.2))
    gp = [r["estimate"] / r["w1"] for r in m.gp]
    cl = [r["estimate"] / r["w1"] for r in m.clip]
    cl_r = [r["estimate"] / r["lipschitz"] / r["w1"] for r in m.clip]
    xs = np.arange(len(gp))
    ax.bar(xs - 0.27, gp, 0.27, label="WGAN-GP")
    ax.bar(xs, cl, 0.27, label=f"clip {cfg.clip:g}")
    ax.bar(xs + 0.27, cl_r, 0.27, label="clip, rescaled by 1/L")
    ax.axhline(1, color="k", lw=0.8)
    ax.set_xticks(xs, [f"pair {r['pair']}\nseed {r['seed']}" for r in m.gp], fontsize=7)
    ax.set_ylabel("estimate / W1")
    ax.set_title("Critics trained from samples: estimate of W1", fontsize=9)
    ax.legend(fontsize=7)
    fig2.tight_layout()
    return {"": fig, "critics": fig2}


register_claim(
    "wgan_example",
    "Arjovsky, Chintala and Bottou 2017, Example 1: for p_g a shifted copy of a narrow p_data, "
    "JSD -> log 2 (flat, zero gradient) for every theta != 0 while W1 = |theta| (gradient +-1); "
    "a critic with a gradient penalty estimates W1, a weight-clipped one underestimates it.",
    WganExampleConfig, measure=measure, verdict=verdict, report=report, plot=plot,
    quick={"widths": "0.1,0.01", "thetas": 21, "steps": 300, "seeds": 1,
           "pairs": "normal(0,1) vs normal(2,1)"})
